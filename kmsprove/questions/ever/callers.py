"""Who the question is about: callers it covers, grantees that reach them, and the
roles through which a covered principal acts (sts:AssumeRole)."""

from __future__ import annotations

from dataclasses import dataclass

from kmsprove.arn import parse_caller
from kmsprove.ast import CondOp, Query, QueryCond, WhoKind
from kmsprove.catalog import action_matches
from kmsprove.questions.requests import as_caller, covered
from kmsprove.world import Identity, World

FRESH_ACCOUNT = "999999999999"  # an account no document names: stands for any outsider
GRANTEE = "kms:GranteePrincipal"


def fresh_root(world: World, avoid: tuple[str, ...] = ()) -> str:
    acct = int(FRESH_ACCOUNT)
    while str(acct) in world.accounts or str(acct) in avoid:
        acct -= 1
    return f"arn:aws:iam::{acct}:root"


def representative(world: World, query: Query) -> str | None:
    """A caller the question covers that steps may let in, or None for a pattern."""
    who = query.who
    match who.kind:
        case (
            WhoKind.ANYONE | WhoKind.ANY_PRINCIPAL | WhoKind.OUTSIDE_ACCOUNTS | WhoKind.OUTSIDE_ORG
        ):
            return fresh_root(world, who.accounts)
        case WhoKind.IN_ACCOUNTS:
            return f"arn:aws:iam::{who.accounts[0]}:root" if who.accounts else None
        case WhoKind.PRINCIPAL | WhoKind.SERVICE:
            p = who.pattern or ""
            return None if "*" in p or "?" in p else p
    return None


def _outside(prefixes: list[str], accounts: tuple[str, ...]) -> list[tuple[QueryCond, ...]]:
    return [
        (
            QueryCond(GRANTEE, CondOp.LIKE, f"{pre}*"),
            *[QueryCond(GRANTEE, CondOp.NOT_LIKE, f"{pre}{a}:*") for a in accounts],
        )
        for pre in prefixes
    ]


ARN_PREFIXES = ["arn:aws:iam::", "arn:aws:sts::"]


def grantee_classes(world: World, query: Query) -> list[tuple[QueryCond, ...]]:
    """Conditions on `kms:GranteePrincipal`, one tuple per alternative, that together
    take in every grantee whose grant could cover a caller the question asks about
    (R4.3: a role covers its sessions, an account ARN its identities). Wider than
    needed is safe: a "yes" is replayed, and only an empty class gives "no"."""
    who = query.who
    match who.kind:
        case WhoKind.ANYONE | WhoKind.ANY_PRINCIPAL:
            return [(QueryCond(GRANTEE, CondOp.HAS),)]
        case WhoKind.OUTSIDE_ACCOUNTS:
            return _outside(ARN_PREFIXES, who.accounts)
        case WhoKind.OUTSIDE_ORG:
            inside = tuple(a.id for a in world.accounts.values() if a.organization == who.org)
            return _outside(ARN_PREFIXES, inside)
        case WhoKind.IN_ACCOUNTS:
            return [
                (QueryCond(GRANTEE, CondOp.LIKE, f"{pre}{a}:*"),)
                for a in who.accounts
                for pre in ARN_PREFIXES
            ]
        case WhoKind.SERVICE:
            return [(QueryCond(GRANTEE, CondOp.EQ, who.pattern or ""),)]
        case WhoKind.PRINCIPAL:
            pattern = who.pattern or ""
            out: list[tuple[QueryCond, ...]] = [(QueryCond(GRANTEE, CondOp.LIKE, pattern),)]
            c = parse_caller(pattern)
            if c.account and "*" not in c.account and "?" not in c.account:
                out.append((QueryCond(GRANTEE, CondOp.EQ, f"arn:aws:iam::{c.account}:root"),))
                if c.kind == "assumed-role":
                    role = f"arn:aws:iam::{c.account}:role/"
                    out.append((QueryCond(GRANTEE, CondOp.LIKE, f"{role}{c.name}"),))
                    out.append((QueryCond(GRANTEE, CondOp.LIKE, f"{role}*/{c.name}"),))
            elif c.kind == "assumed-role" or c.account is None:
                out.append((QueryCond(GRANTEE, CondOp.LIKE, "arn:aws:iam::*"),))
            return out
    return []


@dataclass(frozen=True)
class Assumable:
    """A role a covered principal may assume, so the role acts for it."""

    role: Identity
    by: str  # the covered principal that assumes it
    why: str  # the trust policy statement, or that it was not given


def _admits(world: World, query: Query, ident: Identity) -> tuple[str, str] | None:
    trust = ident.trust_policy
    if trust is None:
        who = representative(world, query)
        if who is None or not covered(world, query, who):
            return None
        return (
            who,
            "its trust policy is not given: assumed to admit anyone its administrators choose",
        )
    for st in trust.statements:
        if st.effect.value != "Allow" or not any(
            action_matches(p, "sts:AssumeRole") for p in st.action or ()
        ):
            continue
        for p in st.principal or ():
            if p.is_wildcard:
                cand = representative(world, query)
            elif p.kind == "AWS":
                cand = p.value if ":" in p.value else f"arn:aws:iam::{p.value}:root"
                if not covered(world, query, cand) and query.who.kind is WhoKind.PRINCIPAL:
                    # an account's root admits the principal asked about, if it is there
                    target = query.who.pattern or ""
                    if parse_caller(cand).kind == "root" and (
                        parse_caller(target).account == parse_caller(cand).account
                    ):
                        cand = target
            elif p.kind == "Service":
                cand = p.value
            else:
                continue
            if cand and covered(world, query, cand) and cand != ident.arn:
                return cand, f"its trust policy ({st.pos}) admits {p.value}"
    return None


def assumable_roles(world: World, query: Query) -> list[Assumable]:
    """Roles the question does not cover that a covered principal may assume
    (trust conditions such as an ExternalId are the assumer's to meet)."""
    out = []
    for acct in world.accounts.values():
        for ident in acct.principals.values():
            if ident.kind != "role" or covered(world, query, as_caller(ident.arn)):
                continue
            found = _admits(world, query, ident)
            if found is not None:
                out.append(Assumable(ident, *found))
    return out


def refuses(world: World, role_arn: str, by: str) -> str | None:
    """Why the role's trust policy (in this world) does not admit `by`, if it does not.
    A trust policy not given admits anyone (DESIGN.md); conditions are the caller's to meet."""
    role = world.identity(role_arn)
    if role is None:
        return f"no role `{role_arn}`"
    if role.trust_policy is None:
        return None
    account = parse_caller(by).account
    for st in role.trust_policy.statements:
        if st.effect.value != "Allow" or not any(
            action_matches(p, "sts:AssumeRole") for p in st.action or ()
        ):
            continue
        for p in st.principal or ():
            value = p.value if ":" in p.value or p.kind != "AWS" else f"arn:aws:iam::{p.value}:root"
            if p.is_wildcard or value == by or value == f"arn:aws:iam::{account}:root":
                return None
    return f"the trust policy of `{role_arn}` does not admit {by}"
