"""Property tests for condition evaluation: total, monotone in the effect, dual under negation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.ast import Condition, Effect, SetOp
from kmsprove.evaluate.conditions import condition_holds, conditions_hold
from kmsprove.operators import OPERATORS
from kmsprove.request import Context

KEYS = (
    "kms:CallerAccount",
    "kms:EncryptionContext:Dept",
    "kms:EncryptionContextKeys",
    "kms:GrantOperations",
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:username",
    "aws:PrincipalTag/team",
    "kms:Blob",
)
# Values of every kind the operators read, and ones none of them can.
VALUES = st.one_of(
    st.sampled_from(
        (
            "10",
            "-2.5",
            "1e3",
            "NaN",
            "inf",
            "seven",
            "",
            "2020-01-01T00:00:00Z",
            "1577836800",
            "2020-13-45",
            "2020-01-01T00:00:00+99:00",
            "10.0.0.1",
            "10.0.0.0/8",
            "2001:db8::/32",
            "300.1.1.1",
            "1.2.3.4/99",
            "::ffff:10.0.0.1",
            "QUJD",
            "QUJ",
            "!!!",
            "true",
            "FALSE",
            "yes",
            "arn:aws:iam::111122223333:role/*",
            "arn:*",
            "*",
            "a?c",
            "${aws:username}",
            "${aws:PrincipalTag/team, 'x'}",
            "${*}${?}${$}",
            "${",
            "${}",
            "${aws:GrantOperations}",
            "${ , ''}",
        )
    ),
    st.text(max_size=12),
)
STATE = st.one_of(st.none(), st.lists(VALUES, max_size=3).map(tuple))


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    base = draw(st.sampled_from(sorted(OPERATORS)))
    set_op = draw(st.sampled_from((None, SetOp.FOR_ALL_VALUES, SetOp.FOR_ANY_VALUE)))
    if_exists = base != "Null" and draw(st.booleans())
    operator = (f"{set_op.value}:" if set_op else "") + base + ("IfExists" if if_exists else "")
    key = draw(st.sampled_from(KEYS))
    values = tuple(draw(st.lists(VALUES, max_size=3)))
    return Condition(operator, base, set_op, if_exists, key, values)


@st.composite
def contexts(draw: st.DrawFn) -> Context:
    pairs = draw(st.dictionaries(st.sampled_from(KEYS), st.lists(VALUES, max_size=3), max_size=6))
    ctx = Context.of(pairs)
    for name in draw(st.lists(st.sampled_from(KEYS), max_size=2, unique=True)):
        ctx = ctx.with_open(name, tuple(draw(st.lists(STATE, max_size=3))))
    return ctx


@settings(max_examples=600, deadline=None)
@given(conditions(), contexts(), st.booleans())
def test_never_raises_and_allow_is_at_least_deny(
    cond: Condition, ctx: Context, variables: bool
) -> None:
    """Total on any input; a test that holds in a Deny holds in an Allow (per effect)."""
    allow = condition_holds(cond, ctx, Effect.ALLOW, variables)
    deny = condition_holds(cond, ctx, Effect.DENY, variables)
    assert isinstance(allow, bool)
    assert isinstance(deny, bool)
    assert allow or not deny
    for effect in Effect:
        held, why = conditions_hold((cond,), ctx, effect, variables)
        assert held == condition_holds(cond, ctx, effect, variables)
        assert bool(why) != held


NEGATIONS = {
    "StringEquals": "StringNotEquals",
    "StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
    "StringLike": "StringNotLike",
    "ArnEquals": "ArnNotEquals",
    "ArnLike": "ArnNotLike",
    "NumericEquals": "NumericNotEquals",
    "DateEquals": "DateNotEquals",
    "IpAddress": "NotIpAddress",
}


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(NEGATIONS)), st.lists(VALUES, max_size=3), VALUES, st.booleans())
def test_r6_1_negated_operator_is_the_negation_on_a_single_present_value(
    base: str, values: list[str], value: str, variables: bool
) -> None:
    ctx = Context.of({"aws:username": "bob", "kms:K": value})
    pos = Condition(base, base, None, False, "kms:K", tuple(values))
    neg_base = NEGATIONS[base]
    neg = Condition(neg_base, neg_base, None, False, "kms:K", tuple(values))
    for effect in Effect:
        assert condition_holds(pos, ctx, effect, variables) != condition_holds(
            neg, ctx, effect, variables
        )


@settings(max_examples=300, deadline=None)
@given(conditions(), st.sampled_from(list(Effect)), st.booleans())
def test_r6_6_if_exists_on_an_absent_key_always_holds(
    cond: Condition, effect: Effect, variables: bool
) -> None:
    if cond.base == "Null":
        return
    exists = Condition(cond.operator, cond.base, cond.set_op, True, cond.key, cond.values)
    assert condition_holds(exists, Context.of({}), effect, variables)


@settings(max_examples=300, deadline=None)
@given(st.lists(VALUES, max_size=3), st.lists(VALUES, min_size=1, max_size=4))
def test_r6_8_for_any_value_is_or_of_single_tests(values: list[str], found: list[str]) -> None:
    """ForAnyValue over a set = some one-element context passes; ForAllValues = all do."""
    for set_op, combine in ((SetOp.FOR_ANY_VALUE, any), (SetOp.FOR_ALL_VALUES, all)):
        for base in ("StringLike", "StringNotLike"):
            c = Condition(
                f"{set_op.value}:{base}", base, set_op, False, "aws:TagKeys", tuple(values)
            )
            single = Condition(base, base, None, False, "aws:TagKeys", tuple(values))
            whole = condition_holds(c, Context.of({"aws:TagKeys": found}), Effect.DENY, False)
            each = [
                condition_holds(single, Context.of({"aws:TagKeys": [v]}), Effect.DENY, False)
                for v in found
            ]
            assert whole == combine(each)
