"""The solver chokepoint: readable tiers first, a proof without them when the core says
so, and an unknown (never a "no") when the time runs out."""

from __future__ import annotations

import time

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
