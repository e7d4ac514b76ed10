"""Syntax stage: text -> positioned JSON values.

Two parsers produce the same tree of `JNode`s:

- `grammar/json.lark` (lark, LALR) for documents up to `LARK_LIMIT` characters:
  policies, grant lists and ordinary world files;
- a scanner built on the standard library's C JSON scanner for bulk files
  (a 20 MB world with 50,000 grants), which the grammar parses too slowly
  (see bench/parse_bench.py). It positions every container and every scalar
  the same way, and reports the same positioned errors.

A property test checks that both agree with each other and with `json.loads`.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import lark

from kmsprove.errors import Diagnostic, InputError, SourcePos, error
from kmsprove.resources import read_data

LARK_LIMIT = 1_000_000  # characters; above this the bulk scanner is used
MAX_DEPTH = 64  # AWS policies nest 4 deep; 64 is far beyond any real document


class Source:
    """One parsed text: its display name and where its lines start.

    Nodes keep an offset into it and compute line and column only when asked,
    which keeps bulk files (50,000 grants) fast to load.
    """

    __slots__ = ("file", "starts")

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def pos(self, offset: int) -> SourcePos:
        i = bisect.bisect_right(self.starts, offset) - 1
        return SourcePos(self.file, i + 1, offset - self.starts[i] + 1)


@dataclass(frozen=True, slots=True)
class JNode:
    src: Source = field(compare=False, repr=False)
    offset: int = field(compare=False)

    @property
    def pos(self) -> SourcePos:
        return self.src.pos(self.offset)


@dataclass(frozen=True, slots=True)
class JString(JNode):
    value: str


@dataclass(frozen=True, slots=True)
class JNumber(JNode):
    value: int | float


@dataclass(frozen=True, slots=True)
class JBool(JNode):
    value: bool


@dataclass(frozen=True, slots=True)
class JNull(JNode):
    value: None = None


@dataclass(frozen=True, slots=True)
class JMember:
    key: str
    key_offset: int = field(compare=False)
    value: JNode

    @property
    def key_pos(self) -> SourcePos:
        return self.value.src.pos(self.key_offset)


class _Lazy:
    """What a bulk container needs to build its children on first access."""

    __slots__ = ("raw", "text")

    def __init__(self, raw: Any, text: str) -> None:
        self.raw = raw  # the decoded dict or list
        self.text = text


@dataclass(frozen=True, slots=True, eq=False)
class _Container(JNode):
    _kids: tuple[Any, ...] | None = field(default=None, repr=False)
    _lazy: _Lazy | None = field(default=None, repr=False)

    def _children(self) -> tuple[Any, ...]:
        kids = self._kids
        if kids is None:
            lazy = self._lazy
            assert lazy is not None
            built = _attach(lazy.raw, _TOKEN.finditer(lazy.text, self.offset), self.src, None)
            kids = built._kids  # type: ignore[attr-defined]
            object.__setattr__(self, "_kids", kids)
            object.__setattr__(self, "_lazy", None)
        return kids  # type: ignore[return-value]

    @property
    def is_lazy(self) -> bool:
        """Built by the bulk path and not read yet: `to_python` is free."""
        return self._lazy is not None

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._children() == other._children()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._children())


@dataclass(frozen=True, slots=True, eq=False)
class JObject(_Container):
    @property
    def members(self) -> tuple[JMember, ...]:
        return self._children()

    def get(self, key: str) -> JNode | None:
        for m in self.members:
            if m.key == key:
                return m.value
        return None

    def names(self) -> list[str]:
        return [m.key for m in self.members]


@dataclass(frozen=True, slots=True, eq=False)
class JArray(_Container):
    @property
    def items(self) -> tuple[JNode, ...]:
        return self._children()


def to_python(node: JNode) -> Any:
    """The plain value (`dict`, `list`, `str`...) that `json.loads` would give.

    A container the bulk path has not built yet returns its decoded value
    without building it; callers must not mutate what they get.
    """
    if isinstance(node, _Container) and node._lazy is not None:
        return node._lazy.raw
    stack: list[tuple[JNode, Any]] = []
    match node:
        case JObject():
            out: Any = {}
        case JArray():
            out = []
        case _:
            return node.value  # type: ignore[attr-defined]
    stack.append((node, out))
    while stack:
        cur, dst = stack.pop()
        children = (
            [(m.key, m.value) for m in cur.members]
            if isinstance(cur, JObject)
            else list(enumerate(cur.items))  # type: ignore[attr-defined]
        )
        for k, child in children:
            if isinstance(child, _Container) and child._lazy is not None:
                val: Any = child._lazy.raw
            elif isinstance(child, JObject):
                val = {}
                stack.append((child, val))
            elif isinstance(child, JArray):
                val = []
                stack.append((child, val))
            else:
                val = child.value  # type: ignore[attr-defined]
            if isinstance(dst, dict):
                dst[k] = val
            else:
                dst.append(val)
    return out


def from_python(value: Any, file: str) -> JNode:
    """A tree for a value built in memory (a generated document), every node at FILE:1:1."""
    src = Source(file, "")

    def build(v: Any) -> JNode:
        if isinstance(v, dict):
            return JObject(src, 0, tuple(JMember(str(k), 0, build(x)) for k, x in v.items()))
        if isinstance(v, (list, tuple)):
            return JArray(src, 0, tuple(build(x) for x in v))
        if isinstance(v, bool):
            return JBool(src, 0, v)
        if isinstance(v, (int, float)):
            return JNumber(src, 0, v)
        if isinstance(v, str):
            return JString(src, 0, v)
        if v is None:
            return JNull(src, 0)
        raise TypeError(f"not a JSON value: {type(v).__name__}")

    return build(value)


def kind_name(node: JNode) -> str:
    """AWS-style name of a JSON type, for messages."""
    return {
        JString: "a string",
        JNumber: "a number",
        JBool: "a boolean",
        JNull: "null",
        JObject: "an object",
        JArray: "an array",
    }[type(node)]


# --------------------------------------------------------------------------
# reading files


def decode_bytes(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise InputError.at(
            SourcePos(name, line, col), f"invalid UTF-8 byte `0x{data[exc.start]:02x}`"
        ) from None
    return text.removeprefix("\ufeff")


def parse_json(text: str, file: str = "<input>") -> JNode:
    """Parse JSON text into positioned nodes, or raise `InputError`."""
    if not text.strip():
        raise InputError.at(SourcePos(file, 1, 1), "empty file: expected a JSON value")
    if len(text) <= LARK_LIMIT:
        return _parse_lark(text, file)
    return parse_json_bulk(text, file)


# --------------------------------------------------------------------------
# the lark grammar


@cache
def _lark_parser() -> lark.Lark:
    grammar = read_data("grammar", "json.lark")
    return lark.Lark(grammar, parser="lalr", lexer="basic", maybe_placeholders=False)


def _unquote(tok: str) -> str:
    return json.loads(tok)  # type: ignore[no-any-return]


class _Builder:
    """Turns the lark tree into JNodes without recursion (deep input is legal JSON)."""

    def __init__(self, src: Source) -> None:
        self.src = src

    def build(self, root: lark.Tree | lark.Token) -> JNode:
        # post-order walk: every child is built before its parent
        done: dict[int, JNode] = {}
        stack: list[tuple[lark.Tree | lark.Token, bool]] = [(root, False)]
        while stack:
            item, expanded = stack.pop()
            if isinstance(item, lark.Token):
                continue
            if not expanded:
                stack.append((item, True))
                stack.extend((c, False) for c in item.children if isinstance(c, lark.Tree))
                continue
            done[id(item)] = self.node(item, done)
        if isinstance(root, lark.Token):
            raise AssertionError("grammar drift: a bare token at the root")
        return done[id(root)]

    def node(self, t: lark.Tree, done: dict[int, JNode]) -> JNode:
        kids = t.children
        match t.data:
            case "string":
                return JString(self.src, kids[0].start_pos, _unquote(kids[0]))
            case "number":
                return JNumber(self.src, kids[0].start_pos, _number(kids[0]))
            case "true" | "false":
                return JBool(self.src, kids[0].start_pos, t.data == "true")
            case "null":
                return JNull(self.src, kids[0].start_pos)
            case "array":
                items = tuple(done[id(c)] for c in kids if isinstance(c, lark.Tree))
                return JArray(self.src, kids[0].start_pos, items)
            case "object":
                members = []
                for pair in kids:
                    if isinstance(pair, lark.Tree):
                        key_tok, value = pair.children
                        members.append(
                            JMember(_unquote(key_tok), key_tok.start_pos, done[id(value)])
                        )
                return JObject(self.src, kids[0].start_pos, tuple(members))
            case "pair":
                return JNull(self.src, 0)  # placeholder, read through its object
        raise AssertionError(f"grammar drift: unexpected rule {t.data!r}")


def _number(tok: str) -> int | float:
    return int(tok) if re.fullmatch(r"-?\d+", tok) else float(tok)


def _parse_lark(text: str, file: str) -> JNode:
    try:
        tree = _lark_parser().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise InputError([_lark_error(exc, text, file)]) from None
    root = _Builder(Source(file, text)).build(tree)
    diags = list(_structure_problems(root))
    if diags:
        raise InputError(diags)
    return root


def _end_of_text(text: str, file: str) -> SourcePos:
    # lark reports -1 for the end of input; compute it ourselves
    lines = text.split("\n")
    return SourcePos(file, len(lines), len(lines[-1]) + 1)


def _lark_error(exc: lark.exceptions.UnexpectedInput, text: str, file: str) -> Diagnostic:
    if isinstance(exc, lark.exceptions.UnexpectedEOF) or getattr(exc, "line", -1) in (-1, None):
        return error(_end_of_text(text.rstrip(), file), "unexpected end of file")
    pos = SourcePos(file, exc.line, exc.column)
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        return error(pos, _bad_character_message(text, exc.pos_in_stream))
    assert isinstance(exc, lark.exceptions.UnexpectedToken)
    tok = exc.token
    if tok.type == "$END":
        return error(_end_of_text(text.rstrip(), file), "unexpected end of file")
    expected = set(exc.expected)
    if tok.type in ("RBRACE", "RSQB") and prev_nonspace(text, tok.start_pos) == ",":
        return error(pos, "trailing comma: JSON allows no `,` before a closing bracket")
    if expected & {"COMMA", "RBRACE", "RSQB"} and tok.type in _VALUE_TOKENS:
        return error(pos, f"missing `,` before `{_shorten(tok)}`")
    if "COLON" in expected:
        return error(pos, f"expected `:` after the member name, found `{_shorten(tok)}`")
    return error(pos, f"unexpected `{_shorten(tok)}`")


_VALUE_TOKENS = ("STRING", "NUMBER", "LBRACE", "LSQB", "TRUE", "FALSE", "NULL")


def prev_nonspace(text: str, offset: int) -> str:
    i = offset - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    return text[i] if i >= 0 else ""


def _shorten(tok: str) -> str:
    s = str(tok)
    return s if len(s) <= 30 else s[:27] + "..."


def _bad_character_message(text: str, offset: int) -> str:
    ch = text[offset]
    nxt = text[offset : offset + 2]
    if nxt in ("//", "/*") or ch == "#":
        return "comments are not allowed in JSON"
    if ch == "'":
        return "strings must use double quotes `\"`, not `'`"
    if ch == '"':
        return "bad string: unescaped control character or bad escape"
    if ch.isalpha():
        word = re.match(r"[A-Za-z_]+", text[offset:])
        return (
            f"unexpected word `{word.group(0) if word else ch}`: JSON has only true, false and null"
        )
    if ch.isprintable() and not ch.isspace():
        return f"unexpected character `{ch}`"
    return f"unexpected character U+{ord(ch):04X}"


def _structure_problems(root: JNode) -> Iterator[Diagnostic]:
    """Duplicate member names and too-deep nesting, which the grammar cannot see."""
    stack: list[tuple[JNode, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            yield error(node.pos, f"nesting deeper than {MAX_DEPTH} levels")
            return
        if isinstance(node, JObject):
            seen: dict[str, SourcePos] = {}
            for m in node.members:
                if m.key in seen:
                    first = seen[m.key]
                    yield error(
                        m.key_pos,
                        f"duplicate member `{m.key}` (first at line {first.line}, column {first.col})",
                    )
                else:
                    seen[m.key] = m.key_pos
                stack.append((m.value, depth + 1))
        elif isinstance(node, JArray):
            stack.extend((item, depth + 1) for item in node.items)


# --------------------------------------------------------------------------
# the bulk path: the C JSON decoder for values, one regex pass for positions

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
        raise InputError(_structure_problems(root))
    return _attach(value, _TOKEN.finditer(text), src, text, decoder.scan_once)


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
                kids.append(JObject(src, i, None, _Lazy(elem, text)))
            elif isinstance(elem, list):
                kids.append(JArray(src, i, None, _Lazy(elem, text)))
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
        if is_obj:
            key, v = child
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
        return error(_end_of_text(text.rstrip(), file), "unexpected end of file")
    ch = text[offset]
    if ch in "}]" and prev_nonspace(text, offset) == ",":
        return error(src.pos(offset), "trailing comma: JSON allows no `,` before a closing bracket")
    if msg.startswith("Expecting ','"):
        m = _TOKEN.match(text, offset)
        if m:
            return error(src.pos(offset), f"missing `,` before `{_shorten(m.group(0))}`")
    if msg.startswith("Expecting ':' delimiter"):
        m = _TOKEN.match(text, offset)
        shown = m.group(0) if m else ch
        return error(
            src.pos(offset),
            f"expected `:` after the member name, found `{_shorten(shown)}`",
        )
    if msg.startswith(("Invalid control character", "Invalid \\escape", "Unterminated string")):
        return error(src.pos(offset), "bad string: unescaped control character or bad escape")
    if ch in "{}[],:" or _TOKEN.match(text, offset):
        m = _TOKEN.match(text, offset)
        return error(src.pos(offset), f"unexpected `{_shorten(m.group(0) if m else ch)}`")
    return error(src.pos(offset), _bad_character_message(text, offset))
