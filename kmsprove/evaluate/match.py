"""Matching for the evaluator: globs, ARNs, typed values and policy variables.

Input: policy text and request values (strings) -> bool, or substituted text.
Rules: R3.6 (wildcards), R6.2 (strings), R6.3 (ARNs), R6.4 (numbers, dates,
booleans, base64, IP addresses), R6.10 (policy variables).
Twin: `kmsprove.encode.match` (Z3 regular expressions); it re-implements these
rules and must not import this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from kmsprove.catalog import is_multi_valued
from kmsprove.operators import parse_address, parse_binary, parse_date, parse_network, parse_number
from kmsprove.request import Context

# A glob compiles to a tuple of tokens: one-character strings for literal
# characters, and the two wildcards as two-character tokens, which can never
# equal a (one-character) value character.
STAR = "**"  # `*`: any run of characters, also empty, crossing `:` and `/`
ANY = "??"  # `?`: exactly one character

Lookup = Callable[[str], tuple[str, ...] | None]


class Substituted(str):
    """Text produced by policy-variable substitution (R6.10).

    `literal` holds the indices of `*` and `?` that are plain characters, not
    wildcards: they came from `${*}`, `${?}` or from a substituted value.
    A `str` subclass so callers can pass it on as a pattern unchanged:
    `glob_like` and `arn_like` honour `literal`; string methods return plain
    `str` and lose it (then every `*` and `?` is a wildcard again).
    """

    literal: frozenset[int]

    def __new__(cls, text: str, literal: frozenset[int] = frozenset()) -> Substituted:
        obj = super().__new__(cls, text)
        obj.literal = literal
        return obj

    def __reduce__(self) -> tuple[type[Substituted], tuple[str, frozenset[int]]]:
        # copy and pickle would otherwise rebuild it without `literal`
        return (Substituted, (str(self), self.literal))


# --------------------------------------------------------------------------
# globs (R3.6, R6.2) and ARNs (R6.3)


def tokens(pattern: str) -> tuple[str, ...]:
    """`pattern` as glob tokens, honouring `Substituted.literal`."""
    literal: frozenset[int] = getattr(pattern, "literal", frozenset())
    return _tokenize(str(pattern), literal)


@lru_cache(maxsize=8192)
def _tokenize(text: str, literal: frozenset[int]) -> tuple[str, ...]:
    wild = {"*": STAR, "?": ANY}
    return tuple(wild[c] if c in wild and i not in literal else c for i, c in enumerate(text))


def match_tokens(toks: tuple[str, ...], value: str) -> bool:
    """Whole-value glob match by the two-pointer method: O(len(toks) * len(value)).

    A backtracking regex would be exponential on patterns with many `*`.
    """
    p = v = 0
    star, mark = -1, 0  # last `*` seen, and the value index it is retried from
    while v < len(value):
        if p < len(toks) and (toks[p] == ANY or toks[p] == value[v]):
            p, v = p + 1, v + 1
        elif p < len(toks) and toks[p] == STAR:
            star, mark = p, v
            p += 1
        elif star >= 0:
            # let the last `*` absorb one more character and retry after it
            mark += 1
            p, v = star + 1, mark
        else:
            return False
    while p < len(toks) and toks[p] == STAR:
        p += 1
    return p == len(toks)


def fold_char(c: str) -> str:
    """Case fold of one character: upper, then lower, keeping one-to-one mappings only.

    AWS does not document its Unicode case table; this is the per-character
    rule of Java's `String.equalsIgnoreCase` (`ß` stays `ß`, `ſ` folds to `s`).
    """
    up = c.upper()
    if len(up) != 1:
        up = c
    low = up.lower()
    return low if len(low) == 1 else up


def fold(text: str) -> str:
    """`text` folded character by character (length preserved)."""
    return "".join(fold_char(c) for c in text)


def equals_ignore_case(a: str, b: str) -> bool:
    """StringEqualsIgnoreCase (R6.2)."""
    return len(a) == len(b) and fold(a) == fold(b)


def glob_like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """StringLike: `*` any run (also empty, crossing `:` and `/`), `?` one character (R6.2)."""
    toks = tokens(pattern)
    if ignore_case:
        toks = tuple(t if len(t) == 2 else fold_char(t) for t in toks)
        value = fold(value)
    return match_tokens(toks, value)


def _split_fields(toks: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Tokens split at the first five `:` (the resource field keeps later colons)."""
    fields: list[tuple[str, ...]] = []
    start = 0
    for i, t in enumerate(toks):
        if t == ":" and len(fields) < 5:
            fields.append(toks[start:i])
            start = i + 1
    fields.append(toks[start:])
    return fields


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals and IAM `Resource`: six fields globbed one by one (R6.3).

    A wildcard never crosses into the next field; a bare `*` matches anything;
    a pattern or value with fewer than six fields matches nothing.
    """
    toks = tokens(pattern)
    if toks == (STAR,):
        return True
    fields = _split_fields(toks)
    parts = value.split(":", 5)
    if len(fields) != 6 or len(parts) != 6:
        return False
    return all(match_tokens(f, v) for f, v in zip(fields, parts, strict=True))


# --------------------------------------------------------------------------
# typed values (R6.4); each parser returns None for text it cannot read


# The literal syntax is shared data (`kmsprove.operators`); the comparisons are ours.
number = parse_number
date = parse_date
binary = parse_binary


def ip_in(cidr: str, address: str) -> bool:
    """IpAddress: `address` lies in `cidr`; a bare address is /32 or /128 (R6.4).

    IPv4 and IPv6 never match each other (`::ffff:1.2.3.4` is not in `1.2.3.0/24`).
    """
    net = _network(cidr)
    addr = parse_address(address)
    if net is None or addr is None:
        return False
    return addr.version == net.version and addr in net


_network = lru_cache(maxsize=4096)(parse_network)


# --------------------------------------------------------------------------
# policy variables (R6.10)


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_BODY = re.compile(r"\s*([^,']+?)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES = ("*", "?", "$")  # `${*}`, `${?}`, `${$}`: the character itself


def variable_names(text: str) -> tuple[str, ...]:
    """Lower-cased condition keys that `${...}` in `text` refers to."""
    out = []
    for m in _VARIABLE.finditer(text):
        body = _BODY.fullmatch(m.group(1))
        if m.group(1) not in _ESCAPES and body:
            out.append(body.group(1).lower())
    return tuple(out)


def _replacement(body: str, lookup: Lookup) -> tuple[str, bool] | None:
    """(text, is_substituted) for one `${body}`, or None if it does not resolve.

    Text that is not variable syntax stays as written (is_substituted False).
    """
    if body in _ESCAPES:
        return body, True
    m = _BODY.fullmatch(body)
    if m is None:
        return "${" + body + "}", False
    name, default = m.group(1), m.group(2)
    found = lookup(name)
    # multi-valued keys cannot be variables (R6.10): treat them as unresolved
    if found is not None and len(found) == 1 and not is_multi_valued(name):
        return found[0], True
    if default is not None:
        return default, True
    return None


def resolve(text: str, lookup: Lookup) -> str | None:
    """`text` with its variables replaced, or None if one has no value and no default.

    Substituted text (escapes, values, defaults) is literal: its `*` and `?`
    are recorded in `Substituted.literal` so they never act as wildcards.
    """
    out: list[str] = []
    literal: set[int] = set()
    size = pos = 0
    for m in _VARIABLE.finditer(text):
        rep = _replacement(m.group(1), lookup)
        if rep is None:
            return None
        piece, substituted = rep
        out.append(text[pos : m.start()])
        size += m.start() - pos
        if substituted:
            literal.update(size + i for i, c in enumerate(piece) if c in "*?")
        out.append(piece)
        size += len(piece)
        pos = m.end()
    out.append(text[pos:])
    joined = "".join(out)
    return Substituted(joined, frozenset(literal)) if literal else joined


def substitute(text: str, ctx: Context) -> str | None:
    """`text` with policy variables replaced from `ctx` (R6.10), or None if one is unresolved.

    Only `ctx.values` count: a key left open (`ctx.open_keys`) resolves as
    absent. Call only for policies with Version 2012-10-17. For `Resource` and
    `NotResource` entries use `substitute_resource`, which also applies the
    resource-part rule. The result may be a `Substituted`: pass it to
    `glob_like` / `arn_like` as is.
    """
    return resolve(text, ctx.get)


def substitute_resource(entry: str, ctx: Context) -> str | None:
    """A `Resource`/`NotResource` entry after substitution, or None if it matches nothing.

    R6.10: variables count only in the resource part (after the fifth colon);
    one in partition, service, Region or account is not substituted, so the
    entry matches no resource; so does an unresolved variable.
    """
    colons = pos = 0
    for m in _VARIABLE.finditer(entry):
        colons += entry.count(":", pos, m.start())
        body = m.group(1)
        is_variable = body not in _ESCAPES and _BODY.fullmatch(body) is not None
        if is_variable and colons < 5:
            return None
        if not is_variable:
            colons += body.count(":")  # text that only looks like a variable
        pos = m.end()
    return substitute(entry, ctx)
