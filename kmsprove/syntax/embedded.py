"""Syntax stage: JSON text held in a JSON string value -> positioned nodes whose
positions are in the file that holds the string.

A Terraform plan carries each policy as a JSON string (`"policy": "{\\"Version\\": ..."`,
the output of `jsonencode` or a heredoc). The decoded characters map one to one onto
the literal's characters except at escapes (`\\n`, `\\"`, `\\u00e9`, a surrogate pair),
so `literal_offsets` keeps, for each decoded character, the offset of its first raw
character in the outer text. A node of the inner document, and a syntax error in it,
is then reported at `plan.json:LINE:COL`, where the user can find it, not at a line of
the decoded text nobody sees.
"""

from __future__ import annotations

import re

from kmsprove.errors import Diagnostic, InputError, SourcePos
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.tree import (
    JArray,
    JBool,
    JMember,
    JNode,
    JNull,
    JNumber,
    JObject,
    JString,
    Source,
)

_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_SIMPLE_ESCAPES = {'"', "\\", "/", "b", "f", "n", "r", "t"}


class EmbeddedSource(Source):
    """The decoded text of a string literal; positions land in the outer text."""

    __slots__ = ("offsets", "outer")

    def __init__(self, outer: Source, text: str, offsets: list[int]) -> None:
        super().__init__(outer.file, text)
        self.outer = outer
        self.offsets = offsets  # decoded index -> outer offset; one extra: the closing quote

    def pos(self, offset: int) -> SourcePos:
        return self.outer.pos(self.offsets[max(0, min(offset, len(self.offsets) - 1))])


def literal_offsets(text: str, start: int) -> list[int] | None:
    """For the string literal at `text[start]` (its opening quote): the outer offset of
    each decoded character, then of the closing quote; None if no literal starts there."""
    if start >= len(text) or text[start] != '"':
        return None
    out: list[int] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            out.append(i)
            return out
        if ch != "\\":
            out.append(i)
            i += 1
            continue
        esc = text[i + 1 : i + 2]
        if esc in _SIMPLE_ESCAPES:
            out.append(i)
            i += 2
        elif esc == "u" and _HEX4.fullmatch(text[i + 2 : i + 6]):
            code = int(text[i + 2 : i + 6], 16)
            out.append(i)
            i += 6
            # a surrogate pair decodes to one character
            low = text[i + 2 : i + 6] if text[i : i + 2] == "\\u" else ""
            if 0xD800 <= code < 0xDC00 and _HEX4.fullmatch(low) and 0xDC00 <= int(low, 16) < 0xE000:
                i += 6
        else:
            return None
    return None


def parse_embedded(node: JString, outer_text: str, name: str) -> JNode:
    """The JSON document the string `node` (parsed from `outer_text`) holds, its nodes
    positioned in `node`'s file when the literal can be mapped (else in the decoded
    text, named `name`); bad JSON raises `InputError` positioned the same way."""
    offsets = literal_offsets(outer_text, node.offset)
    if offsets is None or len(offsets) != len(node.value) + 1:
        return parse_json(node.value, name)
    src = EmbeddedSource(node.src, node.value, offsets)
    try:
        inner = parse_json(node.value, name)
    except InputError as exc:
        raise InputError([_moved(d, name, src) for d in exc.diagnostics]) from None
    return _rebuild(inner, src)


def _moved(d: Diagnostic, name: str, src: EmbeddedSource) -> Diagnostic:
    if d.pos.file != name:
        return d
    line = max(1, min(d.pos.line, len(src.starts)))
    offset = src.starts[line - 1] + d.pos.col - 1
    return Diagnostic(src.pos(offset), d.severity, d.message)


def _rebuild(node: JNode, src: Source) -> JNode:
    """The same tree with every node on `src` (depth is bounded by the parser's limit)."""
    match node:
        case JObject():
            members = tuple(
                JMember(m.key, m.key_offset, _rebuild(m.value, src)) for m in node.members
            )
            return JObject(src, node.offset, members)
        case JArray():
            return JArray(src, node.offset, tuple(_rebuild(i, src) for i in node.items))
        case JString():
            return JString(src, node.offset, node.value)
        case JNumber():
            return JNumber(src, node.offset, node.value)
        case JBool():
            return JBool(src, node.offset, node.value)
        case JNull():
            return JNull(src, node.offset)
    raise AssertionError(f"unexpected node {type(node).__name__}")
