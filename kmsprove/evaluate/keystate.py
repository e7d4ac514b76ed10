"""Why an authorized call still fails: key state (R9.2) and key type (R3.5, R1.12).

Twin: none — the encoder reports these as facts of the key, not of the request.
"""

from __future__ import annotations

from kmsprove.catalog import key_usage_operations, kms_catalog
from kmsprove.world import Key

_ROTATION = {"EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand"}
_IMPORT = {"ImportKeyMaterial", "GetParametersForImport", "DeleteImportedKeyMaterial"}


def _crypto() -> set[str]:
    return {
        i.short
        for i in kms_catalog().values()
        if i.grant_operation and i.short not in ("DescribeKey", "CreateGrant", "RetireGrant")
    }


def _failing(state: str) -> set[str]:
    crypto = _crypto()
    match state:
        case "Disabled":
            return (
                crypto
                | {"GetPublicKey", "CreateGrant", "ReplicateKey", "UpdatePrimaryRegion"}
                | (_ROTATION - {"RotateKeyOnDemand"})
            )
        case "PendingDeletion" | "PendingReplicaDeletion":
            return (
                crypto
                | _ROTATION
                | _IMPORT
                | {
                    "GetPublicKey",
                    "CreateGrant",
                    "EnableKey",
                    "DisableKey",
                    "ReplicateKey",
                    "UpdatePrimaryRegion",
                    "TagResource",
                    "UntagResource",
                    "UpdateKeyDescription",
                    "CreateAlias",
                    "ScheduleKeyDeletion",
                }
            )
        case "PendingImport":
            return crypto | {
                "CreateGrant",
                "EnableKey",
                "DisableKey",
                "CancelKeyDeletion",
                "ReplicateKey",
                "UpdatePrimaryRegion",
            }
        case "Unavailable":
            return crypto
        case "Creating":
            return (
                crypto
                | _ROTATION
                | _IMPORT
                | {
                    "GetPublicKey",
                    "CreateGrant",
                    "EnableKey",
                    "DisableKey",
                    "ReplicateKey",
                }
            )
        case "Updating":
            return {
                "EnableKey",
                "DisableKey",
                "ScheduleKeyDeletion",
                "ReplicateKey",
                "DeleteImportedKeyMaterial",
                "GetParametersForImport",
            }
    return set()


def usage_class(key: Key) -> str:
    if key.key_usage == "ENCRYPT_DECRYPT":
        return (
            "ENCRYPT_DECRYPT/SYMMETRIC"
            if key.key_spec == "SYMMETRIC_DEFAULT"
            else "ENCRYPT_DECRYPT/ASYMMETRIC"
        )
    return key.key_usage


def blocked_by(key: Key, action_short: str) -> str | None:
    """Why the call fails although authorized, for the key's state (R1.12, R9.2).

    A state passes (a disabled key can be enabled again), so the decision stays
    allow and this is reported beside it.
    """
    if action_short in _failing(key.state):
        return f"key state {key.state}: {action_short} fails (R9.2)"
    return None


def type_forbids(key: Key, action_short: str, grant_operations: tuple[str, ...] = ()) -> str | None:
    """Why the key's type can never perform the call, or None (R3.5).

    A key's spec and usage never change, so kmsprove decides such a request
    as deny (docs/choices.md): no principal can ever make it succeed.
    """
    for op in grant_operations:
        if op in _crypto() | {"GetPublicKey"} and op not in key_usage_operations().get(
            usage_class(key), frozenset()
        ):
            return f"a grant for {op} is rejected on a {key.key_spec}/{key.key_usage} key (R3.5)"
    typed = _crypto() | {"GetPublicKey"}
    if action_short in typed:
        allowed = key_usage_operations().get(usage_class(key), frozenset())
        if action_short not in allowed:
            return f"key type {key.key_spec}/{key.key_usage} does not support {action_short} (R3.5)"
        if action_short.startswith("GenerateDataKeyPair") and key.origin in (
            "AWS_CLOUDHSM",
            "EXTERNAL_KEY_STORE",
        ):
            return f"{action_short} fails with keys in custom key stores (R3.5)"
    return None
