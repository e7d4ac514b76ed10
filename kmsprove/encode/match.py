"""Glob, ARN and action matching as Z3 terms (R3.6, R6.2, R6.3).

Twin: `kmsprove.evaluate.match` (Python). Written separately on purpose: the
two meet only in the differential tests.
"""

from __future__ import annotations

from functools import cache

import z3

from kmsprove.encode.text import lit_re

RE_SORT = z3.ReSort(z3.StringSort())
ANY = z3.AllChar(RE_SORT)
ANY_RUN = z3.Star(ANY)


def _lit(text: str) -> z3.ReRef:
    return lit_re(text)


def _caseless(text: str) -> z3.ReRef:
    parts = []
    for ch in text:
        lo, up = ch.lower(), ch.upper()
        parts.append(_lit(ch) if lo == up else z3.Union(_lit(lo), _lit(up)))
    if not parts:
        return _lit("")
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


@cache
def glob_re(pattern: str, ignore_case: bool = False, literal: bool = False) -> z3.ReRef:
    """A regular expression for a StringLike pattern: `*` any run, `?` one character."""
    if literal:
        return _caseless(pattern) if ignore_case else _lit(pattern)
    pieces: list[z3.ReRef] = []
    run = ""
    for ch in pattern:
        if ch in "*?":
            if run:
                pieces.append(_caseless(run) if ignore_case else _lit(run))
                run = ""
            pieces.append(ANY_RUN if ch == "*" else ANY)
        else:
            run += ch
    if run:
        pieces.append(_caseless(run) if ignore_case else _lit(run))
    if not pieces:
        return _lit("")
    return pieces[0] if len(pieces) == 1 else z3.Concat(*pieces)


@cache
def _field_re(pattern: str) -> z3.ReRef:
    """A glob over one ARN field: its wildcards never cross a `:` (R6.3)."""
    no_colon = z3.Intersect(ANY, z3.Complement(_lit(":")))
    pieces: list[z3.ReRef] = []
    run = ""
    for ch in pattern:
        if ch in "*?":
            if run:
                pieces.append(_lit(run))
                run = ""
            pieces.append(z3.Star(no_colon) if ch == "*" else no_colon)
        else:
            run += ch
    if run:
        pieces.append(_lit(run))
    if not pieces:
        return _lit("")
    return pieces[0] if len(pieces) == 1 else z3.Concat(*pieces)


@cache
def arn_re(pattern: str) -> z3.ReRef:
    """ArnLike: six fields, each globbed alone; the last keeps further colons (R6.3)."""
    if pattern == "*":
        return ANY_RUN
    fields = pattern.split(":", 5)
    if len(fields) != 6:
        return z3.Empty(RE_SORT)  # a malformed ARN pattern matches nothing
    parts: list[z3.ReRef] = []
    for i, f in enumerate(fields):
        if i:
            parts.append(_lit(":"))
        parts.append(glob_re(f) if i == 5 else _field_re(f))
    return z3.Concat(*parts)


def py_glob(pattern: str, value: str, ignore_case: bool = True) -> bool:
    """Glob over a finite domain at encoding time (action names): a plain DP matcher."""
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    n, m = len(pattern), len(value)
    ok = [False] * (m + 1)
    ok[0] = True
    for i in range(n):
        c = pattern[i]
        nxt = [False] * (m + 1)
        if c == "*":
            seen = False
            for j in range(m + 1):
                seen = seen or ok[j]
                nxt[j] = seen
        else:
            for j in range(m):
                if ok[j] and (c == "?" or c == value[j]):
                    nxt[j + 1] = True
        ok = nxt
    return ok[m]


def py_arn_like(pattern: str, value: str) -> bool:
    """ArnLike between two known strings, at encoding time."""
    if pattern == "*":
        return True
    p, v = pattern.split(":", 5), value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return False
    for i, (a, b) in enumerate(zip(p, v, strict=True)):
        if i < 5 and ":" in b:
            return False
        if not py_glob(a, b, ignore_case=False):
            return False
    return True
