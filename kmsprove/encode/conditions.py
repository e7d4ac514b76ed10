"""Condition blocks as Z3 formulas (R5, R6). Twin: `kmsprove.evaluate.conditions`.

Values are Z3 strings; numbers, dates and IP addresses get typed views (a real, a
real epoch, a bit-vector address) chosen by the solver beside the text. A key is
read through *views* (`note_view`):

- `literal`: the text compared for equality with literals only (StringEquals without
  variables, the question's `==`); a typed view of the same key is tied to it, since
  a text equal to a literal has that literal's number or date (`_link`);
- `text`: any other text test (globs, ARNs, case folding, variables);
- `numeric`, `date`, `ip`: the typed comparisons.

A key read as free text and as a number, date or address, or as two typed views, is
not modelled (the answer is unknown, never no). With literal views only, the text is
never tested but for equality with those literals, so the decoder can always write a
text that parses to the typed value and differs from them (`kmsprove.solve.decode`).

`ENCODERS` is keyed by operator name, as the evaluator's `MATCHERS` is: a test holds
both to the names of `kmsprove.operators.OPERATORS`.
"""

from __future__ import annotations

import base64
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import z3

from kmsprove.ast import Condition, Effect, SetOp
from kmsprove.catalog import is_multi_valued
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.match import arn_re, glob_re
from kmsprove.encode.symbolic import CtxVar, Sym
from kmsprove.encode.text import lit, text_of
from kmsprove.operators import (
    OPERATORS,
    PRESENCE,
    parse_address,
    parse_binary,
    parse_bool,
    parse_date,
    parse_network,
    parse_number,
)

VAR_RE = re.compile(r"\$\{([^}]*)\}")
TYPED_VIEWS = ("numeric", "date", "ip")
LINKED_VIEWS = ("numeric", "date")  # typed views a literal text can be tied to
PARSERS: Mapping[str, Callable[[str], Fraction | None]] = MappingProxyType(
    {"numeric": parse_number, "date": parse_date}
)


def condition_formula(cond: Condition, sym: Sym, effect: Effect, variables: bool) -> z3.BoolRef:
    """Whether one condition holds for the symbolic request (R6.1-R6.10)."""
    var = sym.key(cond.key)
    _register(cond, sym, var, variables)
    normal = _under(cond, sym, var, var.present, var.members(), effect, variables)
    spec = sym.open_keys.get(var.name)
    if spec is None:
        return normal
    guard, states = spec
    results = []
    for state in states:
        members = [
            (z3.BoolVal(True), v if isinstance(v, z3.SeqRef) else lit(v)) for v in (state or ())
        ]
        results.append(
            _under(cond, sym, var, z3.BoolVal(state is not None), members, effect, variables)
        )
    combined = z3.Or(*results) if effect is Effect.ALLOW else z3.And(*results)  # per effect
    return z3.If(guard, combined, normal)


# --------------------------------------------------------------------------
# views of a key


def _register(cond: Condition, sym: Sym, var: CtxVar, variables: bool) -> None:
    op = OPERATORS[cond.base]
    if op.family == PRESENCE:
        return
    if op.family in ("Numeric", "Date", "Ip"):
        note_view(sym, var, op.family.lower())
    elif cond.base in ("StringEquals", "StringNotEquals") and not (
        variables and any("${" in v for v in cond.values)
    ):
        for v in cond.values:
            note_view(sym, var, "literal", v)
    else:
        note_view(sym, var, "text")


def note_view(sym: Sym, var: CtxVar, view: str, literal: str | None = None) -> None:
    """Record that `var` is read through `view` (see the module docstring)."""
    views = var.views
    views.add(view)
    if literal is not None:
        var.literals.add(literal)
    typed = sorted(views & set(TYPED_VIEWS))
    if len(typed) > 1 or (typed and "text" in views) or ("ip" in views and "literal" in views):
        shown = sorted(v if v != "literal" else "text" for v in views)
        raise Unmodelled(
            f"condition key `{var.name}` is compared both as {' and as '.join(dict.fromkeys(shown))}"
        )
    _link(sym, var)


def _link(sym: Sym, var: CtxVar) -> None:
    """A text equal to a literal has that literal's typed value (free requests only)."""
    if sym.fixed:
        return
    literals, linked = var.literals, var.linked
    for kind in LINKED_VIEWS:
        for i, (_, elem) in enumerate(var.members()):
            if f"{kind}.{i}" not in var.typed:
                continue
            ok, val = typed_view(sym, var, i, kind)
            for word in sorted(literals):
                if (kind, i, word) in linked:
                    continue
                linked.add((kind, i, word))
                parsed = PARSERS[kind](str(word))
                tied = z3.Not(ok) if parsed is None else z3.And(ok, val == z3.RealVal(parsed))
                sym.facts.append(z3.Implies(elem == lit(str(word)), tied))


