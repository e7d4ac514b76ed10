"""The values AWS can send for a context key (specs/value-shapes.json), as Z3 regular
expressions: the encoder's reading of the table the request validator reads with
Python's `re`, so that every witness the solver builds passes the validator.

The table's dialect is small on purpose: literals, `\\` escapes, `[...]` classes of
ranges and characters, `( )` groups, `|`, and the quantifiers `* + ? {n} {n,m}`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import z3

from kmsprove.catalog import (
    derived_keys,
    required_keys,
    shape,
    shape_examples,
    shape_name,
    value_shape,
)
from kmsprove.encode.names import source_facts
from kmsprove.encode.refine import Refinement
from kmsprove.encode.symbolic import CtxVar, Sym
from kmsprove.encode.text import lit, lit_re, text_of


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        ch = self.text[self.at]
        self.at += 1
        return ch

    def alternation(self) -> z3.ReRef:
        options = [self.sequence()]
        while self.peek() == "|":
            self.take()
            options.append(self.sequence())
        return options[0] if len(options) == 1 else z3.Union(*options)

    def sequence(self) -> z3.ReRef:
        parts: list[z3.ReRef] = []
        while self.peek() not in ("", "|", ")"):
            parts.append(self.quantified(self.atom()))
        if not parts:
            return lit_re("")
        return parts[0] if len(parts) == 1 else z3.Concat(*parts)

    def atom(self) -> z3.ReRef:
        ch = self.take()
        if ch == "(":
            inner = self.alternation()
            if self.take() != ")":
                raise ValueError(f"unbalanced group in {self.text!r}")
            return inner
        if ch == "[":
            return self.char_class()
        if ch == "\\":
            return lit_re(self.take())
        if ch in "*+?{":
            raise ValueError(f"nothing to repeat at {self.at} in {self.text!r}")
        return lit_re(ch)

    def char_class(self) -> z3.ReRef:
        members: list[z3.ReRef] = []
        while self.peek() != "]":
            lo = self.take()
            if lo == "\\":
                lo = self.take()
            if self.peek() == "-" and self.text[self.at + 1] != "]":
                self.take()
                members.append(z3.Range(lit(lo), lit(self.take())))
            else:
                members.append(lit_re(lo))
        self.take()
        return members[0] if len(members) == 1 else z3.Union(*members)

    def quantified(self, atom: z3.ReRef) -> z3.ReRef:
        q = self.peek()
        if q == "*":
            self.take()
            return z3.Star(atom)
        if q == "+":
            self.take()
            return z3.Plus(atom)
        if q == "?":
            self.take()
            return z3.Option(atom)
        if q == "{":
            self.take()
            end = self.text.index("}", self.at)
            lo, _, hi = self.text[self.at : end].partition(",")
            self.at = end + 1
            return z3.Loop(atom, int(lo), int(hi or lo))
        return atom


@cache
def shape_re(pattern: str) -> z3.ReRef:
    """The table's regular expression `pattern` as a Z3 regular expression."""
    parser = _Parser(pattern)
    out = parser.alternation()
    if parser.at != len(pattern):
        raise ValueError(f"cannot read {pattern!r} at {parser.at}")
    return out


# kms:ViaService has its own, stricter language (encode.names.endpoint)
_OWN_LANGUAGE = frozenset({"kms:viaservice"})


def _shaped(low: str) -> str | None:
    pattern = value_shape(low)
    if pattern is None or low in derived_keys() or low in _OWN_LANGUAGE:
        return None
    return pattern


# a shape that is a list of words (an enumeration, `true|false`)
_WORDS = re.compile(r"[A-Za-z0-9_-]+(\|[A-Za-z0-9_-]+)*")


def _member(term: z3.SeqRef, pattern: str) -> z3.BoolRef:
    """`term` is a value of `pattern`. An enumeration is a disjunction of equalities:
    the same language, but Z3's string solver decides it at once, where the regular
    expression's automaton, over every element of a list, can take it past any timeout."""
    if _WORDS.fullmatch(pattern):
        return z3.Or(*[term == lit(w) for w in pattern.split("|")])
    return z3.InRe(term, shape_re(pattern))


def key_shape_facts(var: CtxVar, pattern: str) -> list[z3.BoolRef]:
    """`var` takes values of `pattern`; a list key carries at least one element."""
    if var.multi:
        out = [z3.Implies(var.present, var.count > 0)]  # type: ignore[operator]
        return out + [z3.Implies(a, _member(e, pattern)) for a, e in var.members()]
    assert var.value is not None
    return [z3.Implies(var.present, _member(var.value, pattern))]


def shape_facts(sym: Sym) -> list[z3.BoolRef]:
    """Every key the request carries takes a value AWS could send (eagerly: the
    refiner below adds the same facts only where a model breaks them)."""
    out: list[z3.BoolRef] = []
    for low, var in sym.ctx.items():
        pattern = _shaped(low)
        if pattern is not None:
            out += key_shape_facts(var, pattern)
    return out


def _text(model: z3.ModelRef, term: z3.ExprRef) -> str:
    return text_of(model.eval(term, model_completion=True))


