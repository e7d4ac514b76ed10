"""Grants as a source of allow (R4), and the RetireGrant rule (R4.7) — evaluator side.

Twin: `kmsprove.encode.grants`.
"""

from __future__ import annotations

from kmsprove.arn import Caller, unique_id_kind
from kmsprove.ast import Grant
from kmsprove.catalog import ActionInfo
from kmsprove.evaluate.principals import grantee_covers, is_service_name, may_be_unresolved
from kmsprove.request import Context, StatementRef
from kmsprove.world import Identity, Key


def _lower_pairs(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    # grant-constraint keys compare case-insensitively (10.1); values exactly (R4.5)
    return {k.lower(): v for k, v in pairs}


def ec_satisfies(grant: Grant, ec: dict[str, str]) -> bool:
    """EncryptionContextSubset / Equals against the request's context (R4.5)."""
    have = {k.lower(): v for k, v in ec.items()}
    pairs = grant.ec_equals if grant.ec_equals is not None else grant.ec_subset
    if pairs is None:
        return True
    # every pair must hold, even two whose keys differ only in case (10.1)
    if not all(have.get(k.lower()) == v for k, v in pairs):
        return False
    return grant.ec_equals is None or set(have) == {k.lower() for k, _ in pairs}


def child_within(grant: Grant, ctx: Context) -> tuple[bool, str]:
    """CreateGrant through a grant: the child stays within the parent (R4.6)."""
    ops = ctx.get("kms:GrantOperations")
    if not ops:
        return False, "the CreateGrant request names no operations (kms:GrantOperations)"
    extra = [op for op in ops if op not in grant.operations]
    if extra:
        return False, f"child operations {extra} exceed the grant's"
    kind = (ctx.get("kms:GrantConstraintType") or (None,))[0]
    asked = ctx.encryption_context()
    if grant.ec_equals is not None:
        if kind != "EncryptionContextEquals" or _lower_pairs(tuple(asked.items())) != _lower_pairs(
            grant.ec_equals
        ):
            return False, "the parent's EncryptionContextEquals must be kept exactly"
    elif grant.ec_subset is not None:
        have = _lower_pairs(tuple(asked.items()))
        if kind not in ("EncryptionContextSubset", "EncryptionContextEquals") or any(
            have.get(k) != v for k, v in _lower_pairs(grant.ec_subset).items()
        ):
            return False, "the child must keep the parent's EncryptionContextSubset pairs"
    return True, ""


def grant_is_for(grant: Grant, caller: Caller) -> bool:
    """Whether the grant's grantee covers the caller (R4.3). A unique id the world did
    not resolve covers no caller a request names (`unresolved_notes` says where it
    could)."""
    if is_unresolved(grant.grantee):
        return False
    if grant.grantee_service is not None:
        return caller.is_service and caller.arn == grant.grantee_service
    if grant.grantee is not None and is_service_name(grant.grantee):
        return True  # grantees unknown: may cover anyone (R4.3)
    return grant.grantee is not None and grantee_covers(grant.grantee, caller)


def grant_allows(
    grant: Grant, key: Key, caller: Caller, info: ActionInfo, ctx: Context
) -> tuple[bool, str]:
    """Whether one grant allows the request (R4.2), and why not."""
    if not grant_is_for(grant, caller):
        who = grant.grantee or grant.grantee_service
        return False, f"its grantee `{who}` does not cover `{caller.arn}`"
    if info.short not in grant.operations:
        return False, f"`{info.short}` is not among its operations"
    if info.short == "CreateGrant":
        return child_within(grant, ctx)
    # EC constraints bind only operations that take an EC (R4.5, 10.26)
    takes_ec = info.encryption_context and key.is_symmetric_encryption
    if takes_ec and not ec_satisfies(grant, ctx.encryption_context()):
        return False, "the encryption context does not meet its constraint"
    # SourceArn "is only evaluated when the request is made by an AWS service" (10.14)
    by_service = grant.source_arn is not None and caller.is_service
    if by_service and grant.source_arn not in (ctx.get("aws:SourceArn") or ()):
        return False, "aws:SourceArn does not match its SourceArn constraint"
    return True, "allows"


def grants_allow(
    key: Key, caller: Caller, info: ActionInfo, ctx: Context
) -> tuple[bool, list[StatementRef], int]:
    """Whether some grant on the key allows the request.

    Returns a reference for every grant that allows it or whose grantee covers
    the caller, and the count of the other grants (a key may hold 50,000).
    """
    refs = []
    ok = False
    others = 0
    for g in key.grants:
        if is_unresolved(g.grantee) and info.short in g.operations:
            refs.append(StatementRef.at(_label(g), g.pos, False, "Allow", _unknown_why(g)))
            continue
        if not grant_is_for(g, caller):
            others += 1
            continue
        allowed, why = grant_allows(g, key, caller, info, ctx)
        if g.grantee is not None and is_service_name(g.grantee) and allowed:
            why = f"its grantee `{g.grantee}` is a service, so who it covers is unknown (R4.3)"
        why += "".join(f" (`{uid}` is `{arn}`)" for uid, arn in g.resolved if arn == g.grantee)
        refs.append(StatementRef.at(g.grant_id or g.name or None, g.pos, allowed, "Allow", why))
        ok = ok or allowed
    return ok, refs, others


def is_unresolved(principal: str | None) -> bool:
    """A grantee or retiring principal given as a unique id no principal of the world
    carries (`kmsprove.inputs.unique_ids` resolved the others to their ARN)."""
    return principal is not None and unique_id_kind(principal) is not None


def _label(g: Grant) -> str:
    return g.grant_id or g.name or "(no GrantId)"


def _unknown_why(g: Grant) -> str:
    return f"its grantee `{g.grantee}` is not resolved: its principal and account are unknown"


def unresolved_notes(
    key: Key, info: ActionInfo, caller: Caller, ident: Identity | None, grant_id: str | None
) -> list[str]:
    """Why a deny may be wrong: grants for the action (for RetireGrant, the grant retired)
    whose grantee or retiring principal is an unresolved unique id that may be the caller.
    Twin: `kmsprove.solve.unresolved.unresolved_grant` (the questions' "unknown")."""
    out = []
    for g in key.grants:
        if info.short == "RetireGrant" and g.grant_id != grant_id:
            continue
        roles = []
        if info.short in g.operations:
            roles.append(("grantee", g.grantee))
        if info.short == "RetireGrant":
            roles.append(("retiring principal", g.retiring))
        for role, value in roles:
            if (
                value is not None
                and is_unresolved(value)
                and may_be_unresolved(value, caller, ident)
            ):
                out.append(
                    f"grant {_label(g)}'s {role} {value} is not resolved: its principal and"
                    " account are unknown, so it may be the caller and allow this request"
                )
    return out


def retire_routes(grant: Grant, key: Key, caller: Caller) -> tuple[list[str], list[str]]:
    """Who may retire `grant` (R4.7): (routes needing nothing more, routes needing IAM).

    The second list names routes that hold only if the caller's IAM policies
    allow kms:RetireGrant.
    """
    direct: list[str] = []
    via_iam: list[str] = []
    if (
        grant.retiring_service is not None
        and caller.is_service
        and caller.arn == grant.retiring_service
    ):
        direct.append("the retiring service principal")
    if grant.retiring is not None and grantee_covers(grant.retiring, caller):
        if grant.retiring.endswith(":root") and caller.kind != "root":
            via_iam.append("the retiring account delegates through IAM (R4.7 (5))")
        else:
            direct.append("the retiring principal")
    if "RetireGrant" in grant.operations:
        if (
            grant.grantee_service is not None
            and caller.is_service
            and caller.arn == grant.grantee_service
        ):
            direct.append("the grantee service, with RetireGrant in its operations")
        elif grant.grantee is not None and grantee_covers(grant.grantee, caller):
            direct.append("the grantee, with RetireGrant in its operations")
    if not caller.is_service:
        if caller.account == grant.issuing_account:
            if caller.kind == "root":
                direct.append("the root user of the issuing account")
            else:
                via_iam.append("the issuing account (10.4)")
        if caller.account == key.account:
            via_iam.append("the key's account")
    return direct, via_iam
