"""`ever`: what principals can make of today's permissions, over any number of steps.

The steps that change who can do what (issue 5) and how each is handled:

- administrators of an *open* account may rewrite the identity policies of its
  principals (named or not) and drop their boundaries: the world is widened to
  that before anything else, and a counterexample shows the IAM write as a step;
- `kms:PutKeyPolicy` by an untrusted principal: any key policy, so the step is
  shown with a policy that lets the asked-about caller in (the old statements
  kept, so the lockout check passes);
- `kms:CreateGrant` by an untrusted principal (from a policy or from a grant
  that carries CreateGrant): a grant for the asked-about operation to a caller
  the question covers;
- IAM writes in a *complete* account the key policy delegates to, ReplicateKey,
  and retagging or re-aliasing the key under a condition that reads tags or
  aliases (ABAC): detected, not explored; when
  they are possible the answer is unknown, never no;
- `sts:AssumeRole` into a role whose trust policy lets another account in: the role
  acts for that outsider (a trace step `sts:AssumeRole`, then the role's request).

Soundness of "no": capabilities only grow, so it suffices that no untrusted
principal can take a step *today* in the widened world: then no step is ever
taken and tomorrow's permissions are today's. Every "yes" replays each step
through the evaluator on the world as changed by the steps before it.
"""

from __future__ import annotations

import json
import types
from dataclasses import replace
from typing import Any

from kmsprove.arn import parse_caller
from kmsprove.ast import CondOp, Policy, PolicyKind, Query, QueryCond, Who, WhoKind
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.policy import build_policy
from kmsprove.query import Answer, Verdict, query_actions, solve_today
from kmsprove.request import Context, Request, complete_request
from kmsprove.syntax.json import parse_json
from kmsprove.world import Grant, Identity, Key, World

IAM_WRITES = (
    "iam:PutUserPolicy",
    "iam:PutRolePolicy",
    "iam:PutGroupPolicy",
    "iam:AttachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachGroupPolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
)
NOT_MODELLED = [
    "iam:PassRole into compute",
    "SCP and RCP edits from a management account",
    "grants AWS services create for the caller's resources (the service chooses their grantee)",
]
FRESH_TARGET_ACCOUNT = "999999999999"


def _policy(doc: dict[str, Any], kind: PolicyKind, name: str) -> Policy:
    policy, _ = build_policy(parse_json(json.dumps(doc), name), kind, name)
    assert policy is not None
    return policy


def widen_open_accounts(world: World) -> tuple[World, list[str]]:
    """Open accounts' administrators may give their principals any identity policy."""
    allow_all = _policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        },
        PolicyKind.IDENTITY,
        "<written by the account's administrators>",
    )
    accounts = dict(world.accounts)
    widened = []
    for acct_id, acct in world.accounts.items():
        if acct.complete:
            continue
        principals = {
            arn: replace(i, policies=(*i.policies, allow_all), boundary=None)
            for arn, i in acct.principals.items()
        }
        widened += list(principals)
        accounts[acct_id] = replace(acct, principals=types.MappingProxyType(principals))
    return replace(world, accounts=types.MappingProxyType(accounts)), widened


def _target(query: Query) -> str | None:
    """A caller the question covers that steps can let in: a fresh account's root."""
    who = query.who
    if who.kind in (
        WhoKind.ANYONE,
        WhoKind.ANY_PRINCIPAL,
        WhoKind.OUTSIDE_ACCOUNTS,
        WhoKind.OUTSIDE_ORG,
    ):
        return f"arn:aws:iam::{FRESH_TARGET_ACCOUNT}:root"
    if who.kind is WhoKind.IN_ACCOUNTS and who.accounts:
        return f"arn:aws:iam::{who.accounts[0]}:root"
    if (
        who.kind is WhoKind.PRINCIPAL
        and who.pattern
        and "*" not in who.pattern
        and "?" not in who.pattern
    ):
        return who.pattern
    return None


