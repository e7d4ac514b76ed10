"""Which key a request reaches by the way it names it (R3.2): a key ID or alias name
resolves in the caller's own account (KMS Developer Guide, allowing users in other
accounts), an alias names a key only for operations that take one, and operations on
no key act on the caller's own account. Twin: the naming terms of
`kmsprove.encode.authorize`.
"""

from __future__ import annotations

from kmsprove.arn import ALIAS_NAME, KEY_ID, Caller, is_alias_naming, key_arn_parts, key_naming
from kmsprove.catalog import ActionInfo, takes_alias
from kmsprove.request import Request
from kmsprove.world import Key


def naming_refusal(
    req: Request, info: ActionInfo, key: Key, caller: Caller, cross: bool
) -> str | None:
    """Why the key the request names is not this key, or not accepted (R3.2)."""
    sent = req.key_id_as_sent or req.key or key.arn
    naming = key_naming(sent)
    if is_alias_naming(naming) and not takes_alias(info):
        return f"`{info.name}` takes a key ID or key ARN, not an alias (`{sent}`) (R3.2)"
    if cross and naming in (KEY_ID, ALIAS_NAME):
        return (
            f"`{sent}` is a {naming}, which KMS resolves in the caller's own account"
            f" {caller.account}: a key of another account is named by its key ARN"
            " or alias ARN (R3.2)"
        )
    return None


def other_accounts_key(req: Request, caller: Caller) -> str | None:
    """The account of a key ARN the request names, when it is not the caller's."""
    parts = key_arn_parts(req.key or "")
    if parts is None or caller.is_service or parts[1] == caller.account:
        return None
    return parts[1]
