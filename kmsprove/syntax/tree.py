"""Syntax stage: positioned JSON values (`JNode`s), shared by both JSON parsers.

Nodes keep an offset into their `Source` and compute line and column only when asked.
Also the messages both parsers give for the same problems, so a document reads the
same diagnostics whichever parser read it (`kmsprove.syntax.json`, `json_bulk`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kmsprove.errors import Diagnostic, SourcePos, error

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


class Lazy:
    """What a bulk container needs to build its children on first access."""

    __slots__ = ("build", "raw", "text")

    def __init__(self, raw: Any, text: str, build: Callable[..., JNode]) -> None:
        self.raw = raw  # the decoded dict or list
        self.text = text
        self.build = build  # (raw, text, offset, source) -> the container, built


@dataclass(frozen=True, slots=True, eq=False)
class _Container(JNode):
    _kids: tuple[Any, ...] | None = field(default=None, repr=False)
    _lazy: Lazy | None = field(default=None, repr=False)

    def _children(self) -> tuple[Any, ...]:
        kids = self._kids
        if kids is None:
            lazy = self._lazy
            assert lazy is not None
            built = lazy.build(lazy.raw, lazy.text, self.offset, self.src)
            kids = built._kids  # type: ignore[attr-defined]
            object.__setattr__(self, "_kids", kids)
            object.__setattr__(self, "_lazy", None)
        return kids

    @property
    def is_lazy(self) -> bool:
        """Built by the bulk path and not read yet: `to_python` is free."""
        return self._lazy is not None

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._children() == other._children()

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
                val = child.value  # type: ignore[union-attr]  # a scalar node
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
# messages both parsers give


def end_of_text(text: str, file: str) -> SourcePos:
    # lark reports -1 for the end of input; compute it ourselves
    lines = text.split("\n")
    return SourcePos(file, len(lines), len(lines[-1]) + 1)


def prev_nonspace(text: str, offset: int) -> str:
    i = offset - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    return text[i] if i >= 0 else ""


def shorten(tok: str) -> str:
    s = str(tok)
    return s if len(s) <= 30 else s[:27] + "..."


def bad_character_message(text: str, offset: int) -> str:
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


def structure_problems(root: JNode) -> Iterator[Diagnostic]:
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
