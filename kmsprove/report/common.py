"""What every report shows the same way: a request's context without the keys AWS
derives, a context value, and the `kmsprove explain` command that reproduces a request."""

from __future__ import annotations

import shlex

from kmsprove.catalog import derived_keys
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


def shown_context(req: Request) -> dict[str, str | list[str]]:
    """The request's context without the keys AWS derives."""
    return {k: v for k, v in req.context.as_json().items() if not k.startswith(DERIVED_PREFIXES)}


def value_text(v: str | list[str]) -> str:
    return v if isinstance(v, str) else "[" + ", ".join(v) + "]"


def explain_command(world_file: str, req: Request) -> str:
    """The `kmsprove explain` command that reproduces a counterexample."""
    parts = [
        "kmsprove",
        "explain",
        world_file,
        "--principal",
        req.principal,
        "--action",
        req.action,
    ]
    if req.key:
        parts += ["--key", req.key]
    if req.resource:
        parts += ["--resource", req.resource]
    for low, vals in sorted(req.context.values.items()):
        if low in derived_keys() or low.startswith("aws:resourcetag/"):
            continue
        parts += [x for v in vals for x in ("--context", f"{req.context.names[low]}={v}")]
    return " ".join(shlex.quote(p) for p in parts)
