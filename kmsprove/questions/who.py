"""`who ACTIONS [on key K]`: every principal, and every class of unnamed principals,
that can; each with a witness the evaluator re-checks, and a proof that nobody else can.

One solver session per key holds the world's formulas once (the key's "allowed", the
facts that tie a request together); each question asks for an allowed request whose
caller is outside everything found so far. The model's caller is a universe entry
(`kmsprove.encode.universe`: finitely many classes that together cover every real
principal): a named principal (a role stands for its sessions), an account's root, the
unnamed users, role sessions or federated users of an open account or of the accounts
nothing mentions, a named service (split by the account it acts for: `acting_flags`),
any other service. Its witness
is re-checked (`kmsprove.solve.recheck`), and a blocking clause that the model breaks
leaves that class out of every later question, so the loop ends. Unsat is the proof that
nobody else can; the cost is one question per class found, plus that last one, or fewer:
a witness's request is also tried, by the evaluator alone, for the named principals not
found yet (`_probe`), and each it allows is found (and blocked) without a question.

`--timeout` is the budget of the whole run: when it is spent the list found so far is
the answer, and "nobody else" is unknown, never claimed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import z3

from kmsprove.answer import Answer, Verdict, WhoFound, WhoResult, WhoStatus
from kmsprove.arn import parse_caller, partition_of
from kmsprove.ast import Query
from kmsprove.catalog import action_info, derived_keys
from kmsprove.encode.authorize import encode_allowed
from kmsprove.encode.derive import free_facts, open_keys
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.question import (
    EXAMPLE_NAME,
    acting_flags,
    cond_formula,
    example_pins,
)
from kmsprove.encode.shapes import ShapeRefiner
from kmsprove.encode.static import is_trusted
from kmsprove.encode.symbolic import Sym, new_sym
from kmsprove.encode.universe import Entry, Universe, build_universe
from kmsprove.errors import InputError, SourcePos
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.evaluate.keystate import type_forbids
from kmsprove.questions.hedge import unsettled
from kmsprove.questions.today import query_actions
from kmsprove.questions.verdicts import open_accounts, service_notes
from kmsprove.solve.bounds import bound_exceeded, set_bound_for
from kmsprove.solve.recheck import witness_answer
from kmsprove.solve.requests import as_sent
from kmsprove.solve.session import Sat, Session, Unsat, deadline_in
from kmsprove.solve.unresolved import unresolved_grant
from kmsprove.syntax.query import parse_at
from kmsprove.syntax.query_checks import Where
from kmsprove.world import Key, World

PREFIX = "can anyone "
FIRST_TRY = 2.0  # seconds for the readable names before the unpinned question
ANY_OTHER = "*"  # a service acting for an account nothing mentions, or for none
TYPES = {"user": "user", "session": "role", "federated": "federated-user", "root": "root"}


def parse_actions(text: str, name: str = "<actions>") -> Query:
    """`ACTIONS [on key K] [where ...]`, read as the query `can anyone ...` (errors
    positioned in `text` itself)."""
    if not text.strip():
        raise InputError.at(SourcePos(name, 1, 1), "expected an action, as in `kms:Decrypt`")
    q = parse_at(Where(PREFIX + text, name, shift=-len(PREFIX)))
    if q.ever:
        raise InputError.at(
            SourcePos(name, 1, text.find("ever") + 1),
            "`who` enumerates today's access: `ever` is for `kmsprove query`",
        )
    if q.target is not None and q.target.kind != "key":
        raise InputError.at(q.target.pos, "`who` asks about a key: give `on key K` or nothing")
    return q


def ask_who(
    world: World, query: Query, timeout: float = 30.0, trusted: tuple[str, ...] = ()
) -> list[WhoResult]:
    """Who can, for each key the query is about; `timeout` is the budget of them all."""
    deadline = deadline_in(timeout)
    if query.target is not None:
        key = world.find_key(query.target.ref)
        if key is None:
            raise InputError.at(query.target.pos, f"no key `{query.target.ref}` in the world")
        keys: Sequence[Key] = [key]
    else:
        keys = world.keys
    return [_hedged(world, who_key(world, query, k, deadline, trusted)) for k in keys]


@dataclass
class _Search:
    """One key's question: the session over its facts, and what it found so far."""

    world: World
    key: Key
    u: Universe
    sym: Sym
    session: Session
    acting: dict[str, z3.BoolRef]  # account -> "a service caller acts for it"
    found: list[WhoFound]
    tiers: list[list[z3.BoolRef]]  # readable witnesses first (`_readable`)
    barred: set[int]  # entries trusted: never asked about
    probing: bool  # try each witness on the named principals (`_probe`)
    done: set[int] = field(default_factory=set)  # entries found (services aside)
    queries: int = 0


