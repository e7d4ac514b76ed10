"""What a question can reach, decided without a formula (and without importing z3).

The static part of the encoder: which universe entries a question's `who` and `where`
can ever cover (`keeps`), which grants and statements of a key its actions reach
(`key_for`: a shared key's grants to thousands of accounts are cut here), which entries
a policy principal or a grantee could cover at all (`candidates`), and whether anything
left covers any entry (`maybe_covered`, the first syntactic "no"). A question that a
concrete request or this module settles never builds a formula, and a `kmsprove query`
that ends here never imports z3 (start-up, `tests/cli/test_startup.py`).

A key that many teams share has tens of thousands of grants and a key policy full of
statements for other accounts; a question names a few actions. A grant whose
operations include none of them, or a key-policy statement whose `Action` matches none
of them, can neither allow nor deny the request (R1.4, R4.2), so it is dropped here
and with it every principal and account only it mentions: those callers fall in the
classes of unmentioned principals (`kmsprove.encode.universe`), which is what they are
for this question. AWS's Block Public Access analysis decides most of a policy the
same way, syntactically, before its SMT call. What stays: every grant when RetireGrant
is asked (any grant's retiring principal may retire it, R4.7), every statement of every
policy other than the key's (identity policies, SCPs, bucket policies), which the
universe's other classes read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace

from kmsprove.arn import parse_caller, unique_id_kind
from kmsprove.ast import Condition, CondOp, Effect, Policy, Query, Statement, WhoKind
from kmsprove.catalog import action_matches, is_multi_valued
from kmsprove.encode.universe import FRESH, Entry, Universe
from kmsprove.world import Key, World

MAX_SET_BOUND = 8  # values of a multi-valued key the solver models (`kmsprove.solve.bounds`)

# keys whose value is the caller's account for an IAM caller and absent for a service
# caller (R5.3, `kmsprove.encode.derive.entry_facts`)
CALLER_ACCOUNT_KEYS = ("aws:principalaccount", "kms:calleraccount")


def u_accounts(e: Entry, u: Universe) -> tuple[Entry, str | None]:
    return e, (None if e.account is None or e.account == FRESH else u.accounts[e.account])


def _outside_org(world: World, query: Query, e: Entry, u: Universe) -> bool:
    """`outside org O`: a principal of an account the world puts in O carries
    aws:PrincipalOrgID = O (R5.3), so it is never outside; its entries can go."""
    if query.who.kind is not WhoKind.OUTSIDE_ORG or e.kind == "service":
        return True
    _, acct = u_accounts(e, u)
    return acct is None or world.account(acct).organization != query.who.org


def may_match(query: Query, entry_account: tuple[Entry, str | None]) -> bool:
    """Whether an entry could satisfy the query's `who` at all (a static pre-check)."""
    e, acct = entry_account
    who = query.who
    if e.kind == "service":
        return (
            not who.iam_only
            and who.kind not in (WhoKind.PRINCIPAL,)
            and (who.kind is not WhoKind.SERVICE or e.name in (None, who.pattern))
        )
    if who.kind is WhoKind.SERVICE:
        return False
    if who.kind is WhoKind.OUTSIDE_ACCOUNTS:
        return acct not in who.accounts
    if who.kind is WhoKind.IN_ACCOUNTS:
        return acct in who.accounts  # the fresh account differs from every account named
    if who.kind is WhoKind.PRINCIPAL:
        return _may_be(who.pattern or "", e, acct)
    return True


def _may_be(pattern: str, e: Entry, acct: str | None) -> bool:
    """Whether entry `e` may be the one principal a pattern without wildcards names
    (the query's account is named, so the fresh account is not it)."""
    if "*" in pattern or "?" in pattern:
        return True
    c = parse_caller(pattern)
    if c.account is None or c.kind not in ("user", "role", "assumed-role", "root"):
        return True
    if acct != c.account:
        return False
    if c.kind == "root":
        return e.kind == "root"
    if c.kind == "user" and e.kind == "federated":
        return True  # its federation sessions may carry the user's ARN
    want = "user" if c.kind == "user" else "session"
    if e.name is None:
        return e.kind == want
    return e.kind == want and e.name.rsplit("/", 1)[-1] == c.name.rsplit("/", 1)[-1]


