"""Which universe entries a policy principal or a grantee covers (R2, R4.3).

Twin: `kmsprove.evaluate.principals`. Coverage is decided entry by entry at
encoding time; only a session ARN or a federated-user ARN leaves a symbolic
test (the session name).
"""

from __future__ import annotations

import z3

from kmsprove.arn import parse_caller, unique_id_kind
from kmsprove.ast import Principal
from kmsprove.encode.static import account_of, candidates, named
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import Entry, Universe
from kmsprove.request import Via


def covers(
    value_kind: str, value: str, e: Entry, u: Universe, sym: Sym
) -> tuple[Via, z3.BoolRef] | None:
    """How one Principal entry covers entry `e`, and the symbolic side condition."""
    true = z3.BoolVal(True)
    if value == "*" and value_kind in ("*", "AWS"):
        return Via.WILDCARD, true
    if value_kind == "Service":
        return (Via.SERVICE, true) if e.kind == "service" and e.name == value else None
    if value_kind != "AWS" or e.kind == "service":
        return None
    target = parse_caller(value)
    acct = account_of(u, e)
    if target.account is None or target.account != acct:
        return None  # the fresh account differs from every account a policy names
    if target.kind == "root":
        return Via.ACCOUNT, true
    if target.kind == "user":
        if e.kind == "user" and e.name == target.name and e.path == target.path:
            return Via.USER, true
        if e.kind == "federated" and e.arn == value:
            return Via.FEDERATED_USER, true
        return None
    if target.kind == "role":
        return (Via.ROLE, true) if e.kind == "session" and e.name == target.name else None
    if target.kind == "assumed-role" and e.kind == "session" and e.name == target.name:
        return Via.SESSION, sym.session == lit(target.session)
    if target.kind == "federated-user" and e.kind == "federated":
        return Via.SESSION, sym.session == lit(target.name)
    return None


def principal_vias(entries: tuple[Principal, ...], u: Universe, sym: Sym) -> dict[Via, z3.BoolRef]:
    """For each way of covering: the formula "the caller is covered that way"."""
    out: dict[Via, list[z3.BoolRef]] = {}
    for p in entries:
        if p.is_wildcard:
            out.setdefault(Via.WILDCARD, []).append(z3.BoolVal(True))
            continue
        for e in candidates(u, p.kind, p.value):
            hit = covers(p.kind, p.value, e, u, sym)
            if hit is not None:
                via, side = hit
                out.setdefault(via, []).append(z3.And(sym.pid == e.index, side))
    return {v: z3.Or(*fs) for v, fs in out.items()}


def not_principal_exempt(entries: tuple[Principal, ...], u: Universe, sym: Sym) -> z3.BoolRef:
    """Deny + NotPrincipal exempts the caller (10.7): listed itself, its role or
    user; the account ARN only for the root user; never a caller with a boundary."""
    vias = principal_vias(entries, u, sym)
    parts = [f for v, f in vias.items() if v is not Via.ACCOUNT]
    if Via.ACCOUNT in vias:
        roots = [e.index for e in u.entries if e.kind == "root"]
        parts.append(z3.And(vias[Via.ACCOUNT], z3.Or(*[sym.pid == i for i in roots])))
    bounded = [
        e.index for e in u.entries if e.identity is not None and e.identity.boundary is not None
    ]
    exempt = z3.Or(*parts) if parts else z3.BoolVal(False)
    if bounded:
        exempt = z3.And(exempt, z3.Not(z3.Or(*[sym.pid == i for i in bounded])))
    return exempt


def grantee_formula(grantee: str, u: Universe, sym: Sym) -> z3.BoolRef:
    """Whether a grant's GranteePrincipal (or RetiringPrincipal) covers the caller (R4.3).
    A unique id the world did not resolve covers no class (`kmsprove.solve.unresolved`
    makes the questions' "no" unknown where it could matter)."""
    if unique_id_kind(grantee) is not None:
        return z3.BoolVal(False)
    if not grantee.startswith("arn:"):
        return z3.BoolVal(True)  # a service shown as grantee: may cover anyone (R4.3)
    target = parse_caller(grantee)
    if target.kind == "root":
        entries = [e for e in candidates(u, "AWS", grantee) if e.kind != "service"]
        return is_entry(sym, [e.index for e in entries])
    kind = {
        "role": "session",
        "assumed-role": "session",
        "user": "user",
        "federated-user": "federated",
    }.get(target.kind)
    parts = []
    for e in named(u, target.account, kind, target.name if kind != "federated" else None):
        if target.kind == "assumed-role":
            parts.append(z3.And(sym.pid == e.index, sym.session == lit(target.session)))
        elif target.kind == "federated-user":
            parts.append(z3.And(sym.pid == e.index, sym.session == lit(target.name)))
        else:
            parts.append(sym.pid == e.index)
    return z3.Or(*parts) if parts else z3.BoolVal(False)


def is_entry(sym: Sym, pred: list[int]) -> z3.BoolRef:
    return z3.Or(*[sym.pid == i for i in pred]) if pred else z3.BoolVal(False)
