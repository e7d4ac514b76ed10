"""`can WHO ACTIONS [on key K] [where ...]` today: one solver question per key.

"∃ request: allowed ∧ who ∧ where" over the key's universe of principal classes; a
model is re-checked by the evaluator before it is a "yes" (`kmsprove.solve.recheck`).
"""

from __future__ import annotations

import time
from dataclasses import replace

import z3

from kmsprove.answer import Answer, Verdict
from kmsprove.arn import parse_arn, parse_caller
from kmsprove.ast import Effect, Query, WhoKind
from kmsprove.catalog import action_info, expand
from kmsprove.encode.authorize import encode_allowed
from kmsprove.encode.derive import free_facts, open_keys
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.prune import may_allow, world_for
from kmsprove.encode.question import cond_formula, example_pins, is_trusted, keeps, who_formula
from kmsprove.encode.shapes import ShapeRefiner
from kmsprove.encode.symbolic import Sym, new_sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import Universe, build_universe, restrict
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.evaluate.keystate import type_forbids
from kmsprove.evaluate.principals import is_service_name
from kmsprove.questions.requests import as_caller, conds_hold, covered, final_request
from kmsprove.request import Context, Layer
from kmsprove.solve.bounds import bound_exceeded, set_bound_for
from kmsprove.solve.recheck import as_sent, caller_exists, witness_answer
from kmsprove.solve.session import Result, Sat, Unsat, deadline_in, solve
from kmsprove.solve.unresolved import unresolved_grant
from kmsprove.world import Key, World


def query_actions(query: Query) -> list[str]:
    """The query's actions, wildcards expanded against the catalogue (S3 actions as given)."""
    out: list[str] = []
    for pattern in query.actions:
        names = expand(pattern) if pattern.lower().startswith("kms:") else (pattern,)
        out += [n for n in names if n not in out]
    return out


def open_accounts(world: World, u: Universe) -> tuple[str, ...]:
    return tuple(
        sorted({a for a in u.accounts if not world.account(a).complete} | {"(any other account)"})
    )


def ask_key(world: World, query: Query, key: Key, timeout: float) -> Answer:
    start = time.perf_counter()
    answer = solve_today(world, query, key, timeout)
    return replace(answer, key=key.arn, seconds=time.perf_counter() - start)


# A universe of many classes is asked in parts (`Universe.part`): classes without
# identity documents (roots, unnamed classes, services) first, where a "yes" usually
# is and each costs little, then the classes with documents. Each part is a smaller
# formula (Z3's time grows faster than its size); "no" needs every part's proof.
LIGHT = 300  # classes without identity documents in one part
HEAVY = 100  # classes with identity documents in one part


def parts(u: Universe) -> list[Universe]:
    light = [e for e in u.entries if e.identity is None]
    heavy = [e for e in u.entries if e.identity is not None]
    if len(light) <= LIGHT and len(heavy) <= HEAVY:
        return [u]
    chunks = [light[i : i + LIGHT] for i in range(0, len(light), LIGHT)]
    chunks += [heavy[i : i + HEAVY] for i in range(0, len(heavy), HEAVY)]
    return [u.part(c) for c in chunks]


def solve_today(
    world: World, query: Query, key: Key, timeout: float, exclude: tuple[str, ...] = ()
) -> Answer:
    """Today's answer; `exclude` names principals that may not be the caller (trusted ones)."""
    names = query_actions(query)
    infos = [action_info(n) for n in names]
    if any(i is None or not i.on_key for i in infos):
        bad = [n for n, i in zip(names, infos, strict=True) if i is None or not i.on_key]
        return Answer(
            Verdict.UNKNOWN, reason=f"actions not on a key are not modelled: {', '.join(bad)}"
        )
    actions = [i for i in infos if i is not None]
    bound = set_bound_for(world)
    sym = new_sym(actions, set_bound=bound)
    # what the question's actions cannot reach is dropped first, with the principals
    # and accounts only it names (a shared key's grants to thousands of accounts)
    seen, cut = world_for(world, key, sym, query)
    u = build_universe(seen, cut, query)
    restrict(u, keeps(seen, query, u))
    opens = open_accounts(world, u)
    if not may_allow(cut, u, sym):  # no statement or grant left covers these callers
        return conclude(world, u, sym, key, Unsat(), None, opens)
    if not exclude:
        found = concrete_yes(world, query, key, names, opens, cut)
        if found is not None:
            return found
    deadline = deadline_in(timeout)
    held: Answer | None = None  # an unknown part's answer, if no later part says yes
    for n, piece in enumerate(parts(u)):
        if n:
            sym = new_sym(actions, set_bound=bound)
        try:
            formulas = _formulas(seen, cut, query, piece, sym, exclude)
        except Unmodelled as exc:
            return Answer(
                Verdict.UNKNOWN,
                reason=f"not modelled: {exc}",
                open_accounts=open_accounts(world, u),
            )
        result = search(sym, formulas, deadline, None)
        if isinstance(result, Unsat):
            continue
        answer = conclude(world, piece, sym, key, result, None, opens)
        if answer.verdict is Verdict.YES:
            return answer
        held = held or answer
    if held is not None:
        return held
    return conclude(world, u, sym, key, Unsat(), None, opens)


CONCRETE_TRIES = 8  # plain requests tried before the solver (each one evaluation)


