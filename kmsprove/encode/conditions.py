"""Condition blocks as Z3 formulas (R5, R6). Twin: `kmsprove.evaluate.conditions`.

Values are Z3 strings; numbers, dates and IP addresses get typed views
(a real, a real epoch, a bit-vector address) chosen by the solver, because a
key is only ever compared one way. A key tested both as text and as a
number, date or address is not modelled (the answer is unknown, never no).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import z3

from kmsprove.ast import Condition, Effect, SetOp
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.match import arn_re, glob_re
from kmsprove.encode.symbolic import CtxVar, Sym
from kmsprove.syntax.policy import OPERATORS

FAMILIES = OPERATORS  # base operator -> (family, negated): data shared with the builder
TEXT_FAMILIES = ("String", "Arn", "Bool", "Binary")
VAR_RE = re.compile(r"\$\{([^}]*)\}")


def condition_formula(cond: Condition, sym: Sym, effect: Effect, variables: bool) -> z3.BoolRef:
    """Whether one condition holds for the symbolic request (R6.1-R6.10)."""
    var = sym.key(cond.key)
    family, _ = FAMILIES[cond.base]
    _note_view(var, family)
    normal = _under(cond, sym, var, var.present, var.members(), effect, variables)
    spec = sym.open_keys.get(var.name)
    if spec is None:
        return normal
    guard, states = spec
    results = []
    for state in states:
        members = [
            (z3.BoolVal(True), v if isinstance(v, z3.SeqRef) else z3.StringVal(v))
            for v in (state or ())
        ]
        results.append(
            _under(cond, sym, var, z3.BoolVal(state is not None), members, effect, variables)
        )
    combined = z3.Or(*results) if effect is Effect.ALLOW else z3.And(*results)  # per effect
    return z3.If(guard, combined, normal)


def _note_view(var: CtxVar, family: str) -> None:
    view = "text" if family in TEXT_FAMILIES else family.lower()
    if family == "Null":
        return
    seen = var.typed.setdefault("views", set())
    assert isinstance(seen, set)
    seen.add(view)
    if len(seen) > 1:
        raise Unmodelled(
            f"condition key `{var.name}` is compared both as {' and as '.join(sorted(seen))}"
        )


def _under(
    cond: Condition,
    sym: Sym,
    var: CtxVar,
    present: z3.BoolRef,
    members: list[tuple[z3.BoolRef, z3.SeqRef]],
    effect: Effect,
    variables: bool,
) -> z3.BoolRef:
    if cond.base == "Null":
        wants = [v.lower() for v in cond.values]
        return z3.Or(
            *[
                z3.Not(present) if w == "true" else present if w == "false" else z3.BoolVal(False)
                for w in wants
            ]
            or [z3.BoolVal(False)]
        )
    _, negated = FAMILIES[cond.base]
    if cond.if_exists:
        absent: z3.BoolRef = z3.BoolVal(True)
    elif cond.set_op is SetOp.FOR_ALL_VALUES:
        absent = z3.BoolVal(effect is Effect.ALLOW)  # 10.20: per effect
    elif cond.set_op is SetOp.FOR_ANY_VALUE:
        absent = z3.BoolVal(False)
    else:
        absent = z3.BoolVal(negated)

    def element(i: int, v: z3.SeqRef) -> z3.BoolRef:
        hits = [_matches(cond, sym, var, i, v, p, variables) for p in cond.values]
        anyhit = z3.Or(*hits) if hits else z3.BoolVal(False)
        return z3.Not(anyhit) if negated else anyhit

    tests = [(active, element(i, v)) for i, (active, v) in enumerate(members)]
    if cond.set_op is SetOp.FOR_ALL_VALUES:
        held = z3.And(*[z3.Implies(a, t) for a, t in tests]) if tests else z3.BoolVal(True)
    else:  # ForAnyValue, and the default for every key (a single value is a set of one, 10.8)
        held = z3.Or(*[z3.And(a, t) for a, t in tests]) if tests else z3.BoolVal(False)
    return z3.If(present, held, absent)


def _matches(
    cond: Condition, sym: Sym, var: CtxVar, i: int, v: z3.SeqRef, p: str, variables: bool
) -> z3.BoolRef:
    family, _ = FAMILIES[cond.base]
    base = cond.base
    if family in ("String", "Arn") and variables and "${" in p:
        return _with_variables(cond, sym, v, p)
    if family == "String":
        if base.startswith(("StringEquals", "StringNotEquals")):
            if base.endswith("IgnoreCase"):
                return z3.InRe(v, glob_re(p, ignore_case=True, literal=True))
            return v == z3.StringVal(p)
        return z3.InRe(v, glob_re(p))
    if family == "Arn":
        return z3.InRe(v, arn_re(p))
    if family == "Bool":
        if p.lower() not in ("true", "false"):
            return z3.BoolVal(False)
        return z3.InRe(v, glob_re(p.lower(), ignore_case=True, literal=True))
    if family == "Binary":
        want = _b64(p)
        return (
            z3.BoolVal(False)
            if want is None
            else v == z3.StringVal(base64.b64encode(want).decode())
        )
    if family in ("Numeric", "Date"):
        return _ordered(base, family, sym, var, i, p)
    if family == "Ip":
        return _ip(sym, var, i, p)
    raise Unmodelled(f"operator `{base}`")


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_number(text: str) -> Fraction | None:
    if (
        not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text.strip())
        or text != text.strip()
    ):
        return None
    try:
        return Fraction(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def parse_date(text: str) -> Fraction | None:
    if re.fullmatch(r"\d+", text):
        return Fraction(int(text))
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return Fraction(Decimal(str(when.timestamp())))


def typed_view(sym: Sym, var: CtxVar, i: int, kind: str) -> tuple[z3.BoolRef, z3.ArithRef]:
    """(parsed?, value) of element i as a number or a date; fixed requests parse."""
    key = f"{kind}.{i}"
    if key not in var.typed:
        members = var.members()
        concrete = members[i][1] if i < len(members) else None
        if sym.fixed and concrete is not None and z3.is_string_value(concrete):
            parsed = (parse_number if kind == "numeric" else parse_date)(concrete.as_string())
            ok = z3.BoolVal(parsed is not None)
            val: z3.ArithRef = z3.RealVal(parsed if parsed is not None else 0)
        else:
            ok = z3.Bool(f"{sym.prefix}.{var.name}.{kind}ok.{i}")
            val = z3.Real(f"{sym.prefix}.{var.name}.{kind}.{i}")
        var.typed[key] = (ok, val)
    return var.typed[key]  # type: ignore[return-value]


def _ordered(base: str, family: str, sym: Sym, var: CtxVar, i: int, p: str) -> z3.BoolRef:
    want = (parse_number if family == "Numeric" else parse_date)(p)
    if want is None:
        return z3.BoolVal(False)  # an unparsable policy value matches nothing
    ok, val = typed_view(sym, var, i, family.lower())
    w = z3.RealVal(want)
    op = base[len(family) :]
    test = {
        "Equals": val == w,
        "NotEquals": val == w,
        "LessThan": val < w,
        "LessThanEquals": val <= w,
        "GreaterThan": val > w,
        "GreaterThanEquals": val >= w,
    }[op]
    return z3.And(ok, test)


def ip_view(sym: Sym, var: CtxVar, i: int) -> tuple[z3.BoolRef, z3.BoolRef, z3.BitVecRef]:
    """(parsed?, is IPv6?, address as 128 bits; IPv4 in the low 32 bits)."""
    key = f"ip.{i}"
    if key not in var.typed:
        members = var.members()
        concrete = members[i][1] if i < len(members) else None
        if sym.fixed and concrete is not None and z3.is_string_value(concrete):
            try:
                addr = ipaddress.ip_address(concrete.as_string())
                var.typed[key] = (
                    z3.BoolVal(True),
                    z3.BoolVal(addr.version == 6),
                    z3.BitVecVal(int(addr), 128),
                )
            except ValueError:
                var.typed[key] = (z3.BoolVal(False), z3.BoolVal(False), z3.BitVecVal(0, 128))
        else:
            n = f"{sym.prefix}.{var.name}.ip.{i}"
            addr = z3.BitVec(n, 128)
            v6 = z3.Bool(n + ".v6")
            sym.facts.append(z3.Implies(z3.Not(v6), z3.Extract(127, 32, addr) == 0))
            var.typed[key] = (z3.Bool(n + ".ok"), v6, addr)
    return var.typed[key]  # type: ignore[return-value]


def _ip(sym: Sym, var: CtxVar, i: int, p: str) -> z3.BoolRef:
    try:
        net = ipaddress.ip_network(p, strict=False)
    except ValueError:
        return z3.BoolVal(False)
    ok, v6, addr = ip_view(sym, var, i)
    bits = 128 if net.version == 6 else 32
    mask = ((1 << net.prefixlen) - 1) << (bits - net.prefixlen) if net.prefixlen else 0
    same = (addr & z3.BitVecVal(mask, 128)) == z3.BitVecVal(int(net.network_address) & mask, 128)
    return z3.And(ok, v6 == (net.version == 6), same)


def _with_variables(cond: Condition, sym: Sym, v: z3.SeqRef, p: str) -> z3.BoolRef:
    """A String/Arn value with `${...}`: substituted text is literal, never a wildcard (R6.10)."""
    if cond.base.endswith("IgnoreCase") or cond.base.startswith("Arn"):
        raise Unmodelled(f"policy variables under `{cond.base}`")
    like = cond.base in ("StringLike", "StringNotLike")
    parts: list[z3.ReRef | z3.SeqRef] = []
    resolved: list[z3.BoolRef] = []
    pos = 0
    for m in VAR_RE.finditer(p):
        lit = p[pos : m.start()]
        if lit:
            parts.append(glob_re(lit) if like else z3.StringVal(lit))
        body = m.group(1)
        name, _, default = body.partition(",")
        name = name.strip()
        if name in ("*", "?", "$"):
            text: z3.SeqRef = z3.StringVal(name)
            ok: z3.BoolRef = z3.BoolVal(True)
        elif name.lower() in (
            "kms:encryptioncontextkeys",
            "kms:grantoperations",
            "kms:resourcealiases",
            "aws:calledvia",
            "aws:tagkeys",
        ):
            text, ok = z3.StringVal(""), z3.BoolVal(False)  # multi-valued keys are never variables
        else:
            ref = sym.key(name)
            dflt = default.strip()
            if dflt.startswith("'") and dflt.endswith("'") and len(dflt) >= 2:
                text = z3.If(ref.present, ref.value, z3.StringVal(dflt[1:-1]))  # type: ignore[arg-type]
                ok = z3.BoolVal(True)
            else:
                text, ok = ref.value, ref.present  # type: ignore[assignment]
        parts.append(z3.Re(text) if like else text)
        resolved.append(ok)
        pos = m.end()
    tail = p[pos:]
    if tail:
        parts.append(glob_re(tail) if like else z3.StringVal(tail))
    if like:
        rx = parts[0] if len(parts) == 1 else z3.Concat(*parts)  # type: ignore[arg-type]
        test = z3.InRe(v, rx)  # type: ignore[arg-type]
    else:
        whole = parts[0] if len(parts) == 1 else z3.Concat(*parts)  # type: ignore[arg-type]
        test = v == whole
    return z3.And(*resolved, test) if resolved else test
