"""The finite universe of principal classes a symbolic request chooses from.

Small-model argument (why these classes cover every real principal):
a policy can tell two callers apart only through (1) equality with an ARN it
names (Principal elements, grantees, retiring principals), (2) the caller's
account, its organization and the account's documents (SCPs, enabled
Regions), (3) the caller's identity documents (IAM policies, boundary, tags),
and (4) string tests on condition keys derived from the caller (aws:PrincipalArn,
aws:username...). So the universe holds:

- every principal the world or a policy names, with its known documents
  (a role stands for all its sessions; the session name stays symbolic);
- the root user of every account anything mentions;
- for every open account mentioned, and for one fresh account that nothing
  mentions (its id symbolic and different from all mentioned ones), a fresh
  user, a fresh role session and a fresh federated user whose names are
  symbolic and differ from every named one, with *any* identity policy (their
  administrators choose it), so IAM allows are free and tags are free;
- every service principal mentioned, plus a fresh one.

Any real principal falls in one class: it is named (then its documents are
known), or it is unnamed in some account, which is either mentioned (its
class is that account's fresh class) or not (the fresh account's class,
whose id ranges over every unmentioned id). Within a class, names are
symbolic, so (4) is decided by the solver over all names, not by a sample.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from kmsprove.arn import ACCOUNT_RE, is_service_role, parse_caller, unique_id_kind
from kmsprove.ast import Policy, Query, WhoKind
from kmsprove.world import Identity, Key, World

FRESH = -1  # the account index of the fresh account


@dataclass(frozen=True)
class Entry:
    """One principal class: concrete when `name` is set, else its names are symbolic."""

    index: int
    kind: str  # user | session | federated | root | service
    account: int | None  # index into Universe.accounts (FRESH for the fresh account); None: service
    name: str | None = None  # user name, role name, service name; None: fresh
    arn: str | None = None  # user ARN, role ARN (sessions), root ARN, service name
    identity: Identity | None = None  # known documents
    any_iam: bool = False  # unnamed principal of an open account: any identity policy
    path: str = "/"

    @property
    def fresh(self) -> bool:
        return self.name is None


@dataclass
class Universe:
    world: World
    key: Key | None
    accounts: list[str] = field(default_factory=list)  # known account ids; FRESH is the last class
    entries: list[Entry] = field(default_factory=list)
    federation: bool = False  # some policy can tell federated users apart
    # kms:ViaService values a policy or the query names, and Regions of the world: the
    # endpoints a witness may name beyond the real ones of specs/services.json
    endpoints: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    # lookup indexes over `entries`, built on first use (principals.candidates / named)
    by_account: dict[object, list[Entry]] = field(default_factory=dict)
    by_name: dict[object, list[Entry]] = field(default_factory=dict)
    by_kind: dict[tuple[str, int | None], list[str]] = field(default_factory=dict)

    def account_index(self, acct: str) -> int:
        return self.accounts.index(acct)

    def named_like(self, e: Entry) -> list[str]:
        """The names of the named entries of `e`'s kind in `e`'s account (a fresh
        entry's name differs from each, a fresh service's from every named service).
        Indexed once, over the universe as built: a part of it (`restrict`, `part`)
        keeps the names of the entries it left out, since a fresh class stands for the
        principals nobody named, whichever classes a question asks about."""
        return self.names_index().get((e.kind, e.account), [])

    def names_index(self) -> dict[tuple[str, int | None], list[str]]:
        index = self.by_kind
        if not index:
            for x in self.entries:
                if x.name:
                    index.setdefault((x.kind, x.account), []).append(x.name)
        return index

    def part(self, entries: list[Entry]) -> Universe:
        """The universe with only `entries` (their indexes kept): a question asked of
        each part in turn has the answer it has over the whole, since every formula
        of a class is under "the caller is that class"."""
        self.names_index()  # from the whole
        return replace(self, entries=list(entries), by_account={}, by_name={})

    def account_id(self, index: int) -> str | None:
        return None if index == FRESH else self.accounts[index]


def _policies(world: World) -> Iterable[Policy]:
    for k in world.keys:
        yield from k.policies
    for acct in world.accounts.values():
        yield from acct.scps
        yield from acct.rcps
        for ident in acct.principals.values():
            yield from ident.policies
            if ident.boundary:
                yield ident.boundary
            if ident.trust_policy:
                yield ident.trust_policy
    for b in world.buckets:
        if b.policy:
            yield b.policy
    yield from world.vpc_endpoints.values()


def mentions(policies: Iterable[Policy], needle: str) -> bool:
    """Whether a principal, condition key or condition value of the policies contains
    `needle` (case-insensitive)."""
    needle = needle.lower()
    for p in policies:
        for st in p.statements:
            for pr in (st.principal or ()) + (st.not_principal or ()):
                if needle in pr.value.lower() or needle in pr.kind.lower():
                    return True
            for c in st.conditions:
                if needle in c.key.lower() or any(needle in v.lower() for v in c.values):
                    return True
    return False


def mentioned(
    world: World, query: Query | None, extra: Iterable[str] = ()
) -> tuple[set[str], set[str], set[str]]:
    """(account ids, principal ARNs, service names) that anything mentions."""
    accounts: set[str] = (
        set(world.accounts) | {k.account for k in world.keys} | {b.account for b in world.buckets}
    )
    arns: set[str] = set(extra)
    services: set[str] = set()
    for p in _policies(world):
        for st in p.statements:
            for pr in (st.principal or ()) + (st.not_principal or ()):
                if pr.kind == "AWS" and pr.value != "*":
                    arns.add(pr.value)
                elif pr.kind == "Service":
                    services.add(pr.value)
            for c in st.conditions:
                for v in c.values:
                    accounts.update(m.group(0) for m in re.finditer(r"(?<!\d)\d{12}(?!\d)", v))
    for k in world.keys:
        for g in k.grants:
            for who in (g.grantee, g.retiring):
                if who and who.startswith("arn:"):
                    arns.add(who)
                elif who and unique_id_kind(who) is None:  # an unresolved id names no class
                    services.add(who)
            for who in (g.grantee_service, g.retiring_service):
                if who:
                    services.add(who)
    for acct in world.accounts.values():
        arns.update(acct.principals)
    if query is not None:
        accounts.update(query.who.accounts)
        if (
            query.who.kind is WhoKind.PRINCIPAL
            and query.who.pattern
            and "*" not in query.who.pattern
            and "?" not in query.who.pattern
        ):
            arns.add(query.who.pattern)
        if query.who.kind is WhoKind.SERVICE and query.who.pattern:
            services.add(query.who.pattern)
    for a in list(arns):
        caller = parse_caller(a)
        if caller.account:
            accounts.add(caller.account)
        if caller.kind == "service":
            services.add(a)
            arns.discard(a)
    return {a for a in accounts if ACCOUNT_RE.fullmatch(a)}, arns, services


def _names(world: World, query: Query | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(kms:ViaService literals of the policies and the query, Regions of the world)."""
    values = [
        v
        for p in _policies(world)
        for st in p.statements
        for c in st.conditions
        if c.key.lower() == "kms:viaservice"
        for v in c.values
    ]
    if query is not None:
        values += [
            c.value for c in query.conditions if c.value and c.key.lower() == "kms:viaservice"
        ]
    regions = {k.region for k in world.keys} | {b.region for b in world.buckets}
    return tuple(sorted(set(values))), tuple(sorted(regions))


