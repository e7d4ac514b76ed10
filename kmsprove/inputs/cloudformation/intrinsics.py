"""Intrinsic functions: a template value -> the value CloudFormation would deploy, where
it is static (`Resolver.resolve`), and conditions (`Resolver.condition`).

Resolved: `Ref` (parameters, pseudo parameters, resources: `kmsprove...names`),
`Fn::GetAtt`, `Fn::Sub` (both forms, `${!Literal}`), `Fn::Join`, `Fn::Select`,
`Fn::Split`, `Fn::If` (with `Conditions`: `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`,
`Condition`), `Fn::FindInMap` (with `DefaultValue`), `Fn::Base64`, `Fn::ToJsonString`,
`Fn::Length`, `AWS::NoValue` (the property or element is left out).

Known only at deploy time, so unresolved (`unknown`: an `Unresolved` item naming the
construct and its position, and the `MARK` in the value's place): `Fn::ImportValue`,
`Fn::GetAZs`, `Fn::Cidr`, `Fn::Transform`, `AWS::NotificationARNs`, `{{resolve:...}}`
dynamic references, parameters without a value, SSM parameter types. Every item is
recorded against the key whose decision the value is part of (`key`), or None.
An unknown function, a `Ref` to nothing, a condition function outside `Conditions`
are errors, as CloudFormation rejects them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kmsprove.errors import SourcePos, error, suggest
from kmsprove.inputs.cloudformation.functions import FUNCTIONS, at, text_of
from kmsprove.inputs.cloudformation.template import STACK_NAME, Resource, Template
from kmsprove.inputs.unresolved import MARK, Unsettled, has_mark
from kmsprove.syntax.tree import (
    JArray,
    JMember,
    JNode,
    JObject,
    JString,
    kind_name,
    to_python,
)

# (logical id, attribute or None for `Ref`, the intrinsic's node, key) -> its value
ResourceValue = Callable[[str, str | None, JNode, str | None], JNode]
Captured = list[tuple[str, SourcePos]]

PSEUDO = (
    "AWS::AccountId",
    "AWS::Region",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
)
UNMODELLED = {
    "Fn::GetAZs": "the Availability Zones of the account, known at deploy time",
    "Fn::Cidr": "not modelled by kmsprove",
    "Fn::Transform": "a macro that runs at deploy time",
}
CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not")
RULE_FUNCTIONS = (
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::RefAll",
    "Fn::ValueOf",
    "Fn::ValueOfAll",
)
_DYNAMIC = re.compile(r"\{\{resolve:[^}]*\}\}")
EXPANDED = "not in the template: a transform may create it at deploy time"
MAX_STEPS = 200_000  # resolution steps: far beyond any template, short of an alias bomb


def intrinsic_name(node: JNode) -> str | None:
    """`Ref` or `Fn::X` when `node` is an intrinsic function call."""
    if isinstance(node, JObject) and len(node.members) == 1:
        name = node.members[0].key
        if name == "Ref" or name.startswith("Fn::"):
            return name
    return None


class Resolver:
    """Resolves one template's values; every problem goes to the template's list."""

    def __init__(self, tpl: Template, unsettled: Unsettled) -> None:
        self.tpl = tpl
        self.unsettled = unsettled
        self.resources: ResourceValue | None = None  # set by the reader (names)
        self.captures: list[Captured] = []
        self.deferred = 0  # inside `capture(defer=True)`: record nothing yet
        self.steps = 0
        self.busy: list[str] = []  # conditions being decided (a cycle is an error)
        self.stack_name_used = False

    # -- what could not be resolved -----------------------------------------

    def unknown(self, construct: str, where: JNode, key: str | None, why: str) -> JString:
        """Record an unresolved value; the mark that stands in its place."""
        reason = f"{construct} ({where.pos}): {why}"
        if not self.deferred:
            self.unsettled.add(reason, key, where.pos)
        for c in self.captures:
            c.append((reason, where.pos))
        return JString(where.src, where.offset, MARK)

    @contextmanager
    def capture(self, defer: bool = False) -> Iterator[Captured]:
        """What is found unresolved while the block runs (a memo replays it); with
        `defer`, recorded only when replayed (under a key not known yet)."""
        found: Captured = []
        self.captures.append(found)
        self.deferred += defer
        try:
            yield found
        finally:
            self.deferred -= defer
            self.captures.pop()

    def replay(self, found: Captured, key: str | None) -> None:
        for reason, pos in found:
            if not self.deferred:
                self.unsettled.add(reason, key, pos)
            for c in self.captures:
                c.append((reason, pos))

    def fail(self, where: JNode, message: str) -> JString:
        self.tpl.problems.append(error(where.pos, message))
        return JString(where.src, where.offset, MARK)

    def text(self, node: JNode | None, where: JNode, what: str) -> str | None:
        if node is None:
            self.fail(where, f"{what} is missing")
            return None
        out = text_of(node)
        if out is None:
            self.fail(node, f"{what} must be a string, not {kind_name(node)}")
        return out

    # -- values ---------------------------------------------------------------

    def resolve(self, node: JNode, key: str | None) -> JNode | None:
        """The deployed value of `node` (None: `AWS::NoValue`, left out)."""
        self.steps += 1
        if self.steps == MAX_STEPS:
            self.fail(node, "the template takes too long to resolve (aliases repeated?)")
        if self.steps >= MAX_STEPS:
            return JString(node.src, node.offset, MARK)
        if isinstance(node, JObject):
            fn = intrinsic_name(node)
            if fn is not None:
                return self.call(fn, node.members[0].value, node, key)
            members = []
            for m in node.members:
                v = self.resolve(m.value, key)
                if v is not None:
                    members.append(JMember(m.key, m.key_offset, v))
            return JObject(node.src, node.offset, tuple(members))
        if isinstance(node, JArray):
            items = [self.resolve(i, key) for i in node.items]
            return JArray(node.src, node.offset, tuple(i for i in items if i is not None))
        if isinstance(node, JString) and "{{resolve:" in node.value:
            return self.dynamic(node, key)
        return node

    def call(self, fn: str, arg: JNode, node: JNode, key: str | None) -> JNode | None:
        handler = FUNCTIONS.get(fn) or _REFERENCES.get(fn)
        if handler is not None:
            return handler(self, arg, node, key)
        if fn in UNMODELLED:
            return self.unknown(f"`{fn}`", node, key, UNMODELLED[fn])
        if fn == "Fn::ImportValue":
            name = self.resolve(arg, key)
            shown = text_of(name) if name is not None else None
            construct = f"`Fn::ImportValue {(shown or '?').replace(MARK, '?')}`"
            return self.unknown(
                construct, node, key, "another stack's export, known at deploy time"
            )
        if fn in CONDITION_FUNCTIONS:
            return self.fail(node, f"`{fn}` is a condition function: it belongs in `Conditions`")
        if fn in RULE_FUNCTIONS:
            return self.fail(node, f"`{fn}` is a rule function: only `Rules` use it")
        known = [*FUNCTIONS, *_REFERENCES, *UNMODELLED, "Fn::ImportValue"]
        return self.fail(node, f"unknown intrinsic function `{fn}`" + suggest(fn, known))

    def dynamic(self, node: JString, key: str | None) -> JString:
        def one(m: re.Match[str]) -> str:
            why = "a dynamic reference, read at deploy time"
            return self.unknown(f"`{m.group(0)}`", node, key, why).value

        return JString(node.src, node.offset, _DYNAMIC.sub(one, node.value))

    def ref(self, arg: JNode, node: JNode, key: str | None) -> JNode | None:
        name = self.text(arg, node, "`Ref`'s argument")
        if name is None:
            return JString(node.src, node.offset, MARK)
        tpl = self.tpl
        if name in PSEUDO:
            return self.pseudo(name, node, key)
        if name in tpl.parameters:
            p = tpl.parameters[name]
            if p.value is None:
                return self.unknown(f"`Ref {name}`", node, key, p.why_none)
            return at(p.value, node)
        if name in tpl.resources and self.resources is not None:
            return self.resources(name, None, node, key)
        if tpl.expanded:
            return self.unknown(f"`Ref {name}`", node, key, EXPANDED)
        options = [*tpl.parameters, *tpl.resources, *PSEUDO]
        return self.fail(
            node,
            f"`Ref` to `{name}`: no parameter or resource of that name" + suggest(name, options),
        )

    def pseudo(self, name: str, node: JNode, key: str | None) -> JNode | None:
        tpl = self.tpl
        if name == "AWS::NoValue":
            return None
        if name == "AWS::NotificationARNs":
            return self.unknown(
                f"`Ref {name}`", node, key, "the stack's topics, given at deploy time"
            )
        if name in ("AWS::StackName", "AWS::StackId"):
            self.stack_name_used = True
        values = {
            "AWS::AccountId": tpl.account,
            "AWS::Region": tpl.region,
            "AWS::Partition": tpl.partition,
            "AWS::URLSuffix": tpl.url_suffix,
            "AWS::StackName": STACK_NAME,
            "AWS::StackId": tpl.stack_id,
        }
        return JString(node.src, node.offset, values[name])

    def get_att(self, arg: JNode, node: JNode, key: str | None) -> JNode:
        if isinstance(arg, JString) and "." in arg.value:
            logical, attribute = arg.value.split(".", 1)
        elif isinstance(arg, JArray) and len(arg.items) == 2:
            logical = text_of(arg.items[0]) or ""
            attr = self.resolve(arg.items[1], key)
            attribute = (text_of(attr) if attr is not None else None) or ""
        else:
            return self.fail(
                node, "`Fn::GetAtt` takes [RESOURCE, ATTRIBUTE] or `RESOURCE.ATTRIBUTE`"
            )
        if logical not in self.tpl.resources and self.tpl.expanded:
            return self.unknown(f"`Fn::GetAtt {logical}.{attribute}`", node, key, EXPANDED)
        if logical not in self.tpl.resources:
            return self.fail(
                node,
                f"`Fn::GetAtt` of `{logical}`: no resource of that name"
                + suggest(logical, self.tpl.resources),
            )
        if MARK in attribute:
            return JString(node.src, node.offset, MARK)
        assert self.resources is not None
        out = self.resources(logical, attribute, node, key)
        assert isinstance(out, JString)
        return out

    def exists(self, res: Resource, key: str | None) -> bool | None:
        """Whether the resource is created (its `Condition`); None: not known here."""
        if res.condition is None:
            return True
        return self.condition(res.condition, res.node, key)

    # -- conditions -------------------------------------------------------------

    def condition(self, name: str, where: JNode, key: str | None) -> bool | None:
        """The condition's truth; None: it rests on a value known at deploy time."""
        tpl = self.tpl
        if name not in tpl.conditions:
            self.fail(
                where, f"no condition `{name}` in `Conditions`" + suggest(name, tpl.conditions)
            )
            return None
        if name in self.busy:
            self.fail(where, f"condition `{name}` depends on itself")
            return None
        self.busy.append(name)
        try:
            return self.truth(tpl.conditions[name], key)
        finally:
            self.busy.pop()

    def truth(self, node: JNode, key: str | None) -> bool | None:
        fn = intrinsic_name(node) or (
            "Condition" if isinstance(node, JObject) and node.names() == ["Condition"] else None
        )
        if fn is None or not isinstance(node, JObject):
            self.fail(
                node, "a condition is `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` or `Condition`"
            )
            return None
        arg = node.members[0].value
        if fn == "Condition":
            name = self.text(arg, node, "`Condition`'s argument")
            return None if name is None else self.condition(name, node, key)
        args = arg.items if isinstance(arg, JArray) else ()
        if fn == "Fn::Equals" and len(args) == 2:
            a, b = (self.resolve(x, key) for x in args)
            if a is None or b is None or has_mark(a) or has_mark(b):
                return None
            return _canon(a) == _canon(b)
        if fn == "Fn::Not" and len(args) == 1:
            t = self.truth(args[0], key)
            return None if t is None else not t
        if fn in ("Fn::And", "Fn::Or") and 2 <= len(args) <= 10:
            values = [self.truth(x, key) for x in args]
            decisive = fn == "Fn::Or"  # the value that settles it
            if decisive in values:
                return decisive
            return None if None in values else not decisive
        self.fail(node, f"`{fn}` has the wrong arguments here")
        return None


def _canon(node: JNode) -> object:
    value = to_python(node)
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value).lower() if isinstance(value, bool) else str(value)


_REFERENCES: dict[str, Callable[[Resolver, JNode, JNode, str | None], JNode | None]] = {
    "Ref": Resolver.ref,
    "Fn::GetAtt": Resolver.get_att,
}
