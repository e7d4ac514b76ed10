"""Collect: AWS -> a world directory (`kmsprove collect -o DIR`), read-only.

Everything that decides KMS access in one account or a whole organization, as the raw
AWS output (one JSON file per document, under `DIR/accounts/` and
`DIR/organization/`) and one world file, `DIR/world.json`, that references it, so
`kmsprove query DIR/world.json ...` and `kmsprove check DIR SPEC` take it as it is.

Modules: `calls` (every API call and its IAM action: the least-privilege policy's
source), `aws` (boto3 clients, adaptive retries, refusals), `store` (deterministic,
atomic files; the progress log `--resume` reads), `org`, `kms`, `accounts` (what each
unit reads), `assemble` (the world file), `summary`, `run` (the units, in order).
boto3 is the optional extra `kmsprove[collect]`: only `run` and what it imports load it.
"""

from __future__ import annotations

from kmsprove.errors import InputError

EXTRA = "pip install 'kmsprove[collect]'"


def require_boto3() -> None:
    """Raise `InputError` naming the extra when boto3 is not installed."""
    try:
        # optional extra: boto3 is only needed by this command
        import boto3  # noqa: F401
    except ImportError:
        raise InputError.at_cli(
            f"`kmsprove collect` needs boto3, which is not installed: {EXTRA}"
        ) from None