def _as_caller(arn: str) -> str:
    """A role acts through a session; any other grantee calls as itself."""
    c = parse_caller(arn)
    return f"arn:aws:sts::{c.account}:assumed-role/{c.name}/example" if c.kind == "role" else arn


def _step(req: Request, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "principal": req.principal,
        "action": req.action,
        "key": req.key,
        "parameters": parameters,
        "context": req.context.as_json(),
    }


def _final(world: World, key: Key, target: str, action: str) -> Request | None:
    req = Request(target, action, key=key.arn)
    try:
        req = complete_request(world, req)
    except InputError:
        return None
    return req if evaluate(world, req).allowed else None


def _via_key_policy(
    world: World, key: Key, query: Query, timeout: float, trusted: tuple[str, ...]
) -> Answer | None:
    step = solve_today(
        world,
        Query(Who(WhoKind.ANYONE), ("kms:PutKeyPolicy",), target=query.target),
        key,
        timeout,
        trusted,
    )
    if step.verdict is Verdict.NO:
        return None
    if step.verdict is Verdict.UNKNOWN or step.counterexample is None:
        return Answer(
            Verdict.UNKNOWN, reason=f"whether someone can change the key policy: {step.reason}"
        )
    target = _target(query)
    action = query_actions(query)[0]
    if target is None:
        return Answer(
            Verdict.UNKNOWN,
            reason=f"{step.counterexample.principal} can rewrite the key policy; the question's caller is a pattern",
        )
    doc = json.loads(json.dumps(_policy_doc(key.policy)))
    doc["Statement"].append(
        {
            "Sid": "AddedByTheStep",
            "Effect": "Allow",
            "Principal": {"AWS": target},
            "Action": action,
            "Resource": "*",
        }
    )
    new_key = replace(
        key, policy=_policy(doc, PolicyKind.KEY_POLICY, "<the key policy the step writes>")
    )
    after = replace(world, keys=tuple(new_key if k.arn == key.arn else k for k in world.keys))
    final = _final(after, new_key, target, action)
    if final is None:
        return Answer(
            Verdict.UNKNOWN,
            reason=f"{step.counterexample.principal} can rewrite the key policy, but the replay did not let `{target}` in",
        )
    trace = [
        _step(
            step.counterexample,
            {"Policy": doc, "note": "PutKeyPolicy: the old statements plus one for the caller"},
        )
    ]
    return Answer(
        Verdict.YES,
        counterexample=final,
        trace=trace,
        reason=f"{step.counterexample.principal} can rewrite the key policy (R7.3)",
    )


def _policy_doc(policy: Policy) -> dict[str, Any]:
    """A policy back as a document (statements as they were built)."""

    def principal(st: Any) -> Any:
        if st.principal is None:
            return None
        out: dict[str, list[str]] = {}
        for p in st.principal:
            if p.kind == "*":
                return "*"
            out.setdefault(p.kind, []).append(p.value)
        return out

    sts = []
    for st in policy.statements:
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
            s["NotPrincipal"] = {"AWS": [p.value for p in st.not_principal if p.kind == "AWS"]}
        if st.conditions:
            cond: dict[str, dict[str, list[str]]] = {}
            for c in st.conditions:
                cond.setdefault(c.operator, {})[c.key] = list(c.values)
            s["Condition"] = cond
        sts.append(s)
    return {"Version": policy.version or "2012-10-17", "Statement": sts}


MAX_RELAYS = 3  # grant chains searched for a trace; a "no" never depends on it
DIRECT = (
    QueryCond("kms:ViaService", CondOp.NOT_HAS),
)  # a service's grants go where the service says


def _grant_request(
    world: World,
    key: Key,
    query: Query,
    timeout: float,
    trusted: tuple[str, ...],
    *conds: QueryCond,
) -> Answer:
    """Can an untrusted principal call CreateGrant directly, with these parameters?"""
    q = Query(
        Who(WhoKind.ANYONE), ("kms:CreateGrant",), target=query.target, conditions=(*DIRECT, *conds)
    )
    return solve_today(world, q, key, timeout, trusted)


