"""The state one `ever` question carries through its routes: the widened world, whom
it trusts, the time left, how far it got, and the replay that turns a route into an
answer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial

from kmsprove.answer import Answer, Verdict
from kmsprove.arn import parse_caller, session_of
from kmsprove.ast import Query, QueryCond, Who, WhoKind
from kmsprove.questions.ever.iam import WIDEN, IamReach
from kmsprove.questions.ever.trace import Step, replay, step
from kmsprove.questions.requests import conds_hold
from kmsprove.questions.today import solve_today
from kmsprove.request import Request
from kmsprove.solve.decode import witness_document, witness_world
from kmsprove.solve.requests import as_sent
from kmsprove.world import Key, World


@dataclass
class Search:
    original: World
    reach: IamReach
    key: Key
    query: Query
    deadline: float
    progress: list[str] = field(default_factory=list)

    @property
    def world(self) -> World:
        return self.reach.world

    @property
    def trusted(self) -> tuple[str, ...]:
        return self.reach.trusted

    def solve(
        self,
        actions: tuple[str, ...],
        *conds: QueryCond,
        who: Who | None = None,
        world: World | None = None,
        key: Key | None = None,
        untrusted: bool = True,
    ) -> Answer:
        """Today's answer in the widened world; by default only untrusted callers."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return Answer(Verdict.UNKNOWN, reason="timed out")
        q = Query(who or Who(WhoKind.ANYONE), actions, target=self.query.target, conditions=conds)
        exclude = self.trusted if untrusted else ()
        found = solve_today(world or self.world, q, key or self.key, left, exclude)
        ce = found.counterexample
        needs_steps = ce is not None and (found.assumed or self.reach.steps_for([ce.principal]))
        if found.verdict is Verdict.YES and needs_steps and who is None:
            # a caller that needs a policy written first: its account's root user may need
            # none (a concrete root keeps the universe, and the solve, small)
            assert ce is not None
            acct = parse_caller(ce.principal).account
            roots = replace(q, who=Who(WhoKind.PRINCIPAL, pattern=f"arn:aws:iam::{acct}:root"))
            left = max(0.1, self.deadline - time.monotonic())
            again = solve_today(world or self.world, roots, key or self.key, left, exclude)
            if again.verdict is Verdict.YES:
                return again
        return found

    def unknown(self, why: str) -> Answer:
        done = "; ".join(self.progress) or "nothing yet"
        return Answer(Verdict.UNKNOWN, reason=f"{why} (searched so far: {done})")

    def finish(self, route: list[Step], final: Request, reason: str) -> Answer:
        """Replay the route from the world as given, with the IAM writes it needs first
        (none, those of the principals involved, or all), then drop the writes the
        replay does without: the trace shown is as short as this search can make it."""
        if parse_caller(final.principal).kind == "role":  # its session makes the call (R1.2)
            final = replace(final, principal=session_of(final.principal))
        who = [s.request.principal for s in route] + [final.principal]
        keep = self.reach.takeovers([s.request.principal for s in route])
        failure = ""
        for before in ([], self.reach.steps_for(who), self.reach.all_steps()):
            before = [*keep, *[s for s in before if s not in keep]]
            steps = [*before, *[s for s in route if s not in before]]
            result = replay(self.original, steps, final)
            if isinstance(result, str):
                failure = failure or result
                continue
            for s in [x for x in steps if x.request.action.startswith("iam:")]:
                if s in keep:
                    continue
                shorter = [x for x in steps if x is not s]
                again = replay(self.original, shorter, final)
                if not isinstance(again, str):
                    steps, result = shorter, again
            req, decision, after = result
            if not conds_hold(self.query, req):
                return self.unknown(
                    f"{reason}, but the request found does not meet the question's `where`"
                )
            return Answer(
                Verdict.YES,
                counterexample=req,
                decision=decision,
                trace=tuple(s.shown() for s in steps),
                reason=reason,
                checked_world=after,
                shown=as_sent(after, req),
            )
        return self.unknown(f"{reason}, but the replay failed: {failure}")


def actor_steps(answer: Answer) -> list[Step]:
    """An unnamed caller of an open account found by the solver needs the identity
    policy its administrators may write (the solver's witness) before it acts."""
    req = answer.counterexample
    if req is None or not answer.assumed:
        return []
    arn = next(iter(answer.assumed))
    kind = parse_caller(arn).kind
    action = WIDEN.get(kind, WIDEN["user"])[0]
    root = f"arn:aws:iam::{parse_caller(arn).account}:root"
    return [
        step(
            Request(root, action, resource=arn),
            partial(witness_world, req=req, witness=dict(answer.assumed)),
            f"{arn} gets an identity policy allowing {req.action} (its account is open:"
            " its administrators may write one)",
            {"PolicyDocument": witness_document(req)},
            assumed=True,
        )
    ]
