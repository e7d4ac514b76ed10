"""What both routes of today's question conclude (`kmsprove.questions.today`, without a
formula; `kmsprove.questions.formulas`, with the solver): a "no" and its reason, the
accounts assumed open, and what a "yes" through an AWS service means. No z3 here.
"""

from __future__ import annotations

from kmsprove.answer import Answer, Verdict
from kmsprove.arn import parse_arn, parse_caller
from kmsprove.catalog import ActionInfo
from kmsprove.encode.universe import Universe
from kmsprove.evaluate.keystate import type_forbids
from kmsprove.evaluate.principals import is_service_name
from kmsprove.request import Layer
from kmsprove.solve.bounds import bound_exceeded
from kmsprove.solve.unresolved import unresolved_grant
from kmsprove.world import Key, World


def open_accounts(world: World, u: Universe) -> tuple[str, ...]:
    return tuple(
        sorted({a for a in u.accounts if not world.account(a).complete} | {"(any other account)"})
    )


def no_answer(
    world: World, u: Universe, key: Key, actions: list[ActionInfo], opens: tuple[str, ...]
) -> Answer:
    """The answer when no request is allowed: a "no" only with nothing that could make
    it wrong (`bound_exceeded`, `unresolved_grant`)."""
    exceeded = bound_exceeded(world) or unresolved_grant(key, u, [a.name for a in actions])
    if exceeded:
        return Answer(
            Verdict.UNKNOWN, open_accounts=opens, reason=f"no request found, but {exceeded}"
        )
    return Answer(Verdict.NO, open_accounts=opens, reason=no_reason(key, actions))


def service_notes(key: Key, answer: Answer) -> tuple[str, ...]:
    """What a "yes" through an AWS service means: no condition ties the service to the
    key's account, so it may act for any account's resources (the confused deputy);
    and a grant to a service principal covers callers nobody can list (R4.3)."""
    r = answer.counterexample
    if answer.verdict is not Verdict.YES or r is None:
        return ()
    notes = []
    if parse_caller(r.principal).kind == "service":
        source = r.context.get("aws:SourceAccount")
        arn = r.context.get("aws:SourceArn")
        parsed = parse_arn(arn[0]) if arn else None
        acting = source[0] if source else parsed.account if parsed else ""
        if acting != key.account:
            here = f"here it acts for account {acting}" if acting else "this request names none"
            notes.append(
                f"no aws:SourceAccount or aws:SourceArn condition ties {r.principal} to"
                f" {key.account}: it may act for any account ({here})"
            )
    layers = answer.decision.layers if answer.decision is not None else ()
    used = {s.sid for lr in layers if lr.layer is Layer.GRANTS for s in lr.statements if s.matched}
    notes.extend(
        f"grant {g.grant_id} is to the service principal {g.grantee}: who such a grant"
        " covers is unknown (AWS lists it for the service's own grantees), so it counts"
        " for any caller (R4.3)"
        for g in key.grants
        if g.grant_id in used and g.grantee and is_service_name(g.grantee)
    )
    return tuple(notes)


def no_reason(key: Key, actions: list[ActionInfo]) -> str:
    """Why no request is allowed, when it is the key's type: an operation the type never
    does (Sign on a symmetric key) is a "no" for every caller, and says so, as
    `explain` does (R3.5)."""
    why = [r for a in actions if (r := type_forbids(key, a.short)) is not None]
    if why and len(why) == len(actions):
        return "no request can succeed: " + "; ".join(why)
    if why:
        return "no request matching the query is allowed (" + "; ".join(why) + ")"
    return "no request matching the query is allowed"