def _with_grant(
    world: World, key: Key, made_by: Answer, grant_id: str, ops: tuple[str, ...], grantee: str
) -> tuple[World, Key]:
    """The world after the grant the counterexample's CreateGrant makes."""
    assert made_by.counterexample is not None
    ec = made_by.counterexample.context.encryption_context()
    grant = Grant(
        grant_id=grant_id,
        key_id=key.arn,
        operations=ops,
        grantee=grantee,
        issuing_account=parse_caller(made_by.counterexample.principal).account,
        ec_subset=tuple(ec.items()) or None,
    )
    new_key = replace(key, grants=(*key.grants, grant))
    return replace(
        world, keys=tuple(new_key if k.arn == key.arn else k for k in world.keys)
    ), new_key


def _via_grant(
    world: World, key: Key, query: Query, timeout: float, trusted: tuple[str, ...], depth: int = 0
) -> Answer | None:
    step = _grant_request(world, key, query, timeout, trusted)
    if step.verdict is Verdict.NO:
        return None
    if step.verdict is Verdict.UNKNOWN or step.counterexample is None:
        return Answer(Verdict.UNKNOWN, reason=f"whether someone can create grants: {step.reason}")
    target = _target(query)
    action = query_actions(query)[0]
    op = action.split(":", 1)[1]
    if target is None:
        return Answer(
            Verdict.UNKNOWN, reason="grants can be created; the question's caller is a pattern"
        )
    ops = QueryCond("kms:GrantOperations", CondOp.EQ, op)
    aimed = _grant_request(
        world,
        key,
        query,
        timeout,
        trusted,
        ops,
        QueryCond("kms:GranteePrincipal", CondOp.EQ, target),
    )
    if aimed.verdict is not Verdict.YES or aimed.counterexample is None:
        # the conditions may pin the grantee: let the solver choose one the question covers
        free = _grant_request(
            world, key, query, timeout, trusted, ops, QueryCond("kms:GranteePrincipal", CondOp.HAS)
        )
        chosen = (
            (free.counterexample.context.get("kms:GranteePrincipal") or (None,))[0]
            if free.counterexample
            else None
        )
        if free.verdict is not Verdict.YES or chosen is None or not _covered(query, chosen):
            relayed = (
                _relay(world, key, query, timeout, trusted, depth, op)
                if depth < MAX_RELAYS
                else None
            )
            if relayed is not None:
                return relayed
            return Answer(
                Verdict.UNKNOWN,
                reason=f"{step.counterexample.principal} can create grants, but no chain of up to"
                f" {MAX_RELAYS + 1} grants found reaches a caller the question covers",
            )
        aimed, target = free, chosen
    assert aimed.counterexample is not None
    ec = aimed.counterexample.context.encryption_context()
    after, key = _with_grant(world, key, aimed, "g-1", (op,), target)
    final_req = Request(
        _as_caller(target),
        action,
        key=key.arn,
        context=Context.of({f"kms:EncryptionContext:{k}": v for k, v in ec.items()}),
    )
    try:
        final_req = complete_request(after, final_req)
    except InputError:
        return Answer(Verdict.UNKNOWN, reason="the grant's replay failed")
    if not evaluate(after, final_req).allowed:
        return Answer(
            Verdict.UNKNOWN,
            reason="a grant can be created, but its replay did not allow the request",
        )
    params = {"GranteePrincipal": target, "Operations": [op], "GrantId": "g-1"}
    trace = [_step(aimed.counterexample, params)]
    return Answer(
        Verdict.YES,
        counterexample=final_req,
        trace=trace,
        reason=f"grant g-1: {op} for {target}, created by {aimed.counterexample.principal}",
    )


