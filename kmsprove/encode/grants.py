"""Grants as formulas (R4): who they cover, for which operations, under which
constraints; and the RetireGrant routes (R4.7). Twin: `kmsprove.evaluate.grants`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import z3

from kmsprove.ast import Grant
from kmsprove.catalog import ec_operations
from kmsprove.encode.match import glob_re
from kmsprove.encode.principals import grantee_formula, is_entry
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import Universe
from kmsprove.request import EC_PREFIX
from kmsprove.world import Key

Pairs = tuple[tuple[str, str], ...]


def ec_pair(sym: Sym, k: str, v: str) -> z3.BoolRef:
    """The request's encryption context has key k (any case, 10.1) with value v exactly."""
    var = sym.key(EC_PREFIX + k)
    return z3.And(var.present, var.value == lit(v))


def ec_keys_within(sym: Sym, keys: list[str]) -> z3.BoolRef:
    """No encryption-context key outside `keys` (case-insensitive)."""
    parts = []
    allowed = {k.lower() for k in keys}
    for name, var in sym.ctx.items():
        if name.startswith(EC_PREFIX) and name[len(EC_PREFIX) :] not in allowed:
            parts.append(z3.Not(var.present))
    ec_keys = sym.key("kms:EncryptionContextKeys")
    rx = z3.Union(*[glob_re(k, ignore_case=True, literal=True) for k in keys]) if keys else None
    for active, e in ec_keys.members():
        parts.append(z3.Implies(active, z3.InRe(e, rx) if rx is not None else z3.BoolVal(False)))
    return z3.And(*parts) if parts else z3.BoolVal(True)


def constraint_formula(g: Grant, sym: Sym, symmetric: bool) -> z3.BoolRef:
    """EncryptionContextSubset / Equals for operations that take an EC (R4.5, 10.26)."""
    takes_ec = sym.is_action({f"kms:{op}" for op in ec_operations()})
    if not symmetric or (g.ec_subset is None and g.ec_equals is None):
        return z3.BoolVal(True)
    pairs = g.ec_equals if g.ec_equals is not None else g.ec_subset
    assert pairs is not None
    need = z3.And(*[ec_pair(sym, k, v) for k, v in pairs]) if pairs else z3.BoolVal(True)
    if g.ec_equals is not None:
        need = z3.And(need, ec_keys_within(sym, [k for k, _ in pairs]))
    return z3.Implies(takes_ec, need)


def child_within(g: Grant, sym: Sym) -> z3.BoolRef:
    """CreateGrant through a grant stays within it (R4.6)."""
    ops = sym.key("kms:GrantOperations")
    members = ops.members()
    allowed = list(g.operations)
    inside = [z3.Implies(a, z3.Or(*[e == lit(o) for o in allowed])) for a, e in members]
    parts = [ops.present, ops.count > 0, *inside]  # type: ignore[operator]
    kind = sym.key("kms:GrantConstraintType")
    if g.ec_equals is not None:
        parts += [kind.present, kind.value == lit("EncryptionContextEquals")]
        parts += [ec_pair(sym, k, v) for k, v in g.ec_equals]
        parts.append(ec_keys_within(sym, [k for k, _ in g.ec_equals]))
    elif g.ec_subset is not None:
        parts += [
            kind.present,
            z3.Or(
                kind.value == lit("EncryptionContextSubset"),
                kind.value == lit("EncryptionContextEquals"),
            ),
        ]
        parts += [ec_pair(sym, k, v) for k, v in g.ec_subset]
    return z3.And(*parts)


def coverage(g: Grant, u: Universe, sym: Sym) -> z3.BoolRef:
    """Whether the grant's grantee covers the caller (R4.3)."""
    if g.grantee_service is not None:
        return is_entry(
            sym, [e.index for e in u.entries if e.kind == "service" and e.name == g.grantee_service]
        )
    if g.grantee is None:
        return z3.BoolVal(False)
    return grantee_formula(g.grantee, u, sym)


def coverage_by_grantee(u: Universe, sym: Sym) -> Callable[[Grant], z3.BoolRef | None]:
    """`coverage`, None where it is false, computed once per grantee: a shared key's
    50,000 grants name a few thousand grantees."""
    cover: dict[tuple[str | None, str | None], z3.BoolRef | None] = {}

    def covering(g: Grant) -> z3.BoolRef | None:
        who = (g.grantee, g.grantee_service)
        if who not in cover:
            c = coverage(g, u, sym)
            cover[who] = None if z3.is_false(c) else c
        return cover[who]

    return covering


def grants_formula(key: Key, u: Universe, sym: Sym, is_service: z3.BoolRef) -> z3.BoolRef:
    """Some grant on the key allows the request (R4.2). Grants with the same
    operations and constraints are grouped, which keeps 50,000 grants small."""
    Shape = tuple[tuple[str, ...], Pairs | None, Pairs | None, str | None]
    groups: dict[Shape, list[Grant]] = defaultdict(list)
    for g in key.grants:
        groups[(g.operations, g.ec_subset, g.ec_equals, g.source_arn)].append(g)
    parts = []
    covering = coverage_by_grantee(u, sym)
    for (ops, _, _, source_arn), members in groups.items():
        action = sym.is_action({f"kms:{op}" for op in ops})
        if z3.is_false(action):
            continue
        covered = [c for c in map(covering, members) if c is not None]
        if not covered:
            continue  # its grantees are outside the universe the query asks about
        who = z3.Or(*covered)
        g0 = members[0]
        create = sym.is_action({"kms:CreateGrant"})
        plain = constraint_formula(g0, sym, key.is_symmetric_encryption)
        rest = plain if z3.is_false(create) else z3.If(create, child_within(g0, sym), plain)
        if source_arn is not None:
            src = sym.key("aws:SourceArn")
            rest = z3.And(
                rest,
                z3.Implies(is_service, z3.And(src.present, src.value == lit(str(source_arn)))),
            )
        parts.append(z3.And(who, action, rest))
    return z3.Or(*parts) if parts else z3.BoolVal(False)


def retire_formula(
    key: Key,
    u: Universe,
    sym: Sym,
    iam_ok: z3.BoolRef,
    caller_account: z3.SeqRef,
    is_root: z3.BoolRef,
    is_service: z3.BoolRef,
) -> z3.BoolRef:
    """RetireGrant on some grant of the key (R4.7): which routes reach it."""
    assert sym.grant_id is not None  # new_sym makes it
    grant_id = sym.grant_id
    parts = []
    for g in key.grants:
        routes = []
        if g.retiring_service is not None:
            routes.append(
                is_entry(
                    sym,
                    [
                        e.index
                        for e in u.entries
                        if e.kind == "service" and e.name == g.retiring_service
                    ],
                )
            )
        if g.retiring is not None:
            cover = grantee_formula(g.retiring, u, sym)
            if g.retiring.endswith(":root"):
                routes.append(z3.And(cover, z3.Or(is_root, iam_ok)))
            else:
                routes.append(cover)
        if "RetireGrant" in g.operations and (
            g.grantee_service is not None or (g.grantee or "").startswith("arn:")
        ):
            routes.append(coverage(g, u, sym))  # a service shown as grantee names nobody here
        not_service = z3.Not(is_service)
        if g.issuing_account:
            same = caller_account == lit(g.issuing_account)
            routes.append(z3.And(not_service, same, z3.Or(is_root, iam_ok)))
        routes.append(z3.And(not_service, caller_account == lit(key.account), iam_ok))
        parts.append(z3.And(grant_id == lit(g.grant_id), z3.Or(*routes)))
    return z3.Or(*parts) if parts else z3.BoolVal(False)
