"""The question's own formulas: who is asking, and its `where` conditions.

Written here, inside the encoder, so the encoder's soundness checks see them: a
`where` condition registers its view of a key like a policy condition does
(`kmsprove.encode.conditions.note_view`), so a key compared as a number by a policy
and as a literal text by the question is tied, not decoupled. Also the static
pre-checks that drop universe entries a question can never match (`keeps`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import z3

from kmsprove.arn import parse_caller
from kmsprove.ast import CondOp, Query, QueryCond, WhoKind
from kmsprove.encode.conditions import note_view
from kmsprove.encode.match import arn_re, glob_re
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import FRESH, Entry, Universe
from kmsprove.world import World

EXAMPLE_ACCOUNT = "999999999999"
EXAMPLE_NAME = "example"


def example_pins(sym: Sym) -> list[z3.BoolRef]:
    return [
        sym.fresh_account == lit(EXAMPLE_ACCOUNT),
        sym.name == lit(EXAMPLE_NAME),
        sym.session == lit(EXAMPLE_NAME),
    ]


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


def who_formula(query: Query, u: Universe, sym: Sym) -> z3.BoolRef:
    service = z3.Or(*[sym.pid == e.index for e in u.entries if e.kind == "service"])
    formula = _who(query, u, sym, service)
    return z3.And(z3.Not(service), formula) if query.who.iam_only else formula


def _who(query: Query, u: Universe, sym: Sym, service: z3.BoolRef) -> z3.BoolRef:
    who = query.who
    match who.kind:
        case WhoKind.ANYONE | WhoKind.ANY_PRINCIPAL:
            return z3.BoolVal(True)
        case WhoKind.OUTSIDE_ACCOUNTS | WhoKind.IN_ACCOUNTS:
            inside = z3.Or(*[sym.acct == lit(a) for a in who.accounts])
            inside = z3.If(service, acts_for(sym, who.accounts), inside)
            return z3.Not(inside) if who.kind is WhoKind.OUTSIDE_ACCOUNTS else inside
        case WhoKind.OUTSIDE_ORG:
            org = sym.key("aws:PrincipalOrgID")
            return z3.Or(service, z3.Not(z3.And(org.present, org.value == lit(who.org or ""))))
        case WhoKind.PRINCIPAL:
            pattern = who.pattern or ""
            arn = caller_arn_term(sym, u)
            parn = sym.key("aws:PrincipalArn")
            rx = glob_re(pattern)
            return z3.Or(z3.InRe(arn, rx), z3.And(parn.present, z3.InRe(parn.value, rx)))
        case WhoKind.SERVICE:
            return z3.Or(
                *[
                    sym.pid == e.index
                    for e in u.entries
                    if e.kind == "service" and e.name == who.pattern
                ]
                or [z3.BoolVal(False)]
            )
    return z3.BoolVal(False)


def acts_for(sym: Sym, accounts: tuple[str, ...]) -> z3.BoolRef:
    """A service caller acts for one of `accounts`: the request's aws:SourceAccount is
    one of them, or its aws:SourceArn is in one (the pins of R2.7's confused deputy)."""
    if not accounts:
        return z3.BoolVal(False)
    src_acct = sym.key("aws:SourceAccount")
    src_arn = sym.key("aws:SourceArn")
    return z3.Or(
        *[
            z3.Or(
                z3.And(src_acct.present, src_acct.value == lit(a)),
                z3.And(src_arn.present, z3.InRe(src_arn.value, arn_re(f"*:*:*:*:{a}:*"))),
            )
            for a in accounts
        ]
    )


def acting_flags(
    sym: Sym, accounts: Sequence[str]
) -> tuple[dict[str, z3.BoolRef], list[z3.BoolRef]]:
    """For each account, a Boolean that holds when a service caller acts for it
    (`acts_for`), and the facts that define them. A clause over these Booleans, added
    to a solver that was already asked (`kmsprove.questions.who` excludes "service S
    acting for A"), brings no new string constraint to it: Z3 internalizes a new
    regular-expression membership when the solver is next pushed, outside any time
    limit, and that has been seen to run for minutes."""
    flags = {a: z3.Bool(f"{sym.prefix}.acts_for.{a}") for a in accounts}
    return flags, [flags[a] == acts_for(sym, (a,)) for a in accounts]


def caller_arn_term(sym: Sym, u: Universe) -> z3.SeqRef:
    """The caller's own ARN (a session's session ARN) as a term over the entry."""
    term: z3.SeqRef = lit("")
    for e in reversed(u.entries):
        if e.kind == "session":
            role = lit(e.name) if e.name else sym.name
            arn = z3.Concat(
                lit("arn:aws:sts::"),
                sym.acct,
                lit(":assumed-role/"),
                role,
                lit("/"),
                sym.session,
            )
        elif e.kind == "user":
            arn = (
                lit(e.arn)
                if e.arn
                else z3.Concat(lit("arn:aws:iam::"), sym.acct, lit(":user/"), sym.name)
            )
        elif e.kind == "federated":
            arn = z3.Concat(
                lit("arn:aws:sts::"),
                sym.acct,
                lit(":federated-user/"),
                sym.session,
            )
        elif e.kind == "root":
            arn = z3.Concat(lit("arn:aws:iam::"), sym.acct, lit(":root"))
        else:
            arn = lit(e.name) if e.name else sym.name
        term = z3.If(sym.pid == e.index, arn, term)
    return term


def cond_formula(c: QueryCond, sym: Sym) -> z3.BoolRef:
    """A `where` condition, with its view of the key registered like a policy's."""
    var = sym.key(c.key)
    if c.value is not None:
        plain = c.op in (CondOp.EQ, CondOp.NE) or not set("*?") & set(c.value)
        note_view(sym, var, "literal" if plain else "text", c.value if plain else None)
    first = var.members()[0][1]
    match c.op:
        case CondOp.HAS:
            return var.present
        case CondOp.NOT_HAS:
            return z3.Not(var.present)
        case CondOp.EQ:
            return z3.And(
                var.present,
                z3.Or(*[z3.And(a, e == lit(c.value or "")) for a, e in var.members()]),
            )
        case CondOp.NE:
            return z3.Not(z3.And(var.present, first == lit(c.value or "")))
        case CondOp.LIKE:
            return z3.And(
                var.present,
                z3.Or(*[z3.And(a, _like(e, c.value or "")) for a, e in var.members()]),
            )
        case CondOp.NOT_LIKE:
            return z3.And(var.present, z3.Not(_like(first, c.value or "")))
    return z3.BoolVal(True)


def _like(term: z3.SeqRef, pattern: str) -> z3.BoolRef:
    """A glob; a literal prefix followed by one `*` as a prefix test, which the string
    solver decides much faster than the regular expression."""
    head = pattern[:-1]
    if pattern.endswith("*") and "*" not in head and "?" not in head:
        return z3.PrefixOf(lit(head), term)
    return z3.InRe(term, glob_re(pattern))


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


# keys whose value is the caller's account for an IAM caller and absent for a service
# caller (R5.3, `kmsprove.encode.derive.entry_facts`)
CALLER_ACCOUNT_KEYS = ("aws:principalaccount", "kms:calleraccount")


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
