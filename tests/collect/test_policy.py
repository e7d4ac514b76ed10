"""The collector's least-privilege policy (`docs/collect-policy.json`, shown in the
README), checked by kmsprove itself: every action `kmsprove.collect.calls.CALLS` lists
is allowed, and nothing else the policy could let in (every other KMS action, writes
and data reads elsewhere) is, decided by kmsprove's own evaluator."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kmsprove.arn import parse_caller
from kmsprove.catalog import kms_catalog
from kmsprove.collect.calls import CALLS, actions
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.evaluate.iam import decide_iam
from kmsprove.inputs.world_file import load_world_json
from kmsprove.request import Decision, Request
from kmsprove.world import World

ROOT = Path(__file__).resolve().parents[2]
POLICY_FILE = ROOT / "docs" / "collect-policy.json"
A = "111122223333"
OTHER = "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{A}:role/KmsproveCollect"
SESSION = f"arn:aws:sts::{A}:assumed-role/KmsproveCollect/kmsprove-collect"
# resources the non-KMS calls name (most take `*`)
RESOURCES = {
    "sts:AssumeRole": f"arn:aws:iam::{OTHER}:role/KmsproveCollect",
    "s3:GetBucketPolicy": "arn:aws:s3:::any-bucket",
    "s3:GetBucketLocation": "arn:aws:s3:::any-bucket",
    "s3:GetEncryptionConfiguration": "arn:aws:s3:::any-bucket",
}
# what the policy must not allow outside KMS: writes, and data (object reads)
NOT_ALLOWED = (
    ("iam:PutRolePolicy", "*"),
    ("iam:CreateUser", "*"),
    ("iam:AttachRolePolicy", "*"),
    ("iam:UpdateAssumeRolePolicy", "*"),
    ("iam:CreateAccessKey", "*"),
    ("s3:PutBucketPolicy", "arn:aws:s3:::any-bucket"),
    ("s3:PutEncryptionConfiguration", "arn:aws:s3:::any-bucket"),
    ("s3:DeleteBucket", "arn:aws:s3:::any-bucket"),
    ("s3:GetObject", "arn:aws:s3:::any-bucket/key"),
    ("s3:PutObject", "arn:aws:s3:::any-bucket/key"),
    ("ec2:CreateVpcEndpoint", "*"),
    ("ec2:ModifyVpcEndpoint", "*"),
    ("organizations:AttachPolicy", "*"),
    ("organizations:DetachPolicy", "*"),
    ("organizations:CreatePolicy", "*"),
    ("organizations:UpdatePolicy", "*"),
    ("organizations:MoveAccount", "*"),
    ("sts:AssumeRole", f"arn:aws:iam::{OTHER}:role/Admin"),  # only the collector's role
)


def _policy() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(POLICY_FILE.read_text())
    return doc


def _world(identity: dict[str, Any] | None = None) -> World:
    """The collector's role, with the policy (or `identity`), in a complete account
    whose key has the console's default key policy (the account decides through IAM)."""
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    return load_world_json(
        {
            "version": 1,
            "keys": [{"arn": KEY, "policy": key_policy}],
            "accounts": {
                A: {"complete": True, "principals": {ROLE: {"policies": [identity or _policy()]}}}
            },
        }
    )


def decide(world: World, action: str, resource: str | None = None) -> Decision:
    """kmsprove's decision for the collector's session calling `action`."""
    info = kms_catalog().get(action.lower())
    if info is not None:
        key = KEY if info.on_key else None
        return evaluate(world, complete_request(world, Request(SESSION, action, key=key)))
    req = Request(SESSION, action, resource=resource or RESOURCES.get(action, "*"))
    return decide_iam(world, req, parse_caller(SESSION), action, req.resource or "*")


def test_the_policy_names_exactly_the_calls_the_collector_makes() -> None:
    named = sorted(
        a
        for s in _policy()["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert named == actions()
    for action in named:  # reads only: no wildcard, Get/List/Describe (and the role)
        assert "*" not in action
        assert re.match(r"^[a-z0-9]+:(Get|List|Describe)", action) or action == "sts:AssumeRole"


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.action)
def test_every_call_is_allowed(call: Any) -> None:
    decision = decide(_world(), call.action)
    assert decision.allowed, decision.reason


def test_no_other_kms_action_is_allowed() -> None:
    world = _world()
    needed = {a.lower() for a in actions()}
    allowed = [
        info.name
        for name, info in kms_catalog().items()
        if name not in needed and decide(world, info.name).allowed
    ]
    assert allowed == []


@pytest.mark.parametrize(("action", "resource"), NOT_ALLOWED)
def test_no_write_or_data_read_is_allowed(action: str, resource: str) -> None:
    assert not decide(_world(), action, resource).allowed


def test_the_harness_can_say_yes() -> None:
    """The denials above are the policy's: with an allow-all policy the same requests
    are allowed."""
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    world = _world(everything)
    assert all(decide(world, action, resource).allowed for action, resource in NOT_ALLOWED)
    assert decide(world, "kms:ScheduleKeyDeletion").allowed


def test_the_readme_shows_the_policy_file() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("least-privilege", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block is not None
    assert json.loads(block.group(1)) == _policy()