def typed_view(sym: Sym, var: CtxVar, i: int, kind: str) -> tuple[z3.BoolRef, z3.ArithRef]:
    """(parsed?, value) of element i as a number or a date; fixed requests parse."""
    key = f"{kind}.{i}"
    if key not in var.typed:
        members = var.members()
        concrete = members[i][1] if i < len(members) else None
        if sym.fixed and concrete is not None and z3.is_string_value(concrete):
            parsed = PARSERS[kind](text_of(concrete))
            ok = z3.BoolVal(parsed is not None)
            val: z3.ArithRef = z3.RealVal(parsed if parsed is not None else 0)
        else:
            ok = z3.Bool(f"{sym.prefix}.{var.name}.{kind}ok.{i}")
            val = z3.Real(f"{sym.prefix}.{var.name}.{kind}.{i}")
        var.typed[key] = (ok, val)
        _link(sym, var)
    ok, val = var.typed[key]
    return ok, val


def ip_view(sym: Sym, var: CtxVar, i: int) -> tuple[z3.BoolRef, z3.BoolRef, z3.BitVecRef]:
    """(parsed?, is IPv6?, address as 128 bits; IPv4 in the low 32 bits)."""
    key = f"ip.{i}"
    if key not in var.typed:
        members = var.members()
        concrete = members[i][1] if i < len(members) else None
        if sym.fixed and concrete is not None and z3.is_string_value(concrete):
            addr = parse_address(text_of(concrete))
            var.typed[key] = (
                z3.BoolVal(addr is not None),
                z3.BoolVal(addr is not None and addr.version == 6),
                z3.BitVecVal(int(addr) if addr is not None else 0, 128),
            )
        else:
            n = f"{sym.prefix}.{var.name}.ip.{i}"
            bits = z3.BitVec(n, 128)
            v6 = z3.Bool(n + ".v6")
            sym.facts.append(z3.Implies(z3.Not(v6), z3.Extract(127, 32, bits) == 0))
            var.typed[key] = (z3.Bool(n + ".ok"), v6, bits)
    ok, v6, bits = var.typed[key]
    return ok, v6, bits


# --------------------------------------------------------------------------
# one condition over one set of request values


def _under(
    cond: Condition,
    sym: Sym,
    var: CtxVar,
    present: z3.BoolRef,
    members: list[tuple[z3.BoolRef, z3.SeqRef]],
    effect: Effect,
    variables: bool,
) -> z3.BoolRef:
    op = OPERATORS[cond.base]
    if op.family == PRESENCE:
        wants = [parse_bool(v) for v in cond.values]
        return z3.Or(
            *[z3.Not(present) if w else present if w is False else z3.BoolVal(False) for w in wants]
            or [z3.BoolVal(False)]
        )
    if cond.if_exists:
        absent: z3.BoolRef = z3.BoolVal(True)
    elif cond.set_op is SetOp.FOR_ALL_VALUES:
        absent = z3.BoolVal(effect is Effect.ALLOW)  # 10.20: per effect
    elif cond.set_op is SetOp.FOR_ANY_VALUE:
        absent = z3.BoolVal(False)
    else:
        absent = z3.BoolVal(op.negated)
    encoder = ENCODERS[cond.base]

    def element(i: int, v: z3.SeqRef) -> z3.BoolRef:
        cell = Cell(sym, var, i, v)
        hits = [
            _with_variables(cond, sym, v, p)
            if op.variables and variables and "${" in p
            else encoder(cell, p)
            for p in cond.values
        ]
        anyhit = z3.Or(*hits) if hits else z3.BoolVal(False)
        return z3.Not(anyhit) if op.negated else anyhit

    tests = [(active, element(i, v)) for i, (active, v) in enumerate(members)]
    if cond.set_op is SetOp.FOR_ALL_VALUES:
        held = z3.And(*[z3.Implies(a, t) for a, t in tests]) if tests else z3.BoolVal(True)
    else:  # ForAnyValue, and the default for every key (a single value is a set of one, 10.8)
        held = z3.Or(*[z3.And(a, t) for a, t in tests]) if tests else z3.BoolVal(False)
    return z3.If(present, held, absent)


@dataclass(frozen=True, slots=True)
class Cell:
    """One request value under test: element `index` of key `var`, as text `value`."""

    sym: Sym
    var: CtxVar
    index: int
    value: z3.SeqRef


# an encoder: (the request value, one policy value) -> the positive match (R6.1)
Encoder = Callable[[Cell, str], z3.BoolRef]


def _equals(c: Cell, p: str) -> z3.BoolRef:
    return c.value == lit(p)


def _equals_ignore_case(c: Cell, p: str) -> z3.BoolRef:
    return z3.InRe(c.value, glob_re(p, ignore_case=True, literal=True))


def _like(c: Cell, p: str) -> z3.BoolRef:
    return z3.InRe(c.value, glob_re(p))


def _arn(c: Cell, p: str) -> z3.BoolRef:
    return z3.InRe(c.value, arn_re(p))  # R6.3: ArnEquals is ArnLike


