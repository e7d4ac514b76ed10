"""`derived_keys()` (specs/condition-keys.json) names every key `derived_context` adds, for every kind of caller, so
reproduce commands and diff witnesses never repeat a key the world supplies."""

from __future__ import annotations

from kmsprove.catalog import derived_keys
from kmsprove.evaluate.context import derived_context
from kmsprove.inputs.world_file import load_world_json
from kmsprove.request import Request

A = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{A}:key/mrk-1234abcd12ab34cd56ef1234567890ab"
WORLD = load_world_json(
    {
        "version": 1,
        "keys": [
            {
                "arn": KEY,
                "policy": {"Version": "2012-10-17", "Statement": []},
                "aliases": ["alias/app"],
                "multi_region": True,
                "multi_region_key_type": "PRIMARY",
            }
        ],
        "accounts": {A: {"organization": "o-exampleorgid"}},
    }
)
CALLERS = (
    f"arn:aws:iam::{A}:root",
    f"arn:aws:iam::{A}:user/alice",
    f"arn:aws:sts::{A}:assumed-role/App/s1",
    f"arn:aws:sts::{A}:federated-user/bob",
    "cloudtrail.amazonaws.com",
)


def test_every_derived_key_is_named() -> None:
    seen = set()
    for caller in CALLERS:
        for action in ("kms:Decrypt", "kms:CreateKey"):
            req = Request(caller, action, key=KEY if action == "kms:Decrypt" else None)
            seen |= {k.lower() for k in derived_context(WORLD, req)}
    assert seen - derived_keys() == set()
    assert {"aws:principalorgid", "kms:multiregionkeytype", "kms:resourcealiases"} <= seen
