"""Check stage: spec `Expectation`s -> `Outcome`s, one per (expectation, key).

`kmsprove check WORLD SPEC` asks every query of a spec file and compares the
answer with what the line expects. An outcome carries its evidence so reports
need no world: for a failing `expect no`, the statements (file:line:col) that
let the counterexample in; for a failing `expect yes`, which layer denies an
example request of the question. An unknown answer is never counted as holding.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from kmsprove.answer import Answer, CheckStatus, ExitCode, Outcome, Verdict, exit_status
from kmsprove.ast import CondOp, Expectation, Query, WhoKind
from kmsprove.encode.question import EXAMPLE_ACCOUNT
from kmsprove.errors import Diagnostic, InputError, SourcePos, error
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs import load_world
from kmsprove.inputs.files import read_text
from kmsprove.inputs.options import NO_OPTIONS, ReadOptions
from kmsprove.questions.ask import ask
from kmsprove.questions.requests import as_caller, covered
from kmsprove.questions.today import query_actions
from kmsprove.request import Context, Decision, Layer, Request, StatementRef, Via
from kmsprove.syntax.spec import parse_spec
from kmsprove.world import Key, World


def read_spec(path: str) -> tuple[Expectation, ...]:
    """The expectations of a spec file, positioned at `path`; an empty spec is an error."""
    expectations = parse_spec(read_text(path), path)
    if not expectations:
        # a spec that checks nothing would pass CI forever
        raise InputError.at(
            SourcePos(path), "no expectations: write `expect yes: QUERY` or `expect no: QUERY`"
        )
    return expectations


def load_inputs(
    world_path: str, spec_path: str, options: ReadOptions = NO_OPTIONS
) -> tuple[World, tuple[Expectation, ...]]:
    """The world and the spec, reporting the problems of both files at once."""
    diags: list[Diagnostic] = []
    world = expectations = None
    try:
        expectations = read_spec(spec_path)
    except InputError as exc:
        diags += exc.diagnostics
    try:
        world = load_world(world_path, options)
    except InputError as exc:
        diags += exc.diagnostics
    if diags or world is None or expectations is None:
        raise InputError(diags)
    return world, expectations


def check_world(
    world: World,
    expectations: Sequence[Expectation],
    timeout: float = 30.0,
    trusted: tuple[str, ...] = (),
) -> list[Outcome]:
    """One outcome per (expectation, key), in spec order; `timeout` is per query per key."""
    _check_targets(world, expectations)  # before any solving: bad input costs nothing
    out: list[Outcome] = []
    for exp in expectations:
        out += [_outcome(world, exp, a) for a in ask(world, exp.query, timeout, trusted)]
    return out


def exit_code(outcomes: Sequence[Outcome]) -> ExitCode:
    """0 when all hold, 1 when some fail, 3 when none fails but some are unknown."""
    statuses = {o.status for o in outcomes}
    return exit_status(
        failed=CheckStatus.FAILS in statuses, unknown=CheckStatus.UNKNOWN in statuses
    )


def _check_targets(world: World, expectations: Sequence[Expectation]) -> None:
    diags = []
    for exp in expectations:
        t = exp.query.target
        if t is None and not world.keys:
            diags.append(error(exp.pos, "the world has no key to check this on"))
        elif t is not None and t.kind == "key" and world.find_key(t.ref) is None:
            diags.append(error(t.pos, f"no key `{t.ref}` in the world"))
        elif t is not None and t.kind == "bucket" and world.bucket(t.ref) is None:
            diags.append(error(t.pos, f"no bucket `{t.ref}` in the world"))
    if diags:
        raise InputError(diags)


def _outcome(world: World, exp: Expectation, answer: Answer) -> Outcome:
    start = time.perf_counter()
    key = _key_of(world, exp.query, answer)
    status = _status(exp.expect, answer.verdict)
    locations: list[StatementRef] = []
    blocked = None
    if status is CheckStatus.FAILS and not exp.expect:
        locations = letting_in(world, answer, key)
    elif status is CheckStatus.FAILS:
        blocked = blocking(world, exp.query, key)
    return Outcome(
        exp,
        answer.key,
        status,
        answer,
        tuple(locations),
        blocked,
        answer.seconds + time.perf_counter() - start,
        _policy_pos(key),
    )


def _status(expect_yes: bool, verdict: Verdict) -> CheckStatus:
    if verdict is Verdict.UNKNOWN:
        return CheckStatus.UNKNOWN
    return CheckStatus.HOLDS if (verdict is Verdict.YES) == expect_yes else CheckStatus.FAILS


def _key_of(world: World, query: Query, answer: Answer) -> Key | None:
    if answer.key is not None:
        return world.find_key(answer.key)
    bucket = world.bucket(query.target.ref) if query.target is not None else None
    return world.find_key(bucket.kms_key) if bucket and bucket.kms_key else None


def _is_synthetic(file: str) -> bool:
    """Documents a trace step wrote, witness policies, built-ins: `<...>`, in no file."""
    return file.startswith("<")


def _policy_pos(key: Key | None) -> SourcePos | None:
    if key is None:
        return None
    for pos in (key.policy.pos, key.pos):
        if not _is_synthetic(pos.file):
            return pos
    return None


# --------------------------------------------------------------------------
# a failing `expect no`: what lets the counterexample in

# Only these layers grant; SCPs, RCPs, endpoint policies and boundaries only cap.
_GRANTING = (Layer.KEY_POLICY, Layer.IDENTITY, Layer.GRANTS, Layer.BUCKET)
# INVARIANT: the `why` kmsprove.evaluate.layers gives a statement whose principal
# covers the caller only as its account (`arn:aws:iam::A:root`, R1.4).
_ACCOUNT_ONLY = f"matches (principal: {Via.ACCOUNT.value})"


def letting_in(world: World, answer: Answer, key: Key | None) -> list[StatementRef]:
    """The real statements and grants that let the answer's request in, key policy first."""
    ce = answer.counterexample
    refs = _allowing(answer.decision, ce.principal if ce else "")
    if answer.trace and (not refs or any(_is_synthetic(r.file) for r in refs)):
        # The final request is let in by what a step wrote; the statements that
        # let the first checked step happen are the ones to fix in the files.
        first = next((s for s in answer.trace if not s.get("assumed")), None)
        if first is not None:
            refs = _step_refs(world, first) + refs
    seen: set[tuple[str, int, int]] = set()
    real = []
    for r in refs:
        if not _is_synthetic(r.file) and (r.file, r.line, r.col) not in seen:
            seen.add((r.file, r.line, r.col))
            real.append(r)
    pos = _policy_pos(key)
    if real or pos is None:
        return real
    why = "the key policy (no statement in a file lets the request in by itself)"
    return [StatementRef.at(None, pos, True, "Allow", why)]


