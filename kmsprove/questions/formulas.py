"""Today's question over all requests, for what `kmsprove.questions.today` did not
settle without a formula: "∃ request: allowed ∧ who ∧ where" over the key's universe of
principal classes (asked in parts when it is large), solved, and a model re-checked by
the evaluator before it is a "yes" (`kmsprove.solve.recheck`). Imported only when a
question needs the solver: it brings z3 and the encoder.
"""

from __future__ import annotations

from dataclasses import replace

import z3

from kmsprove.answer import Answer, Verdict
from kmsprove.ast import Query
from kmsprove.catalog import ActionInfo
from kmsprove.encode.authorize import encode_allowed
from kmsprove.encode.derive import free_facts, open_keys
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.prune import may_allow
from kmsprove.encode.question import cond_formula, example_pins, who_formula
from kmsprove.encode.shapes import ShapeRefiner
from kmsprove.encode.static import is_trusted
from kmsprove.encode.symbolic import Sym, new_sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import Universe
from kmsprove.questions.verdicts import no_answer, open_accounts, service_notes
from kmsprove.solve.bounds import set_bound_for
from kmsprove.solve.recheck import witness_answer
from kmsprove.solve.session import Result, Sat, Unsat, deadline_in, solve
from kmsprove.world import Key, World


def solve_symbolic(
    world: World,
    seen: World,
    cut: Key,
    u: Universe,
    pieces: list[Universe],
    query: Query,
    key: Key,
    actions: list[ActionInfo],
    opens: tuple[str, ...],
    timeout: float,
    exclude: tuple[str, ...],
) -> Answer:
    """The solver's answer on `seen` (the world with the key cut to `cut`) over `u`,
    asked in `pieces` (`kmsprove.questions.today.parts`)."""
    bound = set_bound_for(world)
    sym = new_sym(actions, set_bound=bound)
    if not may_allow(cut, u, sym):  # exact per class: no statement or grant covers one
        return no_answer(world, u, key, actions, opens)
    deadline = deadline_in(timeout)
    held: Answer | None = None  # an unknown part's answer, if no later part says yes
    for n, piece in enumerate(pieces):
        if n:
            sym = new_sym(actions, set_bound=bound)
        try:
            formulas = _formulas(seen, cut, query, piece, sym, exclude)
        except Unmodelled as exc:
            return Answer(Verdict.UNKNOWN, reason=f"not modelled: {exc}", open_accounts=opens)
        result = search(sym, formulas, deadline, None)
        if isinstance(result, Unsat):
            continue
        answer = conclude(world, piece, sym, key, result, None, opens)
        if answer.verdict is Verdict.YES:
            return answer
        held = held or answer
    return held if held is not None else no_answer(world, u, key, actions, opens)


def _formulas(
    world: World, key: Key, query: Query, u: Universe, sym: Sym, exclude: tuple[str, ...]
) -> list[z3.BoolRef]:
    open_keys(sym)
    allowed = encode_allowed(world, key, u, sym)
    who = who_formula(query, u, sym)
    conds = [cond_formula(c, sym) for c in query.conditions]
    facts = free_facts(u, key, sym)
    conds += [sym.pid != e.index for e in u.entries if is_trusted(e, u, exclude)]
    return [*facts, allowed, who, *conds]


def search(
    sym: Sym, formulas: list[z3.BoolRef], deadline: float, resource: z3.SeqRef | None
) -> Result:
    """Solve, readable names first: the example names are tried for at most 5 s,
    usually quick when the answer is yes (no string search), and what people read."""
    pins = example_pins(sym)
    if resource is not None:  # an object of the bucket: `example` when it can be
        pins.append(z3.SuffixOf(lit("/example"), resource))
    return solve(formulas, [pins], deadline, 5.0, ShapeRefiner([sym]))


def check(
    world: World,
    u: Universe,
    sym: Sym,
    key: Key,
    formulas: list[z3.BoolRef],
    timeout: float,
    resource: z3.SeqRef | None,
) -> Answer:
    """Solve, then re-check the counterexample with the evaluator."""
    result = search(sym, formulas, deadline_in(timeout), resource)
    return conclude(world, u, sym, key, result, resource, open_accounts(world, u))


def conclude(
    world: World,
    u: Universe,
    sym: Sym,
    key: Key,
    result: Result,
    resource: z3.SeqRef | None,
    opens: tuple[str, ...],
) -> Answer:
    """The answer of a solver result: a "no" only with nothing that could make it
    wrong (`bound_exceeded`, `unresolved_grant`), a "yes" only re-checked."""
    if isinstance(result, Unsat):
        return no_answer(world, u, key, list(sym.actions), opens)
    if not isinstance(result, Sat):
        return Answer(Verdict.UNKNOWN, open_accounts=opens, reason=f"solver: {result.reason}")
    answer = witness_answer(world, u, sym, key, result.model, resource, opens)
    return replace(answer, notes=service_notes(key, answer))
