"""Condition blocks for the evaluator (R5, R6): operators, IfExists, set operators.

Twin: `kmsprove.encode.conditions`.
"""

from __future__ import annotations

from kmsprove.ast import Condition, Effect
from kmsprove.request import Context


def condition_holds(cond: Condition, ctx: Context, effect: Effect, variables: bool) -> bool:
    """Whether one (operator, key, values) test holds for the request context.

    `effect` decides the section-10 open points ("per effect": hold in an Allow,
    fail in a Deny); `variables` is whether `${...}` is substituted (R6.10).
    """
    raise NotImplementedError


def conditions_hold(
    conds: tuple[Condition, ...], ctx: Context, effect: Effect, variables: bool
) -> tuple[bool, str]:
    """All conditions hold (R6.1), or False and why the first failing one fails."""
    for c in conds:
        if not condition_holds(c, ctx, effect, variables):
            return False, f"condition `{c.operator}` on `{c.key}` does not hold"
    return True, ""