def restrict(u: Universe, keep: Callable[[Entry], bool]) -> Universe:
    """The universe without the entries a query excludes outright (its `who`):
    fewer classes, the same answers, since excluded callers can never match."""
    u.entries = [e for e in u.entries if keep(e)]
    u.names_index()  # from the whole (`Universe.named_like`)
    u.by_account.clear()
    u.by_name.clear()
    return u


def build_universe(
    world: World, key: Key | None, query: Query | None = None, extra: Iterable[str] = ()
) -> Universe:
    extra = list(extra)
    accounts, arns, services = mentioned(world, query, extra)
    given = {parse_caller(a).account: a for a in extra}  # a fixed request's caller exists
    u = Universe(world, key, sorted(accounts))
    u.endpoints, u.regions = _names(world, query)
    u.federation = mentions(_policies(world), "federated") or any(
        "federated-user" in a for a in arns
    )

    def add(**kw: object) -> None:
        u.entries.append(Entry(index=len(u.entries), **kw))  # type: ignore[arg-type]

    where = {a: i for i, a in enumerate(u.accounts)}
    roles: dict[tuple[str, str], str] = {}
    users: dict[tuple[str, str], str] = {}
    for arn in sorted(arns):
        c = parse_caller(arn)
        if c.account is None:
            continue
        if c.kind in ("role", "assumed-role"):
            role_arn = arn if c.kind == "role" else None
            roles.setdefault(
                (c.account, c.name), role_arn or f"arn:aws:iam::{c.account}:role/{c.name}"
            )
        elif c.kind == "user":
            users.setdefault((c.account, c.name), arn)

    def absent(acct: str, name: str) -> bool:
        """A principal a complete account does not have (unless a fixed request names it);
        a role AWS owns is never in the account's listing, yet its sessions exist."""
        if not world.account(acct).complete or is_service_role(name):
            return False
        mine = given.get(acct)
        return mine is None or parse_caller(mine).name != name

    for kind, named_arns in (("session", roles), ("user", users)):
        for (acct, name), arn in sorted(named_arns.items()):
            ident = world.identity(arn)
            if ident is None and absent(acct, name):
                continue  # a principal the complete account does not have
            known = ident.arn if ident else arn
            common = {
                "account": where[acct],
                "arn": known,
                "identity": ident,
                # nobody writes the identity policies of a role AWS owns
                "any_iam": ident is None and not is_service_role(name),
            }
            add(kind=kind, name=name, path=parse_caller(known).path, **common)
            if kind == "user" and u.federation:
                add(kind="federated", name=None, **common)  # its GetFederationToken sessions
    for i, acct in enumerate(u.accounts):
        add(kind="root", account=i, name="root", arn=f"arn:aws:iam::{acct}:root")
        if not world.account(acct).complete:
            for kind in ("user", "session", "federated"):
                add(kind=kind, account=i, any_iam=True)
    for kind in ("root", "user", "session", "federated"):
        add(kind=kind, account=FRESH, any_iam=kind != "root")
    for s in sorted(services):
        add(kind="service", account=None, name=s, arn=s)
    add(kind="service", account=None)
    return u