def is_trusted(e: Entry, u: Universe, trusted: tuple[str, ...]) -> bool:
    """A trusted ARN: `arn:aws:iam::A:root` is A's root user; a role covers its sessions."""
    if not trusted or e.kind == "service":
        return e.kind == "service" and e.name in trusted
    acct = None if e.account is None or e.account == FRESH else u.accounts[e.account]
    for t in trusted:
        c = parse_caller(t)
        if c.account != acct:
            continue
        if c.kind == "root" and e.kind == "root":
            return True
        if c.kind == "role" and e.kind == "session" and e.name == c.name:
            return True
        if c.kind == "user" and e.kind == "user" and e.name == c.name:
            return True
    return False


def _where_may_hold(query: Query, entry_account: tuple[Entry, str | None]) -> bool:
    """Whether the question's `where` on the caller's account can hold for an entry:
    `aws:PrincipalAccount != A` never does for A's principals, `== A` never for other
    accounts' or a service (the fresh account may be A, unless A is mentioned)."""
    e, acct = entry_account
    for c in query.conditions:
        if c.key.lower() not in CALLER_ACCOUNT_KEYS or c.value is None:
            continue
        if c.op is CondOp.EQ and (e.kind == "service" or acct not in (None, c.value)):
            return False
        if c.op is CondOp.NE and e.kind != "service" and acct == c.value:
            return False
    return True


def keeps(world: World, query: Query, u: Universe) -> Callable[[Entry], bool]:
    """The entries the question's `who` and its `where` on the caller's account may
    cover (the others can never match)."""

    def keep(e: Entry) -> bool:
        ea = u_accounts(e, u)
        return (
            may_match(query, ea) and _outside_org(world, query, e, u) and _where_may_hold(query, ea)
        )

    return keep


def account_of(u: Universe, e: Entry) -> str | None:
    return None if e.account is None or e.account == FRESH else u.accounts[e.account]


def candidates(u: Universe, kind: str, value: str) -> list[Entry]:
    """The entries a principal value could cover: those of its account (or the services)."""
    index = u.by_account
    if not index:
        for e in u.entries:
            key = "service" if e.kind == "service" else account_of(u, e)
            index.setdefault(key, []).append(e)
    if kind == "Service":
        return index.get("service", [])
    return index.get(parse_caller(value).account, [])


def named(u: Universe, account: str | None, kind: str | None, name: str | None) -> list[Entry]:
    """Entries of one account, kind and name (`name` None: every entry of the kind)."""
    index = u.by_name
    if not index:
        for e in u.entries:
            index.setdefault((account_of(u, e), e.kind, e.name), []).append(e)
            index.setdefault((account_of(u, e), e.kind, None), []).append(e)
    return index.get((account, kind, name), [])


def may_be_unresolved(unique_id: str, e: Entry) -> bool:
    """Whether a class may hold the principal behind a unique id the world did not
    resolve (its account is unknown): a user's id (`AIDA...`) a user, a role's id
    (`AROA...`) a role session; never a class whose own unique id the world knows.
    Twin: `kmsprove.evaluate.principals.may_be_unresolved`."""
    if e.identity is not None and e.identity.unique_id is not None:
        return False
    return e.kind == ("user" if unique_id_kind(unique_id) == "user" else "session")


def _requires(c: Condition) -> tuple[str, set[str]] | None:
    """(key, values) when the condition holds only if a single-valued key is present
    with one of `values`, compared exactly: StringEquals without IfExists, a set
    operator or a policy variable. (Bool is left out: `TRUE` is true, R6.)"""
    if c.if_exists or c.set_op is not None or c.base != "StringEquals":
        return None
    low = c.key.lower()
    if is_multi_valued(low) or any("${" in v for v in c.values):
        return None
    return low, set(c.values)