class ShapeRefiner:
    """The shapes, added lazily: after a model, the facts of each key whose value in it
    AWS could not send. Regular-expression constraints slow the string solver
    several-fold, and most models break none; a key's facts are added at most once,
    so the search ends, and an unsat without some facts is an unsat with them."""

    def __init__(self, syms: Sequence[Sym]) -> None:
        self.syms = syms
        self.added: set[tuple[int, str]] = set()

    def __call__(self, model: z3.ModelRef) -> Refinement:
        """The facts `model` breaks; a key whose shape has examples is pinned to them
        first (the string solver then has nothing to search)."""
        out: list[z3.BoolRef] = []
        pins: list[z3.BoolRef] = []
        instead: list[z3.BoolRef] = []
        for n, sym in enumerate(self.syms):
            for low, var in sym.ctx.items():
                pattern = _shaped(low)
                if (n, low) in self.added:
                    continue
                if not z3.is_true(model.eval(var.present, model_completion=True)):
                    continue
                if pattern is None:
                    if _has_control(model, var):
                        self.added.add((n, low))
                        out += _text_facts(var)
                    continue
                if var.multi:
                    assert var.count is not None
                    count = model.eval(var.count, model_completion=True).as_long()
                    values = [_text(model, e) for e in var.elems[:count]]
                    fits = count > 0
                else:
                    assert var.value is not None
                    values, fits = [_text(model, var.value)], True
                if fits and all(_fits(pattern, v) for v in values):
                    continue
                self.added.add((n, low))
                pin = _example_pin(var, low, _repairs(low, values, model, sym))
                (instead if pin else out).extend(key_shape_facts(var, pattern))
                pins += pin
            if (n, "source") not in self.added and not _source_agrees(model, sym):
                self.added.add((n, "source"))
                out += source_facts(sym)
        return Refinement(out, pins, instead)


# what the request validator refuses in any value (validate.request._CONTROL): C0, DEL, C1
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# its complement, up to the last character of Z3's Unicode alphabet
_TEXT = z3.Star(z3.Union(z3.Range(" ", "~"), z3.Range(chr(0xA0), chr(0x2FFFF))))


def _has_control(model: z3.ModelRef, var: CtxVar) -> bool:
    """A value of a key with no shape of its own (an encryption context, the keys a
    grant's constraints derive) holds a control character, which AWS never sends."""
    if var.multi:
        assert var.count is not None
        count = model.eval(var.count, model_completion=True).as_long()
        return any(_CONTROL.search(_text(model, e)) for e in var.elems[:count])
    return var.value is not None and bool(_CONTROL.search(_text(model, var.value)))


def _text_facts(var: CtxVar) -> list[z3.BoolRef]:
    if var.multi:
        return [z3.Implies(a, z3.InRe(e, _TEXT)) for a, e in var.members()]
    assert var.value is not None
    return [z3.Implies(var.present, z3.InRe(var.value, _TEXT))]


def _repairs(low: str, values: list[str], model: z3.ModelRef, sym: Sym) -> list[str]:
    """Values of the key's shape closest to what the model chose: an ARN keeps the
    fields that fit (the service and resource a condition asked for) and takes the
    model's aws:SourceAccount as its account, so a pin meets the conditions where
    the shape's fixed examples cannot."""
    if shape_name(low) != "arn" or len(values) != 1:
        return []
    acct = sym.ctx.get("aws:sourceaccount")
    hint = _text(model, acct.value) if acct is not None and acct.value is not None else ""
    f = (values[0].split(":", 5) + [""] * 6)[:6]
    part = f[1] if re.fullmatch(shape("partition"), f[1]) else "aws"
    svc = f[2] if re.fullmatch(r"[a-z0-9-]+", f[2]) else "s3"
    region = f[3] if f[3] == "" or re.fullmatch(shape("region"), f[3]) else "us-east-1"
    account = f[4] if re.fullmatch(r"[0-9]{12}", f[4]) else ""
    if not account and svc not in ("s3", "route53"):
        account = hint if re.fullmatch(r"[0-9]{12}", hint) else "999999999999"
    res = f[5] if re.fullmatch(r"[ -~]+", f[5]) else "example"
    out = [f"arn:{part}:{svc}:{region}:{account}:{res}"]
    if svc not in ("s3", "route53") and not region:
        out.append(f"arn:{part}:{svc}:us-east-1:{account}:{res}")
    return [v for v in out if _fits(value_shape(low) or "", v)]


def _example_pin(var: CtxVar, low: str, repairs: Sequence[str] = ()) -> list[z3.BoolRef]:
    examples = [lit(v) for v in dict.fromkeys([*repairs, *shape_examples(low)])]
    if not examples:
        return []
    if var.multi:
        assert var.count is not None
        first = var.elems[0]
        return [var.count == 1, z3.Or(*[first == e for e in examples])]
    assert var.value is not None
    return [z3.Or(*[var.value == e for e in examples])]


def _source_agrees(model: z3.ModelRef, sym: Sym) -> bool:
    """aws:SourceArn's account field, when it has one, is aws:SourceAccount."""
    acct, arn = sym.ctx.get("aws:sourceaccount"), sym.ctx.get("aws:sourcearn")
    if acct is None or arn is None or acct.value is None or arn.value is None:
        return True
    both = z3.And(acct.present, arn.present)
    if not z3.is_true(model.eval(both, model_completion=True)):
        return True
    fields = _text(model, arn.value).split(":")
    return len(fields) < 6 or fields[4] in ("", _text(model, acct.value))


def _fits(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def required_facts(sym: Sym) -> list[z3.BoolRef]:
    """An operation is sent with its required parameters (specs/value-shapes.json)."""
    out: list[z3.BoolRef] = []
    for a in sym.actions:
        need = required_keys(a.name)
        if need:
            out.append(
                z3.Implies(sym.is_action({a.name}), z3.And(*[sym.key(k).present for k in need]))
            )
    return out
