"""Steps and their replay: every trace `ever` shows is run again, step by step, through
the evaluator on the world as the steps before it left it."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kmsprove.ast import Policy, PolicyKind
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.documents import policy_from_value
from kmsprove.request import Decision, Request
from kmsprove.world import Identity, Key, World

Effect = Callable[[World], World]


@dataclass(frozen=True, eq=False)  # a step is itself: traces dedupe by identity
class Step:
    """One call that changes who can do what.

    `request` is what the evaluator must allow before `effect` applies; `assumed`
    marks what the world file lets happen without a request we can check (the
    administrators of an open account, a role whose trust policy admits the caller).
    """

    request: Request
    effect: Effect
    changed: str  # what the step changed, for people: "grant g-1: Decrypt for ..."
    parameters: dict[str, Any] = field(default_factory=dict)
    assumed: bool = False
    check: Callable[[World], str | None] | None = None  # for a step the evaluator cannot decide

    def shown(self) -> dict[str, Any]:
        r = self.request
        out: dict[str, Any] = {"principal": r.principal, "action": r.action}
        if r.key:
            out["key"] = r.key
        else:
            out["resource"] = r.resource
        out["parameters"] = {**self.parameters, "note": self.changed}
        out["context"] = r.context.as_json()
        if r.federated_from:
            out["federated_from"] = r.federated_from
        if self.assumed:
            out["assumed"] = True  # allowed by the world file's terms, not by a request
        return out


def step(
    request: Request,
    effect: Effect,
    changed: str,
    parameters: dict[str, Any] | None = None,
    assumed: bool = False,
    check: Callable[[World], str | None] | None = None,
) -> Step:
    return Step(request, effect, changed, dict(parameters or {}), assumed, check)


def replay(
    world: World, steps: list[Step], final: Request
) -> tuple[Request, Decision, World] | str:
    """The final request, its decision and the world after the steps, or why the
    replay failed."""
    for n, s in enumerate(steps, 1):
        refused = s.check(world) if s.check is not None else None
        if refused is not None:
            return (
                f"step {n} ({s.request.action} by {s.request.principal}) fails on replay: {refused}"
            )
        if not s.assumed:
            try:
                req = complete_request(world, s.request)
            except InputError as exc:
                return f"step {n} ({s.request.action}) is not a valid request: {exc.diagnostics[0].message}"
            decision = evaluate(world, req)
            if not decision.allowed:
                return f"step {n} ({s.request.action} by {s.request.principal}) is denied on replay: {decision.reason}"
        world = s.effect(world)
    try:
        req = complete_request(world, final)
    except InputError as exc:
        return f"the final request is not valid: {exc.diagnostics[0].message}"
    decision = evaluate(world, req)
    if not decision.allowed:
        return f"the final request is denied on replay: {decision.reason}"
    return req, decision, world


def policy(doc: dict[str, Any], kind: PolicyKind, name: str) -> Policy:
    return policy_from_value(doc, kind, name)


ALLOW_ALL_DOC = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def allow_all(name: str) -> Policy:
    return policy(ALLOW_ALL_DOC, PolicyKind.IDENTITY, name)


def with_key(world: World, key: Key) -> World:
    """The world with `key` (matched by ARN) replaced or added."""
    keys = tuple(key if k.arn == key.arn else k for k in world.keys)
    if all(k.arn != key.arn for k in world.keys):
        keys = (*keys, key)
    return replace(world, keys=keys)


def with_identity(world: World, ident: Identity) -> World:
    return with_identities(world, ident.account, {ident.arn: ident})


def with_identities(world: World, account: str, idents: dict[str, Identity]) -> World:
    """The world with these identities of one account replaced or added."""
    acct = world.accounts[account]
    accounts = dict(world.accounts)
    accounts[acct.id] = acct.with_principals(idents)
    return replace(world, accounts=types.MappingProxyType(accounts))


def policy_doc(p: Policy) -> dict[str, Any]:
    """A policy back as a document (statements as they were built)."""

    def principal(st: Any) -> Any:
        if st.principal is None:
            return None
        out: dict[str, list[str]] = {}
        for pr in st.principal:
            if pr.kind == "*":
                return "*"
            out.setdefault(pr.kind, []).append(pr.value)
        return out

    sts = []
    for st in p.statements:
        s: dict[str, Any] = {"Effect": st.effect.value}
        for name, value in (
            ("Sid", st.sid),
            ("Principal", principal(st)),
            ("Action", st.action),
            ("NotAction", st.not_action),
            ("Resource", st.resource),
            ("NotResource", st.not_resource),
        ):
            if value is not None:
                s[name] = list(value) if isinstance(value, tuple) else value
        if st.not_principal is not None:
            s["NotPrincipal"] = {"AWS": [pr.value for pr in st.not_principal if pr.kind == "AWS"]}
        if st.conditions:
            cond: dict[str, dict[str, list[str]]] = {}
            for c in st.conditions:
                cond.setdefault(c.operator, {})[c.key] = list(c.values)
            s["Condition"] = cond
        sts.append(s)
    return {"Version": p.version or "2012-10-17", "Statement": sts}
