"""Why an authorized call still fails: key state (R9.2) and key type (R3.5, R1.12).

The tables are data (`specs/kms-actions.json`, read by `kmsprove.catalog`). Twin of
the type check: `encode.authorize.type_forbids`; the key state has none, the encoder
reports it as a fact of the key, not of the request.
"""

from __future__ import annotations

from kmsprove.catalog import crypto_operations, failing_in_state, key_usage_operations, usage_class
from kmsprove.world import Key


def _typed() -> frozenset[str]:
    """The operations a key's type decides (R3.5): the cryptographic ones."""
    return crypto_operations()


def _fits(key: Key, op: str) -> bool:
    return op in key_usage_operations().get(usage_class(key.key_spec, key.key_usage), frozenset())


def blocked_by(key: Key, action_short: str) -> str | None:
    """Why the call fails although authorized, for the key's state (R1.12, R9.2).

    A state passes (a disabled key can be enabled again), so the decision stays
    allow and this is reported beside it.
    """
    if action_short in failing_in_state(key.state):
        return f"key state {key.state}: {action_short} fails (R9.2)"
    return None


def type_forbids(key: Key, action_short: str, grant_operations: tuple[str, ...] = ()) -> str | None:
    """Why the key's type can never perform the call, or None (R3.5).

    A key's spec and usage never change, so kmsprove decides such a request
    as deny (docs/choices.md): no principal can ever make it succeed.
    """
    for op in grant_operations:
        if op in _typed() and not _fits(key, op):
            return f"a grant for {op} is rejected on a {key.key_spec}/{key.key_usage} key (R3.5)"
    if action_short in _typed():
        if not _fits(key, action_short):
            return f"key type {key.key_spec}/{key.key_usage} does not support {action_short} (R3.5)"
        if action_short.startswith("GenerateDataKeyPair") and key.origin in (
            "AWS_CLOUDHSM",
            "EXTERNAL_KEY_STORE",
        ):
            return f"{action_short} fails with keys in custom key stores (R3.5)"
    return None
