"""UpdatePrimaryRegion's second authorization: the replica in the new primary Region
must allow it too (KMS Developer Guide, multi-Region keys: controlling access).
Twin: the encoder does not model it when the world holds the replica (unknown)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kmsprove.evaluate.context import complete_request
from kmsprove.request import Context, Decision, Request
from kmsprove.world import Key, World

# the KMS procedure on one request and key (`evaluate.kms`, passed in: no import cycle)
Decide = Callable[[Request, Key], Decision]

# key properties each key of a multi-Region set has its own (R5.2)
_OWN_PROPERTIES = (
    "kms:keyspec",
    "kms:keyusage",
    "kms:keyorigin",
    "kms:multiregion",
    "kms:multiregionkeytype",
    "kms:resourcealiases",
    "aws:resourcetag/",
)


def with_replica(
    world: World, req: Request, key: Key, primary: Decision, decide: Decide
) -> Decision:
    """UpdatePrimaryRegion needs permission on the primary and on the replica in the new
    primary Region (KMS Developer Guide, multi-Region keys: controlling access)."""
    region = (req.context.get("kms:PrimaryRegion") or ("",))[0]
    replica = next(
        (
            k
            for k in world.keys
            if k.multi_region
            and k.key_id == key.key_id
            and k.account == key.account
            and k.region == region
        ),
        None,
    )
    if replica is None or replica.arn == key.arn:
        return Decision(
            False,
            primary.layers,
            f"no replica of the key in `{region or '(no kms:PrimaryRegion)'}` in the world:"
            " UpdatePrimaryRegion needs the replica, and its permission (R3.2)",
        )
    ctx = {
        req.context.names[low]: v
        for low, v in req.context.values.items()
        if not low.startswith(_OWN_PROPERTIES)
    }
    on_replica = replace(req, key=replica.arn, key_id_as_sent=None, context=Context.of(ctx))
    again = decide(complete_request(world, on_replica), replica)
    layers = primary.layers + tuple(
        replace(lr, subject=f"the replica {replica.arn}") for lr in again.layers
    )
    if not again.allowed:
        return Decision(
            False,
            layers,
            f"the replica {replica.arn} does not allow it: {again.reason}",
            unknown=again.unknown,
        )
    return replace(primary, layers=layers, reason=primary.reason + "; the replica allows it too")
