"""The one place that asks Z3: formulas in, `Sat(model)`, `Unsat` or `Unknown(reason)` out.

No other module reads a check result (a test holds this), so "unknown" can never be
taken for "no": an `Unknown` carries Z3's `reason_unknown()` or "timeout", and every
caller turns it into an unknown answer [CrossHair `solver_is_sat`, Cedar `SolverUnknown`].

Readable witnesses. Callers may give *tiers* of pins (example names, fewer context
keys): each tier is tried first, briefly, as an assumption. A model found under a tier
is the one shown to people; an unsat whose core holds no tier's assumption is a proof
without the pins, so the unpinned search is skipped.
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
# a model -> what it got wrong (nothing: the model stands)
Refine = Callable[[z3.ModelRef], Refinement]


FIRST_SLICE = 2.0  # seconds of the first search before a restart with another seed


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
        self._solver.add(*formulas)
        self._names = 0

    def add(self, *formulas: z3.BoolRef) -> None:
        """Facts for every later question (a blocking clause, say)."""
        self._solver.add(*formulas)

    def _literal(self, what: str) -> z3.BoolRef:
        self._names += 1
        return z3.Bool(f"kmsprove!{what}{self._names}")

    def _under(self, scope: z3.BoolRef | None, facts: Sequence[z3.BoolRef]) -> None:
        if not facts:
            return
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
    ) -> Result:
        """Is `extra` satisfiable with the facts? `deadline` is a `time.monotonic()` value
        (None: no limit); each tier gets at most `first_try` seconds of it. `last`: no
        question follows, so this one's facts are asserted as they are, not in a scope.

        `refine` adds facts lazily: a model it finds fault with is not an answer; its
        facts join the question and the search starts again (it must run out of facts
        to add, so this ends). Its pins come first, in place of the facts they stand
        for: a regular expression over a list can hold Z3's string solver past any
        timeout where one example value settles the question at once. Only if the
        pinned question fails do those facts themselves join it."""
        scope = None if last else self._literal("scope")
        assumed: list[z3.BoolRef] = [] if scope is None else [scope]
        self._under(scope, extra)
        pin: z3.BoolRef | None = None  # the literal the current pins hang on
        deferred: list[z3.BoolRef] = []  # facts those pins stand for
        pinning = True  # pins are tried until they fail once
        try:
            while True:
                result = self._check(tiers, deadline, first_try, assumed)
                if pin is not None and not isinstance(result, Sat):
                    # the pins failed: ask again with the facts themselves
                    assumed.remove(pin)
                    self._under(scope, deferred)
                    pin, deferred, pinning = None, [], False
                    continue
                if refine is None or not isinstance(result, Sat):
                    return result
                more = refine(result.model)
                if not more:
                    return result
                self._under(scope, more.facts)
                if more.pins and pinning:
                    if pin is None:
                        pin = self._literal("pins")
                        assumed.append(pin)
                    self._solver.add(z3.Implies(pin, z3.And(*more.pins)))
                    deferred += more.instead
                else:
                    self._under(scope, more.instead)
        finally:
            if scope is not None:
                self._solver.add(z3.Not(scope))  # this question's facts bind no later one

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
        # Restarts: Z3's running time on string constraints is heavy-tailed (the same
        # question in another process, its terms numbered otherwise, can take seconds
        # or minutes), so the deadline is spent in doubling slices, each with another
        # random seed, rather than in one search that may be the unlucky one.
        slice_, seed = FIRST_SLICE, 0
        while True:
            left = _left(deadline)
            if left is not None and left <= 0:
                return Unknown("timeout")
            budget = slice_ if left is None else min(left, slice_)
            solver.set("timeout", _ms(budget))
            solver.set("random_seed", seed)
            result = solver.check(*assumed)
            if result == z3.sat:
                return Sat(solver.model())
            if result == z3.unsat:
                return Unsat()
            reason = solver.reason_unknown() or "unknown"
            if reason not in ("timeout", "canceled"):
                return Unknown(reason)  # what more time would not change
            slice_, seed = slice_ * 2, seed + 1


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


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
