"""`can WHO ACTIONS [on key K] [where ...]` today, for one key.

First what needs no formula (and no z3): the key is cut to what the question's actions
reach, the universe of principal classes is built and restricted to what the `who` and
`where` may cover (`kmsprove.encode.static`); when nothing left covers any class the
answer is no; when a plain request of a named caller is allowed by the evaluator, it is
yes. Only then the solver (`kmsprove.questions.formulas`): "∃ request: allowed ∧ who ∧
where" over the universe, a model re-checked by the evaluator before it is a "yes".
"""

from __future__ import annotations

import time
from dataclasses import replace

from kmsprove.answer import Answer, Verdict
from kmsprove.arn import parse_caller
from kmsprove.ast import Effect, Query, WhoKind
from kmsprove.catalog import action_info, expand
from kmsprove.encode.static import keeps, maybe_covered, world_for
from kmsprove.encode.universe import Universe, build_universe, restrict
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.questions.requests import as_caller, conds_hold, covered, final_request
from kmsprove.questions.verdicts import no_answer, open_accounts, service_notes
from kmsprove.request import Context
from kmsprove.solve.requests import as_sent, caller_exists
from kmsprove.world import Key, World


def query_actions(query: Query) -> list[str]:
    """The query's actions, wildcards expanded against the catalogue (S3 actions as given)."""
    out: list[str] = []
    for pattern in query.actions:
        names = expand(pattern) if pattern.lower().startswith("kms:") else (pattern,)
        out += [n for n in names if n not in out]
    return out


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
    # what the question's actions cannot reach is dropped first, with the principals
    # and accounts only it names (a shared key's grants to thousands of accounts)
    seen, cut = world_for(world, key, names, query)
    u = build_universe(seen, cut, query)
    restrict(u, keeps(seen, query, u))
    opens = open_accounts(world, u)
    if not maybe_covered(cut, u, names):  # no statement or grant left covers these callers
        return no_answer(world, u, key, actions, opens)
    if not exclude:
        found = concrete_yes(world, query, key, names, opens, cut)
        if found is not None:
            return found
    # start-up: the encoder and z3, only for a question the steps above did not settle
    from kmsprove.questions.formulas import solve_symbolic

    return solve_symbolic(
        world, seen, cut, u, parts(u), query, key, actions, opens, timeout, exclude
    )


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
            named = [] if set("*?") & set(pattern) else [as_caller(pattern)]
            return [c for c in named if _may_call(c)]
        case WhoKind.IN_ACCOUNTS:
            out = [f"arn:aws:iam::{a}:root" for a in who.accounts]
        case WhoKind.ANYONE | WhoKind.ANY_PRINCIPAL:
            out = [f"arn:aws:iam::{key.account}:root"]
    for policy in cut.policies:
        for st in policy.statements:
            if st.effect is Effect.ALLOW:
                out += [as_caller(p.value) for p in st.principal or () if p.kind == "AWS"]
    return list(dict.fromkeys(c for c in out if c.startswith("arn:") and _may_call(c)))


def _may_call(caller: str) -> bool:
    """Not a session or federated user of a name STS never gives (RoleSessionName and
    GetFederationToken's Name are 2 characters at least, as the encoder's `free_facts`)."""
    c = parse_caller(caller)
    name = c.session if c.kind == "assumed-role" else c.name if c.kind == "federated-user" else ""
    return c.kind not in ("assumed-role", "federated-user") or len(name) >= 2


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
            # the question's pins (those a caller can send: `final_request`), never over
            # what the world derives for this caller; a pin that does not hold here
            # fails conds_hold below
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
