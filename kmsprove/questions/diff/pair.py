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

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import z3

from kmsprove.arn import parse_caller
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.universe import Universe
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import DERIVED_KEYS, complete_request
from kmsprove.questions.today import example_pins
from kmsprove.request import Request
from kmsprove.solve.decode import witness_world
from kmsprove.world import World

DIRECTIONS = ("new", "removed")  # NEW allows what OLD denies; OLD allows what NEW denies
FIRST_TRY = 1.0  # seconds for each readable-names attempt before the unpinned solve


class Status(enum.Enum):
    FOUND = "found"  # a witness request, re-checked by the evaluator on both sides
    NONE = "none"  # proved: no request of this direction (under the stated assumptions)
    UNKNOWN = "unknown"  # timeout, not modelled, a bound, or an unconfirmed witness


@dataclass
class Finding:
    """One direction's answer."""

    status: Status
    request: Request | None = None  # the witness, completed as the allowing side sees it
    reason: str = ""
    where: str = ""  # the key (or resource class) compared
    allows: str = ""  # the evaluator's reason on the side that allows
    denies: str = ""  # the evaluator's reason on the side that denies
    assumed: dict[str, str] = field(default_factory=dict)  # caller -> what we assumed about it


@dataclass
class SideCheck:
    allowed: bool
    reason: str
    request: Request | None = None  # as completed for this side


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
    tiers: list[list[z3.BoolRef]] = field(default_factory=list)  # readable-name attempts
    who: dict[str, z3.BoolRef] = field(default_factory=dict)  # side -> `who` as it sees it


def compare(pair: Pair, directions: tuple[str, ...], deadline: float) -> dict[str, Finding]:
    """Each direction's finding for one pair; `deadline` is a `time.monotonic()` value."""
    solver = z3.Solver()
    solver.add(*pair.facts)
    out: dict[str, Finding] = {}
    for d in directions:
        gain, lose = (pair.new, pair.old) if d == "new" else (pair.old, pair.new)
        # `who` as the allowing side sees the caller (its organization may differ)
        who = pair.who.get("new" if d == "new" else "old", z3.BoolVal(True))
        solver.push()
        solver.add(who, gain, z3.Not(lose))
        result, model, why = _solve(solver, pair.tiers, deadline)
        solver.pop()
        out[d] = _finding(d, result, model, why, pair)
    return out


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))  # z3 reads 0 as "no limit"


def _solve(
    solver: z3.Solver, tiers: list[list[z3.BoolRef]], deadline: float
) -> tuple[z3.CheckSatResult, z3.ModelRef | None, str]:
    # readable names first (as query._check does): quick when sat, and shown to people.
    # Each attempt's pins are an assumption: an unsat core without it is a proof.
    for n, tier in enumerate(tiers):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        pin = z3.Bool(f"diff.readable.{n}")
        solver.push()
        solver.add(z3.Implies(pin, z3.And(*tier)))
        solver.set("timeout", _ms(min(left, FIRST_TRY)))
        result = solver.check(pin)
        model = solver.model() if result == z3.sat else None
        pinned = result != z3.unsat or any(z3.eq(c, pin) for c in solver.unsat_core())
        solver.pop()
        if model is not None:
            return z3.sat, model, ""
        if not pinned:
            return z3.unsat, None, ""
        if result == z3.unknown:
            break  # the attempts only get harder: go straight to the real question
    left = deadline - time.monotonic()
    if left <= 0:
        return z3.unknown, None, "timeout"
    solver.set("timeout", _ms(left))
    result = solver.check()
    if result == z3.sat:
        return result, solver.model(), ""
    return result, None, solver.reason_unknown() if result == z3.unknown else ""


def _finding(
    direction: str, result: z3.CheckSatResult, model: z3.ModelRef | None, why: str, pair: Pair
) -> Finding:
    where = pair.where
    if result == z3.unsat:
        if pair.caveat:
            return Finding(
                Status.UNKNOWN, reason=f"no request found, but {pair.caveat}", where=where
            )
        return Finding(Status.NONE, reason="no such request (proved)", where=where)
    if model is None:
        return Finding(Status.UNKNOWN, reason=f"solver: {why}", where=where)
    try:
        w = pair.recheck(model)
    except InputError as exc:
        return Finding(
            Status.UNKNOWN,
            reason=f"encoder and evaluator disagree: {exc.diagnostics[0].message}",
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
            Status.UNKNOWN,
            request=gain.request or w.request,
            reason=f"encoder and evaluator disagree: {wrong}",
            where=where,
        )
    return Finding(
        Status.FOUND,
        request=gain.request or w.request,
        reason=gain.reason,
        where=where,
        allows=gain.reason,
        denies=lose.reason,
        assumed=w.assumed,
    )


# --------------------------------------------------------------------------
# the evaluator's side of a witness


def caller_exists(world: World, req: Request) -> bool:
    """Whether the caller exists in `world` (the twin of `side_universe`'s absences):
    roots, services and callers of open accounts always; in a complete account
    only listed users and roles (a federated user: its IAM user)."""
    c = parse_caller(req.principal)
    if c.is_service or c.kind == "root" or c.account is None or world.is_open(c.account):
        return True
    who = req.federated_from if c.kind == "federated-user" else req.principal
    return who is not None and world.identity(who) is not None


def side_check(world: World, req: Request, witness: dict[str, str]) -> SideCheck:
    """The evaluator's decision in one world (raises InputError when it cannot be asked)."""
    if not caller_exists(world, req):
        return SideCheck(False, "the caller does not exist: its complete account does not list it")
    checked = witness_world(world, req, witness)
    full = complete_request(checked, req)
    d = evaluate(checked, full)
    return SideCheck(d.allowed, d.reason, full)


def is_entry(sym: Sym, indices: list[int]) -> z3.BoolRef:
    return z3.Or(*[sym.pid == i for i in indices]) if indices else z3.BoolVal(False)


def readable(
    sym: Sym, u: Universe, names: list[z3.BoolRef] | None = None
) -> list[list[z3.BoolRef]]:
    """Attempts, most readable first: example names (`names`, else query's), a role
    session, no context key the caller may leave out."""
    names = names if names is not None else example_pins(sym)
    quiet = [
        z3.Not(v.present)
        for low, v in sym.ctx.items()
        if low not in DERIVED_KEYS and not low.startswith(("aws:principaltag/", "aws:resourcetag/"))
    ]
    session = is_entry(sym, [e.index for e in u.entries if e.kind == "session"])
    return [[*names, *quiet, session], [*names, *quiet], names]
