"""Which universe entries a policy principal or a grantee covers (R2, R4.3).

Twin: `kmsprove.evaluate.principals`. Coverage is decided entry by entry at
encoding time; only a session ARN or a federated-user ARN leaves a symbolic
test (the session name).
"""

from __future__ import annotations

import z3

from kmsprove.arn import parse_caller, unique_id_kind
from kmsprove.ast import Principal
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import FRESH, Entry, Universe
from kmsprove.request import Via


def _account_of(u: Universe, e: Entry) -> str | None:
    return None if e.account is None or e.account == FRESH else u.accounts[e.account]


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
    acct = _account_of(u, e)
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


def candidates(u: Universe, kind: str, value: str) -> list[Entry]:
    """The entries a principal value could cover: those of its account (or the services)."""
    index = u.by_account
    if not index:
        for e in u.entries:
            key = "service" if e.kind == "service" else _account_of(u, e)
            index.setdefault(key, []).append(e)
    if kind == "Service":
        return index.get("service", [])
    return index.get(parse_caller(value).account, [])


def named(u: Universe, account: str | None, kind: str | None, name: str | None) -> list[Entry]:
    """Entries of one account, kind and name (`name` None: every entry of the kind)."""
    index = u.by_name
    if not index:
        for e in u.entries:
            index.setdefault((_account_of(u, e), e.kind, e.name), []).append(e)
            index.setdefault((_account_of(u, e), e.kind, None), []).append(e)
    return index.get((account, kind, name), [])


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


def may_be_unresolved(unique_id: str, e: Entry) -> bool:
    """Whether a class may hold the principal behind a unique id the world did not
    resolve (its account is unknown): a user's id (`AIDA...`) a user, a role's id
    (`AROA...`) a role session; never a class whose own unique id the world knows.
    Twin: `kmsprove.evaluate.principals.may_be_unresolved`."""
    if e.identity is not None and e.identity.unique_id is not None:
        return False
    return e.kind == ("user" if unique_id_kind(unique_id) == "user" else "session")


def is_entry(sym: Sym, pred: list[int]) -> z3.BoolRef:
    return z3.Or(*[sym.pid == i for i in pred]) if pred else z3.BoolVal(False)
