"""Steps on the key itself: kms:PutKeyPolicy, and kms:ReplicateKey of a multi-Region
key into a Region where the caller writes the replica's key policy."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from kmsprove.ast import PolicyKind
from kmsprove.ever.callers import as_caller, final_request, representative
from kmsprove.ever.search import Search, actor_steps
from kmsprove.ever.trace import policy, policy_doc, step, with_key
from kmsprove.query import Answer, Verdict, query_actions
from kmsprove.request import Context, Request
from kmsprove.world import Key

REGIONS = ("us-west-2", "eu-west-1", "us-east-1", "ap-southeast-2")


def _letting_in(doc: dict[str, Any], target: str, action: str) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    doc["Statement"].append(
        {
            "Sid": "AddedByTheStep",
            "Effect": "Allow",
            "Principal": {"AWS": target},
            "Action": action,
            "Resource": "*",
        }
    )
    return doc


def via_key_policy(search: Search) -> Answer | None:
    found = search.solve(("kms:PutKeyPolicy",))
    search.progress.append("key policy changes")
    if found.verdict is Verdict.NO:
        return None
    if found.verdict is Verdict.UNKNOWN or found.counterexample is None:
        return search.unknown(f"whether someone can change the key policy: {found.reason}")
    writer = found.counterexample.principal
    target = representative(search.world, search.query)
    if target is None:
        return search.unknown(
            f"{writer} can rewrite the key policy; the question's caller is a pattern"
        )
    action = query_actions(search.query)[0]
    doc = _letting_in(policy_doc(search.key.policy), target, action)
    new_policy = policy(doc, PolicyKind.KEY_POLICY, "<the key policy the step writes>")
    new_key = replace(search.key, policy=new_policy)
    put = replace(found.counterexample, new_policy=new_policy)
    route = [
        *actor_steps(found),
        step(
            put,
            lambda w: with_key(w, new_key),
            f"the key policy becomes the old statements plus one letting {target} call {action}",
            {"Policy": doc},
        ),
    ]
    final = final_request(search.query, as_caller(target), action, new_key.arn, {})
    return search.finish(route, final, f"{writer} can rewrite the key policy (R7.3)")


def _replica_region(key: Key, asked: tuple[str, ...] | None) -> str:
    for r in (*(asked or ()), *REGIONS):
        if r != key.region:
            return r
    return REGIONS[0]


def via_replica(search: Search) -> Answer | None:
    key = search.key
    if not key.multi_region or key.multi_region_key_type == "REPLICA":
        return None
    found = search.solve(("kms:ReplicateKey",))
    search.progress.append("multi-Region replicas")
    if found.verdict is Verdict.NO:
        return None
    if found.verdict is Verdict.UNKNOWN or found.counterexample is None:
        return search.unknown(f"whether someone can replicate the key: {found.reason}")
    ce = found.counterexample
    target = representative(search.world, search.query)
    if target is None:
        return search.unknown(
            f"{ce.principal} can replicate the key; the question's caller is a pattern"
        )
    region = _replica_region(key, ce.context.get("kms:ReplicaRegion"))
    action = query_actions(search.query)[0]
    owner = {
        "Sid": "ReplicaOwner",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{key.account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    doc = _letting_in({"Version": "2012-10-17", "Statement": [owner]}, target, action)
    replica = replace(
        key,
        arn=f"arn:aws:kms:{region}:{key.account}:key/{key.key_id}",
        policy=policy(doc, PolicyKind.KEY_POLICY, "<the replica's key policy the step writes>"),
        grants=(),
        aliases=(),
        ram_policy=None,
        multi_region_key_type="REPLICA",
    )
    create = Request(
        ce.principal, "kms:CreateKey", context=Context.of({"aws:RequestedRegion": region})
    )
    route = [
        *actor_steps(found),
        step(
            create,
            lambda w: w,
            f"{ce.principal} may create keys in {region}, as ReplicateKey needs",
        ),
        step(
            replace(ce, context=ce.context.with_values({"kms:ReplicaRegion": region})),
            lambda w: with_key(w, replica),
            f"replica {replica.arn} (the same key material) with a key policy letting {target} call {action}",
            {"ReplicaRegion": region, "Policy": doc},
        ),
    ]
    final = final_request(search.query, as_caller(target), action, replica.arn, {})
    return search.finish(
        route, final, f"{ce.principal} can replicate the key with a policy it writes"
    )
