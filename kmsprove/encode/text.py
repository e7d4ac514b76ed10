"""Text between Python and Z3, exactly: the only place that builds a Z3 string from a
Python one or reads one back.

`z3.StringVal` reads escapes in what it is given (`"\\u{41}"` becomes `"A"`), and a
model's `as_string()` writes them (a NUL comes back as the six characters `\\u{0}`), so
a policy literal holding a backslash, or a witness holding a character Z3 escapes,
would silently become other text. Here a backslash goes in as the escape of itself and
values come out as their code points."""

from __future__ import annotations

import ctypes

import z3

_BACKSLASH = "\\u{5c}"


def lit(text: str) -> z3.SeqRef:
    """The Z3 string whose characters are those of `text`."""
    return z3.StringVal(text.replace("\\", _BACKSLASH))


def lit_re(text: str) -> z3.ReRef:
    """The regular expression that matches exactly `text`."""
    return z3.Re(lit(text))


def text_of(value: z3.ExprRef) -> str:
    """The characters of a string value of a model (any other value: its printed form)."""
    if not z3.is_string_value(value):
        return str(value)
    ctx, ast = value.ctx_ref(), value.as_ast()
    n = z3.Z3_get_string_length(ctx, ast)
    points = (ctypes.c_uint * n)()
    z3.Z3_get_string_contents(ctx, ast, n, points)
    return "".join(map(chr, points))
