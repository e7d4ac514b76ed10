"""JSON inside a JSON string (a Terraform plan's policy attribute): the inner document
parses to what `json.loads` gives, and every inner node, member name and syntax error
is positioned on its own first character in the outer file, through any escaping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kmsprove.errors import InputError
from kmsprove.syntax.embedded import parse_embedded
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.json_bulk import parse_json_bulk
from kmsprove.syntax.tree import JArray, JBool, JNode, JNumber, JObject, JString, to_python
from tests.syntax.test_json_properties import dumps_options, json_values, line_starts, offset_of

FIRST = {JString: '"', JObject: "{", JArray: "["}


def decoded_at(text: str, offset: int) -> str:
    """The character the raw literal text at `offset` decodes to."""
    if text[offset] != "\\":
        return text[offset]
    width = 6 if text[offset + 1] == "u" else 2
    decoded: str = json.loads('"' + text[offset : offset + width] + '"')
    return decoded


def check(outer: str, root: JNode) -> None:
    starts = line_starts(outer)
    stack = [root]
    while stack:
        node = stack.pop()
        ch = decoded_at(outer, offset_of(starts, node.pos))
        match node:
            case JBool():
                assert ch == ("t" if node.value else "f")
            case JNumber():
                assert ch in "-0123456789"
            case JObject() | JArray() | JString():
                assert ch == FIRST[type(node)], (type(node), ch, node.pos)
            case _:
                assert ch == "n"
        if isinstance(node, JObject):
            for m in node.members:
                assert decoded_at(outer, offset_of(starts, m.key_pos)) == '"'
                stack.append(m.value)
        elif isinstance(node, JArray):
            stack.extend(node.items)


@given(json_values, dumps_options, dumps_options, st.booleans())
@example({"Sid": 'é😀\n"x\\'}, {}, {"ensure_ascii": True}, False)
def test_inner_nodes_sit_on_their_characters_in_the_outer_file(
    value: Any, inner_opts: dict[str, Any], outer_opts: dict[str, Any], bulk: bool
) -> None:
    inner = json.dumps(value, **inner_opts)
    outer = json.dumps({"policy": inner}, **outer_opts)
    root = (parse_json_bulk if bulk else parse_json)(outer, "plan.json")
    assert isinstance(root, JObject)
    node = root.get("policy")
    assert isinstance(node, JString)
    tree = parse_embedded(node, outer, "plan.json#policy")
    assert to_python(tree) == json.loads(inner)
    assert tree.pos.file == "plan.json"
    check(outer, tree)


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_syntax_error_inside_is_reported_in_the_outer_file(ensure_ascii: bool) -> None:
    inner = '{\n  "Version": "2012-10-17",\n  "Statement": [ {"Sid": "é" "Effect": 1} ]\n}'
    outer = json.dumps({"a": 1, "policy": inner}, indent=2, ensure_ascii=ensure_ascii)
    root = parse_json(outer, "plan.json")
    assert isinstance(root, JObject)
    node = root.get("policy")
    assert isinstance(node, JString)
    with pytest.raises(InputError) as exc:
        parse_embedded(node, outer, "plan.json#policy")
    (d,) = exc.value.diagnostics
    assert d.pos.file == "plan.json" and d.message == 'missing `,` before `"Effect"`'
    assert outer.split("\n")[d.pos.line - 1][d.pos.col - 1 :].startswith('\\"Effect\\"')
