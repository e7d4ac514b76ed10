"""Diff stage, solving: one comparison of two sides over ONE symbolic request.

`compare(pair, directions, deadline)` asks, per direction, for a request one side
allows and the other denies. A model is decoded (`kmsprove.solve.decode`) and
re-checked by the evaluator on BOTH sides (`side_check`): only a request the
evaluator allows on exactly the expected side is a witness; anything else is an
unknown, never a wrong relation. An unsat is a proof unless the pair carries a
caveat (a set bound exceeded, a fixed assumption the policies test): then it is
an unknown too. Pairs are built by `kmsprove.questions.diff.worlds` (worlds, key
policies) and `kmsprove.questions.diff.identity` (identity policies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import z3

from kmsprove.answer import Finding, FindingStatus
from kmsprove.catalog import derived_keys
from kmsprove.encode.question import example_pins
from kmsprove.encode.shapes import ShapeRefiner
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import Universe
from kmsprove.errors import InputError
from kmsprove.request import EC_PREFIX, Request
from kmsprove.solve.recheck import DISAGREE, SideCheck
from kmsprove.solve.session import Result, Session, Unknown, Unsat

DIRECTIONS = ("new", "removed")  # NEW allows what OLD denies; OLD allows what NEW denies
FIRST_TRY = 1.0  # seconds for each readable-names attempt before the unpinned solve


@dataclass
class Witness:
    request: Request
    old: SideCheck
    new: SideCheck
    assumed: dict[str, str] = field(default_factory=dict)


@dataclass
class Probe:
    """One comparison to make: built lazily, so an `Unmodelled` stays with its key."""

    where: str
    build: Callable[[], Pair]


@dataclass
class Pair:
    """Both sides of one comparison over the same `sym` and universe."""

    sym: Sym
    facts: list[z3.BoolRef]
    old: z3.BoolRef
    new: z3.BoolRef
    recheck: Callable[[z3.ModelRef], Witness]  # may raise InputError: a disagreement
    where: str
    caveat: str | None = None  # why an unsat would not be a proof
    soft: list[list[z3.BoolRef]] = field(default_factory=list)  # soft pins by level
    who: dict[str, z3.BoolRef] = field(default_factory=dict)  # side -> `who` as it sees it
    shaped: tuple[Sym, ...] = ()  # whose context takes AWS's value shapes (default: sym)
    cases: list[z3.BoolRef] = field(default_factory=list)  # one per principal class


def compare(pair: Pair, directions: tuple[str, ...], deadline: float) -> dict[str, Finding]:
    """Each direction's finding for one pair; `deadline` is a `time.monotonic()` value."""
    session = Session(pair.facts)
    refine = ShapeRefiner(pair.shaped or (pair.sym,))
    out: dict[str, Finding] = {}
    for d in directions:
        gain, lose = (pair.new, pair.old) if d == "new" else (pair.old, pair.new)
        # `who` as the allowing side sees the caller (its organization may differ)
        who = pair.who.get("new" if d == "new" else "old", z3.BoolVal(True))
        result = session.ask(
            [who, gain, z3.Not(lose)],
            (),
            deadline,
            FIRST_TRY,
            refine,
            soft=pair.soft,
            cases=pair.cases,
        )
        out[d] = _finding(d, result, pair)
    return out


def _finding(direction: str, result: Result, pair: Pair) -> Finding:
    where = pair.where
    if isinstance(result, Unsat):
        if pair.caveat:
            return Finding(
                FindingStatus.UNKNOWN, reason=f"no request found, but {pair.caveat}", where=where
            )
        return Finding(FindingStatus.NONE, reason="no such request (proved)", where=where)
    if isinstance(result, Unknown):
        return Finding(FindingStatus.UNKNOWN, reason=f"solver: {result.reason}", where=where)
    try:
        w = pair.recheck(result.model)
    except InputError as exc:
        return Finding(
            FindingStatus.UNKNOWN,
            reason=f"{DISAGREE}: {exc.diagnostics[0].message}",
            where=where,
        )
    gain, lose = (w.new, w.old) if direction == "new" else (w.old, w.new)
    if not gain.allowed or lose.allowed:
        wrong = (
            f"the evaluator denies it on the side that should allow it ({gain.reason})"
            if not gain.allowed
            else f"the evaluator allows it on both sides ({lose.reason})"
        )
        return Finding(
            FindingStatus.UNKNOWN,
            request=gain.request or w.request,
            reason=f"{DISAGREE}: {wrong}",
            where=where,
        )
    return Finding(
        FindingStatus.FOUND,
        request=gain.request or w.request,
        reason=gain.reason,
        where=where,
        allows=gain.reason,
        denies=lose.reason,
        assumed=w.assumed,
    )


# the order in which classes are asked alone: the first that has a witness gives it,
# so the most readable callers come first (a role session, as the soft pins prefer)
CASE_ORDER = ("session", "user", "root", "service", "federated")


def entry_cases(sym: Sym, u: Universe) -> list[z3.BoolRef]:
    """One case per principal class: the facts say the caller is in one of them."""
    ordered = sorted(u.entries, key=lambda e: CASE_ORDER.index(e.kind))
    return [sym.pid == e.index for e in ordered]


def is_entry(sym: Sym, indices: list[int]) -> z3.BoolRef:
    return z3.Or(*[sym.pid == i for i in indices]) if indices else z3.BoolVal(False)


def readable(
    sym: Sym, u: Universe, syms: tuple[Sym, ...] = (), *names: list[z3.BoolRef]
) -> list[list[z3.BoolRef]]:
    """Soft pins by level, the first given up first (`Session.ask`): no context key
    the caller may leave out, a role session; at most one element in each
    multi-valued key (the elements of a set are what makes Z3's string solver slow,
    and most witnesses need one); the example names, then each of `names` (more
    readable names, given up after the examples)."""
    quiet = [
        z3.Not(v.present)
        for low, v in sym.ctx.items()
        if low not in derived_keys()
        and not low.startswith(("aws:principaltag/", "aws:resourcetag/"))
    ]
    session = is_entry(sym, [e.index for e in u.entries if e.kind == "session"])
    counts = {id(v.present): v.count for s in (syms or (sym,)) for v in s.ctx.values() if v.multi}
    ones = [c <= 1 for c in counts.values() if c is not None]
    return [
        [*quiet, session],
        [*ones, *_named_context_keys(sym)],
        [z3.And(*example_pins(sym))],
        *[[z3.And(*n)] for n in names],
    ]


def _named_context_keys(sym: Sym) -> list[z3.BoolRef]:
    """Each encryption-context key the request sends is one a policy names, as it
    spells it (`aws:s3:arn`, not the `AWS:S3:ARn` its case-insensitive test allows):
    readable, and a literal where the string solver would search a pattern."""
    keys = sym.ctx.get("kms:encryptioncontextkeys")
    named = [
        v.display[len(EC_PREFIX) :]
        if v.display.lower().startswith(EC_PREFIX)
        else low[len(EC_PREFIX) :]
        for low, v in sym.ctx.items()
        if low.startswith(EC_PREFIX)
    ]
    if keys is None or not named:
        return []
    return [z3.Implies(a, z3.Or(*[e == lit(n) for n in named])) for a, e in keys.members()]
