"""Diff stage, two worlds: `world_pair` builds the comparison of one key (by ARN)
of OLD and NEW, both encoded over ONE symbolic request and ONE universe.

Why one universe serves both worlds (the small-model argument of
`kmsprove/encode/universe.py`, for two worlds at once): the universe is built
on `union_world(old, new)`, which holds every key, account, principal and
policy of both sides, so every ARN, account id and service that either side
mentions is a class of its own, and the fresh classes (the unnamed principals
of each mentioned open account, one fresh account) have names that differ
from all of them. Each side's policies mention a subset of what the union
mentions, so two callers in one class are told apart by neither side: a
request that one side allows and the other denies exists iff one exists over
the union's classes. Each side sees those classes through its own world
(`side_universe`): a principal carries that side's documents; or it is free
(an open account's principal nobody listed: any identity policy); or it does
not exist there (a complete account that does not list it), and that side
allows none of its requests. One request means the same call in both worlds
only if the context AWS derives from the worlds (principal tags and paths,
organizations, key properties) agrees; where it does not, the answer is
unknown (`Unmodelled`), since the facts of the two sides would contradict.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, MutableMapping
from dataclasses import replace

import z3

from kmsprove.arn import is_service_role
from kmsprove.ast import Query
from kmsprove.catalog import ActionInfo
from kmsprove.encode.authorize import encode_allowed
from kmsprove.encode.derive import free_facts, open_keys
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.question import who_formula
from kmsprove.encode.static import may_match, u_accounts
from kmsprove.encode.symbolic import CtxVar, Sym, new_sym
from kmsprove.encode.text import text_of
from kmsprove.encode.universe import FRESH, Entry, Universe, build_universe, restrict
from kmsprove.questions.diff.pair import Pair, Witness, entry_cases, is_entry, readable
from kmsprove.request import Request
from kmsprove.solve.bounds import set_bound_for
from kmsprove.solve.decode import decode
from kmsprove.solve.recheck import side_check
from kmsprove.solve.unresolved import unresolved_grant
from kmsprove.world import Account, Key, World

# context keys a world derives (from the caller's identity and account, from the key):
# each side has its own, while what the caller sends is shared
OWN_PREFIXES = ("aws:principaltag/", "aws:resourcetag/")
OWN_KEYS = frozenset(
    (
        "aws:principalorgid",
        "kms:keyspec",
        "kms:keyusage",
        "kms:keyorigin",
        "kms:multiregion",
        "kms:multiregionkeytype",
        "kms:resourcealiases",
    )
)


class SideContext(MutableMapping[str, CtxVar]):
    """One side's condition keys: the shared ones (what the caller sends, who it is)
    and its own (what its world derives), so a retagged caller makes the same call
    in both worlds, with each world's tags."""

    def __init__(self, shared: dict[str, CtxVar]) -> None:
        self.shared = shared
        self.own: dict[str, CtxVar] = {}

    @staticmethod
    def mine(low: str) -> bool:
        return low in OWN_KEYS or low.startswith(OWN_PREFIXES)

    def _part(self, low: str) -> dict[str, CtxVar]:
        return self.own if self.mine(low) else self.shared

    def __getitem__(self, low: str) -> CtxVar:
        return self._part(low)[low]

    def __setitem__(self, low: str, var: CtxVar) -> None:
        self._part(low)[low] = var

    def __delitem__(self, low: str) -> None:
        del self._part(low)[low]

    def __iter__(self) -> Iterator[str]:
        yield from [k for k in self.shared if not self.mine(k)]
        yield from list(self.own)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def side_sym(sym: Sym, side: str) -> Sym:
    """`sym` as one side sees it: the same caller, action and sent context (and the
    same facts list), with that side's own derived keys, named `side.<key>`."""
    return replace(sym, ctx=SideContext(sym.ctx), prefix=side)  # type: ignore[arg-type]