def _outside_assumers(ident: Identity, account: str) -> list[str]:
    """Principals of other accounts a role's trust policy lets assume it (conditions,
    such as an ExternalId, are the partner's to meet)."""
    from kmsprove.catalog import action_matches

    out = []
    for st in ident.trust_policy.statements if ident.trust_policy else ():
        if st.effect.value != "Allow" or not any(
            action_matches(p, "sts:AssumeRole") for p in st.action or ()
        ):
            continue
        for p in st.principal or ():
            if p.is_wildcard:
                out.append(f"arn:aws:iam::{FRESH_TARGET_ACCOUNT}:root")
            elif p.kind == "AWS" and parse_caller(p.value).account not in (account, None):
                out.append(p.value)
    return out


def _via_assume_role(
    world: World, key: Key, query: Query, timeout: float, trusted: tuple[str, ...]
) -> Answer | None:
    """A role an outsider may assume acts for that outsider (sts:AssumeRole)."""
    for acct in world.accounts.values():
        for ident in acct.principals.values():
            assumers = _outside_assumers(ident, acct.id)
            if assumers and query.who.kind in (WhoKind.PRINCIPAL, WhoKind.SERVICE):
                return Answer(
                    Verdict.UNKNOWN,
                    reason=f"role `{ident.arn}` can be assumed from another account;"
                    " acting through it is not explored for a single principal",
                )
            outsiders = [o for o in assumers if _covered(query, o)]
            if not outsiders or ident.arn in trusted:
                continue
            as_role = replace(query, who=Who(WhoKind.PRINCIPAL, pattern=ident.arn), ever=False)
            today = solve_today(world, as_role, key, timeout)
            if today.verdict is Verdict.UNKNOWN:
                return Answer(
                    Verdict.UNKNOWN, reason=f"whether role `{ident.arn}` can do it: {today.reason}"
                )
            if today.verdict is Verdict.YES and today.counterexample is not None:
                where = ident.trust_policy.pos if ident.trust_policy else None
                step = {
                    "principal": outsiders[0],
                    "action": "sts:AssumeRole",
                    "key": None,
                    "context": {},
                    "parameters": {
                        "RoleArn": ident.arn,
                        "note": f"its trust policy ({where}) lets {outsiders[0]} assume it",
                    },
                }
                return Answer(
                    Verdict.YES,
                    counterexample=today.counterexample,
                    decision=today.decision,
                    trace=[step],
                    reason=f"{outsiders[0]} assumes `{ident.arn}`, which {today.reason}",
                )
    return None


def _covered(query: Query, principal: str) -> bool:
    """Whether the question is about this (outside) principal."""
    who = query.who
    acct = parse_caller(principal).account
    if who.kind in (WhoKind.ANYONE, WhoKind.ANY_PRINCIPAL, WhoKind.OUTSIDE_ORG):
        return True
    if who.kind is WhoKind.OUTSIDE_ACCOUNTS:
        return acct not in who.accounts
    if who.kind is WhoKind.IN_ACCOUNTS:
        return acct in who.accounts
    return False


def _relay(
    world: World,
    key: Key,
    query: Query,
    timeout: float,
    trusted: tuple[str, ...],
    depth: int,
    op: str,
) -> Answer | None:
    """A grant that carries CreateGrant to some grantee, who may go on granting (R4.6)."""
    relay = _grant_request(
        world,
        key,
        query,
        timeout,
        trusted,
        QueryCond("kms:GrantOperations", CondOp.EQ, "CreateGrant"),
        QueryCond("kms:GrantOperations", CondOp.EQ, op),
        QueryCond("kms:GranteePrincipal", CondOp.HAS),
    )
    if relay.verdict is not Verdict.YES or relay.counterexample is None:
        return None
    grantee = (relay.counterexample.context.get("kms:GranteePrincipal") or ("",))[0]
    if not grantee.startswith("arn:") or grantee in trusted:
        return None
    grant_id = f"g-relay-{depth + 1}"
    after, new_key = _with_grant(world, key, relay, grant_id, ("CreateGrant", op), grantee)
    rest = _via_grant(after, new_key, query, timeout, trusted, depth + 1)
    if rest is None or rest.verdict is not Verdict.YES:
        return None
    params = {"GranteePrincipal": grantee, "Operations": ["CreateGrant", op], "GrantId": grant_id}
    rest.trace = [_step(relay.counterexample, params), *rest.trace]
    rest.reason = f"a chain of grants: {grant_id} to {grantee}, then {rest.reason}"
    return rest


