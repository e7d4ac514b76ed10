"""One policy layer against one request: which statements match, and why not.

Twin: `kmsprove.encode.layers` (statement_applies -> BoolRef).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmsprove.arn import Caller
from kmsprove.ast import Effect, Policy, Statement
from kmsprove.catalog import absent_in_key_policies, action_matches
from kmsprove.evaluate import match
from kmsprove.evaluate.conditions import conditions_hold
from kmsprove.evaluate.principals import not_principal_exempts, statement_covers
from kmsprove.request import Context, StatementRef, Via


@dataclass(frozen=True, slots=True)
class Subject:
    """What a layer tests: the caller, the action, the resource and the context."""

    caller: Caller
    action: str
    resource: str  # key ARN or S3 ARN
    ctx: Context
    federated_from: str | None = None
    has_boundary: bool = False


@dataclass
class LayerMatch:
    denies: list[StatementRef] = field(default_factory=list)
    allows: list[tuple[StatementRef, set[Via]]] = field(default_factory=list)
    others: list[StatementRef] = field(default_factory=list)

    @property
    def denied(self) -> bool:
        return bool(self.denies)

    @property
    def allowed(self) -> bool:
        return bool(self.allows)

    @property
    def effect(self) -> str:
        """The layer's verdict as `LayerResult.effect` spells it."""
        return "deny" if self.denied else "allow" if self.allowed else "none"

    def vias(self) -> set[Via]:
        out: set[Via] = set()
        for _, v in self.allows:
            out |= v
        return out

    def refs(self) -> tuple[StatementRef, ...]:
        return (*self.denies, *(r for r, _ in self.allows), *self.others)


def key_policy_view(ctx: Context) -> Context:
    """The context as a key policy sees it: IAM-only keys absent (10.11)."""
    keep = {ctx.names[k]: v for k, v in ctx.values.items() if not absent_in_key_policies(k)}
    out = Context.of(keep)
    for k, states in ctx.open_keys.items():
        out = out.with_open(k, states)
    return out


def match_policies(policies: tuple[Policy, ...], subj: Subject) -> LayerMatch:
    """Every statement of the layer's policies, sorted into deny / allow / other."""
    out = LayerMatch()
    for policy in policies:
        for st in policy.statements:
            ok, vias, why = statement_applies(st, policy, subj)
            effect = st.effect.value
            ref = StatementRef.at(st.sid, st.pos, ok, effect, why)
            if not ok:
                out.others.append(ref)
            elif st.effect is Effect.DENY:
                out.denies.append(ref)
            else:
                out.allows.append((ref, vias))
    return out


def statement_applies(st: Statement, policy: Policy, subj: Subject) -> tuple[bool, set[Via], str]:
    """Whether the statement matches: principal, action, resource, conditions (section 0)."""
    vias: set[Via] = set()
    if policy.kind.is_resource_policy:
        ok, vias, why = _principal_part(st, subj)
        if not ok:
            return False, vias, why
    ok, why = _action_part(st, subj.action)
    if not ok:
        return False, vias, why
    ok, why = _resource_part(st, policy, subj)
    if not ok:
        return False, vias, why
    held, why = conditions_hold(st.conditions, subj.ctx, st.effect, policy.variables_enabled)
    if not held:
        return False, vias, why
    return True, vias, _matched_why(st, vias)


def _matched_why(st: Statement, vias: set[Via]) -> str:
    if not vias:
        return "matches"
    names = ", ".join(sorted(v.value for v in vias))
    return f"matches (principal: {names})"


def _principal_part(st: Statement, subj: Subject) -> tuple[bool, set[Via], str]:
    if st.principal is not None:
        vias = statement_covers(st.principal, subj.caller, subj.federated_from)
        if not vias:
            return False, vias, f"principal does not cover `{subj.caller.arn}`"
        return True, vias, ""
    if st.not_principal is not None:
        if st.effect is Effect.ALLOW:
            return False, set(), "Allow with NotPrincipal is not supported (R2.9)"
        if not_principal_exempts(
            st.not_principal, subj.caller, subj.federated_from, subj.has_boundary
        ):
            return False, set(), f"NotPrincipal exempts `{subj.caller.arn}`"
        return True, {Via.WILDCARD}, ""
    return False, set(), "statement has no Principal: inert"


def _action_part(st: Statement, action: str) -> tuple[bool, str]:
    if st.action is not None:
        if any(action_matches(p, action) for p in st.action):
            return True, ""
        return False, f"`{action}` is not in Action"
    if st.not_action is not None:
        if any(action_matches(p, action) for p in st.not_action):
            return False, f"`{action}` is excluded by NotAction"
        return True, ""
    return False, "statement has no Action: inert (R1.11)"


def _resource_covers(entry: str, policy: Policy, subj: Subject) -> bool:
    if entry == "*":
        return True
    if policy.variables_enabled and "${" in entry:
        # variables only in the resource part of the ARN; unresolved: no match (R6.10)
        resolved = match.substitute_resource(entry, subj.ctx)
        return resolved is not None and match.arn_like(resolved, subj.resource)
    return match.arn_like(entry, subj.resource)


def _resource_part(st: Statement, policy: Policy, subj: Subject) -> tuple[bool, str]:
    if st.resource is not None:
        if any(_resource_covers(e, policy, subj) for e in st.resource):
            return True, ""
        return False, f"Resource does not cover `{subj.resource}`"
    if st.not_resource is not None:
        if any(_resource_covers(e, policy, subj) for e in st.not_resource):
            return False, f"`{subj.resource}` is excluded by NotResource"
        return True, ""
    return False, "statement has no Resource: inert (R1.11)"