def who_key(
    world: World, query: Query, key: Key, deadline: float, trusted: tuple[str, ...] = ()
) -> WhoResult:
    start = time.perf_counter()
    names = query_actions(query)
    base = WhoResult(key.arn, tuple(names), WhoStatus.UNKNOWN, trusted=trusted)
    infos = [action_info(n) for n in names]
    bad = [n for n, i in zip(names, infos, strict=True) if i is None or not i.on_key]
    if bad:
        return replace(base, reason=f"actions not on a key are not modelled: {', '.join(bad)}")
    u = build_universe(world, key, query)
    base = replace(base, open_accounts=open_accounts(world, u))
    try:
        sym = new_sym([i for i in infos if i is not None], set_bound=set_bound_for(world))
        open_keys(sym)
        allowed = encode_allowed(world, key, u, sym)
        conds = [cond_formula(c, sym) for c in query.conditions]
        # before the facts: the keys it reads get their derivations there
        acting, defined = acting_flags(sym, u.accounts)
        facts = [*free_facts(u, key, sym), *defined]
    except Unmodelled as exc:
        return replace(base, reason=f"not modelled: {exc}")
    barred = {e.index for e in u.entries if is_trusted(e, u, trusted)}
    session = Session([*facts, allowed, *conds, *[sym.pid != i for i in sorted(barred)]])
    # a `where` condition may not hold once the caller changes: no probing then
    probing = not query.conditions
    search = _Search(world, key, u, sym, session, acting, [], _readable(sym), barred, probing)
    status, reason = _enumerate(search, deadline)
    return replace(
        base,
        status=status,
        reason=reason,
        found=tuple(sorted(search.found, key=lambda f: _order(f, key))),
        queries=search.queries,
        seconds=time.perf_counter() - start,
    )


def _enumerate(s: _Search, deadline: float) -> tuple[WhoStatus, str]:
    """Ask "someone outside what was found?" until unsat (the proof) or the budget ends."""
    while True:
        if time.monotonic() >= deadline:
            return WhoStatus.UNKNOWN, _cut_short(s, "timeout")
        result = s.session.ask((), s.tiers, deadline, FIRST_TRY, ShapeRefiner([s.sym]))
        s.queries += 1
        if isinstance(result, Unsat):
            return _proof(s)
        if not isinstance(result, Sat):
            return WhoStatus.UNKNOWN, _cut_short(s, f"solver: {result.reason}")
        e, found, block = _class_of(s, result.model)
        if z3.is_false(result.model.eval(block, model_completion=True)):
            raise AssertionError("a class's blocking clause must exclude its own model")
        _add(s, e, found, block)
        if s.probing and found.confirmed:
            hits = _probe(s, found.answer)
            s.probing = bool(hits)  # one pass that finds nobody ends the probing
            for hit, f in hits:
                _add(s, hit, f, s.sym.pid == hit.index)


def _add(s: _Search, e: Entry, found: WhoFound, block: z3.BoolRef) -> None:
    s.found.append(found)
    s.session.add(z3.Not(block))
    if e.kind != "service":
        s.done.add(e.index)


def _probe(s: _Search, witness: Answer) -> list[tuple[Entry, WhoFound]]:
    """The witness's request as its caller sent it, sent instead by each named principal
    whose documents the world holds and that is not found yet: each one the evaluator
    allows is found with that request, without a solver question (the evaluator's own
    decision is its re-check). Principals alike (a thousand roles with one managed
    policy) then cost one question, not one each. A service's request is not tried:
    what it sends (aws:SourceArn) no IAM principal sends."""
    sent = witness.shown or witness.counterexample
    caller = parse_caller(sent.principal) if sent is not None else None
    if sent is None or caller is None or caller.is_service:
        return []
    session = caller.session if caller.kind == "assumed-role" else EXAMPLE_NAME
    out = []
    for e in s.u.entries:
        if e.index in s.done or e.index in s.barred or e.any_iam or e.name is None:
            continue
        if e.kind not in ("user", "session", "root") or e.arn is None or e.account is None:
            continue
        account = s.u.account_id(e.account)
        principal = e.arn
        if e.kind == "session":
            principal = f"arn:{partition_of(e.arn)}:sts::{account}:assumed-role/{e.name}/{session}"
        try:
            full = complete_request(
                s.world, replace(sent, principal=principal, federated_from=None)
            )
        except InputError:
            continue  # the request carries a key this caller cannot send
        decision = evaluate(s.world, full)
        if decision.allowed:
            answer = Answer(
                Verdict.YES,
                key=s.key.arn,
                counterexample=full,
                decision=decision,
                open_accounts=witness.open_accounts,
                reason=decision.reason,
                checked_world=s.world,
                shown=as_sent(s.world, full),
            )
            out.append((e, _found(e, account, None, answer)))
    return out


