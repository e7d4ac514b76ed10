"""The three operator tables name the same operators, and the literal syntax is one.

The validator (`kmsprove.operators.OPERATORS`), the evaluator (`MATCHERS`) and the
encoder (`ENCODERS`) key on operator names; a name missing from one twin would be a
`KeyError` in the evaluator or a silent fall-through in the encoder. The literal
parsers are shared data: on generated text, what the validator accepts is exactly
what each twin reads as a number or a date.
"""

from __future__ import annotations

import z3
from hypothesis import example, given
from hypothesis import strategies as st

from kmsprove.encode.conditions import ENCODERS, typed_view
from kmsprove.encode.symbolic import CtxVar, new_sym
from kmsprove.evaluate import match
from kmsprove.evaluate.conditions import MATCHERS
from kmsprove.operators import OPERATORS, PRESENCE
from tests.support.strategies import FAMILY_KEYS, FAMILY_LITERALS


def test_every_operator_has_a_matcher_and_an_encoder() -> None:
    valued = {name for name, op in OPERATORS.items() if op.family != PRESENCE}
    assert set(MATCHERS) == valued
    assert set(ENCODERS) == valued


def test_the_generator_has_keys_and_literals_for_every_family() -> None:
    families = {op.family for op in OPERATORS.values()}
    assert families <= set(FAMILY_KEYS)
    assert families <= set(FAMILY_LITERALS)


def _encoder_reads(kind: str, text: str) -> bool:
    sym = new_sym([], set_bound=2)
    sym.fixed = True
    var = CtxVar("k", z3.BoolVal(True), value=z3.StringVal(text))
    ok, _ = typed_view(sym, var, 0, kind)
    return z3.is_true(ok)


LITERAL_TEXT = st.one_of(
    st.text(alphabet="0123456789+-.eE:TZ ", max_size=12),
    st.text(max_size=6),
    st.sampled_from(FAMILY_LITERALS["Numeric"] + FAMILY_LITERALS["Date"]),
)


@given(LITERAL_TEXT)
@example("\uff11\uff10")
@example("1e2")
@example("1700000000.5")
@example("-5")
@example("2030-01")
def test_validator_and_both_twins_read_the_same_numbers(text: str) -> None:
    valid = OPERATORS["NumericEquals"].value_problem(text) is None
    assert valid == (match.number(text) is not None) == _encoder_reads("numeric", text)


@given(LITERAL_TEXT)
@example("2030")
@example("2030-01")
@example("2030-01-01T10:00")
@example("1700000000.5")
@example("-5")
def test_validator_and_both_twins_read_the_same_dates(text: str) -> None:
    valid = OPERATORS["DateEquals"].value_problem(text) is None
    assert valid == (match.date(text) is not None) == _encoder_reads("date", text)
