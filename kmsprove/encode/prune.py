"""The part of a key a question can touch, decided before any formula is built.

A key that many teams share has tens of thousands of grants and a key policy full of
statements for other accounts; a question names a few actions. A grant whose
operations include none of them, or a key-policy statement whose `Action` matches none
of them, can neither allow nor deny the request (R1.4, R4.2), so it is dropped here
and with it every principal and account only it mentions: those callers fall in the
classes of unmentioned principals (`kmsprove.encode.universe`), which is what they are
for this question. AWS's Block Public Access analysis decides most of a policy the
same way, syntactically, before its SMT call.

What stays: every grant when RetireGrant is asked (any grant's retiring principal may
retire it, R4.7), every statement of every policy other than the key's (identity
policies, SCPs, bucket policies), which the universe's other classes read.

`may_allow` is the syntactic "no": KMS allows a request only when a key-policy Allow
statement covers its caller (by name, account, wildcard or service) or a grant does
(R1.1, R1.4, R4.2); when no statement or grant left covers any class of the question's
universe, nothing can be allowed, and no formula needs building.
"""

from __future__ import annotations

from dataclasses import replace

import z3

from kmsprove.ast import Condition, CondOp, Effect, Policy, Query, Statement, WhoKind
from kmsprove.catalog import is_multi_valued
from kmsprove.encode.grants import coverage_by_grantee
from kmsprove.encode.layers import action_part
from kmsprove.encode.principals import principal_vias
from kmsprove.encode.question import CALLER_ACCOUNT_KEYS
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.universe import Universe
from kmsprove.world import Key, World


def _requires(c: Condition) -> tuple[str, set[str]] | None:
    """(key, values) when the condition holds only if a single-valued key is present
    with one of `values`, compared exactly: StringEquals without IfExists, a set
    operator or a policy variable. (Bool is left out: `TRUE` is true, R6.)"""
    if c.if_exists or c.set_op is not None or c.base != "StringEquals":
        return None
    low = c.key.lower()
    if is_multi_valued(low) or any("${" in v for v in c.values):
        return None
    return low, set(c.values)


def _excluded(st: Statement, query: Query | None) -> bool:
    """An Allow statement whose conditions the question's callers or `where` can never
    meet: `aws:PrincipalOrgID` must be O and the question asks about callers outside O;
    the caller's account must be one the question leaves out; a key must have the one
    value the question's `where` rules out (`!=`) or be present where it says absent."""
    if query is None or st.effect is not Effect.ALLOW:
        return False
    who = query.who
    for c in st.conditions:
        need = _requires(c)
        if need is None:
            continue
        key, values = need
        outside_org = who.kind is WhoKind.OUTSIDE_ORG and values == {who.org}
        outside = who.kind is WhoKind.OUTSIDE_ACCOUNTS and values <= set(who.accounts)
        if (key == "aws:principalorgid" and outside_org) or (
            key in CALLER_ACCOUNT_KEYS and outside
        ):
            return True
        for q in query.conditions:
            if q.key.lower() == key and (
                q.op is CondOp.NOT_HAS or (q.op is CondOp.NE and values == {q.value})
            ):
                return True
    return False


def _policy(policy: Policy, sym: Sym, query: Query | None) -> Policy:
    kept = tuple(
        st
        for st in policy.statements
        if not z3.is_false(action_part(st, sym)) and not _excluded(st, query)
    )
    return policy if len(kept) == len(policy.statements) else replace(policy, statements=kept)


def key_for(key: Key, sym: Sym, query: Query | None = None) -> Key:
    """`key` without the grants and key-policy statements none of `sym`'s actions reach
    (and without the Allow statements whose conditions `query` rules out, `_excluded`)."""
    names = {a.name for a in sym.actions}
    grants = key.grants
    if "kms:RetireGrant" not in names:
        reach: dict[tuple[str, ...], bool] = {}  # a few operation lists among 50,000 grants
        for g in key.grants:
            if g.operations not in reach:
                reach[g.operations] = any(f"kms:{op}" in names for op in g.operations)
        grants = tuple(g for g in key.grants if reach[g.operations])
    policy = _policy(key.policy, sym, query)
    ram = None if key.ram_policy is None else _policy(key.ram_policy, sym, query)
    if len(grants) == len(key.grants) and policy is key.policy and ram is key.ram_policy:
        return key
    return replace(key, grants=grants, policy=policy, ram_policy=ram)


def world_for(world: World, key: Key, sym: Sym, query: Query | None = None) -> tuple[World, Key]:
    """The world with `key` cut down to what `sym`'s actions reach (`key_for`)."""
    cut = key_for(key, sym, query)
    if cut is key:
        return world, key
    keys = tuple(cut if k is key else k for k in world.keys)
    return replace(world, keys=keys), cut


def may_allow(key: Key, u: Universe, sym: Sym) -> bool:
    """Whether some key-policy Allow statement or grant of `key` covers a class of `u`
    (False: no request of `sym`'s actions by those classes is allowed). RetireGrant
    has routes of its own (R4.7): always True."""
    if "kms:RetireGrant" in {a.name for a in sym.actions}:
        return True
    for policy in key.policies:
        for st in policy.statements:
            allow = st.effect is Effect.ALLOW and st.principal is not None
            if allow and st.principal and principal_vias(st.principal, u, sym):
                return True
    covering = coverage_by_grantee(u, sym)
    return any(covering(g) is not None for g in key.grants)