def _allowing(decision: Decision | None, principal: str) -> list[StatementRef]:
    if decision is None:
        return []
    # A key policy that delegates to the caller's account lets a caller in only
    # through an IAM allow (its root user needs none): without one, a statement
    # naming the caller or a grant did it, and the delegation is not the cause.
    delegated = principal.endswith(":root") or any(
        lr.layer is Layer.IDENTITY and lr.effect == "allow" for lr in decision.layers
    )
    return [
        s
        for lr in decision.layers
        if lr.layer in _GRANTING
        for s in lr.statements
        if s.matched and s.effect == "Allow" and (delegated or s.why != _ACCOUNT_ONLY)
    ]


def _step_refs(world: World, shown: Mapping[str, Any]) -> list[StatementRef]:
    """The statements that allow a trace step, decided on the world as given."""
    req = Request(
        principal=shown["principal"],
        action=shown["action"],
        key=shown.get("key"),
        resource=shown.get("resource"),
        context=Context.of(shown.get("context") or {}),
        federated_from=shown.get("federated_from"),
    )
    try:
        full = complete_request(world, req)
    except InputError:
        return []  # the step's context disagrees with the world: it names no statement
    return _allowing(evaluate(world, full), full.principal)


# --------------------------------------------------------------------------
# a failing `expect yes`: which layer blocks

