"""One policy layer as formulas: does a Deny match, does an Allow match (and how).

Twin: `kmsprove.evaluate.layers` (statement_applies -> bool).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from kmsprove.ast import Effect, Policy, Statement
from kmsprove.catalog import absent_in_key_policies, action_matches
from kmsprove.encode.conditions import condition_formula
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.match import arn_re, py_arn_like
from kmsprove.encode.principals import not_principal_exempt, principal_vias
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.universe import Universe
from kmsprove.request import Via


@dataclass
class LayerFormula:
    deny: z3.BoolRef
    allow: z3.BoolRef
    vias: dict[Via, z3.BoolRef] = field(default_factory=dict)  # resource policies only

    def via(self, v: Via) -> z3.BoolRef:
        return self.vias.get(v, z3.BoolVal(False))


@dataclass
class Target:
    """What the statements are tested against: a concrete ARN or a symbolic one."""

    arn: str | None = None
    symbolic: z3.SeqRef | None = None
    key_policy: bool = False  # `*` means this key; IAM-only keys are absent


def action_part(st: Statement, sym: Sym) -> z3.BoolRef:
    names = {a.name for a in sym.actions}
    if st.action is not None:
        hit = {n for n in names if any(action_matches(p, n) for p in st.action)}
        return sym.is_action(hit)
    if st.not_action is not None:
        hit = {n for n in names if not any(action_matches(p, n) for p in st.not_action)}
        return sym.is_action(hit)
    return z3.BoolVal(False)  # inert without Action (R1.11)


def _resource_entry(entry: str, policy: Policy, target: Target) -> z3.BoolRef:
    if entry == "*":
        return z3.BoolVal(True)
    if policy.variables_enabled and "${" in entry:
        raise Unmodelled("policy variables in `Resource`")
    if target.arn is not None:
        return z3.BoolVal(py_arn_like(entry, target.arn))
    assert target.symbolic is not None
    return z3.InRe(target.symbolic, arn_re(entry))


def resource_part(st: Statement, policy: Policy, target: Target) -> z3.BoolRef:
    if st.resource is not None:
        return z3.Or(*[_resource_entry(e, policy, target) for e in st.resource])
    if st.not_resource is not None:
        return z3.Not(z3.Or(*[_resource_entry(e, policy, target) for e in st.not_resource]))
    return z3.BoolVal(False)


def _conditions(st: Statement, policy: Policy, sym: Sym, target: Target) -> z3.BoolRef:
    parts = []
    for c in st.conditions:
        if target.key_policy and absent_in_key_policies(c.key):  # 10.11
            parts.append(_absent_only(c, sym, st.effect, policy))
        else:
            parts.append(condition_formula(c, sym, st.effect, policy.variables_enabled))
    return z3.And(*parts) if parts else z3.BoolVal(True)


def _absent_only(c, sym: Sym, effect: Effect, policy: Policy) -> z3.BoolRef:  # type: ignore[no-untyped-def]
    """A condition on an IAM-only key, seen from a key policy: the key is absent (10.11)."""
    shadow = Sym(
        sym.pid,
        sym.acct,
        sym.fresh_account,
        sym.name,
        sym.session,
        sym.action,
        sym.actions,
        set_bound=sym.set_bound,
        fixed=True,
    )
    var = shadow.key(c.key)
    var.present = z3.BoolVal(False)
    if var.count is not None:
        var.count = z3.IntVal(0)
    return condition_formula(c, shadow, effect, policy.variables_enabled)


def layer(policies: tuple[Policy, ...], sym: Sym, u: Universe, target: Target) -> LayerFormula:
    """Deny / Allow formulas of every statement of the layer's policies."""
    denies: list[z3.BoolRef] = []
    allows: list[z3.BoolRef] = []
    vias: dict[Via, list[z3.BoolRef]] = {}
    for policy in policies:
        resource_policy = policy.kind.is_resource_policy
        for st in policy.statements:
            rest = z3.And(
                action_part(st, sym),
                resource_part(st, policy, target),
                _conditions(st, policy, sym, target),
            )
            if not resource_policy:
                (denies if st.effect is Effect.DENY else allows).append(rest)
                continue
            if st.principal is not None:
                st_vias = principal_vias(st.principal, u, sym)
                who = z3.Or(*st_vias.values()) if st_vias else z3.BoolVal(False)
            elif st.not_principal is not None and st.effect is Effect.DENY:
                st_vias = {Via.WILDCARD: z3.Not(not_principal_exempt(st.not_principal, u, sym))}
                who = st_vias[Via.WILDCARD]
            else:
                continue  # no principal, or Allow + NotPrincipal: never matches
            if st.effect is Effect.DENY:
                denies.append(z3.And(who, rest))
            else:
                allows.append(z3.And(who, rest))
                for v, f in st_vias.items():
                    vias.setdefault(v, []).append(z3.And(f, rest))
    return LayerFormula(
        deny=z3.Or(*denies) if denies else z3.BoolVal(False),
        allow=z3.Or(*allows) if allows else z3.BoolVal(False),
        vias={v: z3.Or(*fs) for v, fs in vias.items()},
    )
