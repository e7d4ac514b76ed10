"""The solver chokepoint: readable tiers first, a proof without them when the core says
so, and an unknown (never a "no") when the time runs out."""

from __future__ import annotations

import time

import z3

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
