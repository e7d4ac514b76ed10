"""Syntax stage: YAML text -> positioned JSON values (`kmsprove.syntax.tree` nodes).

CloudFormation templates are often YAML. PyYAML's composer keeps every node's start
(a character offset into the text), so the tree it gives converts to the same `JNode`s
the JSON parser builds, and every diagnostic about a template points into its YAML:
`read_document` and the policy builder read the converted tree as they read JSON.

- Scalars take their YAML 1.1 types (PyYAML's resolver): strings, integers, floats,
  booleans, null. A timestamp stays the text written (`Version: 2012-10-17` is the
  string CloudFormation reads), and a mapping key is always its text as written
  (`111122223333:` in a `Mappings` table is the string, not a number).
- CloudFormation's short-form tags become their long form: `!Ref X` is
  `{"Ref": "X"}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`, `!Sub ...` is
  `{"Fn::Sub": ...}` and so on (`SHORT_FORMS`), positioned at the tag. Another
  `!tag` is an error.
- Aliases (`*name`) share the anchor's converted node; a recursive alias, more
  than one document, nesting deeper than `MAX_DEPTH` and duplicate keys are errors.
"""

from __future__ import annotations

from typing import Any

import yaml

from kmsprove.errors import InputError, SourcePos, error, suggest
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
    Source,
    structure_problems,
)

FUNCTIONS = (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "Length",
    "ToJsonString",
)
# `!Tag` -> the long form's key
SHORT_FORMS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{f"!{name}": f"Fn::{name}" for name in FUNCTIONS},
}
YAML_TAG = "tag:yaml.org,2002:"


def parse_yaml(text: str, file: str = "<input>") -> JNode:
    """Parse one YAML document into positioned nodes, or raise `InputError`."""
    src = Source(file, text)
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = src.pos(mark.index) if mark is not None else SourcePos(file)
        what = exc.problem or exc.context or "not YAML"
        raise InputError.at(pos, f"bad YAML: {what}") from None
    except yaml.YAMLError as exc:  # a reader error without a mark
        raise InputError.at(SourcePos(file), f"bad YAML: {exc}") from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise InputError.at(SourcePos(file, 1, 1), "empty file: expected a YAML or JSON value")
    if len(documents) > 1:
        second = src.pos(documents[1].start_mark.index)
        raise InputError.at(second, "more than one YAML document: a template is one document")
    root = _Converter(src).node(documents[0], 1)
    problems = list(structure_problems(root))
    if problems:
        raise InputError(problems)
    return root


class _Converter:
    """PyYAML nodes -> `JNode`s, each at its node's start offset."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.done: dict[int, JNode] = {}  # id(yaml node) -> its tree (aliases share it)
        self.busy: set[int] = set()
        self.scalars = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str) -> InputError:
        return InputError([error(self.src.pos(node.start_mark.index), message)])

    def node(self, node: yaml.Node, depth: int) -> JNode:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        key = id(node)
        if key in self.done:
            return self.done[key]
        if key in self.busy:
            raise self.fail(node, "recursive YAML alias: a template is a tree")
        self.busy.add(key)
        out = self.tagged(node, depth) if node.tag.startswith("!") else self.plain(node, depth)
        self.busy.discard(key)
        self.done[key] = out
        return out

    def tagged(self, node: yaml.Node, depth: int) -> JNode:
        name = SHORT_FORMS.get(node.tag)
        if name is None:
            raise self.fail(
                node,
                f"unknown tag `{node.tag}`: CloudFormation's short forms are "
                "`!Ref`, `!Sub`, `!GetAtt`, ..." + suggest(node.tag, SHORT_FORMS),
            )
        offset = node.start_mark.index
        if isinstance(node, yaml.ScalarNode):
            inner: JNode = JString(self.src, offset, node.value)
            if name == "Fn::GetAtt":
                resource, dot, attribute = node.value.partition(".")
                if not dot or not resource or not attribute:
                    raise self.fail(node, "`!GetAtt` takes `RESOURCE.ATTRIBUTE`")
                parts = (JString(self.src, offset, resource), JString(self.src, offset, attribute))
                inner = JArray(self.src, offset, parts)
        else:
            inner = self.plain(node, depth + 1)
        return JObject(self.src, offset, (JMember(name, offset, inner),))

    def plain(self, node: yaml.Node, depth: int) -> JNode:
        offset = node.start_mark.index
        if isinstance(node, yaml.MappingNode):
            members = []
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode) or k.tag.startswith("!"):
                    raise self.fail(k, "a mapping key must be plain text")
                members.append(JMember(k.value, k.start_mark.index, self.node(v, depth + 1)))
            return JObject(self.src, offset, tuple(members))
        if isinstance(node, yaml.SequenceNode):
            return JArray(self.src, offset, tuple(self.node(i, depth + 1) for i in node.value))
        assert isinstance(node, yaml.ScalarNode)
        return self.scalar(node)

    def scalar(self, node: yaml.ScalarNode) -> JNode:
        offset = node.start_mark.index
        kind = node.tag.removeprefix(YAML_TAG)
        value: Any
        if kind == "int":
            value = self.scalars.construct_yaml_int(node)
            return JNumber(self.src, offset, value)
        if kind == "float":
            value = self.scalars.construct_yaml_float(node)
            return JNumber(self.src, offset, value)
        if kind == "bool":
            return JBool(self.src, offset, bool(self.scalars.construct_yaml_bool(node)))
        if kind == "null":
            return JNull(self.src, offset)
        # str, timestamp, binary...: the text as written
        return JString(self.src, offset, str(node.value))