_RANK = ("root", "user", "role", "federated-user", "service")


def _order(f: WhoFound, key: Key) -> tuple[object, ...]:
    """Shown by account (the key's first, services last), named before unnamed."""
    where = (0, "") if f.account == key.account else (1, f.account) if f.account else (2, "")
    if f.type == "service":
        where = (3, f.principal or "~")
    return (*where, not f.named, _RANK.index(f.type), f.principal or "", f.acting_for or "")


def _readable(sym: Sym) -> list[list[z3.BoolRef]]:
    """Tiers of pins, tried first: the example names and no context key a caller may
    leave out; then the names alone (as `query` does)."""
    names = example_pins(sym)
    quiet = [
        z3.Not(v.present)
        for low, v in sym.ctx.items()
        if low not in derived_keys()
        and not low.startswith(("aws:principaltag/", "aws:resourcetag/"))
    ]
    return [[*names, *quiet], names] if quiet else [names]


def _cut_short(s: _Search, why: str) -> str:
    return f"{why} after {len(s.found)} found: whether anyone else can is unknown"


def _proof(s: _Search) -> tuple[WhoStatus, str]:
    """The last question was unsat: nobody outside the classes found can, unless the
    unsat is no proof (a bound, an unresolved grantee) or a witness was not confirmed."""
    actions = [a.name for a in s.sym.actions]
    caveat = bound_exceeded(s.world) or unresolved_grant(s.key, s.u, actions)
    if caveat:
        return WhoStatus.UNKNOWN, f"nobody else found, but {caveat}"
    doubtful = [f for f in s.found if not f.confirmed]
    if doubtful:
        return WhoStatus.UNKNOWN, (
            f"nobody else can, but {len(doubtful)} of those listed are not confirmed"
            f" ({doubtful[0].answer.reason})"
        )
    if not s.found:
        why = [r for a in s.sym.actions if (r := type_forbids(s.key, a.short)) is not None]
        if why and len(why) == len(s.sym.actions):
            return WhoStatus.COMPLETE, "nobody can: no request can succeed: " + "; ".join(why)
        return WhoStatus.COMPLETE, "nobody can (proved)"
    return WhoStatus.COMPLETE, "nobody else can (proved)"


def _class_of(s: _Search, model: z3.ModelRef) -> tuple[Entry, WhoFound, z3.BoolRef]:
    """The class of the model's caller, with its re-checked witness, and the blocking
    clause's formula ("the caller is in that class"), which holds in the model."""
    sym, u = s.sym, s.u
    e: Entry = u.entries[model.eval(sym.pid, model_completion=True).as_long()]
    here = sym.pid == e.index
    answer = witness_answer(s.world, u, sym, s.key, model, None, open_accounts(s.world, u))
    answer = replace(answer, key=s.key.arn, notes=service_notes(s.key, answer))
    if e.kind == "service" and e.name is not None:
        for acct, formula in s.acting.items():
            if z3.is_true(model.eval(formula, model_completion=True)):
                return e, _found(e, None, acct, answer), z3.And(here, formula)
        others = z3.Not(z3.Or(*s.acting.values()))
        return e, _found(e, None, ANY_OTHER, answer), z3.And(here, others)
    # a service nobody names is one class, whomever it acts for: `Principal: "*"` let
    # it in, which says enough (and its names make the string solver slow)
    account = None if e.account is None else u.account_id(e.account)
    return e, _found(e, account, None, answer), here


def _found(e: Entry, account: str | None, acting_for: str | None, answer: Answer) -> WhoFound:
    kind = "service" if e.kind == "service" else TYPES[e.kind]
    return WhoFound(
        named=e.name is not None,
        type=kind,
        principal=e.arn,
        account=account,
        acting_for=acting_for,
        answer=answer,
    )


def _hedged(world: World, result: WhoResult) -> WhoResult:
    """What the inputs leave unsettled about the key makes every finding and the proof
    unknown (`kmsprove.questions.hedge`); what the reader assumed is repeated."""
    if world.assumed:
        result = replace(result, inputs_assumed=world.assumed)
    items = unsettled([world], result.key)
    if not items:
        return result
    shown = "; ".join(dict.fromkeys(i.reason for i in items[:3]))
    why = f"the inputs leave unsettled: {shown}" + (
        f" (and {len(items) - 3} more)" if len(items) > 3 else ""
    )
    found = tuple(
        replace(f, answer=Answer(Verdict.UNKNOWN, key=f.answer.key, reason=why))
        for f in result.found
    )
    return replace(result, status=WhoStatus.UNKNOWN, found=found, reason=why)
