"""Every `ever` trace replays, step by step, through the evaluator, rebuilt here from the
JSON the CLI prints and not from kmsprove's own step objects: each step's request is
allowed on the world as the steps before it changed it (worked out from the step's
parameters alone), and the last request is allowed on the world the steps leave."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kmsprove.answer import Verdict
from kmsprove.arn import parse_caller
from kmsprove.ast import PolicyKind, Query, Who, WhoKind
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.report.answer import answer_json
from kmsprove.request import Context, Request
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.policy import build_policy
from tests.support.strategies import ROLES, USERS, A, B, worlds

EVER = Query(Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A,)), ("kms:Decrypt",), ever=True)
OPS = ["Decrypt", "Encrypt", "CreateGrant"]


def _allow(principal: str, action: str | list[str], cond: dict | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": action,
        "Resource": "*",
    }
    if cond:
        out["Condition"] = cond
    return out


STEP_STATEMENTS = st.sampled_from(
    [
        _allow(f"arn:aws:iam::{A}:role/app", "kms:CreateGrant"),
        _allow(
            f"arn:aws:iam::{A}:role/app",
            "kms:CreateGrant",
            {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt", "CreateGrant"]}},
        ),
        _allow(
            f"arn:aws:iam::{B}:user/alice",
            "kms:CreateGrant",
            {"StringEquals": {"kms:GranteePrincipal": f"arn:aws:iam::{B}:user/alice"}},
        ),
        _allow(f"arn:aws:iam::{A}:role/admin", ["kms:PutKeyPolicy", "kms:Describe*"]),
        _allow(f"arn:aws:iam::{A}:root", "kms:*"),
        _allow(f"arn:aws:iam::{A}:user/bob", "kms:Decrypt"),
    ]
)
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:*"}
    ],
}


@st.composite
def step_worlds(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str, ...]]:
    doc = draw(worlds())
    doc["keys"][0]["policy"]["Statement"] += draw(st.lists(STEP_STATEMENTS, max_size=3))
    for acct in doc["accounts"].values():
        for arn, spec in acct["principals"].items():
            if ":role/" in arn and draw(st.booleans()):
                spec["trust_policy"] = TRUST
    trusted = draw(
        st.lists(st.sampled_from((f"arn:aws:iam::{A}:root", *USERS, *ROLES)), max_size=3)
    )
    return doc, tuple(dict.fromkeys(trusted))


def _principals(doc: dict[str, Any], arn: str) -> dict[str, Any]:
    acct = doc["accounts"].setdefault(parse_caller(arn).account, {})
    return acct.setdefault("principals", {})


def _apply(doc: dict[str, Any], step: dict[str, Any]) -> None:
    """What the step changes, from its parameters (the effects DESIGN.md names)."""
    action, p = step["action"], step["parameters"]
    keys = {k["arn"]: k for k in doc["keys"]}
    if action == "kms:CreateGrant":
        grant = {
            "GrantId": p["GrantId"],
            "GranteePrincipal": p["GranteePrincipal"],
            "Operations": p["Operations"],
        }
        issuer = parse_caller(step["principal"]).account
        if issuer:  # a service principal has no account: the key's own then
            grant["IssuingAccount"] = f"arn:aws:iam::{issuer}:root"
        if "Constraints" in p:
            grant["Constraints"] = p["Constraints"]
        keys[step["key"]].setdefault("grants", []).append(grant)
    elif action == "kms:PutKeyPolicy":
        keys[step["key"]]["policy"] = p["Policy"]
    elif action == "kms:ReplicateKey":
        primary = keys[step["key"]]
        parts = primary["arn"].split(":")
        parts[3] = p["ReplicaRegion"]
        replica = {**copy.deepcopy(primary), "arn": ":".join(parts), "policy": p["Policy"]}
        replica.update(grants=[], aliases=[], multi_region_key_type="REPLICA")
        doc["keys"].append(replica)
    elif action.startswith("iam:"):
        target = step["resource"]
        who = _principals(doc, target)
        spec = who.setdefault(target, {})
        if action == "iam:CreateRole":
            spec = who[target] = {"trust_policy": p["AssumeRolePolicyDocument"]}
        elif action == "iam:UpdateAssumeRolePolicy":
            spec["trust_policy"] = p["PolicyDocument"]
        if "PolicyDocument" in p and action != "iam:UpdateAssumeRolePolicy":
            spec.setdefault("policies", []).append(p["PolicyDocument"])
        if "PermissionsBoundary" in p or "PermissionsBoundary" in action:
            spec.pop("boundary", None)


def _as_trusted(principal: str) -> str:
    c = parse_caller(principal)
    return f"arn:aws:iam::{c.account}:role/{c.name}" if c.kind == "assumed-role" else principal


def _request(world: Any, step: dict[str, Any]) -> Request:
    new_policy = None
    if step["action"] == "kms:PutKeyPolicy":
        text = json.dumps(step["parameters"]["Policy"])
        new_policy, _ = build_policy(parse_json(text, "<new>"), PolicyKind.KEY_POLICY)
    req = Request(
        step["principal"],
        step["action"],
        key=step.get("key"),
        resource=step.get("resource"),
        context=Context.of(step.get("context") or {}),
        new_policy=new_policy,
        federated_from=step.get("federated_from"),
    )
    return complete_request(world, req)


@settings(
    max_examples=int(__import__("os").environ.get("EVER_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(step_worlds())
def test_every_ever_trace_replays_from_its_json(
    case: tuple[dict[str, Any], tuple[str, ...]],
) -> None:
    doc, trusted = case
    try:
        world = load_world_json(doc)
    except InputError:
        return
    [answer] = ask(world, EVER, timeout=20, trusted=trusted)
    event(f"ever: {answer.verdict.value}")
    if answer.verdict is not Verdict.YES:
        return
    out = answer_json(answer)["counterexample"]
    trace = out["trace"] or [
        {
            "principal": out["principal"],
            "action": out["action"],
            "key": out["key"],
            "context": out["context"],
            "parameters": {},
            **({"federated_from": out["federated_from"]} if "federated_from" in out else {}),
        }
    ]
    event(f"trace length {len(trace) - 1}")
    doc = copy.deepcopy(doc)
    for n, step in enumerate(trace[:-1], 1):
        if not step.get("assumed"):
            now = load_world_json(doc)
            decision = evaluate(now, _request(now, step))
            assert decision.allowed, f"step {n} {step['action']}: {decision.reason}\n{trace}"
        if _as_trusted(step["principal"]) in trusted and not step.get("assumed"):
            # a trusted principal takes no steps unless someone untrusted took it over
            takeovers = ("iam:UpdateAssumeRolePolicy", "iam:CreateAccessKey")
            assert any(s["action"] in takeovers for s in trace[: n - 1]), trace
        _apply(doc, step)
    final = load_world_json(doc)
    last = trace[-1]
    decision = evaluate(final, _request(final, last))
    assert decision.allowed, f"final: {decision.reason}\n{trace}"
    caller = parse_caller(last["principal"])
    assumed = [s for s in trace if s["action"] == "sts:AssumeRole"]
    assert caller.account != A or (
        assumed and parse_caller(assumed[-1]["principal"]).account != A
    ), trace


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(step_worlds(), st.data())
def test_trusting_fewer_principals_never_turns_yes_into_no(
    case: tuple[dict[str, Any], tuple[str, ...]], data: st.DataObject
) -> None:
    """Distrusting a principal adds the steps it may take: never a yes to a no."""
    doc, trusted = case
    if not trusted:
        return
    try:
        world = load_world_json(doc)
    except InputError:
        return
    [before] = ask(world, EVER, timeout=20, trusted=trusted)
    dropped = data.draw(st.sampled_from(trusted))
    [after] = ask(world, EVER, timeout=20, trusted=tuple(t for t in trusted if t != dropped))
    event(f"{before.verdict.value} -> {after.verdict.value}")
    if before.verdict is Verdict.YES:
        assert after.verdict is not Verdict.NO, (dropped, after.reason)
    if after.verdict is Verdict.NO:
        assert before.verdict is not Verdict.YES
