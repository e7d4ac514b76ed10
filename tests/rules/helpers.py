"""Small builders for rule tests: a world from dicts, a decision from a few words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs import load_world
from kmsprove.request import Context, Decision, Request
from kmsprove.world import World

A = "111122223333"  # the key's account
B = "444455556666"  # an external account
C = "777788889999"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT_A = f"arn:aws:iam::{A}:root"
ROOT_B = f"arn:aws:iam::{B}:root"


def stmt(
    effect: str = "Allow",
    principal: Any = None,
    action: Any = "kms:*",
    resource: Any = "*",
    condition: dict[str, Any] | None = None,
    sid: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": effect}
    if sid:
        s["Sid"] = sid
    if principal is not None:
        s["Principal"] = (
            principal
            if principal == "*"
            else {"AWS": principal}
            if isinstance(principal, (str, list))
            else principal
        )
    if action is not None:
        s["Action"] = action
    if resource is not None:
        s["Resource"] = resource
    if condition:
        s["Condition"] = condition
    s.update(extra)
    return s


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


DEFAULT_KP = policy(stmt(principal=ROOT_A, sid="EnableIAMPolicies"))


def allow_ip(action: Any = "kms:Decrypt", resource: Any = KEY, **kw: Any) -> dict[str, Any]:
    return policy(stmt(action=action, resource=resource, **kw))


def make_world(
    tmp: Path,
    key_policy: dict[str, Any] | None = None,
    *,
    principals: dict[str, Any] | None = None,
    grants: list[dict[str, Any]] | None = None,
    accounts: dict[str, Any] | None = None,
    key: dict[str, Any] | None = None,
    **top: Any,
) -> World:
    """`principals`: ARN -> {"policies": [...], "boundary": ..., "tags": {...}}, placed in their accounts."""
    accts: dict[str, Any] = json.loads(json.dumps(accounts or {}))
    for arn, spec in (principals or {}).items():
        accts.setdefault(arn.split(":")[4], {}).setdefault("principals", {})[arn] = spec
    k = {"arn": KEY, "policy": key_policy or DEFAULT_KP, "grants": grants or []}
    k.update(key or {})
    doc = {"version": 1, "keys": [k], "accounts": accts, **top}
    path = tmp / "world.json"
    path.write_text(json.dumps(doc, indent=2))
    return load_world(path)


def decide(
    world: World,
    principal: str,
    action: str = "kms:Decrypt",
    context: dict[str, Any] | None = None,
    **kw: Any,
) -> Decision:
    kw.setdefault("key", world.keys[0].arn if world.keys and not action.startswith("s3:") else None)
    req = Request(principal, action, context=Context.of(context or {}), **kw)
    return evaluate(world, complete_request(world, req))
