"""Steps on the key itself: kms:PutKeyPolicy, and kms:ReplicateKey of a multi-Region
key into a Region where the caller writes the replica's key policy."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from kmsprove.answer import Answer, Verdict
from kmsprove.arn import parse_caller
from kmsprove.ast import PolicyKind
from kmsprove.catalog import action_info
from kmsprove.questions.ever.callers import assumable_roles, representative
from kmsprove.questions.ever.roles import assume_step
from kmsprove.questions.ever.search import Search, actor_steps
from kmsprove.questions.ever.trace import Step, policy, policy_doc, step, with_key
from kmsprove.questions.requests import as_caller, final_request
from kmsprove.questions.today import query_actions
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


@dataclass(frozen=True)
class Entrant:
    """Whom a policy the caller writes lets in, as whom it calls, for which action."""

    principal: str  # as the written policy names it
    caller: str
    action: str
    before: tuple[Step, ...] = ()  # an sts:AssumeRole, for a role acting for the caller


def entrant(search: Search, key_account: str) -> Entrant | str | None:
    """A caller the question covers that a new key policy can let in; a reason when the
    question's caller is a pattern; None when no key policy can let any covered caller
    in (an action that is never allowed across accounts, asked of outsiders only, with
    no role of the key's account they may assume: R3.1)."""
    target = representative(search.world, search.query)
    if target is None:
        return "the question's caller is a pattern"
    roles = [
        a for a in assumable_roles(search.world, search.query) if a.role.account == key_account
    ]
    for action in query_actions(search.query):
        info = action_info(action)
        if info is None:
            continue
        if info.cross_account or parse_caller(target).account == key_account:
            return Entrant(target, as_caller(target), action)
        for a in roles:
            return Entrant(
                a.role.arn, as_caller(a.role.arn), action, (assume_step(a.by, a.role.arn, a.why),)
            )
    return None


def via_key_policy(search: Search) -> Answer | None:
    who = entrant(search, search.key.account)
    if who is None:
        search.progress.append("key policy changes (none can let the question's callers in)")
        return None
    found = search.solve(("kms:PutKeyPolicy",))
    search.progress.append("key policy changes")
    if found.verdict is Verdict.NO:
        return None
    if found.verdict is Verdict.UNKNOWN or found.counterexample is None:
        return search.unknown(f"whether someone can change the key policy: {found.reason}")
    writer = found.counterexample.principal
    if isinstance(who, str):
        return search.unknown(f"{writer} can rewrite the key policy; {who}")
    doc = _letting_in(policy_doc(search.key.policy), who.principal, who.action)
    new_policy = policy(doc, PolicyKind.KEY_POLICY, "<the key policy the step writes>")
    new_key = replace(search.key, policy=new_policy)
    put = replace(found.counterexample, new_policy=new_policy)
    route = [
        *actor_steps(found),
        step(
            put,
            lambda w: with_key(w, new_key),
            f"the key policy becomes the old statements plus one letting {who.principal}"
            f" call {who.action}",
            {"Policy": doc},
        ),
        *who.before,
    ]
    final = final_request(search.query, who.caller, who.action, new_key, {})
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
    who = entrant(search, key.account)  # before the solve: it may make the solve moot
    if who is None:
        return None
    found = search.solve(("kms:ReplicateKey",))
    search.progress.append("multi-Region replicas")
    if found.verdict is Verdict.NO:
        return None
    if found.verdict is Verdict.UNKNOWN or found.counterexample is None:
        return search.unknown(f"whether someone can replicate the key: {found.reason}")
    ce = found.counterexample
    if isinstance(who, str):
        return search.unknown(f"{ce.principal} can replicate the key; {who}")
    region = _replica_region(key, ce.context.get("kms:ReplicaRegion"))
    owner = {
        "Sid": "ReplicaOwner",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{key.account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    doc = _letting_in({"Version": "2012-10-17", "Statement": [owner]}, who.principal, who.action)
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
            f"replica {replica.arn} (the same key material) with a key policy letting"
            f" {who.principal} call {who.action}",
            {"ReplicaRegion": region, "Policy": doc},
        ),
        *who.before,
    ]
    final = final_request(search.query, who.caller, who.action, replica, {})
    return search.finish(
        route, final, f"{ce.principal} can replicate the key with a policy it writes"
    )
