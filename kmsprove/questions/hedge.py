"""What the inputs could not settle makes an answer unknown (`World.unknowns`).

A key policy the collector was refused, a template value known only at deploy time:
the world holds a stand-in that names nobody, so the twins can still decide every
request, but their verdict is about the stand-in. Any verdict such an item may change
is reported as unknown, with the item's reason (never "no", and never a "yes" whose
witness the real value might deny). Coarse on purpose: an item about one key hedges
that key's answers, an item about no key (an identity policy, an SCP) every answer.

What a reader assumed where its input is silent (`World.assumed`: the default account
or Region of a plan that names neither) is repeated in every answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kmsprove.answer import Answer, DiffResult, Finding, FindingStatus, Verdict, relation_of
from kmsprove.world import Unresolved, World


def unsettled(worlds: Sequence[World], key: str | None) -> list[Unresolved]:
    return [u for w in worlds for u in w.unknowns if u.concerns(key)]


def _why(verdict: str, items: Sequence[Unresolved]) -> str:
    shown = "; ".join(dict.fromkeys(u.reason for u in items[:3]))
    more = f" (and {len(items) - 3} more)" if len(items) > 3 else ""
    return f"the answer would be {verdict}, but the inputs leave unsettled: {shown}{more}"


def hedge_answer(world: World, answer: Answer) -> Answer:
    hedged = _hedged(world, answer)
    if world.assumed:
        return replace(hedged, inputs_assumed=world.assumed)
    return hedged


def _hedged(world: World, answer: Answer) -> Answer:
    if answer.verdict is Verdict.UNKNOWN:
        return answer
    items = unsettled([world], answer.key)
    if not items:
        return answer
    return Answer(
        Verdict.UNKNOWN,
        key=answer.key,
        open_accounts=answer.open_accounts,
        reason=_why(answer.verdict.value, items),
        seconds=answer.seconds,
    )


def hedge_diff(old: World, new: World, result: DiffResult) -> DiffResult:
    assumed = tuple(dict.fromkeys((*old.assumed, *new.assumed)))
    if assumed:
        result = replace(result, assumptions=(*result.assumptions, *assumed))
    items = unsettled([old, new], None)
    if not items:
        return result

    def one(f: Finding) -> Finding:
        if f.status is FindingStatus.UNKNOWN:
            return f
        was = "a request" if f.status is FindingStatus.FOUND else "none"
        return replace(f, status=FindingStatus.UNKNOWN, request=None, reason=_why(was, items))

    new_access, removed = one(result.new_access), one(result.removed_access)
    return replace(
        result,
        relation=relation_of(new_access.status, removed.status),
        new_access=new_access,
        removed_access=removed,
    )
