"""The question's own formulas: who is asking, and its `where` conditions.

Written here, inside the encoder, so the encoder's soundness checks see them: a
`where` condition registers its view of a key like a policy condition does
(`kmsprove.encode.conditions.note_view`), so a key compared as a number by a policy
and as a literal text by the question is tied, not decoupled. The static
pre-checks that drop universe entries a question can never match (`keeps`) are in
`kmsprove.encode.static`, which needs no z3.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from kmsprove.ast import CondOp, Query, QueryCond, WhoKind
from kmsprove.encode.conditions import note_view
from kmsprove.encode.match import arn_re, glob_re
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import Universe

EXAMPLE_ACCOUNT = "999999999999"
EXAMPLE_NAME = "example"


def example_pins(sym: Sym) -> list[z3.BoolRef]:
    return [
        sym.fresh_account == lit(EXAMPLE_ACCOUNT),
        sym.name == lit(EXAMPLE_NAME),
        sym.session == lit(EXAMPLE_NAME),
    ]


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
