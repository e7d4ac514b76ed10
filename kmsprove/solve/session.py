"""The one place that asks Z3: formulas in, `Sat(model)`, `Unsat` or `Unknown(reason)` out.

No other module reads a check result (a test holds this), so "unknown" can never be
taken for "no": an `Unknown` carries Z3's `reason_unknown()` or "timeout", and every
caller turns it into an unknown answer [CrossHair `solver_is_sat`, Cedar `SolverUnknown`].

Readable witnesses. Callers may give *tiers* of pins (example names, fewer context
keys): each tier is tried first, briefly, as an assumption. A model found under a tier
is the one shown to people; an unsat whose core holds no tier's assumption is a proof
without the pins, so the unpinned search is skipped.

Soft pins (`ask(soft=...)`, diff): pins by level, each one given up alone when an
unsat core holds it (lowest level first), so a witness keeps every pin it can and an
unsat whose core holds none is a proof at once. A check the incremental solver cannot
settle within `INCREMENTAL_TRY` is asked again of a fresh solver holding the same
formulas as assertions: with no assumption, Z3 preprocesses them (substituting what
each principal class fixes) and its string solver is several times faster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import z3

from kmsprove.encode.refine import Refinement


@dataclass(frozen=True)
class Sat:
    model: z3.ModelRef


@dataclass(frozen=True)
class Unsat:
    pass


@dataclass(frozen=True)
class Unknown:
    reason: str  # z3's reason_unknown(), or "timeout"


Result = Sat | Unsat | Unknown


@dataclass(frozen=True)
class _Pin:
    """A soft pin of a question: its level (lowest given up first), its literal."""

    level: int
    literal: z3.BoolRef
    pin: z3.BoolRef


# a model -> what it got wrong (nothing: the model stands)
Refine = Callable[[z3.ModelRef], Refinement]


FIRST_SLICE = 2.0  # seconds of the first search before a restart with another seed
INCREMENTAL_TRY = 0.02  # seconds an incremental check of soft pins gets before a fresh one
BARE_TRY = 0.1  # seconds a fresh solver gets for the question without pins, looking for a proof


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))  # a spent budget still gets one millisecond


class Session:
    """A solver over shared facts, asked several questions (each in its own scope).

    Scopes are assumption literals, never `push`/`pop`: Z3's `push` propagates what
    was asserted before it with no time limit armed (only `check` has one), and its
    sequence theory can propagate for ever there (a CI run hung for an hour in
    `Solver.push`). Every solver call that can run long is a `check` under a timeout."""

    def __init__(self, formulas: Iterable[z3.BoolRef] = ()) -> None:
        self._solver = z3.Solver()
        self._facts = list(formulas)  # what binds every question, for a fresh solver
        self._solver.add(*self._facts)
        self._names = 0

    def add(self, *formulas: z3.BoolRef) -> None:
        """Facts for every later question (a blocking clause, say)."""
        self._facts += formulas
        self._solver.add(*formulas)

    def _literal(self, what: str) -> z3.BoolRef:
        self._names += 1
        return z3.Bool(f"kmsprove!{what}{self._names}")

    def _under(
        self, scope: z3.BoolRef | None, facts: Sequence[z3.BoolRef], live: list[z3.BoolRef]
    ) -> None:
        """`facts` for this question (`live` keeps them for a fresh solver)."""
        if not facts:
            return
        live += facts
        if scope is None:
            self._solver.add(*facts)
        else:
            self._solver.add(z3.Implies(scope, z3.And(*facts)))

    def ask(
        self,
        extra: Sequence[z3.BoolRef] = (),
        tiers: Sequence[Sequence[z3.BoolRef]] = (),
        deadline: float | None = None,
        first_try: float = 5.0,
        refine: Refine | None = None,
        last: bool = False,
        soft: Sequence[Sequence[z3.BoolRef]] | None = None,
        cases: Sequence[z3.BoolRef] = (),
    ) -> Result:
        """Is `extra` satisfiable with the facts? `deadline` is a `time.monotonic()` value
        (None: no limit); each tier gets at most `first_try` seconds of it. `last`: no
        question follows, so this one's facts are asserted as they are, not in a scope.
        `soft`: pins by level, tried in place of `tiers` (the module docstring).
        `cases`: formulas whose disjunction the facts imply (one per principal class,
        say); a question the soft pins leave open is asked case by case, each one
        small enough for the string solver where their disjunction is not.

        `refine` adds facts lazily: a model it finds fault with is not an answer; its
        facts join the question and the search starts again (it must run out of facts
        to add, so this ends). Its pins come first, in place of the facts they stand
        for: a regular expression over a list can hold Z3's string solver past any
        timeout where one example value settles the question at once. Only if the
        pinned question fails do those facts themselves join it."""
        scope = None if last else self._literal("scope")
        assumed: list[z3.BoolRef] = [] if scope is None else [scope]
        live: list[z3.BoolRef] = []  # this question's facts, as a fresh solver needs them
        self._under(scope, extra, live)
        pin: z3.BoolRef | None = None  # the literal the current pins hang on
        pinned: list[z3.BoolRef] = []  # the current pins
        deferred: list[z3.BoolRef] = []  # facts those pins stand for
        pinning = True  # pins are tried until they fail once
        try:
            while True:
                if soft is None:
                    result = self._check(tiers, deadline, first_try, assumed)
                else:
                    result = self._soft(soft, cases, deadline, first_try, assumed, [*live, *pinned])
                if pin is not None and not isinstance(result, Sat):
                    # the pins failed: ask again with the facts themselves
                    assumed.remove(pin)
                    self._under(scope, deferred, live)
                    pin, pinned, deferred, pinning = None, [], [], False
                    continue
                if refine is None or not isinstance(result, Sat):
                    return result
                more = refine(result.model)
                if not more:
                    return result
                self._under(scope, more.facts, live)
                if more.pins and pinning:
                    if pin is None:
                        pin = self._literal("pins")
                        assumed.append(pin)
                    self._solver.add(z3.Implies(pin, z3.And(*more.pins)))
                    pinned += more.pins
                    deferred += more.instead
                else:
                    self._under(scope, more.instead, live)
        finally:
            if scope is not None:
                self._solver.add(z3.Not(scope))  # this question's facts bind no later one

    def _soft(
        self,
        soft: Sequence[Sequence[z3.BoolRef]],
        cases: Sequence[z3.BoolRef],
        deadline: float | None,
        first_try: float,
        assumed: Sequence[z3.BoolRef],
        live: Sequence[z3.BoolRef],
    ) -> Result:
        """The question under soft pins (`_relax`), then case by case, then as it is."""
        pins: list[_Pin] = []  # one literal per pin, for every attempt of this question
        for level, formulas in enumerate(soft):
            for p in formulas:
                literal = self._literal("soft")
                self._solver.add(z3.Implies(literal, p))
                pins.append(_Pin(level, literal, p))
        # with cases, a whole question the incremental solver cannot settle at once
        # goes to them: each is small, and a fresh solver on the whole often is not
        result = self._relax(pins, deadline, 0 if cases else first_try, assumed, live)
        if not _open(result):
            return result
        if cases:
            result = self._split(pins, cases, deadline, first_try, assumed, live)
            if not _open(result):
                return result
        return self._search(deadline, assumed, live)

    def _split(
        self,
        pins: Sequence[_Pin],
        cases: Sequence[z3.BoolRef],
        deadline: float | None,
        first_try: float,
        assumed: Sequence[z3.BoolRef],
        live: Sequence[z3.BoolRef],
    ) -> Result:
        """Each case under the soft pins: a model of one is a model; an unsat of every
        one is a proof (the facts imply their disjunction); cases left open are asked
        again with doubling time until the deadline."""
        todo: list[tuple[z3.BoolRef, z3.BoolRef]] = []
        for case in cases:
            literal = self._literal("case")
            self._solver.add(z3.Implies(literal, case))
            todo.append((literal, case))
        budget = first_try
        while todo:
            left: list[tuple[z3.BoolRef, z3.BoolRef]] = []
            for literal, case in todo:
                result = self._relax(pins, deadline, budget, [*assumed, literal], [*live, case])
                if isinstance(result, Sat):
                    return result
                if _open(result):
                    if _spent(deadline):
                        return Unknown("timeout")
                    left.append((literal, case))
                elif isinstance(result, Unknown):
                    return result  # what more time would not change
            todo, budget = left, budget * 2
        return Unsat()

    def _relax(
        self,
        pins: Sequence[_Pin],
        deadline: float | None,
        budget: float,
        assumed: Sequence[z3.BoolRef],
        live: Sequence[z3.BoolRef],
    ) -> Result:
        """The question under as many soft pins as fit: each unsat core gives up its
        lowest-level pins; an unsat core without one is a proof. A check the
        incremental solver leaves open goes to a fresh one (`budget` seconds); if
        that one says unsat (it has no core to say why), the question is asked of a
        fresh solver without pins (an unsat there is a proof, a model a fallback) and
        the lowest level goes whole; an open fresh check ends it: unknown."""
        on = list(pins)
        solver = self._solver
        bare: Result | None = None  # the question without pins, once a fresh solver asked
        while on:
            left = _left(deadline)
            if left is not None and left <= 0:
                return bare if isinstance(bare, Sat) else Unknown("timeout")
            solver.set(
                "timeout", _ms(INCREMENTAL_TRY if left is None else min(left, INCREMENTAL_TRY))
            )
            result = solver.check(*assumed, *[x.literal for x in on])
            if result == z3.sat:
                return Sat(solver.model())
            if result == z3.unsat:
                core = {c.get_id() for c in solver.unsat_core()}
                hit = [x for x in on if x.literal.get_id() in core]
                if not hit:
                    return Unsat()
                lowest = min(x.level for x in hit)
                on = [x for x in on if x.level != lowest or x.literal.get_id() not in core]
                continue
            if budget <= 0:
                return Unknown("timeout")  # no fresh check asked for
            seconds = budget if left is None else min(left, budget)
            fresh = self._fresh([*live, *[x.pin for x in on]], seconds, 0)
            if not isinstance(fresh, Unsat):
                return bare if isinstance(bare, Sat) and _open(fresh) else fresh
            if bare is None:  # briefly: unpinned, a model can take long; a proof seldom does
                bare = self._fresh(live, min(seconds, BARE_TRY), 0)
                if isinstance(bare, Unsat) or (isinstance(bare, Unknown) and not _open(bare)):
                    return bare  # a proof, or what more pins would not settle
            lowest = min(x.level for x in on)
            on = [x for x in on if x.level != lowest]
        if isinstance(bare, Sat):
            return bare
        # no pin left: the question as it is, briefly (it is often easy without them)
        left = _left(deadline)
        if left is not None and left <= 0:
            return Unknown("timeout")
        solver.set("timeout", _ms(INCREMENTAL_TRY if left is None else min(left, INCREMENTAL_TRY)))
        result = solver.check(*assumed)
        if result == z3.sat:
            return Sat(solver.model())
        if result == z3.unsat:
            return Unsat()
        if budget <= 0:
            return Unknown("timeout")
        return self._fresh(live, budget if left is None else min(left, budget), 0)

    def _fresh(self, formulas: Sequence[z3.BoolRef], seconds: float, seed: int) -> Result:
        """One check by a solver holding the facts and `formulas` as assertions (no
        assumption, so Z3 solves it as one problem, preprocessing included)."""
        solver = z3.Solver()
        solver.set("timeout", _ms(seconds))
        solver.set("random_seed", seed)
        solver.add(*self._facts, *formulas)
        return _as_result(solver, solver.check())

    def _search(
        self,
        deadline: float | None,
        assumed: Sequence[z3.BoolRef],
        live: Sequence[z3.BoolRef] | None = None,
    ) -> Result:
        """The question itself in doubling slices, each with another random seed: Z3's
        time on string constraints is heavy-tailed (the same question in another
        process, its terms numbered otherwise, can take seconds or minutes), so the
        deadline is spent in restarts rather than in one search that may be the
        unlucky one. Given `live` (the question's facts), the slices go in turn to
        the incremental solver (which keeps what it learnt) and to a fresh one."""
        slice_, seed = (FIRST_SLICE if live is None else FIRST_SLICE / 2), 0
        while True:
            left = _left(deadline)
            if left is not None and left <= 0:
                return Unknown("timeout")
            budget = slice_ if left is None else min(left, slice_)
            if live is not None and seed % 2:
                result = self._fresh(live, budget, seed)
            else:
                solver = self._solver
                solver.set("timeout", _ms(budget))
                solver.set("random_seed", seed)
                result = _as_result(solver, solver.check(*assumed))
            if not _open(result):
                return result  # an answer, or what more time would not change
            slice_ = slice_ if live is not None and seed % 2 == 0 else slice_ * 2
            seed += 1

    def _check(
        self,
        tiers: Sequence[Sequence[z3.BoolRef]],
        deadline: float | None,
        first_try: float,
        assumed: Sequence[z3.BoolRef],
    ) -> Result:
        solver = self._solver
        for tier in tiers:
            left = _left(deadline)
            if left is not None and left <= 0:
                break
            # a tier is assumed, only for this check
            solver.set("timeout", _ms(first_try if left is None else min(left, first_try)))
            result = solver.check(*assumed, *tier)
            if result == z3.sat:
                return Sat(solver.model())
            pinned = result != z3.unsat or any(
                z3.eq(c, t) for c in solver.unsat_core() for t in tier
            )
            if not pinned:
                return Unsat()
            if result == z3.unknown:
                break  # the tiers only get harder: go straight to the real question
        return self._search(deadline, assumed)


def _as_result(solver: z3.Solver, checked: z3.CheckSatResult) -> Result:
    """A check's outcome, with its model or Z3's reason for not deciding."""
    if checked == z3.sat:
        return Sat(solver.model())
    if checked == z3.unsat:
        return Unsat()
    return Unknown(solver.reason_unknown() or "unknown")


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def _spent(deadline: float | None) -> bool:
    left = _left(deadline)
    return left is not None and left <= 0


def _open(result: Result) -> bool:
    """An unknown that more time (or another way of asking) may settle."""
    return isinstance(result, Unknown) and result.reason in ("timeout", "canceled")


def solve(
    formulas: Iterable[z3.BoolRef],
    tiers: Sequence[Sequence[z3.BoolRef]] = (),
    deadline: float | None = None,
    first_try: float = 5.0,
    refine: Refine | None = None,
) -> Result:
    """One question: are `formulas` satisfiable (readable tiers first)?"""
    return Session(formulas).ask((), tiers, deadline, first_try, refine, last=True)


def deadline_in(seconds: float) -> float:
    return time.monotonic() + seconds
