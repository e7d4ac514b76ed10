"""What every report shows the same way: a request's context without the keys AWS
derives, a context value, and the `kmsprove explain` command that reproduces a request."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from kmsprove.request import Request

# Context keys AWS derives from the caller and the key: reports leave them out of text,
# where they would hide the few values a request really had to carry (JSON keeps them).
DERIVED_PREFIXES = (
    "aws:Principal",
    "kms:Key",
    "aws:Secure",
    "aws:Requested",
    "kms:MultiRegion",
    "kms:ResourceAliases",
    "aws:ViaAWSService",
    "kms:CallerAccount",
    "kms:PolicyName",
    "aws:username",
)


SHOWN_ACCOUNTS = 20  # a shared key names thousands of open accounts; JSON lists every one


def accounts_text(accounts: Sequence[str]) -> str:
    """Open accounts for a person to read: the first few, then how many more."""
    if len(accounts) <= SHOWN_ACCOUNTS:
        return ", ".join(accounts)
    head = ", ".join(accounts[:SHOWN_ACCOUNTS])
    return f"{head} and {len(accounts) - SHOWN_ACCOUNTS:,} more (--format json lists them)"


def shown_context(req: Request) -> dict[str, str | list[str]]:
    """The request's context without the keys AWS derives."""
    return {k: v for k, v in req.context.as_json().items() if not k.startswith(DERIVED_PREFIXES)}


def value_text(v: str | list[str]) -> str:
    return v if isinstance(v, str) else "[" + ", ".join(v) + "]"


def explain_command(world_file: str, req: Request, flags: Sequence[str] = ()) -> str | None:
    """The `kmsprove explain` flags that send exactly `req` (its whole context, and the
    key as the caller named it), or None when flags cannot say it (a federated user's
    IAM user, a session policy: a request file can). `flags` read WORLD as the command
    that found `req` read it (a template's `--account`, `--parameter`...)."""
    if req.federated_from or req.session_policy is not None or req.new_policy is not None:
        return None
    parts = [
        "kmsprove",
        "explain",
        world_file,
        *flags,
        "--principal",
        req.principal,
        "--action",
        req.action,
    ]
    if req.key_id_as_sent or req.key:
        parts += ["--key", req.key_id_as_sent or req.key or ""]
    if req.resource:
        parts += ["--resource", req.resource]
    if req.grant_id:
        parts += ["--grant-id", req.grant_id]
    if req.via_vpce:
        parts += ["--via-vpce", req.via_vpce]
    for low, vals in sorted(req.context.values.items()):
        parts += [x for v in vals for x in ("--context", f"{req.context.names[low]}={v}")]
    return " ".join(shlex.quote(p) for p in parts)


WITNESS_FILES = ("world.json", "request.json")


def reproduce_line(
    world_file: str, req: Request, rests: bool, saved: str | None, flags: Sequence[str] = ()
) -> str:
    """The line that reproduces a witness: `reproduce: ...` only when that command, run
    as printed, gives ALLOW (README, "What a witness guarantees")."""
    if saved is not None:
        world, request = (shlex.quote(str(Path(saved) / f)) for f in WITNESS_FILES)
        return f"reproduce: kmsprove explain {world} --request {request}"
    command = None if rests else explain_command(world_file, req, flags)
    if command is not None:
        return f"reproduce: {command}"
    return (
        "witness: it rests on what is assumed above; `--save-witness DIR` writes the world"
        " and the request that `kmsprove explain DIR/world.json --request DIR/request.json`"
        " allows"
    )
