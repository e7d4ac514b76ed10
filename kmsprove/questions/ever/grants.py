"""kms:CreateGrant, from a policy or from a grant that carries CreateGrant (R4.6).

The closure argument. Grant steps change only grants; key policies and IAM stay
as the IAM fixpoint left them. Let `op` be the operation asked about and T the
grantees whose grant would cover a caller the question is about (or a role such
a caller may assume). A grant for `op` to someone in T is created either

  (A) by a caller whose policies allow that CreateGrant, or by the holder of a grant
      that carries CreateGrant and `op` (a child grant never exceeds its parent), or
  (B') by the holder of such a grant that did not exist at the start.

Such a grant, in turn, was made by a policy-allowed CreateGrant or by the holder of
an older one. So every chain starts with (A) today or with (B): a policy-allowed
CreateGrant today of a grant carrying CreateGrant and `op` to an untrusted grantee
(trusted principals take no steps). If neither (A) nor (B) is satisfiable today,
no sequence of grant steps of any length lets T use `op`: the "no" holds for traces
of any length. A "yes" is found with (A) directly or with (B) and then (A) by the
new grantee, and is replayed. Encryption-context constraints are left to the
solver for the steps and met by the final request; they only make grants narrower.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from kmsprove.answer import Answer, Verdict
from kmsprove.arn import parse_caller
from kmsprove.ast import CondOp, Grant, QueryCond
from kmsprove.catalog import grant_operations
from kmsprove.questions.ever.callers import (
    GRANTEE,
    assumable_roles,
    fresh_root,
    grantee_classes,
    representative,
)
from kmsprove.questions.ever.roles import assume_step
from kmsprove.questions.ever.search import Search, actor_steps
from kmsprove.questions.ever.trace import Step, step, with_key
from kmsprove.questions.requests import as_caller, covered, final_request
from kmsprove.questions.today import query_actions
from kmsprove.world import Key, World

OPS = "kms:GrantOperations"
# a CreateGrant an AWS service makes for the caller: the service picks the grantee
DIRECT = QueryCond("kms:ViaService", CondOp.NOT_HAS)


def _grant_step(made_by: Answer, key: Key, grant_id: str) -> tuple[Step, Key, str]:
    ce = made_by.counterexample
    assert ce is not None
    grantee = (ce.context.get(GRANTEE) or ("",))[0]
    # the solver may pad the set with values no CreateGrant sends; the replay re-checks
    ops = tuple(o for o in ce.context.get(OPS) or () if o in grant_operations())
    ce = replace(ce, context=ce.context.with_values({OPS: ops}))
    ec = ce.context.encryption_context()
    grant = Grant(
        grant_id=grant_id,
        key_id=key.arn,
        operations=ops,
        grantee=grantee,
        issuing_account=parse_caller(ce.principal).account or key.account,
        ec_subset=tuple(ec.items()) or None,
    )
    new_key = replace(key, grants=(*key.grants, grant))
    shown: dict[str, object] = {
        "GranteePrincipal": grantee,
        "Operations": list(ops),
        "GrantId": grant_id,
    }
    if ec:
        shown["Constraints"] = {"EncryptionContextSubset": ec}
    made = step(
        ce,
        lambda w: with_key(w, replace(w.find_key(key.arn) or key, grants=new_key.grants)),
        f"grant {grant_id}: {', '.join(ops)} for {grantee}",
        shown,
    )
    return made, new_key, grantee


def _classes(search: Search) -> list[tuple[QueryCond, ...]]:
    """Grantee classes, the question's representative first for readable answers."""
    out: list[tuple[QueryCond, ...]] = []
    rep = representative(search.world, search.query)
    if rep is not None and covered(search.world, search.query, as_caller(rep)):
        out.append((QueryCond(GRANTEE, CondOp.EQ, rep),))
    out += grantee_classes(search.world, search.query)
    out += [
        (QueryCond(GRANTEE, CondOp.EQ, a.role.arn),)
        for a in assumable_roles(search.world, search.query)
    ]
    return out


def _direct(search: Search, op: str, world: World, key: Key, before: list[Step]) -> Answer | None:
    """(A): a grant for `op` straight to a grantee the question covers."""
    unknown = None
    roles = {a.role.arn: a for a in assumable_roles(search.world, search.query)}
    for cls in _classes(search):
        made = search.solve(
            ("kms:CreateGrant",), DIRECT, QueryCond(OPS, CondOp.EQ, op), *cls, world=world, key=key
        )
        if made.verdict is Verdict.NO:
            continue
        if made.verdict is Verdict.UNKNOWN or made.counterexample is None:
            unknown = search.unknown(
                f"whether a grant can reach the question's callers: {made.reason}"
            )
            continue
        grant_id = "g-2" if before else "g-1"
        grant_step, new_key, grantee = _grant_step(made, key, grant_id)
        route = [*before, *actor_steps(made), grant_step]
        if grantee in roles:
            a = roles[grantee]
            route.append(assume_step(a.by, grantee, a.why))
        caller = as_caller(grantee)
        if not covered(search.world, search.query, caller) and grantee not in roles:
            caller = representative(search.world, search.query) or caller
        ec = made.counterexample.context.encryption_context()
        action = f"kms:{op}"
        final = final_request(search.query, caller, action, new_key, ec)
        by = made.counterexample.principal
        return search.finish(route, final, f"grant {grant_id}: {op} for {grantee}, created by {by}")
    return unknown


def _relay(search: Search, op: str) -> Answer | None:
    """(B): a grant carrying CreateGrant and `op` to an untrusted grantee, who then
    grants `op` on (R4.6)."""
    relay_to = fresh_root(search.world, (*search.query.who.accounts, "999999999999"))
    untrusted = [QueryCond(GRANTEE, CondOp.NE, t) for t in search.trusted]
    base = (DIRECT, QueryCond(OPS, CondOp.EQ, "CreateGrant"), QueryCond(OPS, CondOp.EQ, op))
    made = search.solve(("kms:CreateGrant",), *base, QueryCond(GRANTEE, CondOp.EQ, relay_to))
    if made.verdict is not Verdict.YES:
        made = search.solve(
            ("kms:CreateGrant",), *base, QueryCond(GRANTEE, CondOp.LIKE, "arn:aws:*"), *untrusted
        )
    if made.verdict is Verdict.NO:
        return None
    if made.verdict is Verdict.UNKNOWN or made.counterexample is None:
        return search.unknown(f"whether a grant can pass CreateGrant on: {made.reason}")
    grant_step, new_key, grantee = _grant_step(made, search.key, "g-1")
    world = with_key(search.world, new_key)
    route = [*actor_steps(made), grant_step]
    found = _direct(search, op, world, new_key, route)
    if found is None:
        return search.unknown(
            f"{grantee} can be given a grant carrying CreateGrant and {op}, but no grant it makes"
            " was found to reach the question's callers"
        )
    return found


def via_grants(search: Search) -> Answer | None:
    unknown = None
    for action in query_actions(search.query):
        op = action.split(":", 1)[1]
        if op not in grant_operations():
            continue  # no grant can carry it
        # both (A) and (B) create a grant carrying `op`: if none can be, neither holds
        any_grant = search.solve(("kms:CreateGrant",), DIRECT, QueryCond(OPS, CondOp.EQ, op))
        if any_grant.verdict is Verdict.NO:
            continue
        for finder in (
            partial(_direct, search, op, search.world, search.key, []),
            partial(_relay, search, op),
        ):
            found = finder()
            if found is not None and found.verdict is Verdict.YES:
                return found
            unknown = unknown or found
    search.progress.append("grants and chains of grants")
    return unknown
