"""The symbolic request: Z3 variables for who calls, which action, and the context.

One function builds every symbol, with stable names (`req.pid`, `ctx.<key>`).
A request is either *free* (the solver chooses it; the context keys AWS derives
are tied to the caller and the key) or *fixed* to a concrete `Request` (for the
differential tests and for checking a counterexample's formula).

Multi-valued keys are bounded sets: `SET_BOUND` elements at most. Bound
argument: a condition on a set key asks "some element matches P" or "every
element matches one of P1..Pn"; a witness set needs at most one element per
"some element" test that must hold and one per "every element" test that must
fail, plus one per encryption-context key the policies name (so that
kms:EncryptionContextKeys can list them). `set_bound()` counts those for the
world at hand; tests check the bound is reached but never exceeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import z3

from kmsprove.arn import NAMINGS
from kmsprove.catalog import ActionInfo, is_multi_valued
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.text import lit


@dataclass
class CtxVar:
    """One condition key: present?, its value (or bounded set of values)."""

    name: str  # lower-cased
    present: z3.BoolRef
    value: z3.SeqRef | None = None  # single-valued keys
    count: z3.ArithRef | None = None  # multi-valued keys
    elems: list[z3.SeqRef] = field(default_factory=list)
    # typed views by `kind.index` (`numeric.0`): (parsed?, value) or (parsed?, v6?, bits)
    typed: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    views: set[str] = field(default_factory=set)  # how the key is read (encode.conditions)
    literals: set[str] = field(default_factory=set)  # texts it is compared equal to
    linked: set[tuple[str, int, str]] = field(default_factory=set)  # (view, index, literal) tied
    display: str = ""  # the first spelling a policy used, for counterexamples

    @property
    def multi(self) -> bool:
        return self.count is not None

    def members(self) -> list[tuple[z3.BoolRef, z3.SeqRef]]:
        """(is-in-the-set, value) pairs; a single value is a set of one."""
        if self.count is None:
            assert self.value is not None
            return [(z3.BoolVal(True), self.value)]
        return [(self.count > i, e) for i, e in enumerate(self.elems)]


@dataclass
class Sym:
    """A symbolic request."""

    pid: z3.ArithRef  # index into Universe.entries
    acct: z3.SeqRef  # the caller's account id (services: "")
    fresh_account: z3.SeqRef  # the id of the fresh account class
    name: z3.SeqRef  # a fresh principal's user/role/service name
    session: z3.SeqRef  # a session name (roles) or federated user name
    action: z3.ArithRef  # index into `actions`
    actions: list[ActionInfo]
    ctx: dict[str, CtxVar] = field(default_factory=dict)
    set_bound: int = 3
    facts: list[z3.BoolRef] = field(default_factory=list)  # well-formedness, derivations
    fixed: bool = False
    # keys whose presence the docs leave open: name -> (guard, states); None = absent
    open_keys: dict[str, tuple[z3.BoolRef, tuple[tuple[Any, ...] | None, ...]]] = field(
        default_factory=dict
    )
    via_vpce: z3.SeqRef | None = None
    grant_id: z3.SeqRef | None = None
    # how the request names its key: an index into arn.NAMINGS (key ARN, alias ARN,
    # key ID, alias name); a fixed request pins it, S3's own call uses the key ARN
    naming: z3.ArithRef | None = None
    session_policy_free: bool = True  # the caller chooses its own session policy
    # whether the identity policy an unnamed caller of an open account holds allows this
    # request; None: it does (a question about one world takes the most permissive
    # choice); a diff shares one Boolean between its two sides, as the policy is the
    # same document in both
    open_iam: z3.BoolRef | None = None
    # the key's tags are unknown (an identity-policy diff compares on every key of a
    # class of ARNs, whatever its tags): aws:ResourceTag/<t> are the solver's to choose
    free_resource_tags: bool = False
    prefix: str = "ctx"  # symbol names: a composed request's second call gets its own

    def key(self, name: str) -> CtxVar:
        """The variable of a condition key, created on first use."""
        low = name.lower()
        var = self.ctx.get(low)
        if var is None:
            var = self._new(low)
            self.ctx[low] = var
        if not var.display or var.display == low:
            var.display = name
        return var

    def _new(self, low: str) -> CtxVar:
        if self.fixed:  # a key the fixed request does not carry is absent
            if is_multi_valued(low):
                empty = [lit("")] * self.set_bound
                return CtxVar(low, z3.BoolVal(False), count=z3.IntVal(0), elems=empty)
            return CtxVar(low, z3.BoolVal(False), value=lit(""))
        safe = low.replace(" ", "_")
        present = z3.Bool(f"{self.prefix}.{safe}.present")
        if is_multi_valued(low):
            count = z3.Int(f"{self.prefix}.{safe}.count")
            elems = [z3.String(f"{self.prefix}.{safe}.{i}") for i in range(self.set_bound)]
            var = CtxVar(low, present, count=count, elems=elems)
            self.facts.append(z3.And(count >= 0, count <= self.set_bound))
            self.facts.append(z3.Implies(z3.Not(present), count == 0))
            for i in range(self.set_bound):
                for j in range(i):
                    self.facts.append(z3.Implies(count > i, elems[i] != elems[j]))
            return var
        return CtxVar(low, present, value=z3.String(f"{self.prefix}.{safe}"))

    def is_action(self, names: set[str]) -> z3.BoolRef:
        """The symbolic action is one of `names` (full names, `kms:Decrypt`)."""
        idx = [i for i, a in enumerate(self.actions) if a.name in names]
        if not idx:
            return z3.BoolVal(False)
        if len(idx) == len(self.actions):
            return z3.BoolVal(True)
        return z3.Or(*[self.action == i for i in idx])


def fast_and(*args: z3.BoolRef) -> z3.BoolRef:
    """`z3.And` of Boolean terms without z3py's coercion checks: the facts of every
    principal class are rebuilt per query, and the checks cost three times the term."""
    if not args:
        return z3.BoolVal(True)
    ctx = args[0].ctx
    arr = (z3.Ast * len(args))(*[a.as_ast() for a in args])
    return z3.BoolRef(z3.Z3_mk_and(ctx.ref(), len(args), arr), ctx)


def fast_eq(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """`a == b` for two terms of one sort, without the coercion checks."""
    return z3.BoolRef(z3.Z3_mk_eq(a.ctx.ref(), a.as_ast(), b.as_ast()), a.ctx)


def fast_not(a: z3.BoolRef) -> z3.BoolRef:
    return z3.BoolRef(z3.Z3_mk_not(a.ctx.ref(), a.as_ast()), a.ctx)


def bind_context(
    sym: Sym,
    values: dict[str, tuple[str, ...]],
    open_states: dict[str, tuple[tuple[str, ...] | None, ...]],
) -> None:
    """Fixed mode: every context key of the request becomes constants."""
    for low, vals in values.items():
        if is_multi_valued(low):
            if len(vals) > sym.set_bound:
                raise Unmodelled(
                    f"`{low}` has {len(vals)} values, more than the set bound {sym.set_bound}"
                )
            elems = [lit(v) for v in vals] + [lit("")] * (sym.set_bound - len(vals))
            sym.ctx[low] = CtxVar(low, z3.BoolVal(True), count=z3.IntVal(len(vals)), elems=elems)
        else:
            sym.ctx[low] = CtxVar(low, z3.BoolVal(True), value=lit(vals[0] if vals else ""))
    for low, states in open_states.items():
        sym.open_keys[low] = (z3.BoolVal(True), states)


def new_sym(actions: list[ActionInfo], set_bound: int) -> Sym:
    sym = Sym(
        pid=z3.Int("req.pid"),
        acct=z3.String("req.account"),
        fresh_account=z3.String("req.fresh_account"),
        name=z3.String("req.name"),
        session=z3.String("req.session"),
        action=z3.Int("req.action"),
        actions=actions,
        set_bound=set_bound,
    )
    sym.facts.append(z3.And(sym.action >= 0, sym.action < len(actions)))
    sym.grant_id = z3.String("req.grant_id")  # the grant a RetireGrant names
    sym.naming = z3.Int("req.naming")
    sym.facts.append(z3.And(sym.naming >= 0, sym.naming < len(NAMINGS)))
    return sym


def naming_is(sym: Sym, *namings: str) -> z3.BoolRef:
    """The request names its key in one of `namings` (arn.NAMINGS)."""
    assert sym.naming is not None
    return z3.Or(*[sym.naming == NAMINGS.index(n) for n in namings])
