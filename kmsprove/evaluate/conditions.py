"""Condition blocks for the evaluator (R5, R6): operators, IfExists, set operators.

Input: a `Condition`, the request `Context`, the statement's effect and whether
policy variables apply -> bool (and, for a block, why the first failing one fails).
Twin: `kmsprove.encode.conditions`.

Open points (kms-semantics.md section 10) are decided "per effect": a test
whose result depends on one holds in an Allow and fails in a Deny. Two kinds:
- keys listed in `ctx.open_keys` (10.15, 10.21-10.23): the test runs once per
  possible state; a key listed there is read from its states, never from
  `ctx.values`;
- `ForAllValues` on an absent key (10.20).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType

from kmsprove.ast import Condition, Effect, SetOp
from kmsprove.evaluate import match
from kmsprove.operators import OPERATORS
from kmsprove.request import Context

# Result of one test: True, False, or None when it depends on an open point.
Outcome = bool | None


def condition_holds(cond: Condition, ctx: Context, effect: Effect, variables: bool) -> bool:
    """Whether one (operator, key, values) test holds for the request context.

    `effect` decides the section-10 open points ("per effect": hold in an Allow,
    fail in a Deny); `variables` is whether `${...}` is substituted (R6.10).
    """
    outcome = condition_outcome(cond, ctx, variables)
    return effect is Effect.ALLOW if outcome is None else outcome


def conditions_hold(
    conds: tuple[Condition, ...], ctx: Context, effect: Effect, variables: bool
) -> tuple[bool, str]:
    """All conditions hold (R6.1), or False and why the first failing one fails."""
    for c in conds:
        if not condition_holds(c, ctx, effect, variables):
            return False, explain(c, ctx, variables)
    return True, ""


def condition_outcome(cond: Condition, ctx: Context, variables: bool) -> Outcome:
    """True or False when every open state agrees, else None (per effect)."""
    results = {_test(cond, view, variables) for view in _views(cond, ctx, variables)}
    return results.pop() if len(results) == 1 else None


# --------------------------------------------------------------------------
# reading the context, one view per combination of open states


@dataclass(frozen=True, slots=True)
class _View:
    """The context with each open key pinned to one of its states."""

    ctx: Context
    pinned: Mapping[str, tuple[str, ...] | None]

    def __call__(self, name: str) -> tuple[str, ...] | None:
        low = name.lower()
        return self.pinned[low] if low in self.pinned else self.ctx.get(name)


def _uses_variables(cond: Condition, variables: bool) -> bool:
    return variables and OPERATORS[cond.base].variables


def _views(cond: Condition, ctx: Context, variables: bool) -> Iterator[_View]:
    """One view per combination of states of the open keys `cond` reads."""
    names = {cond.key.lower()}
    if _uses_variables(cond, variables):
        for v in cond.values:
            names.update(match.variable_names(v))
    open_names = sorted(n for n in names if n in ctx.open_keys)
    # an open key without states would leave no view at all; read it as absent
    states = [ctx.open_keys[n] or (None,) for n in open_names]
    for combo in itertools.product(*states):
        yield _View(ctx, dict(zip(open_names, combo, strict=True)))


# --------------------------------------------------------------------------
# one test on one view


def _test(cond: Condition, view: _View, variables: bool) -> Outcome:
    """R6.1 and R6.5-R6.8 for one view of the context."""
    op = OPERATORS[cond.base]
    family, negated = op.family, op.negated
    found = view(cond.key)
    if family == "Null":
        return _null(cond.values, found)
    if found is None:
        return _absent(cond, negated)
    wanted = _policy_values(cond, view, variables)
    matches = MATCHERS[cond.base]

    def element(value: str) -> bool:
        # OR over policy values; a negated operator is its NOR (R6.1). An
        # unresolved variable (None) matches nothing (R6.10).
        hit = any(p is not None and matches(p, value) for p in wanted)
        return hit != negated

    set_op = cond.set_op
    if set_op is None and len(found) != 1:
        # 10.8: a multi-valued key without a set operator (an empty set included)
        set_op = SetOp.FOR_ANY_VALUE
    if set_op is None:
        return element(found[0])
    elements = (element(v) for v in found)
    return all(elements) if set_op is SetOp.FOR_ALL_VALUES else any(elements)


def _null(values: tuple[str, ...], found: tuple[str, ...] | None) -> bool:
    """R6.7: `true` holds iff the key is absent, `false` iff present (values OR).

    Set operators and IfExists do not apply to a presence test; an empty set
    counts as present.
    """
    want = {v.lower() for v in values}
    return ("true" in want and found is None) or ("false" in want and found is not None)


def _absent(cond: Condition, negated: bool) -> Outcome:
    """The test on an absent key (R6.5, R6.6, R6.8, 10.20)."""
    if cond.if_exists:
        return True  # R6.6
    if cond.set_op is SetOp.FOR_ALL_VALUES:
        return None  # 10.20: true by the set-operator pages, no match by the operators page
    if cond.set_op is SetOp.FOR_ANY_VALUE:
        return False  # R6.8, negated inner operators included
    return negated  # R6.5


def _policy_values(cond: Condition, view: _View, variables: bool) -> tuple[str | None, ...]:
    """The condition's values, substituted where R6.10 allows; None if unresolved."""
    if not _uses_variables(cond, variables):
        return cond.values
    return tuple(match.resolve(v, view) for v in cond.values)


