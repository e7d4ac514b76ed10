"""What the audit's tests share: a world audited, its findings by rule, and the check
that a finding's witness is a request the evaluator allows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.key_policy_world import load_world_input
from kmsprove.questions.audit import AuditResult, Status, audit_options, audit_world
from kmsprove.questions.audit.findings import AuditFinding
from kmsprove.world import World
from tests.support.builders import KEY, A, make_world

DATA = Path(__file__).resolve().parents[2] / "data" / "audit"
REALWORLD = Path(__file__).resolve().parents[2] / "cases" / "realworld"
ROOT_A = f"arn:aws:iam::{A}:root"
APP = f"arn:aws:iam::{A}:role/App"
ADMIN = f"arn:aws:iam::{A}:role/KeyAdmin"
IN_ACCOUNT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ROOT_A}, "Action": "sts:AssumeRole"}],
}


def run(world: World, **options: Any) -> AuditResult:
    return audit_world(world, audit_options(**options))


def audited(tmp: Path, key_policy: dict[str, Any], **kw: Any) -> tuple[World, AuditResult]:
    """A one-key world (`tests.support.builders.make_world`) and its audit; `options`
    (a dict) go to `audit_options`."""
    options = kw.pop("options", {})
    tmp.mkdir(parents=True, exist_ok=True)
    world = make_world(tmp, key_policy, **kw)
    return world, run(world, **options)


def audited_file(path: Path | str, **options: Any) -> tuple[World, AuditResult]:
    world = load_world_input(str(path)).world
    return world, run(world, **options)


def found(result: AuditResult, rule: str) -> list[AuditFinding]:
    """The rule's findings that stand (not unknown)."""
    return [f for f in result.findings if f.rule.id == rule and f.status is Status.FOUND]


def rules_of(result: AuditResult) -> set[str]:
    return {f.rule.id for f in result.findings}


def witnessed(world: World, f: AuditFinding) -> None:
    """The finding's witness, completed again, is allowed by the evaluator in the world
    it rests on (the given one plus what the answer assumed); a trace was replayed."""
    a = f.answer
    assert a is not None and a.counterexample is not None, f
    if a.trace:
        return
    there = a.checked_world or world
    decision = evaluate(there, complete_request(there, a.counterexample))
    assert decision.allowed, decision.reason


def world_file(tmp: Path, doc: dict[str, Any], name: str = "world.json") -> Path:
    path = tmp / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def key_doc(policy: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"arn": KEY}
    if policy is not None:
        out["policy"] = policy
    out.update(fields)
    return out
