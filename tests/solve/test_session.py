"""The solver chokepoint: readable tiers first, a proof without them when the core says
so, and an unknown (never a "no") when the time runs out."""

from __future__ import annotations

import time
from typing import Any

import pytest
import z3

from kmsprove.encode.refine import Refinement
from kmsprove.solve.session import Sat, Session, Unknown, Unsat, deadline_in, solve


def test_a_tier_that_fits_gives_its_model() -> None:
    x = z3.Int("x")
    result = solve([x > 0], [[x == 7]], deadline_in(5))
    assert isinstance(result, Sat)
    assert result.model.eval(x).as_long() == 7


def test_a_tier_that_does_not_fit_falls_back_to_any_model() -> None:
    x = z3.Int("x")
    result = solve([x > 0, x < 3], [[x == 7]], deadline_in(5))
    assert isinstance(result, Sat)
    assert result.model.eval(x).as_long() in (1, 2)


def test_unsat_without_the_tiers_is_a_proof() -> None:
    x = z3.Int("x")
    assert isinstance(solve([x > 0, x < 0], [[x == 7]], deadline_in(5)), Unsat)


def test_a_spent_deadline_is_unknown_not_unsat() -> None:
    x = z3.Int("x")
    result = solve([x > 0, x < 0], [], time.monotonic() - 1)
    assert isinstance(result, Unknown)
    assert result.reason == "timeout"


def test_a_session_asks_questions_in_their_own_scope() -> None:
    x = z3.Int("x")
    session = Session([x >= 0])
    assert isinstance(session.ask([x < 0]), Unsat)
    assert isinstance(session.ask([x == 3]), Sat)  # the first question left nothing behind
    session.add(x > 5)
    assert isinstance(session.ask([x == 3]), Unsat)


class _Even:
    """A refiner: x must be even; it pins x to 10 first, in place of that fact."""

    def __init__(self, x: z3.ArithRef, pins: bool = True) -> None:
        self.x, self.pins, self.calls = x, pins, 0

    def __call__(self, model: z3.ModelRef) -> Refinement:
        self.calls += 1
        if model.eval(self.x).as_long() % 2 == 0:
            return Refinement()
        pins = [self.x == 10] if self.pins else []
        return Refinement(pins=pins, instead=[self.x % 2 == 0])


def test_a_refinement_pin_that_fits_gives_its_model() -> None:
    x = z3.Int("x")
    result = solve([x > 0, x != 2, x != 4], [[x == 1]], deadline_in(5), 1.0, _Even(x))
    assert isinstance(result, Sat)
    assert result.model.eval(x).as_long() == 10


def test_a_refinement_pin_that_does_not_fit_falls_back_to_its_facts() -> None:
    x = z3.Int("x")
    result = solve([x > 0, x < 5], [[x == 1]], deadline_in(5), 1.0, _Even(x))
    assert isinstance(result, Sat)
    assert result.model.eval(x).as_long() in (2, 4)


def test_an_unsat_under_a_refinement_pin_is_no_proof() -> None:
    x = z3.Int("x")
    # odd only: the pin fails, then the fact itself proves there is nothing
    assert isinstance(solve([x % 2 == 1], [], deadline_in(5), 1.0, _Even(x)), Unsat)
    # and a model that needs an even x other than the pin is still found
    result = solve([x > 10, x < 13], [], deadline_in(5), 1.0, _Even(x))
    assert isinstance(result, Sat) and result.model.eval(x).as_long() == 12


def test_a_refinement_without_pins_adds_its_facts_at_once() -> None:
    x = z3.Int("x")
    refine = _Even(x, pins=False)
    result = solve([x > 0, x < 3], [], deadline_in(5), 1.0, refine)
    assert isinstance(result, Sat) and result.model.eval(x).as_long() == 2


def test_soft_pins_that_fit_all_hold() -> None:
    x, y = z3.Ints("x y")
    result = Session([x > 0, y > 0]).ask(soft=[[x == 3], [y == 4]], deadline=deadline_in(5))
    assert isinstance(result, Sat)
    assert (result.model.eval(x).as_long(), result.model.eval(y).as_long()) == (3, 4)


def test_a_soft_pin_that_does_not_fit_is_given_up_alone() -> None:
    x, y = z3.Ints("x y")
    # x == 3 cannot hold; y == 4 (same level) and x > 10 (a higher level) still do
    session = Session([x > 5, y > 0])
    result = session.ask(soft=[[x == 3, y == 4], [x > 10]], deadline=deadline_in(5))
    assert isinstance(result, Sat)
    assert result.model.eval(y).as_long() == 4 and result.model.eval(x).as_long() > 10


def test_an_unsat_whose_core_holds_no_soft_pin_is_a_proof() -> None:
    x = z3.Int("x")
    result = Session([x > 0]).ask([x < 0], soft=[[x == 3]], deadline=deadline_in(5))
    assert isinstance(result, Unsat)
    # and a question the pins alone made unsat is not taken for one
    result = Session([x > 0]).ask([x > 5], soft=[[x == 3]], deadline=deadline_in(5))
    assert isinstance(result, Sat) and result.model.eval(x).as_long() > 5


def test_a_question_asked_case_by_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole question left open (as Z3 leaves a large disjunction of string
    problems), each case is asked alone: one model is a model, all unsat a proof."""
    relax = Session._relax

    def open_when_whole(
        self: Session, soft: Any, deadline: Any, budget: Any, assumed: Any, live: Any
    ) -> Any:
        if len(assumed) == 1:  # the question's scope alone: not a case
            return Unknown("timeout")
        return relax(self, soft, deadline, budget, assumed, live)

    monkeypatch.setattr(Session, "_relax", open_when_whole)
    x = z3.Int("x")
    cases = [x == i for i in range(4)]
    facts = [z3.Or(*cases)]
    result = Session(facts).ask([x != 0, x != 1], soft=[[]], cases=cases, deadline=deadline_in(5))
    assert isinstance(result, Sat) and result.model.eval(x).as_long() in (2, 3)
    result = Session(facts).ask([x > 3], soft=[[]], cases=cases, deadline=deadline_in(5))
    assert isinstance(result, Unsat)


def test_soft_pins_with_a_spent_deadline_are_unknown_not_unsat() -> None:
    x = z3.Int("x")
    result = Session([x > 0]).ask([x < 0], soft=[[x == 3]], deadline=time.monotonic() - 1)
    assert isinstance(result, Unknown) and result.reason == "timeout"
