"""Who a policy principal or a grantee covers (R2, R4.3) — evaluator side.

Twin: `kmsprove.encode.principals`.
"""

from __future__ import annotations

from kmsprove.arn import Caller, parse_caller, unique_id_kind
from kmsprove.ast import Principal
from kmsprove.request import Via
from kmsprove.world import Identity


def entry_covers(entry: Principal, caller: Caller, federated_from: str | None) -> Via | None:
    """How one Principal entry covers the caller, or None (R2.1-R2.8)."""
    if entry.is_wildcard:
        return Via.WILDCARD  # also service principals (10.6)
    if entry.kind == "Service":
        return Via.SERVICE if caller.is_service and entry.value == caller.arn else None
    if entry.kind != "AWS" or caller.is_service or caller.account is None:
        return None  # Federated and CanonicalUser match no KMS caller (R2.6)
    target = parse_caller(entry.value)
    if target.account != caller.account:
        return None
    if target.kind == "root":
        return Via.ACCOUNT
    if target.kind == "user":
        if caller.kind == "user" and target.name == caller.name and target.path == caller.path:
            return Via.USER
        if caller.kind == "federated-user" and federated_from == entry.value:
            return Via.FEDERATED_USER
        return None
    if target.kind == "role":
        if caller.kind == "assumed-role" and target.name == caller.name:
            return Via.ROLE
        return None
    if target.kind in ("assumed-role", "federated-user") and entry.value == caller.arn:
        return Via.SESSION
    return None


def statement_covers(
    entries: tuple[Principal, ...], caller: Caller, federated_from: str | None
) -> set[Via]:
    """Every way the entries of one Principal element cover the caller (ORed, R2.10)."""
    out = set()
    for e in entries:
        via = entry_covers(e, caller, federated_from)
        if via is not None:
            out.add(via)
    return out


def not_principal_exempts(
    entries: tuple[Principal, ...], caller: Caller, federated_from: str | None, has_boundary: bool
) -> bool:
    """Deny + NotPrincipal: whether the caller is exempt (10.7).

    Exempt when the caller itself, its role or its user is listed (the
    account ARN exempts only the root user; AWS also wants it listed for the
    others, which the validator warns about); a caller with a permissions
    boundary is never exempt (R2.9).
    """
    if has_boundary:
        return False
    vias = statement_covers(entries, caller, federated_from)
    if caller.kind != "root":
        vias.discard(Via.ACCOUNT)
    return bool(vias)


def grantee_covers(grantee: str, caller: Caller) -> bool:
    """Whether a grant's GranteePrincipal or RetiringPrincipal covers the caller (R4.3).

    A user or session ARN covers itself, a role ARN its sessions, an account
    ARN every principal of the account (10.3).
    """
    if caller.is_service:
        return False
    target = parse_caller(grantee)
    if target.account is None or target.account != caller.account:
        return False
    match target.kind:
        case "root":
            return True
        case "role":
            return caller.kind == "assumed-role" and caller.name == target.name
        case "user":
            return caller.kind == "user" and caller.name == target.name
        case "assumed-role" | "federated-user":
            return grantee == caller.arn
    return False


def may_be_unresolved(unique_id: str, caller: Caller, ident: Identity | None) -> bool:
    """Whether the principal behind a unique id the world did not resolve may be the
    caller (its account is unknown): a user's id (`AIDA...`) any user, a role's id
    (`AROA...`) any role session; never a principal whose own unique id the world
    knows, since the id would then have resolved (`kmsprove.inputs.unique_ids`).
    Twin: `kmsprove.encode.static.may_be_unresolved`."""
    if ident is not None and ident.unique_id is not None:
        return False
    want = "user" if unique_id_kind(unique_id) == "user" else "assumed-role"
    return caller.kind == want


def is_service_name(value: str) -> bool:
    """A service principal name such as `rds.us-east-1.amazonaws.com` (R4.3)."""
    return not value.startswith("arn:") and "." in value
