"""`ever` against a brute force: on small generated worlds, whenever a search over short
traces of concrete steps, each allowed by the evaluator, lets a caller outside account A
decrypt, the solver does not answer "no".

The brute force knows nothing of the solver nor of `kmsprove.questions.ever`: it takes a step only
if `evaluate` allows its request on the world as changed by the steps before it, and
searches traces of up to MAX_STEPS steps before the final kms:Decrypt. Its menu:

- `kms:CreateGrant` by a candidate caller, for Decrypt or for CreateGrant and Decrypt,
  to a candidate grantee, with no constraint or with the constraint of a grant on the
  key (a child grant must keep its parent's); the step adds the grant to the key;
- `kms:PutKeyPolicy` by a candidate caller, writing the old policy plus a statement
  that lets a fresh outsider decrypt.

Candidates are the principals the world document names anywhere (a role calls through a
session), the roots of the accounts present and a fresh outsider's root. The tool models
more steps (IAM writes in open accounts, AssumeRole...), so a tool "yes" against a
brute-force "no" is fine, and so is "unknown". Not vacuous: the test counts the worlds
where the brute force needs steps because today's answer is no, and wants enough of them.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.answer import Verdict
from kmsprove.arn import parse_caller
from kmsprove.ast import Grant, Policy, PolicyKind, Query, Who, WhoKind
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.request import Context, Request
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.policy import build_policy
from kmsprove.world import Key, World
from tests.support.strategies import (
    KP_RESOURCES,
    PRINCIPAL_VALUES,
    ROLES,
    ROOTS,
    USERS,
    A,
    B,
    C,
    grants,
    statements,
    worlds,
)

OUTSIDER = "arn:aws:iam::999999999999:root"
EVER = Query(Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A,)), ("kms:Decrypt",), ever=True)
TODAY = replace(EVER, ever=False)
OPS = (("Decrypt",), ("Decrypt", "CreateGrant"))
MAX_STEPS = 3
# the solver dominates the cost (about 1 s an example, with a long tail): 30 in CI
EXAMPLES = 30 if settings().max_examples <= 200 else settings().max_examples // 10
STATS: Counter[str] = Counter()

# ---------------------------------------------------------------------------
# worlds where CreateGrant and PutKeyPolicy are often possible

GRANT_CONDITIONS: tuple[tuple[str, str, Any], ...] = (
    ("ForAllValues:StringEquals", "kms:GrantOperations", ("Decrypt", "Encrypt")),
    ("ForAllValues:StringEquals", "kms:GrantOperations", ("Decrypt", "CreateGrant")),
    ("ForAnyValue:StringEquals", "kms:GrantOperations", "CreateGrant"),
    ("Null", "kms:GrantOperations", "false"),
    ("StringEquals", "kms:GranteePrincipal", f"arn:aws:iam::{A}:role/app"),
    ("StringEquals", "kms:GranteePrincipal", f"arn:aws:iam::{B}:role/app"),
    ("StringEquals", "kms:GranteePrincipal", f"arn:aws:iam::{C}:role/partner"),
    ("StringLike", "kms:GranteePrincipal", f"arn:aws:iam::{A}:*"),
    ("StringNotLike", "kms:GranteePrincipal", f"arn:aws:iam::{A}:*"),
    ("Bool", "kms:GrantIsForAWSResource", "true"),
    ("Bool", "kms:GrantIsForAWSResource", "false"),
    ("StringEquals", "kms:CallerAccount", A),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{A}:role/*"),
    ("StringEquals", "kms:EncryptionContext:Dept", "IT"),
)
STEP_PRINCIPALS = (*PRINCIPAL_VALUES[1:], f"arn:aws:sts::{A}:assumed-role/admin/s")
INSIDERS = (*ROLES[:2], *USERS[:2])
STEP_ACTIONS: tuple[Any, ...] = (
    "kms:CreateGrant",
    "kms:CreateGrant",
    "kms:*Grant*",
    "kms:PutKeyPolicy",
    "kms:Put*",
    ["kms:CreateGrant", "kms:Describe*"],
)


@st.composite
def step_statements(draw: st.DrawFn) -> dict[str, Any]:
    """A key-policy statement about CreateGrant or PutKeyPolicy."""
    effect = draw(st.sampled_from(("Allow", "Allow", "Allow", "Deny")))
    who = draw(st.sampled_from(("*", *STEP_PRINCIPALS)))
    s: dict[str, Any] = {
        "Effect": effect,
        "Principal": "*" if who == "*" else {"AWS": who},
        "Action": draw(st.sampled_from(STEP_ACTIONS)),
        "Resource": "*",
    }
    cond: dict[str, dict[str, Any]] = {}
    for op, k, v in draw(st.lists(st.sampled_from(GRANT_CONDITIONS), max_size=2, unique=True)):
        cond.setdefault(op, {})[k] = list(v) if isinstance(v, tuple) else v
    if cond:
        s["Condition"] = cond
    return s


@st.composite
def step_worlds(draw: st.DrawFn) -> dict[str, Any]:
    """A generated world, its key policy made shorter, plus statements and grants that
    make grant and policy steps likely (grants that carry CreateGrant, held mostly in A)."""
    doc = draw(worlds())
    key = doc["keys"][0]
    kept = draw(st.lists(statements(True, KP_RESOURCES), max_size=2))
    extra = draw(st.lists(step_statements(), min_size=1, max_size=3))
    key["policy"] = {"Version": "2012-10-17", "Statement": kept + extra}
    if draw(st.booleans()):
        g = draw(grants(len(key["grants"])))
        holders = (*ROLES[:2], *USERS[:2], ROOTS[0], *ROLES[2:3])
        g["GranteePrincipal"] = draw(st.sampled_from(holders))
        g["Operations"] = sorted({"CreateGrant", *draw(st.sampled_from((*OPS, ("Encrypt",))))})
        if key["key_spec"] != "SYMMETRIC_DEFAULT":
            g["Operations"] = ["CreateGrant"]
            g.pop("Constraints", None)
        key["grants"].append(g)
    if draw(st.booleans()):
        # CreateGrant pinned to a grantee in A: only a grant that carries CreateGrant,
        # relayed by its grantee, reaches outside (two steps)
        caller, grantee = draw(st.sampled_from(INSIDERS)), draw(st.sampled_from(INSIDERS))
        cond: dict[str, Any] = {"StringEquals": {"kms:GranteePrincipal": grantee}}
        if draw(st.booleans()):
            cond["ForAnyValue:StringEquals"] = {"kms:GrantOperations": "CreateGrant"}
        key["policy"]["Statement"].append(
            {
                "Effect": "Allow",
                "Principal": {"AWS": caller},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": cond,
            }
        )
        for arn in (caller, grantee):
            doc["accounts"][A]["principals"].setdefault(arn, {"policies": []})
    return doc


# ---------------------------------------------------------------------------
# the brute force, on the evaluator alone

ARN = re.compile(r"^arn:aws:(iam|sts)::(\d{12}):(root|user/.+|role/.+|assumed-role/.+)$")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _principals(doc: dict[str, Any]) -> list[str]:
    """Every principal ARN (no wildcard) the document names, and the roots of accounts."""
    named: set[str] = {OUTSIDER}
    for s in _strings(doc) + list(doc.get("accounts", {})):
        if re.fullmatch(r"\d{12}", s):
            named.add(f"arn:aws:iam::{s}:root")
        elif ARN.match(s) and "*" not in s and "?" not in s and "$" not in s:
            named.add(s)
            named.add(f"arn:aws:iam::{s.split(':')[4]}:root")
    return sorted(named)


def _as_caller(arn: str) -> str:
    c = parse_caller(arn)
    return f"arn:aws:sts::{c.account}:assumed-role/{c.name}/s" if c.kind == "role" else arn


def _as_grantee(arn: str) -> str:
    c = parse_caller(arn)
    role = f"arn:aws:iam::{c.account}:role/{c.name}"
    return role if c.kind == "assumed-role" else arn


def _outside(arn: str) -> bool:
    return parse_caller(arn).account not in (A, None)


@dataclass(frozen=True)
class Step:
    caller: str
    action: str
    context: dict[str, Any]
    effect: str

    def __str__(self) -> str:
        return f"{self.caller} {self.action} {json.dumps(self.context)} -> {self.effect}"


def _allowed(world: World, caller: str, action: str, ctx: dict[str, Any], **kw: Any) -> bool:
    req = Request(caller, action, key=world.keys[0].arn, context=Context.of(ctx), **kw)
    try:
        req = complete_request(world, req)
    except InputError:
        return False
    return evaluate(world, req).allowed


def _constraints(key: Key) -> list[tuple[str, tuple[tuple[str, str], ...]] | None]:
    """No constraint, or one a grant on the key carries (a child keeps its parent's)."""
    out: list[tuple[str, tuple[tuple[str, str], ...]] | None] = [None]
    for g in key.grants:
        for kind, pairs in (
            ("EncryptionContextSubset", g.ec_subset),
            ("EncryptionContextEquals", g.ec_equals),
        ):
            if pairs is not None and (kind, pairs) not in out:
                out.append((kind, pairs))
    return out


def _decrypts(world: World, callers: list[str]) -> Step | None:
    """A caller outside A that may decrypt, with some encryption context."""
    contexts: list[dict[str, Any]] = [{}] + [
        {f"kms:EncryptionContext:{k}": v for k, v in c[1]} for c in _constraints(world.keys[0]) if c
    ]
    for caller in callers:
        if not _outside(caller):
            continue
        for ctx in contexts:
            if _allowed(world, caller, "kms:Decrypt", ctx):
                return Step(caller, "kms:Decrypt", ctx, "allowed")
    return None


def _with_key(world: World, key: Key) -> World:
    return replace(world, keys=(key, *world.keys[1:]))


def _put_key_policy(doc: dict[str, Any]) -> Policy:
    """The policy PutKeyPolicy writes: the document's, plus an Allow for the outsider."""
    new = copy.deepcopy(doc["keys"][0]["policy"])
    new["Statement"].append(
        {
            "Sid": "BruteForce",
            "Effect": "Allow",
            "Principal": {"AWS": OUTSIDER},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    policy, diags = build_policy(parse_json(json.dumps(new)), PolicyKind.KEY_POLICY, "<new>")
    assert policy is not None, diags
    return policy


def _steps(
    world: World, new_policy: Policy, callers: list[str], depth: int, last: bool
) -> list[tuple[Step, World]]:
    """Every step the evaluator allows in `world`; on the last step only grants to
    outsiders (a grant covers only principals of its grantee's account)."""
    key = world.keys[0]
    out = []
    grantees = [_as_grantee(g) for g in callers if not last or _outside(g)]
    for caller in callers:
        for ops in OPS:
            for constraint in _constraints(key):
                for grantee in grantees:
                    ctx: dict[str, Any] = {
                        "kms:GrantOperations": list(ops),
                        "kms:GranteePrincipal": grantee,
                    }
                    if constraint:
                        ctx["kms:GrantConstraintType"] = constraint[0]
                        ctx.update({f"kms:EncryptionContext:{k}": v for k, v in constraint[1]})
                    if not _allowed(world, caller, "kms:CreateGrant", ctx):
                        continue
                    grant = Grant(
                        grant_id=f"bf-{depth}",
                        key_id=key.arn,
                        operations=ops,
                        grantee=grantee,
                        issuing_account=parse_caller(caller).account,
                        ec_subset=constraint[1]
                        if constraint and constraint[0].endswith("Subset")
                        else None,
                        ec_equals=constraint[1]
                        if constraint and constraint[0].endswith("Equals")
                        else None,
                    )
                    new = _with_key(world, replace(key, grants=(*key.grants, grant)))
                    effect = f"grant {ops} to {grantee}" + (f" {constraint}" if constraint else "")
                    out.append((Step(caller, "kms:CreateGrant", ctx, effect), new))
        if _allowed(world, caller, "kms:PutKeyPolicy", {}, new_policy=new_policy):
            new = _with_key(world, replace(key, policy=new_policy))
            out.append(
                (Step(caller, "kms:PutKeyPolicy", {}, f"policy + Decrypt for {OUTSIDER}"), new)
            )
    return out


def _exists(world: World, caller: str) -> bool:
    """A complete account has no principals but its root and those it lists."""
    c = parse_caller(caller)
    return (
        c.kind == "root"
        or not world.account(c.account or "").complete
        or (world.identity(caller) is not None)
    )


def brute_force(world: World, doc: dict[str, Any]) -> list[Step] | None:
    """A shortest trace of at most MAX_STEPS steps after which an outsider decrypts."""
    callers = [c for c in map(_as_caller, _principals(doc)) if _exists(world, c)]
    found = _decrypts(world, callers)
    if found:
        return [found]
    new_policy = _put_key_policy(doc)
    frontier: list[tuple[World, list[Step]]] = [(world, [])]
    seen: set[frozenset[str]] = set()
    for depth in range(1, MAX_STEPS + 1):
        nxt = []
        for w, trace in frontier:
            for step, after in _steps(w, new_policy, callers, depth, last=depth == MAX_STEPS):
                # steps only add (grants, one policy statement): order does not matter
                state = frozenset(s.effect for s in (*trace, step))
                if len(state) <= len(trace) or state in seen:
                    continue
                seen.add(state)
                found = _decrypts(after, callers)
                if found:
                    return [*trace, step, found]
                # a grant without CreateGrant enables no further step
                if "CreateGrant" not in step.context.get("kms:GrantOperations", ["CreateGrant"]):
                    continue
                nxt.append((after, [*trace, step]))
        frontier = nxt
    return None


# ---------------------------------------------------------------------------
# the property


def _check(doc: dict[str, Any]) -> None:
    try:
        world = load_world_json(doc)
    except InputError:
        STATS["invalid worlds"] += 1
        return
    STATS["worlds"] += 1
    trace = brute_force(world, doc)
    if trace is None:
        return  # the tool may say anything: it models more steps
    STATS["brute yes"] += 1
    [answer] = ask(world, EVER, timeout=20)
    if len(trace) > 1:
        [today] = ask(world, TODAY, timeout=20)
        if today.verdict is Verdict.NO:
            STATS["brute yes, today no"] += 1
            STATS[f"traces of {len(trace) - 1} step(s), today no"] += 1
    steps = "\n  ".join(map(str, trace))
    assert answer.verdict is not Verdict.NO, (
        f"the brute force found a trace but `ever` says no ({answer.reason}):\n  {steps}\n"
        f"world: {json.dumps(doc)}"
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(step_worlds())
def _brute_force_agrees(doc: dict[str, Any]) -> None:
    _check(doc)


def test_a_brute_force_trace_is_never_an_ever_no() -> None:
    STATS.clear()
    _brute_force_agrees()
    # not vacuous: many worlds need steps to let an outsider in
    assert STATS["brute yes, today no"] >= EXAMPLES // 10, dict(STATS)
