"""Small builders shared by the evaluator's condition tests."""

from __future__ import annotations

from kmsprove.ast import Condition, Effect
from kmsprove.evaluate.conditions import condition_holds
from kmsprove.operators import parse_operator
from kmsprove.request import Context

ALLOW = Effect.ALLOW
DENY = Effect.DENY
A = "111122223333"  # key account (kms-semantics.md section 0)
B = "444455556666"  # external account


def cond(operator: str, key: str, *values: str) -> Condition:
    """A `Condition` as the policy builder makes it from `{operator: {key: values}}`."""
    parsed = parse_operator(operator)
    assert parsed is not None, operator
    set_op, base, if_exists = parsed
    return Condition(operator, base, set_op, if_exists, key, tuple(values))


def holds(c: Condition, ctx: Context, effect: Effect = ALLOW, *, variables: bool = True) -> bool:
    return condition_holds(c, ctx, effect, variables)


def both(c: Condition, ctx: Context, *, variables: bool = True) -> tuple[bool, bool]:
    """(result in an Allow, result in a Deny): differs only on open points."""
    return holds(c, ctx, ALLOW, variables=variables), holds(c, ctx, DENY, variables=variables)