def _unexplored(world: World, key: Key) -> str | None:
    """Steps detected but not explored: IAM writes in complete delegating accounts,
    roles assumable from another account, ReplicateKey on a multi-Region key."""
    # accounts whose IAM policies matter: those the key policy delegates to, and those of
    # principals it names (a cross-account caller named directly still needs its IAM, R1.7)
    delegating = {
        p.value.split(":")[4]
        for pol in key.policies
        for st in pol.statements
        if st.effect.value == "Allow"
        for p in (st.principal or ())
        if p.kind == "AWS" and p.value.count(":") >= 5
    }
    for acct_id in sorted(delegating):
        acct = world.account(acct_id)
        if not acct.complete:
            continue
        for ident in acct.principals.values():
            if _can_write_iam(ident):
                return f"`{ident.arn}` may write IAM policies in account {acct_id}, which the key policy delegates to"
    if key.multi_region:
        return "a multi-Region key may be replicated with a policy the caller writes (ReplicateKey)"
    return None


def _relabelling(
    world: World, key: Key, query: Query, timeout: float, trusted: tuple[str, ...]
) -> str | None:
    """Tags and aliases are steps too when a condition reads them (ABAC): retagging or
    re-aliasing the key could satisfy it. Detected, not explored."""
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
        step = solve_today(
            world, Query(Who(WhoKind.ANYONE), actions, target=query.target), key, timeout, trusted
        )
        if step.verdict is not Verdict.NO:
            return f"a condition reads `{needle.rstrip('/')}` and an untrusted principal may change it ({'/'.join(actions)})"
    return None


def _can_write_iam(ident: Identity) -> bool:
    from kmsprove.catalog import action_matches

    return any(
        st.effect.value == "Allow"
        and st.action is not None
        and any(action_matches(p, a) for p in st.action for a in IAM_WRITES)
        for pol in ident.policies
        for st in pol.statements
    )


def ask_ever(
    world: World, query: Query, key: Key, timeout: float, trusted: tuple[str, ...]
) -> Answer:
    """Today's answer in the widened world, or a trace of steps, or a proof that no step helps."""
    today_query = replace(query, ever=False)
    wide, widened = widen_open_accounts(world)
    today = solve_today(wide, today_query, key, timeout)
    base = {"trusted": list(trusted), "not_modelled": list(NOT_MODELLED)}
    if today.verdict is not Verdict.NO:
        if today.verdict is Verdict.YES and today.counterexample is not None:
            caller = world.identity(today.counterexample.principal)
            if caller is not None and caller.arn in widened:
                today.trace = [
                    {
                        "principal": f"arn:aws:iam::{caller.account}:root",
                        "action": "iam:PutRolePolicy"
                        if caller.kind == "role"
                        else "iam:PutUserPolicy",
                        "key": None,
                        "parameters": {
                            "target": caller.arn,
                            "note": "its open account's administrators write it an identity policy",
                        },
                        "context": {},
                    }
                ]
        return replace(today, **base)
    for finder in (_via_assume_role, _via_key_policy, _via_grant):
        found = finder(wide, key, query, timeout, trusted)
        if found is not None:
            found.open_accounts = today.open_accounts
            return replace(found, **base)
    blocker = _unexplored(wide, key) or _relabelling(wide, key, query, timeout, trusted)
    if blocker is not None:
        return Answer(
            Verdict.UNKNOWN,
            reason=f"not modelled: {blocker}",
            open_accounts=today.open_accounts,
            **base,
        )
    return Answer(
        Verdict.NO,
        open_accounts=today.open_accounts,
        reason="no untrusted principal can change the key policy, create grants, or write IAM that "
        "matters, so no step changes today's answer: no",
        **base,
    )


__all__ = ["ask_ever"]