def union_world(old: World, new: World) -> World:
    """Everything either world holds, for building the shared universe and the set bound.

    An account is complete only if both sides say so; its principals are both
    sides' (NEW's documents where both list one), its SCPs and RCPs both sides'.
    """
    accounts: dict[str, Account] = {}
    for a in sorted(set(old.accounts) | set(new.accounts)):
        o, n = old.account(a), new.account(a)
        accounts[a] = Account(
            a,
            complete=o.complete and n.complete,
            organization=n.organization or o.organization,
            scps=o.scps + n.scps,
            rcps=o.rcps + n.rcps,
            principals=types.MappingProxyType({**o.principals, **n.principals}),
        )
    endpoints = {f"old {k}": v for k, v in old.vpc_endpoints.items()}
    endpoints |= {f"new {k}": v for k, v in new.vpc_endpoints.items()}
    return World(
        keys=old.keys + new.keys,
        accounts=types.MappingProxyType(accounts),
        buckets=old.buckets + new.buckets,
        vpc_endpoints=types.MappingProxyType(endpoints),
        file="<diff>",
    )


def side_universe(u: Universe, world: World, key: Key) -> tuple[Universe, list[int]]:
    """The union's classes as `world` sees them, and the entries that do not exist there."""
    entries: list[Entry] = []
    absent: list[int] = []
    for e in u.entries:
        seen, exists = _as_seen(e, u, world)
        entries.append(seen)
        if not exists:
            absent.append(e.index)
    side = replace(u, world=world, key=key, entries=entries, by_account={}, by_name={}, by_kind={})
    return side, absent


def _as_seen(e: Entry, u: Universe, world: World) -> tuple[Entry, bool]:
    if e.kind in ("root", "service") or e.account is None or e.account == FRESH:
        return e, True
    open_ = world.is_open(u.accounts[e.account])
    if e.arn is None:  # an unnamed class of a mentioned account: only where it is open
        return e, open_
    ident = world.identity(e.arn)  # a named user or role (or a named user's federation)
    if ident is not None:
        return replace(e, identity=ident, any_iam=False), True
    if e.kind == "session" and is_service_role(e.name or ""):
        return replace(e, identity=None, any_iam=False), True  # AWS owns it: never listed
    return replace(e, identity=None, any_iam=open_), open_


def world_pair(
    old: World,
    new: World,
    union: World,
    arn: str,
    query: Query,
    infos: list[ActionInfo],
    caveat: str | None,
) -> Pair:
    """Requests on key `arn`: a side without the key allows none of them."""
    ko, kn = _exact_key(old, arn), _exact_key(new, arn)
    key = kn or ko
    assert key is not None
    u = build_universe(union, key, query)
    restrict(u, lambda e: may_match(query, u_accounts(e, u)))
    uo, absent_o = side_universe(u, old, ko or key)
    un, absent_n = side_universe(u, new, kn or key)
    sym = new_sym(infos, set_bound=set_bound_for(union))
    # an unnamed caller holds the same identity policy in both worlds: whether it allows
    # the request is one unknown for both sides, not "it does" on each (which would hide
    # every difference between a key policy's direct allow and its delegation to IAM)
    sym.open_iam = z3.Bool("req.open_iam_allows")
    open_keys(sym)
    endpoints = sorted(set(old.vpc_endpoints) | set(new.vpc_endpoints))
    if endpoints:  # a call may come through any endpoint either world has a policy for
        sym.via_vpce = z3.String("req.via_vpce")
    sym_o, sym_n = side_sym(sym, "old"), side_sym(sym, "new")

    def allowed(
        world: World, k: Key | None, side: Universe, absent: list[int], s: Sym
    ) -> z3.BoolRef:
        if k is None:
            return z3.BoolVal(False)
        return z3.And(z3.Not(is_entry(sym, absent)), encode_allowed(world, k, side, s))

    allowed_o = allowed(old, ko, uo, absent_o, sym_o)
    allowed_n = allowed(new, kn, un, absent_n, sym_n)
    share_own_keys(sym_o, sym_n)
    problem = context_problem(ko, kn, uo, un, set(absent_o) | set(absent_n), sym)
    if problem:
        raise Unmodelled(problem)
    facts = [*free_facts(uo, ko or key, sym_o), *free_facts(un, kn or key, sym_n)]
    facts += tie_unknowns(sym, (uo, sym_o), (un, sym_n))
    who = {"old": who_formula(query, u, sym_o), "new": who_formula(query, u, sym_n)}

    def recheck(model: z3.ModelRef) -> Witness:
        req_o, wit_o = decode(model, sym_o, uo, ko or key)
        req_n, wit_n = decode(model, sym_n, un, kn or key)
        o = side_check(old, _with_ids(req_o, model, sym, endpoints), wit_o)
        n = side_check(new, _with_ids(req_n, model, sym, endpoints), wit_n)
        return Witness(req_n, o, n, {**wit_o, **wit_n})

    soft = readable(sym, u, (sym_o, sym_n))
    # a grant to an unresolved unique id covers nobody on either side, yet its principal
    # may be any class: a difference through it (or capping it) would go unseen
    names = [i.name for i in infos]
    caveat = caveat or unresolved_grant(ko, u, names) or unresolved_grant(kn, u, names)
    cases = entry_cases(sym, u)
    shaped = (sym_o, sym_n)
    return Pair(sym, facts, allowed_o, allowed_n, recheck, arn, caveat, soft, who, shaped, cases)


