"""On small generated worlds, the solver finds an allowed request whenever a brute-force
search of a finite request space with the evaluator does, and every "yes" it gives
is re-checked and allowed by the evaluator (never an "encoder and evaluator disagree")."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings

from kmsprove.answer import Verdict
from kmsprove.ast import Query, Who, WhoKind
from kmsprove.catalog import action_info
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.request import Context, Request
from kmsprove.solve.decode import witness_world
from kmsprove.world import World
from tests.support.strategies import CALLERS, CONTEXT_CHOICES, KEY, worlds

ACTIONS = ("kms:Decrypt", "kms:CreateGrant", "kms:PutKeyPolicy")
FRESH_CALLERS = (
    "arn:aws:iam::999999999999:user/example",
    "arn:aws:sts::999999999999:assumed-role/example/example",
    "arn:aws:iam::999999999999:root",
)
CONTEXTS: list[dict[str, Any]] = (
    [{}]
    + [dict([c]) for c in CONTEXT_CHOICES]
    + [
        {"kms:EncryptionContext:Dept": "IT"},
        {
            "kms:ViaService": "s3.us-east-1.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b/o",
        },
    ]
)


def _plausible(action: str, ctx: dict[str, Any]) -> bool:
    """A context AWS could send with this action: only keys the action supplies (R5.1)
    besides global ones. The evaluator decides any context it is given; the solver
    searches real requests only."""
    info = action_info(action)
    assert info is not None
    for name in ctx:
        low = name.lower()
        if low.startswith("aws:") and low != "aws:sourcearn" and low != "aws:sourceaccount":
            continue
        if not any(
            low == k.lower() or (k.endswith("*") and low.startswith(k[:-1].lower()))
            for k in info.condition_keys
        ):
            return False
    return True


def _allowed_somewhere(world: World, action: str) -> bool:
    for caller, ctx in itertools.product(CALLERS + FRESH_CALLERS, CONTEXTS):
        if not _plausible(action, ctx) or (
            ("aws:SourceArn" in ctx or "aws:SourceAccount" in ctx) and "." not in caller
        ):
            continue
        req = Request(caller, action, key=KEY, context=Context.of(ctx))
        # an unnamed caller of an open account may hold any identity policy: the best one
        named = (
            world.identity(caller) is not None
            or caller.endswith(":root")
            or "." in caller.split(":")[0]
        )
        w = world if named else witness_world(world, req, {_identity_arn(caller): "assumed"})
        try:
            full = complete_request(w, req)
        except InputError:
            continue
        exists = (
            named
            or not world.account(caller.split(":")[4] if caller.startswith("arn:") else "").complete
        )
        if exists and evaluate(w, full).allowed:
            return True
    return False


def _identity_arn(caller: str) -> str:
    if ":assumed-role/" in caller:
        acct = caller.split(":")[4]
        return f"arn:aws:iam::{acct}:role/{caller.split('/')[1]}"
    return caller


@settings(max_examples=20, deadline=None)
@given(worlds())
def test_solver_finds_what_enumeration_finds_and_every_yes_checks_out(doc: dict[str, Any]) -> None:
    try:
        world = load_world_json(doc)
    except InputError:
        return
    for action in ACTIONS:
        [answer] = ask(world, Query(Who(WhoKind.ANYONE), (action,)), timeout=20)
        # an honest unknown: a feature not modelled, or a grant to an unresolved unique id
        assert answer.verdict is not Verdict.UNKNOWN or any(
            why in answer.reason for why in ("not modelled", "is not resolved")
        ), answer.reason
        if answer.verdict is Verdict.NO:
            assert not _allowed_somewhere(world, action), (
                f"solver says no, but enumeration finds {action}"
            )
