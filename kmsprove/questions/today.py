"""Query stage: `Query` -> `Answer`. Solve "∃ request: allowed ∧ matches the query",
decode a counterexample, and check it again with the concrete evaluator.

The only module (with the tests) that imports both the evaluator and the
encoder: they meet here, in the re-check of every "yes".
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any

import z3

from kmsprove.arn import parse_caller
from kmsprove.ast import CondOp, Query, WhoKind
from kmsprove.catalog import action_info, expand
from kmsprove.encode.authorize import encode_allowed
from kmsprove.encode.derive import free_facts, open_keys
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.match import arn_re, glob_re
from kmsprove.encode.symbolic import MAX_SET_BOUND, MULTI_VALUED, Sym, new_sym
from kmsprove.encode.universe import FRESH, Entry, Universe, build_universe, restrict
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.request import Decision, Request
from kmsprove.solve.decode import decode, witness_world
from kmsprove.world import Key, World

EXAMPLE_ACCOUNT = "999999999999"
EXAMPLE_NAME = "example"


class Verdict(enum.Enum):
    YES = "yes"  # some request matching the query is allowed: here it is
    NO = "no"  # no request matching the query is allowed (a proof, under the assumptions)
    UNKNOWN = "unknown"  # timeout or something not modelled: neither yes nor no


@dataclass
class Answer:
    verdict: Verdict
    key: str | None = None
    counterexample: Request | None = None
    decision: Decision | None = None  # the evaluator's decision on the counterexample
    witness: list[str] = field(
        default_factory=list
    )  # identity policies assumed for unnamed principals
    open_accounts: list[str] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0
    trace: list[dict[str, Any]] = field(
        default_factory=list
    )  # `ever`: the steps before the request
    trusted: list[str] = field(default_factory=list)
    not_modelled: list[str] = field(default_factory=list)  # steps a "no" does not cover
    assumed: dict[str, str] = field(default_factory=dict)  # unnamed caller -> its witness policy

    def as_json(self) -> dict[str, Any]:
        ce = None
        if self.counterexample is not None:
            r = self.counterexample
            ce = {
                "principal": r.principal,
                "action": r.action,
                "key": r.key,
                "context": r.context.as_json(),
                "trace": [*self.trace, _final_step(r)] if self.trace else [],
            }
            if r.federated_from:
                ce["federated_from"] = r.federated_from
            if self.witness:
                ce["assumed_identity_policies"] = self.witness
        return {
            "answer": self.verdict.value,
            "key": self.key,
            "counterexample": ce,
            "assumptions": {
                "open_accounts": self.open_accounts,
                "trusted": self.trusted,
                "steps_not_modelled": self.not_modelled,
            },
            "reason": self.reason,
            "seconds": round(self.seconds, 4),
        }


def _final_step(r: Request) -> dict[str, Any]:
    out: dict[str, Any] = {
        "principal": r.principal,
        "action": r.action,
        "key": r.key,
        "parameters": {},
        "context": r.context.as_json(),
    }
    if r.federated_from:
        out["federated_from"] = r.federated_from
    return out


def query_actions(query: Query) -> list[str]:
    out: list[str] = []
    for pattern in query.actions:
        names = expand(pattern) if pattern.lower().startswith("kms:") else (pattern,)
        out += [n for n in names if n not in out]
    return out


def ask(
    world: World, query: Query, timeout: float = 30.0, trusted: tuple[str, ...] = ()
) -> list[Answer]:
    """One answer per key the query is about."""
    if query.target is not None and query.target.kind == "key":
        key = world.find_key(query.target.ref)
        if key is None:
            raise InputError.at(query.target.pos, f"no key `{query.target.ref}` in the world")
        keys = [key]
    elif query.target is not None:
        start = time.perf_counter()
        answer = _solve_bucket(world, query, timeout)
        answer.seconds = time.perf_counter() - start
        return [answer]
    else:
        keys = list(world.keys)
    return [ask_key(world, query, k, timeout, trusted) for k in keys]


def ask_key(
    world: World, query: Query, key: Key, timeout: float, trusted: tuple[str, ...] = ()
) -> Answer:
    start = time.perf_counter()
    answer = _solve(world, query, key, timeout, trusted)
    answer.seconds = time.perf_counter() - start
    answer.key = key.arn
    return answer


def _open_accounts(world: World, u: Universe) -> list[str]:
    return sorted(
        {a for a in u.accounts if not world.account(a).complete} | {"(any other account)"}
    )


def _solve(
    world: World, query: Query, key: Key, timeout: float, trusted: tuple[str, ...] = ()
) -> Answer:
    if query.ever:
        from kmsprove.questions.ever import ask_ever

        return ask_ever(world, query, key, timeout, trusted)
    return solve_today(world, query, key, timeout)


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
    u = build_universe(world, key, query)
    restrict(u, lambda e: may_match(query, u_accounts(e, u)) and _outside_org(world, query, e, u))
    try:
        sym = new_sym([i for i in infos if i is not None], set_bound=set_bound_for(world))
        open_keys(sym)
        allowed = encode_allowed(world, key, u, sym)
        who = who_formula(query, u, sym)
        conds = [cond_formula(c, sym) for c in query.conditions]
        facts = free_facts(u, key, sym)
    except Unmodelled as exc:
        return Answer(
            Verdict.UNKNOWN, reason=f"not modelled: {exc}", open_accounts=_open_accounts(world, u)
        )
    barred = [e.index for e in u.entries if _is_trusted(e, u, exclude)]
    conds += [sym.pid != i for i in barred]
    return _check(world, u, sym, key, [*facts, allowed, who, *conds], timeout, None)


def _is_trusted(e: Entry, u: Universe, trusted: tuple[str, ...]) -> bool:
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


def _check(
    world: World,
    u: Universe,
    sym: Sym,
    key: Key,
    formulas: list[z3.BoolRef],
    timeout: float,
    resource: z3.SeqRef | None,
) -> Answer:
    """Solve, decode, and check the counterexample again with the evaluator."""
    solver = z3.Solver()
    solver.add(*formulas)
    # First with the fresh names pinned to example values: when the answer is
    # yes this is usually quick (no string search) and gives readable names.
    # The pins are assumptions: when the answer is unsat and no pin is in the unsat
    # core, it is unsat without them too, and the second search is not needed.
    pins = [z3.Bool(f"kmsprove!pin{i}") for i in range(3)]
    solver.add(*[z3.Implies(p, f) for p, f in zip(pins, example_pins(sym), strict=True)])
    solver.set("timeout", int(min(timeout, 5) * 1000))
    result = solver.check(*pins)
    pinned = result == z3.unsat and any(z3.eq(c, p) for c in solver.unsat_core() for p in pins)
    if result == z3.unknown or pinned:
        solver.set("timeout", int(timeout * 1000))
        result = solver.check()
    opens = _open_accounts(world, u)
    exceeded = bound_exceeded(world)
    if result == z3.unsat and exceeded:
        return Answer(
            Verdict.UNKNOWN, open_accounts=opens, reason=f"no request found, but {exceeded}"
        )
    if result == z3.unsat:
        return Answer(
            Verdict.NO, open_accounts=opens, reason="no request matching the query is allowed"
        )
    if result == z3.unknown:
        return Answer(
            Verdict.UNKNOWN, open_accounts=opens, reason=f"solver: {solver.reason_unknown()}"
        )
    model = solver.model()
    req, witness = decode(model, sym, u, key, resource)
    checked_world = witness_world(world, req, witness)
    try:
        full = complete_request(checked_world, req)
    except InputError as exc:
        return Answer(
            Verdict.UNKNOWN,
            counterexample=req,
            open_accounts=opens,
            reason=f"encoder and evaluator disagree: {exc.diagnostics[0].message}",
        )
    decision = evaluate(checked_world, full)
    if not decision.allowed:
        return Answer(
            Verdict.UNKNOWN,
            counterexample=full,
            decision=decision,
            open_accounts=opens,
            reason=f"encoder and evaluator disagree: the evaluator denies it ({decision.reason})",
        )
    notes = [f"{arn}: {text}" for arn, text in witness.items()]
    return Answer(
        Verdict.YES,
        counterexample=full,
        decision=decision,
        witness=notes,
        open_accounts=opens,
        reason=decision.reason,
        assumed=witness,
    )


def _solve_bucket(world: World, query: Query, timeout: float) -> Answer:
    """`can WHO s3:GetObject on bucket ARN`: the composed SSE-KMS read (R8)."""
    from kmsprove.arn import key_arn_parts
    from kmsprove.encode.s3 import encode_read, s3_action

    assert query.target is not None
    bucket = world.bucket(query.target.ref)
    if bucket is None:
        raise InputError.at(query.target.pos, f"no bucket `{query.target.ref}` in the world")
    if query.ever:
        return Answer(Verdict.UNKNOWN, reason="`ever` (steps over time) is not modelled yet")
    if bucket.kms_key is None or key_arn_parts(bucket.kms_key) is None:
        return Answer(
            Verdict.UNKNOWN,
            reason="unknown key: the bucket's default key is not a key ARN (R8.3, 10.2)",
        )
    key = world.find_key(bucket.kms_key)
    if key is None:
        return Answer(
            Verdict.UNKNOWN, reason=f"the bucket's key `{bucket.kms_key}` is not in the world"
        )
    if key.region != bucket.region:
        return Answer(
            Verdict.NO, reason="the key is not in the bucket's Region, so no read succeeds (R8.4)"
        )
    u = build_universe(world, key, query)
    restrict(u, lambda e: may_match(query, u_accounts(e, u)) and _outside_org(world, query, e, u))
    bound = set_bound_for(world)
    try:
        sym = new_sym([s3_action(a) for a in query.actions], bound)
        allowed, extra, resource = encode_read(world, bucket, key, u, sym, bound)
        who = who_formula(query, u, sym)
        conds = [cond_formula(c, sym) for c in query.conditions]
        facts = free_facts(u, None, sym) + extra
    except Unmodelled as exc:
        return Answer(Verdict.UNKNOWN, reason=f"not modelled: {exc}")
    return _check(world, u, sym, key, [*facts, allowed, who, *conds], timeout, resource)


def _set_need(world: World) -> int:
    """Elements a set-valued key may need (kmsprove.encode.symbolic), for the
    neediest key: one per test a policy makes on it, for
    kms:EncryptionContextKeys also one per encryption-context key anything
    names, plus one."""
    tests: dict[str, int] = {}
    ec_keys: set[str] = set()
    policies = [p for k in world.keys for p in k.policies]
    for acct in world.accounts.values():
        policies += [*acct.scps, *acct.rcps]
        for ident in acct.principals.values():
            policies += [*ident.policies, *([ident.boundary] if ident.boundary else [])]
    policies += [b.policy for b in world.buckets if b.policy]
    for p in policies:
        for st in p.statements:
            for c in st.conditions:
                low = c.key.lower()
                if low in MULTI_VALUED:
                    tests[low] = tests.get(low, 0) + 1
                if low.startswith("kms:encryptioncontext:"):
                    ec_keys.add(low)
    for k in world.keys:
        for g in k.grants:
            ec_keys.update(key.lower() for key, _ in (g.ec_equals or g.ec_subset or ()))
    tests["kms:encryptioncontextkeys"] = tests.get("kms:encryptioncontextkeys", 0) + len(ec_keys)
    return max(tests.values()) + 1


def set_bound_for(world: World) -> int:
    return max(2, min(_set_need(world), MAX_SET_BOUND))


def bound_exceeded(world: World) -> str | None:
    need = _set_need(world)
    if need <= MAX_SET_BOUND:
        return None
    return f"a multi-valued key may need {need} values, more than the {MAX_SET_BOUND} the solver models"


def example_pins(sym: Sym) -> list[z3.BoolRef]:
    return [
        sym.fresh_account == z3.StringVal(EXAMPLE_ACCOUNT),
        sym.name == z3.StringVal(EXAMPLE_NAME),
        sym.session == z3.StringVal(EXAMPLE_NAME),
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
        return who.kind not in (WhoKind.PRINCIPAL,) and (
            who.kind is not WhoKind.SERVICE or e.name in (None, who.pattern)
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
    who = query.who
    service = z3.Or(*[sym.pid == e.index for e in u.entries if e.kind == "service"])
    match who.kind:
        case WhoKind.ANYONE | WhoKind.ANY_PRINCIPAL:
            return z3.BoolVal(True)
        case WhoKind.OUTSIDE_ACCOUNTS | WhoKind.IN_ACCOUNTS:
            inside = z3.Or(*[sym.acct == z3.StringVal(a) for a in who.accounts])
            src_acct = sym.key("aws:SourceAccount")
            src_arn = sym.key("aws:SourceArn")
            pinned = z3.Or(
                *[
                    z3.Or(
                        z3.And(src_acct.present, src_acct.value == z3.StringVal(a)),  # type: ignore[operator]
                        z3.And(src_arn.present, z3.InRe(src_arn.value, arn_re(f"*:*:*:*:{a}:*"))),
                    )  # type: ignore[arg-type]
                    for a in who.accounts
                ]
            )
            inside = z3.If(service, pinned, inside)
            return z3.Not(inside) if who.kind is WhoKind.OUTSIDE_ACCOUNTS else inside
        case WhoKind.OUTSIDE_ORG:
            org = sym.key("aws:PrincipalOrgID")
            return z3.Or(
                service, z3.Not(z3.And(org.present, org.value == z3.StringVal(who.org or "")))
            )  # type: ignore[operator]
        case WhoKind.PRINCIPAL:
            pattern = who.pattern or ""
            arn = caller_arn_term(sym, u)
            parn = sym.key("aws:PrincipalArn")
            rx = glob_re(pattern)
            return z3.Or(z3.InRe(arn, rx), z3.And(parn.present, z3.InRe(parn.value, rx)))  # type: ignore[arg-type]
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


def caller_arn_term(sym: Sym, u: Universe) -> z3.SeqRef:
    """The caller's own ARN (a session's session ARN) as a term over the entry."""
    term: z3.SeqRef = z3.StringVal("")
    for e in reversed(u.entries):
        if e.kind == "session":
            role = z3.StringVal(e.name) if e.name else sym.name
            arn = z3.Concat(
                z3.StringVal("arn:aws:sts::"),
                sym.acct,
                z3.StringVal(":assumed-role/"),
                role,
                z3.StringVal("/"),
                sym.session,
            )
        elif e.kind == "user":
            arn = (
                z3.StringVal(e.arn)
                if e.arn
                else z3.Concat(
                    z3.StringVal("arn:aws:iam::"), sym.acct, z3.StringVal(":user/"), sym.name
                )
            )
        elif e.kind == "federated":
            arn = z3.Concat(
                z3.StringVal("arn:aws:sts::"),
                sym.acct,
                z3.StringVal(":federated-user/"),
                sym.session,
            )
        elif e.kind == "root":
            arn = z3.Concat(z3.StringVal("arn:aws:iam::"), sym.acct, z3.StringVal(":root"))
        else:
            arn = z3.StringVal(e.name) if e.name else sym.name
        term = z3.If(sym.pid == e.index, arn, term)
    return term


def cond_formula(c: Any, sym: Sym) -> z3.BoolRef:
    var = sym.key(c.key)
    first = var.members()[0][1]
    match c.op:
        case CondOp.HAS:
            return var.present
        case CondOp.NOT_HAS:
            return z3.Not(var.present)
        case CondOp.EQ:
            return z3.And(
                var.present,
                z3.Or(*[z3.And(a, e == z3.StringVal(c.value)) for a, e in var.members()]),
            )
        case CondOp.NE:
            return z3.Not(z3.And(var.present, first == z3.StringVal(c.value)))
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
        return z3.PrefixOf(z3.StringVal(head), term)
    return z3.InRe(term, glob_re(pattern))


def encoder_allows(world: World, req: Request) -> bool:
    """The encoder's decision on one concrete request (the twin of `evaluate`).

    Raises `Unmodelled` when the request uses something the encoder does not model.
    """
    key = world.find_key(req.key or "")
    info = action_info(req.action)
    if key is None or info is None or not info.on_key:
        raise Unmodelled("requests on no key of the world")
    extra = [req.principal] + ([req.federated_from] if req.federated_from else [])
    u = build_universe(world, key, None, extra)
    multi = max((len(v) for v in req.context.values.values()), default=1)
    sym = new_sym([info], set_bound=max(set_bound_for(world), multi))
    sym.fixed = True
    from kmsprove.encode.derive import fix_request
    from kmsprove.encode.symbolic import bind_context

    bind_context(sym, dict(req.context.values), dict(req.context.open_keys))
    if req.via_vpce:
        sym.via_vpce = z3.StringVal(req.via_vpce)
    sym.grant_id = z3.StringVal(req.grant_id or "")
    allowed = encode_allowed(world, key, u, sym, req.session_policy)
    solver = z3.Solver()
    solver.add(allowed, *fix_request(u, key, sym, req), *sym.facts)
    return solver.check() == z3.sat


__all__ = ["FRESH", "Answer", "Verdict", "ask"]