# --------------------------------------------------------------------------
# operators: base -> (policy value, request value) -> positive match


Matcher = Callable[[str, str], bool]


def _ordered(
    parse: Callable[[str], Fraction | None], rel: Callable[[Fraction, Fraction], bool]
) -> Matcher:
    """Numeric and Date comparisons (R6.4): request value `rel` policy value.

    A value that does not parse matches nothing, so its positive test fails
    and its negated test (`NumericNotEquals`, `DateNotEquals`) holds. AWS does
    not document this case; it only arises for values typed by hand or
    operators applied to keys of another type.
    """

    def matches(policy: str, request: str) -> bool:
        want, got = parse(policy), parse(request)
        return want is not None and got is not None and rel(got, want)

    return matches


def _bool(policy: str, request: str) -> bool:
    """Bool (R6.4): `true`/`false` in any case; anything else matches nothing."""
    p = policy.lower()
    return p in ("true", "false") and p == request.lower()


def _binary(policy: str, request: str) -> bool:
    """BinaryEquals (R6.4): both sides base64; compare the decoded bytes."""
    want = match.binary(policy)
    return want is not None and want == match.binary(request)


def _typed_matchers() -> dict[str, Matcher]:
    rels: dict[str, Callable[[Fraction, Fraction], bool]] = {
        "Equals": operator.eq,
        "NotEquals": operator.eq,  # negation is applied by `_test`
        "LessThan": operator.lt,
        "LessThanEquals": operator.le,
        "GreaterThan": operator.gt,
        "GreaterThanEquals": operator.ge,
    }
    out: dict[str, Matcher] = {}
    for suffix, rel in rels.items():
        out["Numeric" + suffix] = _ordered(match.number, rel)
        out["Date" + suffix] = _ordered(match.date, rel)
    return out


MATCHERS: Mapping[str, Matcher] = MappingProxyType(
    {
        "StringEquals": operator.eq,
        "StringNotEquals": operator.eq,
        "StringEqualsIgnoreCase": match.equals_ignore_case,
        "StringNotEqualsIgnoreCase": match.equals_ignore_case,
        "StringLike": match.glob_like,
        "StringNotLike": match.glob_like,
        "ArnEquals": match.arn_like,  # R6.3: ArnEquals is ArnLike
        "ArnLike": match.arn_like,
        "ArnNotEquals": match.arn_like,
        "ArnNotLike": match.arn_like,
        "Bool": _bool,
        "BinaryEquals": _binary,
        "IpAddress": match.ip_in,
        "NotIpAddress": match.ip_in,
        **_typed_matchers(),
    }
)


# --------------------------------------------------------------------------
# reasons


def _quoted(values: Iterable[str | None], texts: Iterable[str]) -> str:
    parts = [
        f"`{v}`" if v is not None else f"`{t}` (unresolved)"
        for v, t in zip(values, texts, strict=True)
    ]
    return ", ".join(parts) if parts else "no values"


def explain(cond: Condition, ctx: Context, variables: bool) -> str:
    """One line on why `cond` fails (in a Deny when it depends on an open point)."""
    where = f"`{cond.operator} {cond.key}`"
    if condition_outcome(cond, ctx, variables) is None:
        return (
            f"{where} depends on a point the documentation leaves open"
            " (kms-semantics.md section 10); per effect it fails in a Deny"
        )
    view = next(_views(cond, ctx, variables))
    found = view(cond.key)
    op = OPERATORS[cond.base]
    family, negated = op.family, op.negated
    if family == "Null":
        want = {v.lower() for v in cond.values}
        wish = "absent" if "true" in want else "present" if "false" in want else "neither"
        state = "it is absent" if found is None else "it is present"
        return f"{where} wants the key {wish}, but {state}"
    if found is None:
        return f"`{cond.key}` is absent"
    wanted = _quoted(_policy_values(cond, view, variables), cond.values)
    got = ", ".join(f"`{v}`" for v in found) if found else "an empty set"
    verb = "excludes" if negated else "wants"
    return f"{where} {verb} {wanted}, request has {got}"


# --------------------------------------------------------------------------
# building contexts whose key names collide in case (R5.4, 10.23)
