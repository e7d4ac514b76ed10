"""`ever`: what principals can make of today's permissions, over any number of steps.

The search, in order of trace length (the shortest trace is shown):

1. IAM writes (`iam.py`), computed to a fixpoint first: open accounts'
   administrators rewrite identity policies; in complete accounts the evaluator
   decides who may write which identity, boundary or trust policy, or create roles
   or a trusted user's credentials. Today's question is then asked of that world.
2. sts:AssumeRole (`roles.py`): a role a covered principal may assume acts for it.
3. kms:PutKeyPolicy and kms:ReplicateKey (`keys.py`): any policy the caller writes.
4. kms:CreateGrant and chains of grants (`grants.py`, with its closure argument).
5. Retagging or re-aliasing the key under a condition that reads tags or aliases
   (ABAC), and IAM writes through groups or managed-policy versions: detected, not
   explored; when they are possible the answer is unknown, never no.

Soundness of "no". Every step only adds permissions (a policy gains statements, a
grant is added, a boundary goes), so what is allowed grows with the steps. The
IAM fixpoint allows at least what any sequence of IAM writes allows; on top of it,
if no untrusted principal can change the key policy or replicate the key, the key
policy never changes; and the grant closure shows no grant ever reaches the
question's callers. Then the only requests ever allowed are those the fixpoint
world allows today, and today's answer there is no. Steps not modelled at all are
listed in every answer (`not_modelled`); trusted principals take no steps.

Every "yes" is replayed step by step through the evaluator from the world as
given (`trace.replay`); a route whose replay fails is unknown, never yes.
"""

from __future__ import annotations

import time
from dataclasses import replace

from kmsprove.answer import Answer, Verdict
from kmsprove.ast import Query, Who, WhoKind
from kmsprove.questions.ever.grants import via_grants
from kmsprove.questions.ever.iam import iam_closure
from kmsprove.questions.ever.keys import via_key_policy, via_replica
from kmsprove.questions.ever.roles import via_assume_role
from kmsprove.questions.ever.search import Search, actor_steps
from kmsprove.world import Key, World

NOT_MODELLED = (
    "iam:PassRole into compute (a service acting with a role's permissions)",
    "SCP and RCP edits from a management account",
    "grants AWS services create for the caller's resources (the service chooses their grantee)",
    "new users or groups in complete accounts (new roles are modelled)",
)


def _relabelling(search: Search) -> str | None:
    """Tags and aliases are steps too when a condition reads them (ABAC): retagging or
    re-aliasing the key could satisfy it."""
    world = search.world
    policies = [p for k in world.keys for p in k.policies] + [
        p for a in world.accounts.values() for i in a.principals.values() for p in i.policies
    ]
    read = {c.key.lower() for p in policies for st in p.statements for c in st.conditions}
    for needle, actions in (
        ("aws:resourcetag/", ("kms:TagResource", "kms:UntagResource")),
        ("kms:resourcealiases", ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")),
        ("kms:requestalias", ("kms:CreateAlias", "kms:UpdateAlias")),
    ):
        if not any(k.startswith(needle) for k in read):
            continue
        if search.solve(actions).verdict is not Verdict.NO:
            return (
                f"a condition reads `{needle.rstrip('/')}` and an untrusted principal may"
                f" change it ({'/'.join(actions)})"
            )
    return None


def _routes(search: Search) -> Answer:
    """The shortest trace any route finds (one step cannot be beaten), else why not."""
    unknown = best = None
    for finder in (via_assume_role, via_key_policy, via_grants, via_replica):
        found = finder(search)
        if found is not None and found.verdict is Verdict.YES:
            if best is None or len(found.trace) < len(best.trace):
                best = found
            if len(best.trace) <= 1:
                break
        unknown = unknown or found
    if best is not None:
        return best
    if unknown is not None:
        return unknown
    blocker = next(iter(search.reach.blockers), None) or _relabelling(search)
    if blocker is not None:
        return search.unknown(f"not modelled: {blocker}")
    return Answer(
        Verdict.NO,
        reason="no untrusted principal can change the key policy, replicate the key, or create"
        " a grant that reaches the question's callers, and the IAM writes possible do not"
        " change today's answer: no, for traces of any length",
    )


def ask_ever(
    world: World, query: Query, key: Key, timeout: float, trusted: tuple[str, ...]
) -> Answer:
    """A trace of steps that lets a caller the question covers in, or a proof that none does."""
    reach = iam_closure(world, key, trusted)
    search = Search(world, reach, key, query, time.monotonic() + timeout)
    today = search.solve(
        query.actions, *query.conditions, who=query.who or Who(WhoKind.ANYONE), untrusted=False
    )
    search.progress.append("today's access after the IAM writes")
    if today.verdict is Verdict.YES and today.counterexample is not None:
        answer = search.finish(actor_steps(today), today.counterexample, today.reason)
        answer = replace(answer, witness=today.witness)
    elif today.verdict is Verdict.UNKNOWN:
        answer = search.unknown(today.reason)
    else:
        answer = _routes(search)
    lost = sorted(set(trusted) - set(reach.trusted))
    lapsed = tuple(
        f"{t}: not trusted after all, an untrusted principal can act as it" for t in lost
    )
    return replace(
        answer,
        open_accounts=today.open_accounts,
        trusted=tuple(trusted),
        not_modelled=NOT_MODELLED,
        witness=(*answer.witness, *lapsed),
    )


def ask_ever_key(
    world: World, query: Query, key: Key, timeout: float, trusted: tuple[str, ...]
) -> Answer:
    """`ask_ever` with the key and the time it took."""
    start = time.perf_counter()
    answer = ask_ever(world, query, key, timeout, trusted)
    return replace(answer, key=key.arn, seconds=time.perf_counter() - start)


__all__ = ["ask_ever", "ask_ever_key"]
