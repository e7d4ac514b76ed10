"""The intrinsic functions that compute a value from their arguments (`FUNCTIONS`):
`Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::If`, `Fn::FindInMap`,
`Fn::Base64`, `Fn::ToJsonString`, `Fn::Length`; and the small value helpers every
reader of resolved values shares (`text_of`, `at`).

Each takes the resolver (`Resolving`: resolve an argument, fail at a node, decide a
condition, `Ref` a name) and keeps every mark of an unresolved argument in its result:
a `Fn::Join` of a list holding one unknown is a string holding the mark, a
`Fn::Select` from an unknown list is unknown.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Protocol

from kmsprove.inputs.cloudformation.template import Template
from kmsprove.inputs.unresolved import MARK
from kmsprove.syntax.tree import (
    JArray,
    JBool,
    JNode,
    JNumber,
    JObject,
    JString,
    kind_name,
    to_python,
)

_SUB = re.compile(r"\$\{([^}]*)\}")


class Resolving(Protocol):
    """What a function needs of the resolver (`intrinsics.Resolver`)."""

    tpl: Template

    def resolve(self, node: JNode, key: str | None) -> JNode | None: ...

    def fail(self, where: JNode, message: str) -> JString: ...

    def text(self, node: JNode | None, where: JNode, what: str) -> str | None: ...

    def condition(self, name: str, where: JNode, key: str | None) -> bool | None: ...

    def ref(self, arg: JNode, node: JNode, key: str | None) -> JNode | None: ...

    def get_att(self, arg: JNode, node: JNode, key: str | None) -> JNode: ...


def at(value: JNode, where: JNode) -> JNode:
    """`value` (a string or a list of strings) placed at `where`'s position."""
    if isinstance(value, JArray):
        return JArray(where.src, where.offset, tuple(at(i, where) for i in value.items))
    if isinstance(value, JString):
        return JString(where.src, where.offset, value.value)
    return value


def text_of(node: JNode) -> str | None:
    if isinstance(node, JString):
        return node.value
    if isinstance(node, JBool):
        return "true" if node.value else "false"
    if isinstance(node, JNumber) and not isinstance(node.value, bool):
        v = node.value
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return None


def _sub(r: Resolving, arg: JNode, node: JNode, key: str | None) -> JNode:
    variables: dict[str, str] = {}
    if isinstance(arg, JArray) and len(arg.items) == 2 and isinstance(arg.items[1], JObject):
        body: JNode = arg.items[0]
        for m in arg.items[1].members:
            v = r.resolve(m.value, key)
            variables[m.key] = (text_of(v) if v is not None else None) or MARK
    else:
        body = arg
    if not isinstance(body, JString):
        return r.fail(node, "`Fn::Sub` takes a string, or [string, {NAME: value}]")

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return variables[name]
        logical = name.split(".", 1)[0]
        if "." in name and logical in r.tpl.resources:
            v: JNode | None = r.get_att(JString(node.src, node.offset, name), node, key)
        else:
            v = r.ref(JString(node.src, node.offset, name), node, key)
        out = text_of(v) if v is not None else None
        if out is None:
            r.fail(node, f"`${{{name}}}` in `Fn::Sub` is not a string (a list, or no value)")
            return MARK
        return out

    return JString(node.src, node.offset, _SUB.sub(one, body.value))


def _pair(r: Resolving, arg: JNode, node: JNode, fn: str, shape: str) -> tuple[JNode, JNode] | None:
    if isinstance(arg, JArray) and len(arg.items) == 2:
        return arg.items[0], arg.items[1]
    r.fail(node, f"`{fn}` takes {shape}")
    return None


def _list(r: Resolving, node: JNode | None, where: JNode, fn: str) -> list[str] | None:
    """The strings of a resolved list; None when the list itself is unknown (a mark)."""
    if isinstance(node, JString) and MARK in node.value:
        return None
    if not isinstance(node, JArray):
        r.fail(where, f"`{fn}` needs a list here")
        return None
    out = []
    for item in node.items:
        t = text_of(item)
        if t is None:
            r.fail(item, f"`{fn}` takes a list of strings, not {kind_name(item)}")
            return None
        out.append(t)
    return out


def _join(r: Resolving, arg: JNode, node: JNode, key: str | None) -> JNode:
    pair = _pair(r, arg, node, "Fn::Join", "[DELIMITER, [VALUES]]")
    if pair is None:
        return JString(node.src, node.offset, MARK)
    delim = r.text(pair[0], node, "`Fn::Join`'s delimiter") or ""
    items = _list(r, r.resolve(pair[1], key), node, "Fn::Join")
    return JString(node.src, node.offset, MARK if items is None else delim.join(items))


