"""Terraform planned values: an attribute's value as the plan gives it, and what of it
only apply will tell (`after_unknown`), walked together."""

from __future__ import annotations

from dataclasses import dataclass

from kmsprove.syntax.tree import JArray, JBool, JNode, JNull, JObject, JString


@dataclass(frozen=True)
class Value:
    """A planned value: `node` as the plan gives it (None: absent or null) and `unknown`,
    the matching part of `after_unknown` (`true` where only apply will tell)."""

    node: JNode | None
    unknown: JNode | None = None

    def at(self, name: str) -> Value:
        node = self.node.get(name) if isinstance(self.node, JObject) else None
        unknown = self.unknown.get(name) if isinstance(self.unknown, JObject) else None
        if isinstance(self.unknown, JBool) and self.unknown.value:
            unknown = self.unknown  # inside an unknown value, everything is unknown
        return Value(None if isinstance(node, JNull) else node, unknown)

    def items(self) -> list[Value]:
        """The elements of a list or set (a block list); none when unknown or absent."""
        if not isinstance(self.node, JArray):
            return []
        unknowns = self.unknown.items if isinstance(self.unknown, JArray) else ()
        return [
            Value(None if isinstance(n, JNull) else n, unknowns[i] if i < len(unknowns) else None)
            for i, n in enumerate(self.node.items)
        ]

    @property
    def is_unknown(self) -> bool:
        """Only apply will tell all of it."""
        return has_true(self.unknown)

    @property
    def string(self) -> str | None:
        return self.node.value if isinstance(self.node, JString) else None

    @property
    def where(self) -> JNode | None:
        """What to point at: the value, else its `after_unknown` entry."""
        return self.node if self.node is not None else self.unknown


def blocks(nodes: list[JNode | None]) -> list[JNode | None]:
    """Nested block expressions are lists of objects: look into every one."""
    out: list[JNode | None] = []
    for n in nodes:
        out += list(n.items) if isinstance(n, JArray) else [n]
    return out


def has_true(node: JNode | None) -> bool:
    if isinstance(node, JBool):
        return node.value
    if isinstance(node, JObject):
        return any(has_true(m.value) for m in node.members)
    if isinstance(node, JArray):
        return any(has_true(i) for i in node.items)
    return False