def _candidates(query: Query, key: Key, cut: Key) -> list[str]:
    """Callers whose plain request settles a "yes" when the evaluator allows it: the
    one principal the question names, the root users of the accounts it names, the
    key account's root user for `anyone`; then the principals the key-policy Allow
    statements left for the question's actions name (a partner account's root user,
    a named role through a session)."""
    who = query.who
    out: list[str] = []
    match who.kind:
        case WhoKind.PRINCIPAL:
            pattern = who.pattern or ""
            return [] if set("*?") & set(pattern) else [as_caller(pattern)]
        case WhoKind.IN_ACCOUNTS:
            out = [f"arn:aws:iam::{a}:root" for a in who.accounts]
        case WhoKind.ANYONE | WhoKind.ANY_PRINCIPAL:
            out = [f"arn:aws:iam::{key.account}:root"]
    for policy in cut.policies:
        for st in policy.statements:
            if st.effect is Effect.ALLOW:
                out += [as_caller(p.value) for p in st.principal or () if p.kind == "AWS"]
    return list(dict.fromkeys(c for c in out if c.startswith("arn:")))


def concrete_yes(
    world: World,
    query: Query,
    key: Key,
    actions: list[str],
    opens: tuple[str, ...],
    cut: Key,
) -> Answer | None:
    """A "yes" decided without a formula: a candidate caller's request (`_candidates`,
    with the values the question's `where` pins) that the evaluator allows and that the
    question covers. None: the solver decides (a denied candidate proves nothing)."""
    callers = [
        c
        for c in _candidates(query, key, cut)
        # a root user, or a principal the world lists: an unlisted role's path (and so
        # its aws:PrincipalArn) is the solver's to choose
        if covered(world, query, c) and (c.endswith(":root") or world.identity(c) is not None)
    ]
    tries = [(c, a) for c in callers for a in actions]
    for caller, action in tries[:CONCRETE_TRIES]:
        plain = final_request(replace(query, conditions=()), caller, action, key, {})
        if not caller_exists(world, plain):
            continue
        try:
            derived = complete_request(world, plain).context
            # the question's pins, but never over what AWS derives for this caller
            # (aws:PrincipalIsAWSService is "false" for a user, whatever the `where`)
            pinned = final_request(query, caller, action, key, {})
            own = {
                name: list(vals)
                for low, vals in pinned.context.values.items()
                if derived.get(name := pinned.context.names[low]) is None
            }
            req = replace(plain, context=Context.of({**plain.context.as_json(), **own}))
            full = complete_request(world, req)
        except InputError:
            continue  # a value the question pins that this request cannot carry
        if not (covered(world, query, full.principal) and conds_hold(query, full)):
            continue
        decision = evaluate(world, full)
        if decision.allowed:
            answer = Answer(
                Verdict.YES,
                counterexample=full,
                decision=decision,
                open_accounts=opens,
                reason=decision.reason,
                checked_world=world,
                shown=as_sent(world, full),
            )
            return replace(answer, notes=service_notes(key, answer))
    return None


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
        actions = [a.name for a in sym.actions]
        exceeded = bound_exceeded(world) or unresolved_grant(key, u, actions)
        if exceeded:
            return Answer(
                Verdict.UNKNOWN, open_accounts=opens, reason=f"no request found, but {exceeded}"
            )
        return Answer(Verdict.NO, open_accounts=opens, reason=_no_reason(key, sym))
    if not isinstance(result, Sat):
        return Answer(Verdict.UNKNOWN, open_accounts=opens, reason=f"solver: {result.reason}")
    answer = witness_answer(world, u, sym, key, result.model, resource, opens)
    return replace(answer, notes=service_notes(key, answer))


def service_notes(key: Key, answer: Answer) -> tuple[str, ...]:
    """What a "yes" through an AWS service means: no condition ties the service to the
    key's account, so it may act for any account's resources (the confused deputy);
    and a grant to a service principal covers callers nobody can list (R4.3)."""
    r = answer.counterexample
    if answer.verdict is not Verdict.YES or r is None:
        return ()
    notes = []
    if parse_caller(r.principal).kind == "service":
        source = r.context.get("aws:SourceAccount")
        arn = r.context.get("aws:SourceArn")
        parsed = parse_arn(arn[0]) if arn else None
        acting = source[0] if source else parsed.account if parsed else ""
        if acting != key.account:
            here = f"here it acts for account {acting}" if acting else "this request names none"
            notes.append(
                f"no aws:SourceAccount or aws:SourceArn condition ties {r.principal} to"
                f" {key.account}: it may act for any account ({here})"
            )
    layers = answer.decision.layers if answer.decision is not None else ()
    used = {s.sid for lr in layers if lr.layer is Layer.GRANTS for s in lr.statements if s.matched}
    notes.extend(
        f"grant {g.grant_id} is to the service principal {g.grantee}: who such a grant"
        " covers is unknown (AWS lists it for the service's own grantees), so it counts"
        " for any caller (R4.3)"
        for g in key.grants
        if g.grant_id in used and g.grantee and is_service_name(g.grantee)
    )
    return tuple(notes)


def _no_reason(key: Key, sym: Sym) -> str:
    """Why no request is allowed, when it is the key's type: an operation the type never
    does (Sign on a symmetric key) is a "no" for every caller, and says so, as
    `explain` does (R3.5)."""
    why = [r for a in sym.actions if (r := type_forbids(key, a.short)) is not None]
    if why and len(why) == len(sym.actions):
        return "no request can succeed: " + "; ".join(why)
    if why:
        return "no request matching the query is allowed (" + "; ".join(why) + ")"
    return "no request matching the query is allowed"