# Guardrails decide first (kmsprove.evaluate.kms); then the mandatory
# resource policy, then the caller's side.
_BLOCKING_ORDER = (
    Layer.SCP,
    Layer.RCP,
    Layer.VPCE,
    Layer.KEY_POLICY,
    Layer.BUCKET,
    Layer.IDENTITY,
    Layer.BOUNDARY,
    Layer.SESSION,
)


def blocking(world: World, query: Query, key: Key | None) -> str:
    """Why an example request of the question is denied: `LAYER: reason (example request: ...)`."""
    req = example_request(world, query, key)
    try:
        full = complete_request(world, req)
    except InputError:
        full = complete_request(world, Request(req.principal, req.action, req.key, req.resource))
    decision = evaluate(world, full)
    target = req.key or req.resource or "the key"
    example = f"{req.principal} calling {req.action} on {target}"
    if decision.allowed and decision.blocked_by:
        return f"key state: {decision.blocked_by} (example request: {example})"
    if decision.allowed:
        # the evaluator allows this one, so what rules every request out is the
        # question's own narrowing (its conditions, or what `ever` cannot reach)
        return (
            "no request matching the question is allowed, though an example request"
            f" without its narrowing is ({example}: {decision.reason})"
        )
    layer = denying_layer(decision)
    lead = f"{layer}: " if layer else ""
    return f"{lead}{decision.reason} (example request: {example})"


def denying_layer(decision: Decision) -> str | None:
    """The layer that denies: an explicit Deny, else the first required layer that is silent."""
    for lr in decision.layers:
        if lr.effect == "deny":
            return lr.layer.value
    for want in _BLOCKING_ORDER:
        for lr in decision.layers:
            if lr.layer is want and lr.effect == "none":
                return lr.layer.value
    return None  # decided before any layer (cross-account use, key type, lockout)


def example_principal(world: World, query: Query) -> str:
    """The principal the question names, else one the world names that it covers,
    else a root user of an account it covers."""
    who = query.who
    pattern = who.pattern or ""
    if who.kind in (WhoKind.PRINCIPAL, WhoKind.SERVICE) and not set("*?") & set(pattern):
        return as_caller(pattern)
    for acct in sorted(world.accounts):
        for arn in sorted(world.accounts[acct].principals):
            caller = as_caller(arn)
            if covered(world, query, caller) or covered(world, query, arn):
                return caller
    if who.kind is WhoKind.IN_ACCOUNTS and who.accounts:
        return f"arn:aws:iam::{who.accounts[0]}:root"
    return f"arn:aws:iam::{EXAMPLE_ACCOUNT}:root"


def example_request(world: World, query: Query, key: Key | None) -> Request:
    """A request the question asks about, with the values its conditions require."""
    pairs = {}
    for c in query.conditions:
        if c.op is CondOp.EQ and c.value is not None:
            pairs[c.key] = c.value
        elif c.op is CondOp.LIKE and c.value is not None:
            pairs[c.key] = c.value.replace("*", "").replace("?", "x")
        elif c.op is CondOp.HAS:
            pairs[c.key] = "example"
    action = query_actions(query)[0]
    principal = example_principal(world, query)
    if query.target is not None and query.target.kind == "bucket":
        resource = query.target.ref.split("/", 1)[0] + "/example"
        return Request(principal, action, resource=resource, context=Context.of(pairs))
    return Request(principal, action, key=key.arn if key else None, context=Context.of(pairs))


__all__ = ["check_world", "exit_code", "load_inputs", "read_spec"]