def share_own_keys(sym_o: Sym, sym_n: Sym) -> None:
    """A derived key one side's policies test exists on the other side too, so both
    sides derive it (or leave it to the caller) and the witness carries it for both."""
    own_o, own_n = sym_o.ctx, sym_n.ctx
    assert isinstance(own_o, SideContext) and isinstance(own_n, SideContext)
    for low in sorted(set(own_n.own) - set(own_o.own)):
        sym_o.key(own_n.own[low].display or low)
    for low in sorted(set(own_o.own) - set(own_n.own)):
        sym_n.key(own_o.own[low].display or low)


def tie_unknowns(
    sym: Sym, old: tuple[Universe, Sym], new: tuple[Universe, Sym]
) -> list[z3.BoolRef]:
    """A derived key that a world leaves free for a caller (the tags of a principal
    it does not list, the organization of an account it does not describe) is the
    same unknown fact in both worlds: equal on both sides, unless both pin it."""
    (uo, sym_o), (un, sym_n) = old, new
    own_o, own_n = sym_o.ctx, sym_n.ctx
    assert isinstance(own_o, SideContext) and isinstance(own_n, SideContext)
    out = []
    for low in sorted(set(own_o.own) & set(own_n.own)):
        free = [
            eo.index
            for eo, en in zip(uo.entries, un.entries, strict=True)
            if _free(low, eo, uo) or _free(low, en, un)
        ]
        if free:
            out.append(z3.Implies(is_entry(sym, free), _same(own_o[low], own_n[low])))
    return out


def _free(low: str, e: Entry, u: Universe) -> bool:
    """Whether `entry_facts` leaves key `low` unconstrained for entry `e` (the twin of
    its tag and organization rules); key properties are always pinned by the key."""
    if low.startswith("aws:principaltag/"):
        return e.kind not in ("root", "service") and (e.identity is None or e.any_iam)
    if low == "aws:principalorgid" and e.kind != "service":
        acct = None if e.account is None or e.account == FRESH else u.accounts[e.account]
        return acct is None or not u.world.account(acct).organization
    return False


def _same(a: CtxVar, b: CtxVar) -> z3.BoolRef:
    if a.multi:
        return z3.And(
            a.present == b.present,
            a.count == b.count,
            *[x == y for x, y in zip(a.elems, b.elems, strict=True)],
        )
    return z3.And(a.present == b.present, a.value == b.value)


def _exact_key(world: World, arn: str) -> Key | None:
    return next((k for k in world.keys if k.arn == arn), None)


def _with_ids(req: Request, model: z3.ModelRef, sym: Sym, endpoints: list[str]) -> Request:
    """The grant a RetireGrant names and the endpoint a call came through, from the model."""
    if req.action == "kms:RetireGrant" and sym.grant_id is not None:
        req = replace(req, grant_id=text_of(model.eval(sym.grant_id, model_completion=True)))
    if sym.via_vpce is not None:
        vpce = text_of(model.eval(sym.via_vpce, model_completion=True))
        req = replace(req, via_vpce=vpce if vpce in endpoints else None)
    return req


def context_problem(
    ko: Key | None, kn: Key | None, uo: Universe, un: Universe, gone: set[int], sym: Sym
) -> str | None:
    """Why one request would not be the same call in both worlds, if it would not."""
    renamed = ko is not None and kn is not None and ko.aliases != kn.aliases
    if renamed and "kms:requestalias" in sym.ctx:
        return "the key's aliases differ and a policy tests kms:RequestAlias (the alias sent)"
    for eo, en in zip(uo.entries, un.entries, strict=True):
        if eo.index in gone or not (eo.identity and en.identity):
            continue
        if eo.identity.arn != en.identity.arn:
            return (
                f"`{eo.identity.arn}` is `{en.identity.arn}` in NEW: a principal changed its path"
            )
    return None