def _bool(c: Cell, p: str) -> z3.BoolRef:
    want = parse_bool(p)
    if want is None:
        return z3.BoolVal(False)
    return z3.InRe(c.value, glob_re("true" if want else "false", ignore_case=True, literal=True))


def _binary(c: Cell, p: str) -> z3.BoolRef:
    want = parse_binary(p)
    if want is None:
        return z3.BoolVal(False)
    return c.value == lit(base64.b64encode(want).decode())


def _ordered(kind: str, rel: Callable[[Any, Any], Any]) -> Encoder:
    """Numeric and Date comparisons on the typed view (R6.4): request `rel` policy."""

    def encode(c: Cell, p: str) -> z3.BoolRef:
        want = PARSERS[kind](p)
        if want is None:
            return z3.BoolVal(False)  # an unparsable policy value matches nothing
        ok, val = typed_view(c.sym, c.var, c.index, kind)
        return z3.And(ok, rel(val, z3.RealVal(want)))

    return encode


def _ip(c: Cell, p: str) -> z3.BoolRef:
    net = parse_network(p)
    if net is None:
        return z3.BoolVal(False)
    ok, v6, addr = ip_view(c.sym, c.var, c.index)
    bits = 128 if net.version == 6 else 32
    mask = ((1 << net.prefixlen) - 1) << (bits - net.prefixlen) if net.prefixlen else 0
    same = (addr & z3.BitVecVal(mask, 128)) == z3.BitVecVal(int(net.network_address) & mask, 128)
    return z3.And(ok, v6 == (net.version == 6), same)


def _typed_encoders() -> dict[str, Encoder]:
    rels: dict[str, Callable[[Any, Any], Any]] = {
        "Equals": operator.eq,
        "NotEquals": operator.eq,  # negation is applied by `_under`
        "LessThan": operator.lt,
        "LessThanEquals": operator.le,
        "GreaterThan": operator.gt,
        "GreaterThanEquals": operator.ge,
    }
    out: dict[str, Encoder] = {}
    for suffix, rel in rels.items():
        out["Numeric" + suffix] = _ordered("numeric", rel)
        out["Date" + suffix] = _ordered("date", rel)
    return out


ENCODERS: Mapping[str, Encoder] = MappingProxyType(
    {
        "StringEquals": _equals,
        "StringNotEquals": _equals,
        "StringEqualsIgnoreCase": _equals_ignore_case,
        "StringNotEqualsIgnoreCase": _equals_ignore_case,
        "StringLike": _like,
        "StringNotLike": _like,
        "ArnEquals": _arn,
        "ArnLike": _arn,
        "ArnNotEquals": _arn,
        "ArnNotLike": _arn,
        "Bool": _bool,
        "BinaryEquals": _binary,
        "IpAddress": _ip,
        "NotIpAddress": _ip,
        **_typed_encoders(),
    }
)


def _with_variables(cond: Condition, sym: Sym, v: z3.SeqRef, p: str) -> z3.BoolRef:
    """A String/Arn value with `${...}`: substituted text is literal, never a wildcard (R6.10)."""
    if cond.base.endswith("IgnoreCase") or cond.base.startswith("Arn"):
        raise Unmodelled(f"policy variables under `{cond.base}`")
    like = cond.base in ("StringLike", "StringNotLike")
    parts: list[z3.ReRef | z3.SeqRef] = []
    resolved: list[z3.BoolRef] = []
    pos = 0
    for m in VAR_RE.finditer(p):
        plain = p[pos : m.start()]
        if plain:
            parts.append(glob_re(plain) if like else lit(plain))
        body = m.group(1)
        name, _, default = body.partition(",")
        name = name.strip()
        if name in ("*", "?", "$"):
            text: z3.SeqRef = lit(name)
            ok: z3.BoolRef = z3.BoolVal(True)
        elif is_multi_valued(name):
            text, ok = lit(""), z3.BoolVal(False)  # multi-valued keys are never variables
        else:
            ref = sym.key(name)
            note_view(sym, ref, "text")
            dflt = default.strip()
            if dflt.startswith("'") and dflt.endswith("'") and len(dflt) >= 2:
                text = z3.If(ref.present, ref.value, lit(dflt[1:-1]))
                ok = z3.BoolVal(True)
            else:
                assert ref.value is not None
                text, ok = ref.value, ref.present
        parts.append(z3.Re(text) if like else text)
        resolved.append(ok)
        pos = m.end()
    tail = p[pos:]
    if tail:
        parts.append(glob_re(tail) if like else lit(tail))
    if like:
        rx = parts[0] if len(parts) == 1 else z3.Concat(*parts)
        test = z3.InRe(v, rx)
    else:
        whole = parts[0] if len(parts) == 1 else z3.Concat(*parts)
        test = v == whole
    return z3.And(*resolved, test) if resolved else test
