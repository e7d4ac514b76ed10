"""The test suite's one builder module: statements, policies, worlds, requests,
conditions and positioned texts, built the way the AWS documents and the world file
spell them. Two statement shapes, named apart: `stmt` (a rule test's statement, any
fields) and `key_stmt` (a valid key-policy statement that a validation test changes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kmsprove.answer import Verdict
from kmsprove.ast import Condition, Effect, Policy, PolicyKind
from kmsprove.errors import Diagnostic
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.conditions import condition_holds
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs import load_world
from kmsprove.operators import parse_operator
from kmsprove.request import Context, Decision, Request
from kmsprove.solve.fixed import encoder_allows
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.policy import build_policy
from kmsprove.validate import check_policy
from kmsprove.world import World

# --------------------------------------------------------------------------
# worlds and decisions (kms-semantics.md section 0's accounts)

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


def decide_both(
    world: World,
    principal: str,
    action: str = "kms:Decrypt",
    context: dict[str, Any] | None = None,
    **kw: Any,
) -> tuple[Decision, Verdict]:
    """The evaluator's decision and the encoder's verdict on the same completed request
    (the twins must agree: the caller asserts the pair)."""
    kw.setdefault("key", world.keys[0].arn if world.keys else None)
    req = complete_request(
        world, Request(principal, action, context=Context.of(context or {}), **kw)
    )
    return evaluate(world, req), encoder_allows(world, req)


# --------------------------------------------------------------------------
# policies for validation tests

KP = PolicyKind.KEY_POLICY


def key_stmt(**fields: Any) -> dict[str, Any]:
    """A key-policy statement that is valid unless `fields` change it (None removes)."""
    base: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": ROOT_A},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def id_stmt(**fields: Any) -> dict[str, Any]:
    """An identity-policy statement (no Principal)."""
    return key_stmt(Principal=None, **fields)


def built(doc: Any, kind: PolicyKind = KP) -> Policy:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    built, diags = build_policy(parse_json(text, "p.json"), kind, "p.json")
    assert built is not None, diags
    assert not [d for d in diags if d.is_error], diags
    return built


def diags_of(*statements: dict[str, Any], kind: PolicyKind = KP, **top: Any) -> list[Diagnostic]:
    doc = {"Version": "2012-10-17", "Statement": list(statements), **top}
    return check_policy(built(doc, kind))


def problems(*statements: dict[str, Any], kind: PolicyKind = KP, **top: Any) -> set[str]:
    """`severity: message` of every diagnostic (positions tested separately)."""
    return {f"{d.severity.value}: {d.message}" for d in diags_of(*statements, kind=kind, **top)}


# --------------------------------------------------------------------------
# conditions for the evaluator's condition tests

ALLOW = Effect.ALLOW
DENY = Effect.DENY


def cond(operator: str, key: str, *values: str) -> Condition:
    """A `Condition` as the policy builder makes it from `{operator: {key: values}}`."""
    parsed = parse_operator(operator)
    assert parsed is not None, operator
    set_op, base, if_exists = parsed
    return Condition(operator, base, set_op, if_exists, key, tuple(values))


def holds(c: Condition, ctx: Context, effect: Effect = ALLOW, *, variables: bool = True) -> bool:
    return condition_holds(c, ctx, effect, variables)


def both(c: Condition, ctx: Context, *, variables: bool = True) -> tuple[bool, bool]:
    """(result in an Allow, result in a Deny): differs only on open points."""
    return holds(c, ctx, ALLOW, variables=variables), holds(c, ctx, DENY, variables=variables)


# --------------------------------------------------------------------------
# positioned texts: statement n of `policy_text` starts at line n + 1


def policy_text(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    """A policy whose statement n (1-based) starts at line n + 1, column 1."""
    head = "{" + (f'"Version": "{version}", ' if version else "") + '"Statement": [\n'
    return head + ",\n".join(json.dumps(s) for s in statements) + "\n]}\n"


def grants_text(*grants: dict[str, Any] | str) -> str:
    """A grant list whose grant n (1-based) starts at line n + 1, column 1."""
    items = [g if isinstance(g, str) else json.dumps(g) for g in grants]
    return "[\n" + ",\n".join(items) + "\n]\n"


def at(text: str, needle: str, nth: int = 1, after: str = "") -> str:
    """`:LINE:COL` of the nth `needle` (searched from the first `after`)."""
    start = text.index(after) + len(after) if after else 0
    offset = start - 1
    for _ in range(nth):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f":{line}:{col}"


def stmt_at(n: int) -> str:
    """Where statement (or grant) n of `policy_text`/`grants_text` starts."""
    return f":{n + 1}:1"


def value_at(text: str, key: str, nth: int = 1) -> str:
    """Where the value of member `key` (its nth occurrence) starts."""
    needle = json.dumps(key) + ": "
    return _shift(at(text, needle, nth), len(needle))


def _shift(pos: str, by: int) -> str:
    _, line, col = pos.split(":")
    return f":{line}:{int(col) + by}"
