"""The context AWS builds for a request, from the caller and the world (R5.3, R5.2).

`complete_request` adds what AWS derives (aws:PrincipalArn, kms:CallerAccount,
tags, key properties, kms:EncryptionContextKeys...) under the caller's explicit
values; a value that contradicts what the world says is an input error. Twin:
`kmsprove.encode.derive`.
"""

from __future__ import annotations

from dataclasses import replace

from kmsprove.arn import parse_caller
from kmsprove.catalog import action_info
from kmsprove.errors import InputError, SourcePos
from kmsprove.request import Context, Request, as_session
from kmsprove.world import World


def derived_context(world: World, req: Request) -> dict[str, str | tuple[str, ...]]:
    """The keys AWS puts in the context of `req`, from the caller and the key."""
    out: dict[str, str | tuple[str, ...]] = {
        "aws:SecureTransport": "true",  # KMS endpoints are TLS only (R5.3)
    }
    caller = parse_caller(req.principal)
    if caller.is_service:
        out["aws:PrincipalIsAWSService"] = "true"
        out["aws:PrincipalServiceName"] = caller.arn
    elif caller.account:
        acct = world.account(caller.account)
        ident = world.identity(req.principal)
        if caller.kind == "assumed-role":
            principal_arn = ident.arn if ident else caller.principal_arn
        else:
            principal_arn = caller.arn
        out["aws:PrincipalArn"] = principal_arn
        out["aws:PrincipalAccount"] = caller.account
        out["aws:PrincipalIsAWSService"] = "false"
        out["aws:PrincipalType"] = {
            "root": "Account",
            "user": "User",
            "assumed-role": "AssumedRole",
            "federated-user": "FederatedUser",
        }.get(caller.kind, "Unknown")
        if caller.kind == "user":
            out["aws:username"] = caller.name
        if acct.organization:
            out["aws:PrincipalOrgID"] = acct.organization
        if ident is not None:
            for k, v in ident.tags:
                out[f"aws:PrincipalTag/{k}"] = v
    via = req.context.get("kms:ViaService")
    out["aws:ViaAWSService"] = "true" if via else "false"
    info = action_info(req.action)
    key = world.find_key(req.key) if req.key else None
    if info is not None and info.on_key and caller.account:
        out["kms:CallerAccount"] = caller.account
    if info is not None and info.on_key and key is not None:
        out["aws:RequestedRegion"] = key.region
        out["kms:KeySpec"] = key.key_spec
        out["kms:KeyUsage"] = key.key_usage
        out["kms:KeyOrigin"] = key.origin
        out["kms:MultiRegion"] = "true" if key.multi_region else "false"
        if key.multi_region and key.multi_region_key_type:
            out["kms:MultiRegionKeyType"] = key.multi_region_key_type
        if key.aliases:
            out["kms:ResourceAliases"] = tuple(key.aliases)
        for k, v in key.tags:
            out[f"aws:ResourceTag/{k}"] = v
    if info is not None and "kms:EncryptionContextKeys" in info.condition_keys:
        # the request's encryption context; for CreateGrant, its grant constraint (the
        # condition-keys page lists both keys for CreateGrant)
        ec = req.context.encryption_context()
        if ec:
            out["kms:EncryptionContextKeys"] = tuple(ec)
    if info is not None and info.short in ("GetKeyPolicy", "PutKeyPolicy"):
        out["kms:PolicyName"] = "default"
    sent = req.key_id_as_sent or ""
    if info is not None and "kms:RequestAlias" in info.condition_keys and "alias/" in sent:
        out["kms:RequestAlias"] = "alias/" + sent.split("alias/", 1)[1]
    return out


# Keys the caller may not contradict: they follow from who the caller is.
FIXED_KEYS = ("aws:principalarn", "aws:principalaccount", "kms:calleraccount", "aws:principalorgid")


def complete_request(world: World, req: Request, where: SourcePos | None = None) -> Request:
    """`req` with the derived context added under the caller's explicit values; a role
    ARN as the caller becomes a session of it (R1.2), for both twins alike."""
    req, note = as_session(req)
    if note is not None:
        req = replace(req, notes=(*req.notes, note))
    derived = derived_context(world, req)
    problems = []
    for name, value in derived.items():
        given = req.context.get(name)
        want = (value,) if isinstance(value, str) else tuple(value)
        if given is not None and name.lower() in FIXED_KEYS and tuple(given) != want:
            problems.append(
                f"context `{name}` = `{', '.join(given)}` contradicts the caller `{req.principal}`,"
                f" for which it is `{', '.join(want)}`"
            )
    if problems:
        pos = where or SourcePos("<request>")
        raise InputError([InputError.at(pos, p).diagnostics[0] for p in problems])
    missing = {k: v for k, v in derived.items() if not req.context.has(k)}
    ctx = req.context.with_values(missing)
    for name, states in open_states(req, ctx).items():
        if not ctx.has(name):
            ctx = ctx.with_open(name, states)
    return replace(req, context=ctx)


def open_states(req: Request, ctx: Context) -> dict[str, tuple[tuple[str, ...] | None, ...]]:
    """Keys whose presence the documentation leaves open for this request (section 10)."""
    out: dict[str, tuple[tuple[str, ...] | None, ...]] = {}
    info = action_info(req.action)
    via = ctx.get("kms:ViaService")
    if info is not None and info.short in ("CreateGrant", "ListGrants", "RevokeGrant") and not via:
        out["kms:GrantIsForAWSResource"] = (None, ("false",))  # 10.22
    if via:
        service = via[0].split(".")[0] + ".amazonaws.com"
        out["aws:CalledVia"] = (None, (service,))  # 10.15
    return out
