"""IAM steps: what can be written inside an account, computed to a fixpoint.

- Open accounts: DESIGN.md lets their administrators give any principal any
  identity policy, so every principal the world names there gets an allow-all
  policy and loses its boundary (an *assumed* step: there is no request to check).
  Their unnamed principals are already arbitrary in the encoder.
- Complete accounts: the evaluator decides, target by target, whether an untrusted
  principal (the root user unless trusted, or anyone an identity policy lets write
  IAM) may `iam:Put*Policy`/`iam:Attach*Policy` (target gets an allow-all policy),
  remove or replace its boundary, rewrite a role's trust policy (the role becomes
  assumable by anyone), or create credentials for a user (the writer acts as it,
  so a trusted user stops being trusted). A target given an allow-all policy may
  itself write for others, so the rounds repeat until nothing changes.

Every change only adds permissions, so the world after the fixpoint allows at
least what any sequence of these writes allows (the basis of a sound "no").
Writes through groups and managed-policy versions reach principals the world does
not tie to a group or policy ARN: they are detected and make a "no" unknown when
some principal of an account that matters could still gain from them.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from kmsprove.ast import Policy, PolicyKind
from kmsprove.catalog import action_matches
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.questions.ever.trace import (
    ALLOW_ALL_DOC,
    Step,
    allow_all,
    policy,
    step,
    with_identities,
    with_identity,
)
from kmsprove.questions.requests import as_caller
from kmsprove.request import Request
from kmsprove.world import Account, Identity, Key, World

WIDEN = {
    "user": ("iam:PutUserPolicy", "iam:AttachUserPolicy"),
    "role": ("iam:PutRolePolicy", "iam:AttachRolePolicy"),
}
UNBOUND = {
    "user": ("iam:DeleteUserPermissionsBoundary", "iam:PutUserPermissionsBoundary"),
    "role": ("iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"),
}
TRUST = ("iam:UpdateAssumeRolePolicy",)
CREDENTIALS = ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile")
INDIRECT = (
    "iam:PutGroupPolicy",
    "iam:AttachGroupPolicy",
    "iam:AddUserToGroup",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
ALL_WRITES = (*{a for v in WIDEN.values() for a in v}, *TRUST, *CREDENTIALS, *INDIRECT)
ALL_WRITES = (*ALL_WRITES, *{a for v in UNBOUND.values() for a in v})

NEW_ROLE = "created-by-the-step"
ADMIN_NAME = "<allow-all identity policy written by the step>"
ANYONE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


@dataclass
class IamReach:
    """The world after every IAM write untrusted principals can make, and how."""

    world: World
    steps: dict[str, list[Step]] = field(default_factory=dict)  # principal -> its changes
    trusted: tuple[str, ...] = ()  # the trusted principals no untrusted one can act as
    blockers: list[str] = field(default_factory=list)  # indirect writes that may matter
    lost: dict[str, list[Step]] = field(default_factory=dict)  # trusted -> how it was taken

    def takeovers(self, principals: list[str]) -> list[Step]:
        """The writes by which untrusted principals act as once-trusted ones."""
        out: list[Step] = []
        for p in principals:
            ident = self.world.identity(p)
            out += [s for s in self.lost.get(ident.arn if ident else p, []) if s not in out]
        return out

    def steps_for(self, principals: list[str]) -> list[Step]:
        out: list[Step] = []
        for p in principals:
            ident = self.world.identity(p)
            for s in self.steps.get(ident.arn if ident else p, []):
                if s not in out:
                    out.append(s)
        return out

    def all_steps(self) -> list[Step]:
        out: list[Step] = []
        for chain in self.steps.values():
            out += [s for s in chain if s not in out]
        return out


def _is_trusted(arn: str, trusted: tuple[str, ...]) -> bool:
    return arn in trusted


def _may_allow(policies: tuple[Policy, ...], actions: tuple[str, ...]) -> bool:
    """Whether an Allow statement could cover one of the actions (resources and
    conditions aside: wider than the evaluator, never narrower)."""
    return any(
        st.effect.value == "Allow"
        and (
            (
                st.action is not None
                and any(action_matches(p, a) for p in st.action for a in actions)
            )
            or st.not_action is not None
        )
        for pol in policies
        for st in pol.statements
    )


def _mentions_iam_write(ident: Identity) -> bool:
    return _may_allow(ident.policies, ALL_WRITES)


def _widened(ident: Identity) -> bool:
    return ident.boundary is None and any(p.name == ADMIN_NAME for p in ident.policies)


def _open_accounts(world: World, key: Key, reach: IamReach, admin: Policy, anyone: Policy) -> World:
    """Open accounts: named principals get any policy, and a role anyone may assume
    may exist (DESIGN.md: principals we were not told about, with any policy)."""
    named = _relevant_accounts(key) or set()
    ids = {a.id for a in world.accounts.values() if not a.complete}
    ids |= {a for a in named if a.isdigit() and not world.account(a).complete}
    for acct_id in sorted(ids):
        if acct_id not in world.accounts:
            accounts = {**world.accounts, acct_id: Account(acct_id)}
            world = replace(world, accounts=types.MappingProxyType(accounts))
        root = f"arn:aws:iam::{acct_id}:root"
        for ident in world.accounts[acct_id].principals.values():
            changed = replace(ident, policies=(*ident.policies, admin), boundary=None)
            world = with_identity(world, changed)
            reach.steps[ident.arn] = [
                step(
                    Request(root, WIDEN.get(ident.kind, WIDEN["user"])[0], resource=ident.arn),
                    partial(with_identity, ident=changed),
                    f"{ident.arn} gets an allow-all identity policy (its account is open:"
                    " its administrators may write one)",
                    {"PolicyDocument": ALLOW_ALL_DOC, "PermissionsBoundary": None},
                    assumed=True,
                )
            ]
        new_role = f"arn:aws:iam::{acct_id}:role/{NEW_ROLE}"
        created = Identity(new_role, policies=(admin,), trust_policy=anyone)
        world = with_identity(world, created)
        reach.steps[new_role] = [
            step(
                Request(root, "iam:CreateRole", resource=new_role),
                partial(_with_account, ident=created),
                f"{new_role} is created with an allow-all policy and a trust policy that admits"
                " anyone (its account is open: its administrators may create one)",
                {"AssumeRolePolicyDocument": ANYONE_TRUST, "PolicyDocument": ALLOW_ALL_DOC},
                assumed=True,
            )
        ]
    return world


def _with_account(world: World, ident: Identity) -> World:
    if ident.account not in world.accounts:
        accounts = {**world.accounts, ident.account: Account(ident.account)}
        world = replace(world, accounts=types.MappingProxyType(accounts))
    return with_identity(world, ident)


def _apply(world: World, arn: str, edit: Callable[[Identity], Identity]) -> World:
    ident = world.identity(arn)
    return world if ident is None else with_identity(world, edit(ident))


def _writers(world: World, acct_id: str, trusted: tuple[str, ...]) -> list[str]:
    acct = world.accounts[acct_id]
    root = f"arn:aws:iam::{acct_id}:root"
    out = [] if _is_trusted(root, trusted) else [root]
    out += [
        as_caller(i.arn)
        for i in acct.principals.values()
        if i.kind in ("user", "role") and not _is_trusted(i.arn, trusted) and _mentions_iam_write(i)
    ]
    return out


def _allowed(world: World, caller: str, action: str, resource: str) -> bool:
    req = complete_request(world, Request(caller, action, resource=resource))
    return evaluate(world, req).allowed


def _first_writer(
    world: World, writers: list[str], actions: tuple[str, ...], target: str
) -> tuple[str, str] | None:
    for w in writers:
        for a in actions:
            if _allowed(world, w, a, target):
                return w, a
    return None


Edit = tuple[tuple[str, ...], str, Callable[[Identity], Identity], dict[str, Any]]


def _edits(ident: Identity, admin: Policy, anyone: Policy, trusted: tuple[str, ...]) -> list[Edit]:
    """The writes that would still change `ident`: (actions that make it, what it
    changes, the change)."""
    kind = ident.kind
    out: list[Edit] = []
    if not any(p.name == ADMIN_NAME for p in ident.policies):
        out.append(
            (
                WIDEN[kind],
                "gets an allow-all identity policy",
                lambda i: replace(i, policies=(*i.policies, admin)),
                {"PolicyDocument": ALLOW_ALL_DOC},
            )
        )
    if ident.boundary is not None:
        out.append(
            (
                UNBOUND[kind],
                "loses its permissions boundary",
                lambda i: replace(i, boundary=None),
                {"PermissionsBoundary": None},
            )
        )
    if kind == "role" and (ident.trust_policy is None or ident.trust_policy.name != anyone.name):
        out.append(
            (
                TRUST,
                "gets a trust policy that admits anyone",
                lambda i: replace(i, trust_policy=anyone),
                {"PolicyDocument": ANYONE_TRUST},
            )
        )
    if kind == "user" and _is_trusted(ident.arn, trusted):
        out.append((CREDENTIALS, "has credentials the writer now holds", lambda i: i, {}))
    return out


def _record(reach: IamReach, target: str, writer: str, made: Step) -> None:
    mine = reach.steps.get(target, [])
    theirs = [s for s in reach.steps_for([writer]) if s not in mine]
    reach.steps[target] = [*mine, *theirs, made]
    if made.request.action in (*TRUST, *CREDENTIALS) and _is_trusted(target, reach.trusted):
        reach.trusted = tuple(t for t in reach.trusted if t != target)
        reach.lost[target] = [*theirs, made]


def _round(world: World, acct_id: str, reach: IamReach, admin: Policy, anyone: Policy) -> World:
    """One pass over an account: every write its untrusted writers can make today.
    Writers are judged on the world at the start of the pass; the next pass sees
    what this one changed."""
    writers = _writers(world, acct_id, reach.trusted)
    if not writers:
        return world
    updated: dict[str, Identity] = {}
    new_role = f"arn:aws:iam::{acct_id}:role/{NEW_ROLE}"
    if new_role not in world.accounts[acct_id].principals:
        found = _first_writer(world, writers, ("iam:CreateRole",), new_role)
        if found is not None:
            created = Identity(new_role, trust_policy=anyone)
            updated[new_role] = created
            made = step(
                Request(found[0], "iam:CreateRole", resource=new_role),
                partial(with_identity, ident=created),
                f"{new_role} is created with a trust policy that admits anyone",
                {"AssumeRolePolicyDocument": ANYONE_TRUST},
            )
            _record(reach, new_role, found[0], made)
    for ident in world.accounts[acct_id].principals.values():
        if ident.kind not in WIDEN:
            continue
        for actions, what, edit, params in _edits(ident, admin, anyone, reach.trusted):
            found = _first_writer(world, writers, actions, ident.arn)
            if found is None:
                continue
            updated[ident.arn] = edit(updated.get(ident.arn, ident))
            made = step(
                Request(found[0], found[1], resource=ident.arn),
                partial(_apply, arn=ident.arn, edit=edit),
                f"{ident.arn} {what}",
                params,
            )
            _record(reach, ident.arn, found[0], made)
    return with_identities(world, acct_id, updated) if updated else world


def iam_closure(world: World, key: Key, trusted: tuple[str, ...]) -> IamReach:
    reach = IamReach(world, trusted=trusted)
    admin = allow_all(ADMIN_NAME)
    anyone = policy(ANYONE_TRUST, PolicyKind.TRUST, "<trust policy written by the step>")
    world = _open_accounts(world, key, reach, admin, anyone)
    complete = [a.id for a in world.accounts.values() if a.complete]
    while True:
        before = world
        for acct_id in complete:
            world = _round(world, acct_id, reach, admin, anyone)
        if world is before:
            break
    reach.world = world
    reach.blockers = _indirect(world, key, reach.trusted)
    return reach


def _relevant_accounts(key: Key) -> set[str] | None:
    """Accounts whose IAM the key policy lets matter; None when any may (a wildcard)."""
    out = set()
    for pol in key.policies:
        for st in pol.statements:
            if st.effect.value != "Allow":
                continue
            for p in st.principal or ():
                if p.is_wildcard or p.kind != "AWS":
                    if p.is_wildcard:
                        return None
                    continue
                out.add(p.value.split(":")[4] if p.value.count(":") >= 5 else p.value)
    return out


def _indirect(world: World, key: Key, trusted: tuple[str, ...]) -> list[str]:
    relevant = _relevant_accounts(key)
    out = []
    for acct in world.accounts.values():
        if not acct.complete or (relevant is not None and acct.id not in relevant):
            continue
        gains = [i for i in acct.principals.values() if not _widened(i)]
        if not gains:
            continue
        for ident in acct.principals.values():
            if _is_trusted(ident.arn, trusted):
                continue
            if _may_allow(ident.policies, INDIRECT) and (
                ident.boundary is None or _may_allow((ident.boundary,), INDIRECT)
            ):
                out.append(
                    f"`{ident.arn}` may write group or managed policies in account {acct.id},"
                    f" which could reach `{gains[0].arn}`"
                )
                break
    return out


__all__ = ["IamReach", "iam_closure"]
