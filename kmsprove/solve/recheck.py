"""The evaluator's re-check of every witness the solver finds (STYLE.md, Cedar `ModelInvalid`).

A model is decoded (`kmsprove.solve.decode`) into a request, placed in the world with
what the solver assumed about an unnamed caller (`witness_world`), completed as AWS
would complete it, and decided by the evaluator. Only a request the evaluator allows is
a "yes"; anything else is an unknown, "encoder and evaluator disagree", never a yes.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from kmsprove.answer import Answer, Verdict
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.universe import Universe
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.request import Request
from kmsprove.solve.decode import decode, witness_world
from kmsprove.solve.requests import as_sent, caller_exists
from kmsprove.world import Key, World

DISAGREE = "encoder and evaluator disagree"


def witness_answer(
    world: World,
    u: Universe,
    sym: Sym,
    key: Key,
    model: z3.ModelRef,
    resource: z3.SeqRef | None,
    opens: tuple[str, ...],
) -> Answer:
    """The model as a re-checked "yes", or an unknown when the evaluator disagrees."""
    req, witness = decode(model, sym, u, key, resource)
    checked_world = witness_world(world, req, witness)
    try:
        full = complete_request(checked_world, req)
    except InputError as exc:
        return Answer(
            Verdict.UNKNOWN,
            counterexample=req,
            open_accounts=opens,
            reason=f"{DISAGREE}: {exc.diagnostics[0].message}",
        )
    decision = evaluate(checked_world, full)
    if not decision.allowed:
        return Answer(
            Verdict.UNKNOWN,
            counterexample=full,
            decision=decision,
            open_accounts=opens,
            reason=f"{DISAGREE}: the evaluator denies it ({decision.reason})",
        )
    return Answer(
        Verdict.YES,
        counterexample=full,
        decision=decision,
        witness=tuple(f"{arn}: {text}" for arn, text in witness.items()),
        open_accounts=opens,
        reason=decision.reason,
        assumed=witness,
        checked_world=checked_world,
        shown=as_sent(checked_world, full),
    )


@dataclass(frozen=True)
class SideCheck:
    """The evaluator's decision on a witness in one world (one side of a diff)."""

    allowed: bool
    reason: str
    request: Request | None = None  # as completed for this side


def side_check(world: World, req: Request, witness: dict[str, str]) -> SideCheck:
    """The evaluator's decision in one world (raises InputError when it cannot be asked)."""
    if not caller_exists(world, req):
        return SideCheck(False, "the caller does not exist: its complete account does not list it")
    checked = witness_world(world, req, witness)
    full = complete_request(checked, req)
    d = evaluate(checked, full)
    return SideCheck(d.allowed, d.reason, full)