def _select(r: Resolving, arg: JNode, node: JNode, key: str | None) -> JNode:
    pair = _pair(r, arg, node, "Fn::Select", "[INDEX, [VALUES]]")
    if pair is None:
        return JString(node.src, node.offset, MARK)
    index_node = r.resolve(pair[0], key)
    index = text_of(index_node) if index_node is not None else None
    items = r.resolve(pair[1], key)
    if index is None or MARK in index or (isinstance(items, JString) and MARK in items.value):
        return JString(node.src, node.offset, MARK)
    if not isinstance(items, JArray) or not index.isdigit():
        return r.fail(node, "`Fn::Select` takes [INDEX, [VALUES]] with a whole-number index")
    if int(index) >= len(items.items):
        return r.fail(
            node, f"`Fn::Select` index {index} is past the list's {len(items.items)} items"
        )
    return at(items.items[int(index)], node)


def _split(r: Resolving, arg: JNode, node: JNode, key: str | None) -> JNode:
    pair = _pair(r, arg, node, "Fn::Split", "[DELIMITER, STRING]")
    if pair is None:
        return JString(node.src, node.offset, MARK)
    delim = r.text(pair[0], node, "`Fn::Split`'s delimiter") or ","
    value = r.resolve(pair[1], key)
    whole = r.text(value, node, "`Fn::Split`'s string") if value is not None else None
    parts = (whole or MARK).split(delim) if delim else [whole or MARK]
    return JArray(node.src, node.offset, tuple(JString(node.src, node.offset, p) for p in parts))


def _if(r: Resolving, arg: JNode, node: JNode, key: str | None) -> JNode | None:
    if not (isinstance(arg, JArray) and len(arg.items) == 3):
        return r.fail(node, "`Fn::If` takes [CONDITION, VALUE_IF_TRUE, VALUE_IF_FALSE]")
    name = r.text(arg.items[0], node, "`Fn::If`'s condition name")
    truth = None if name is None else r.condition(name, arg.items[0], key)
    # unknown: the true branch stands in (the condition's own unknown hedges the answer)
    return r.resolve(arg.items[2] if truth is False else arg.items[1], key)


def _find_in_map(r: Resolving, arg: JNode, node: JNode, key: str | None) -> JNode | None:
    items = arg.items if isinstance(arg, JArray) else ()
    if len(items) not in (3, 4):
        return r.fail(node, "`Fn::FindInMap` takes [MAP, TOP_KEY, SECOND_KEY]")
    names = [r.resolve(i, key) for i in items[:3]]
    texts = [text_of(n) if n is not None else None for n in names]
    if any(t is not None and MARK in t for t in texts):
        return JString(node.src, node.offset, MARK)
    default = (
        items[3].get("DefaultValue") if len(items) == 4 and isinstance(items[3], JObject) else None
    )
    found: JNode | None = r.tpl.mappings
    for t, n in zip(texts, names, strict=True):
        nxt = found.get(t) if isinstance(found, JObject) and t is not None else None
        if nxt is None:
            if default is not None:
                return r.resolve(default, key)
            return r.fail(n or node, f"`Fn::FindInMap`: no `{t}` in the mapping")
        found = nxt
    assert found is not None
    return r.resolve(found, key)


def _base64(r: Resolving, arg: JNode, node: JNode, key: str | None) -> JNode:
    value = r.resolve(arg, key)
    t = r.text(value, node, "`Fn::Base64`'s argument") if value is not None else None
    if t is None or MARK in t:
        return JString(node.src, node.offset, MARK)
    return JString(node.src, node.offset, base64.b64encode(t.encode()).decode())


def _to_json_string(r: Resolving, arg: JNode, node: JNode, key: str | None) -> JNode:
    value = r.resolve(arg, key)
    text = json.dumps(to_python(value) if value is not None else None, separators=(",", ":"))
    return JString(node.src, node.offset, text)


def _length(r: Resolving, arg: JNode, node: JNode, key: str | None) -> JNode:
    items = _list(r, r.resolve(arg, key), node, "Fn::Length")
    return JString(node.src, node.offset, MARK if items is None else str(len(items)))


FUNCTIONS: dict[str, Callable[[Resolving, JNode, JNode, str | None], JNode | None]] = {
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": _base64,
    "Fn::ToJsonString": _to_json_string,
    "Fn::Length": _length,
}
