"""Syntax stage, bulk files: the C JSON decoder for values, one regex pass for positions.

The grammar (`kmsprove.syntax.json`) parses a 20 MB world with 50,000 grants too
slowly; this path gives the same tree and the same positioned errors (a property test
holds the two and `json.loads` equal).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from kmsprove.errors import Diagnostic, InputError, SourcePos, error
from kmsprove.syntax.tree import (
    MAX_DEPTH,
    JArray,
    JBool,
    JMember,
    JNode,
    JNull,
    JNumber,
    JObject,
    JString,
    Lazy,
    Source,
    bad_character_message,
    end_of_text,
    prev_nonspace,
    shorten,
    structure_problems,
)

# Every token that starts a value or names a member, in document order. Strings
# are matched whole, so brackets inside them are never counted.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{\[]|[-0-9][-+.0-9eE]*|true|false|null')


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


_WS = re.compile(r"[ \t\r\n]*")
LAZY_MIN = 64  # arrays longer than this (grant lists) build their elements on access


class _Decoded:
    """Duplicate-member bookkeeping for one bulk decode."""

    def __init__(self) -> None:
        self.duplicates = False

    def hook(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) != len(pairs):
            self.duplicates = True
        return d


def parse_json_bulk(text: str, file: str) -> JNode:
    """The same tree as the grammar gives, several times faster on large files.

    The C decoder builds the values; a pre-order walk of them meets the value
    tokens in the order `_TOKEN` finds them in the text, which gives each node
    its offset. Elements of long arrays get their offset from the C scanner and
    build their own children only when read, so a 50,000-grant file costs one
    pass of the C decoder plus one small node per grant.
    """
    src = Source(file, text)
    decoded = _Decoded()
    decoder = json.JSONDecoder(object_pairs_hook=decoded.hook, parse_constant=_reject_constant)
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise InputError([_bulk_error(text, src, exc.pos, exc.msg)]) from None
    except ValueError as exc:  # NaN, Infinity
        offset = text.find(str(exc))
        raise InputError.at(
            src.pos(max(offset, 0)), f"unexpected word `{exc}`: JSON has only true, false and null"
        ) from None
    except RecursionError:
        raise InputError.at(
            SourcePos(file, 1, 1), f"nesting deeper than {MAX_DEPTH} levels"
        ) from None
    if decoded.duplicates:
        # dicts dropped the duplicates; decode again keeping every pair to say where
        pairs = json.loads(text, object_pairs_hook=_Pairs)
        root = _attach(pairs, _TOKEN.finditer(text), src, None)
        raise InputError(structure_problems(root))
    # the C scanner the decoder was built with (not in the typeshed stubs)
    scan_once = decoder.scan_once  # type: ignore[attr-defined]
    return _attach(value, _TOKEN.finditer(text), src, text, scan_once)


class _Pairs(list):  # type: ignore[type-arg]
    """A decoded object kept as its list of pairs (to see duplicate members)."""


def _attach(
    value: Any,
    tokens: Iterator[re.Match[str]],
    src: Source,
    text: str | None,
    scan_once: Any = None,
) -> JNode:
    """Positioned nodes for a decoded value whose first token `tokens` yields next.

    With `scan_once` (and `text`), arrays longer than LAZY_MIN become lazy.
    """
    root_holder: list[JNode] = []
    stack: list[tuple[bool, int, list[Any], Iterator[Any]]] = []
    cursor = [tokens]

    def next_offset() -> int:
        return next(cursor[0]).start()

    def open_node(v: Any) -> JNode | None:
        p = next_offset()
        if isinstance(v, (dict, _Pairs)):
            stack.append((True, p, [], iter(v.items() if isinstance(v, dict) else v)))
            return None
        if isinstance(v, list):
            if scan_once is not None and text is not None and len(v) > LAZY_MIN:
                return _lazy_array(p)
            stack.append((False, p, [], iter(v)))
            return None
        if isinstance(v, str):
            return JString(src, p, v)
        if v is True or v is False:
            return JBool(src, p, v)
        if v is None:
            return JNull(src, p)
        return JNumber(src, p, v)

    def _lazy_array(start: int) -> JNode:
        assert text is not None
        kids: list[JNode] = []
        i = _WS.match(text, start + 1).end()  # type: ignore[union-attr]
        while text[i] != "]":
            elem, end = scan_once(text, i)
            if isinstance(elem, dict):
                kids.append(JObject(src, i, None, Lazy(elem, text, _rebuild)))
            elif isinstance(elem, list):
                kids.append(JArray(src, i, None, Lazy(elem, text, _rebuild)))
            else:
                kids.append(_attach(elem, _TOKEN.finditer(text, i), src, None))
            i = _WS.match(text, end).end()  # type: ignore[union-attr]
            if text[i] == ",":
                i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        cursor[0] = _TOKEN.finditer(text, i + 1)
        return JArray(src, start, tuple(kids))

    def add(node: JNode) -> None:
        if not stack:
            root_holder.append(node)
            return
        frame = stack[-1]
        if frame[0]:
            key, key_offset = frame[2].pop()
            frame[2].append(JMember(key, key_offset, node))
        else:
            frame[2].append(node)

    first = open_node(value)
    if first is not None:
        return first
    while stack:
        is_obj, p, kids, it = stack[-1]
        child = next(it, _DONE)
        if child is _DONE:
            stack.pop()
            add(JObject(src, p, tuple(kids)) if is_obj else JArray(src, p, tuple(kids)))
            continue
        v: Any
        if is_obj:
            pair: tuple[str, Any] = child  # type: ignore[assignment]  # an object yields pairs
            key, v = pair
            kids.append((key, next_offset()))
        else:
            v = child
        node = open_node(v)
        if node is not None:
            add(node)
    return root_holder[0]


_DONE = object()


def _bulk_error(text: str, src: Source, offset: int, msg: str) -> Diagnostic:
    file = src.file
    if offset >= len(text.rstrip()):
        return error(end_of_text(text.rstrip(), file), "unexpected end of file")
    ch = text[offset]
    if ch in "}]" and prev_nonspace(text, offset) == ",":
        return error(src.pos(offset), "trailing comma: JSON allows no `,` before a closing bracket")
    if msg.startswith("Expecting ','"):
        m = _TOKEN.match(text, offset)
        if m:
            return error(src.pos(offset), f"missing `,` before `{shorten(m.group(0))}`")
    if msg.startswith("Expecting ':' delimiter"):
        m = _TOKEN.match(text, offset)
        shown = m.group(0) if m else ch
        return error(
            src.pos(offset),
            f"expected `:` after the member name, found `{shorten(shown)}`",
        )
    if msg.startswith(("Invalid control character", "Invalid \\escape", "Unterminated string")):
        return error(src.pos(offset), "bad string: unescaped control character or bad escape")
    if ch in "{}[],:" or _TOKEN.match(text, offset):
        m = _TOKEN.match(text, offset)
        return error(src.pos(offset), f"unexpected `{shorten(m.group(0) if m else ch)}`")
    return error(src.pos(offset), bad_character_message(text, offset))


def _rebuild(raw: Any, text: str, offset: int, src: Source) -> JNode:
    """A lazy container's children, built when first read."""
    return _attach(raw, _TOKEN.finditer(text, offset), src, None)