def _excluded(st: Statement, query: Query | None) -> bool:
    """An Allow statement whose conditions the question's callers or `where` can never
    meet: `aws:PrincipalOrgID` must be O and the question asks about callers outside O;
    the caller's account must be one the question leaves out; a key must have the one
    value the question's `where` rules out (`!=`) or be present where it says absent."""
    if query is None or st.effect is not Effect.ALLOW:
        return False
    who = query.who
    for c in st.conditions:
        need = _requires(c)
        if need is None:
            continue
        key, values = need
        outside_org = who.kind is WhoKind.OUTSIDE_ORG and values == {who.org}
        outside = who.kind is WhoKind.OUTSIDE_ACCOUNTS and values <= set(who.accounts)
        if (key == "aws:principalorgid" and outside_org) or (
            key in CALLER_ACCOUNT_KEYS and outside
        ):
            return True
        for q in query.conditions:
            if q.key.lower() == key and (
                q.op is CondOp.NOT_HAS or (q.op is CondOp.NE and values == {q.value})
            ):
                return True
    return False


def reaches(st: Statement, names: Collection[str]) -> bool:
    """Whether the statement's `Action` (or `NotAction`) covers one of the actions
    `names` (a statement without either is inert, R1.11). The encoder's `action_part`
    is false exactly when this is."""
    if st.action is not None:
        return any(action_matches(p, n) for n in names for p in st.action)
    if st.not_action is not None:
        return any(not any(action_matches(p, n) for p in st.not_action) for n in names)
    return False


def _policy(policy: Policy, names: Collection[str], query: Query | None) -> Policy:
    kept = tuple(st for st in policy.statements if reaches(st, names) and not _excluded(st, query))
    return policy if len(kept) == len(policy.statements) else replace(policy, statements=kept)


def key_for(key: Key, names: Collection[str], query: Query | None = None) -> Key:
    """`key` without the grants and key-policy statements none of the actions `names`
    reach (and without the Allow statements whose conditions `query` rules out,
    `_excluded`)."""
    grants = key.grants
    if "kms:RetireGrant" not in names:
        reach: dict[tuple[str, ...], bool] = {}  # a few operation lists among 50,000 grants
        for g in key.grants:
            if g.operations not in reach:
                reach[g.operations] = any(f"kms:{op}" in names for op in g.operations)
        grants = tuple(g for g in key.grants if reach[g.operations])
    policy = _policy(key.policy, names, query)
    ram = None if key.ram_policy is None else _policy(key.ram_policy, names, query)
    if len(grants) == len(key.grants) and policy is key.policy and ram is key.ram_policy:
        return key
    return replace(key, grants=grants, policy=policy, ram_policy=ram)


def world_for(
    world: World, key: Key, names: Collection[str], query: Query | None = None
) -> tuple[World, Key]:
    """The world with `key` cut down to what the actions `names` reach (`key_for`)."""
    cut = key_for(key, names, query)
    if cut is key:
        return world, key
    keys = tuple(cut if k is key else k for k in world.keys)
    return replace(world, keys=keys), cut


def maybe_covered(key: Key, u: Universe, names: Collection[str]) -> bool:
    """Whether some key-policy Allow statement or grant of `key` could cover an entry
    of `u` (False: no request of the actions `names` by those entries is allowed,
    R1.1, R1.4, R4.2). Coarser than the encoder's `may_allow`, which is asked when this
    is True: a principal covers only entries of its own account (`candidates`), a
    grantee only those of its account, a service grantee only that service's entry; a
    wildcard or a service shown as grantee may cover anyone. RetireGrant has routes of
    its own (R4.7): always True."""
    if "kms:RetireGrant" in names:
        return True
    for policy in key.policies:
        for st in policy.statements:
            if st.effect is not Effect.ALLOW or not st.principal:
                continue
            for p in st.principal:
                if p.is_wildcard or candidates(u, p.kind, p.value):
                    return True
    for g in key.grants:
        if g.grantee_service is not None:
            if any(e.name == g.grantee_service for e in candidates(u, "Service", "")):
                return True
        elif g.grantee is None or unique_id_kind(g.grantee) is not None:
            continue
        elif not g.grantee.startswith("arn:") or candidates(u, "AWS", g.grantee):
            return True
    return False
