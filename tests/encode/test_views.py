"""How the encoder reads a key (`encode.conditions.note_view`): a key compared as a
number and as a literal text is tied; as a number and by a glob it is not modelled."""

from __future__ import annotations

import pytest
import z3

from kmsprove.ast import Effect
from kmsprove.catalog import action_info
from kmsprove.encode.conditions import condition_formula
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.symbolic import new_sym
from kmsprove.solve.session import Sat, Unsat, solve
from tests.support.builders import cond

KEY = "kms:ScheduleKeyDeletionPendingWindowInDays"


def _formula(*conditions: tuple[str, str, str]) -> tuple[list[z3.BoolRef], z3.BoolRef]:
    info = action_info("kms:ScheduleKeyDeletion")
    assert info is not None
    sym = new_sym([info], set_bound=2)
    parts = [
        condition_formula(cond(op, KEY, v), sym, Effect.ALLOW, True) for op, _, v in conditions
    ]
    return sym.facts, z3.And(*parts)


def test_a_literal_text_has_its_number() -> None:
    facts, both = _formula(("StringEquals", KEY, "7"), ("NumericGreaterThan", KEY, "10"))
    assert isinstance(solve([*facts, both]), Unsat)


def test_another_spelling_of_the_number_is_still_possible() -> None:
    # "7" as text is excluded, but a text such as "7.0" has the number 7
    facts, both = _formula(("StringNotEquals", KEY, "7"), ("NumericEquals", KEY, "7"))
    assert isinstance(solve([*facts, both]), Sat)


def test_a_glob_and_a_number_on_one_key_are_not_modelled() -> None:
    with pytest.raises(Unmodelled, match="compared both as"):
        _formula(("StringLike", KEY, "7*"), ("NumericLessThan", KEY, "10"))
