"""Property tests of kmsprove.syntax.json: both parsers equal `json.loads`, positions round-trip.

For any JSON value, `json.dumps` (random indent, separators, escaping) parsed by
the lark grammar (`parse_json`) and by the bulk scanner (`parse_json_bulk`)
gives trees that are equal to each other, convert back to what `json.loads`
returns, and whose every node's position points at the first character of
that value in the text.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kmsprove.syntax.json import LARK_LIMIT, parse_json
from kmsprove.syntax.json_bulk import parse_json_bulk
from kmsprove.syntax.tree import JArray, JBool, JNode, JNull, JNumber, JObject, JString, to_python

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(), children, max_size=6)
    ),
    max_leaves=40,
)
# long arrays take the bulk scanner's lazy path (more than LAZY_MIN elements)
small_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=4,
)
long_arrays = st.lists(small_values, min_size=65, max_size=80)
dumps_options = st.fixed_dictionaries(
    {
        "indent": st.none() | st.integers(0, 4) | st.sampled_from(["\t", " "]),
        "ensure_ascii": st.booleans(),
        "sort_keys": st.booleans(),
        "separators": st.none() | st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]),
    }
)


def line_starts(text: str) -> list[int]:
    return [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]


def offset_of(starts: list[int], node_pos: Any) -> int:
    """The text offset of a 1-based (line, col) position."""
    return starts[node_pos.line - 1] + node_pos.col - 1


FIRST_CHARS = {
    JString: '"',
    JObject: "{",
    JArray: "[",
    JNull: "n",
}


def check_positions(text: str, root: JNode) -> int:
    """Every node and member name sits on its first character; returns nodes seen."""
    seen = 0
    starts = line_starts(text)
    stack = [root]
    while stack:
        node = stack.pop()
        seen += 1
        ch = text[offset_of(starts, node.pos)]
        match node:
            case JBool():
                assert ch == ("t" if node.value else "f")
            case JNumber():
                assert ch in "-0123456789"
            case _:
                assert ch == FIRST_CHARS[type(node)], (type(node), ch, node.pos)
        if isinstance(node, JObject):
            for m in node.members:
                key_offset = offset_of(starts, m.key_pos)
                assert text[key_offset] == '"'
                # the member name decodes from there
                key, _ = json.JSONDecoder().raw_decode(text, key_offset)
                assert key == m.key
                stack.append(m.value)
        elif isinstance(node, JArray):
            stack.extend(node.items)
    return seen


def same(a: Any, b: Any) -> bool:
    """Equality that also tells -0.0 from 0 and bool from int, as JSON text does."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@given(json_values, dumps_options)
@example(
    {"a": [1, 2.5, True, None, "x\n\u2028"], "": {}},
    {"indent": 2, "ensure_ascii": False, "sort_keys": False, "separators": None},
)
@example(-0.0, {"indent": None, "ensure_ascii": True, "sort_keys": False, "separators": None})
@example(
    "\U0001f600\x00",
    {"indent": None, "ensure_ascii": False, "sort_keys": False, "separators": None},
)
def test_both_parsers_agree_with_json_loads(value: Any, options: dict[str, Any]) -> None:
    text = json.dumps(value, **options)
    assert len(text) <= LARK_LIMIT  # parse_json takes the lark path
    expected = json.loads(text)
    lark_tree = parse_json(text, "v.json")
    bulk_tree = parse_json_bulk(text, "v.json")
    assert same(to_python(lark_tree), expected)
    assert same(to_python(bulk_tree), expected)
    assert lark_tree == bulk_tree
    assert check_positions(text, lark_tree) == check_positions(text, bulk_tree)


@settings(max_examples=40)  # lark takes ~30 ms on each of these
@given(long_arrays, st.none() | st.integers(0, 2))
def test_lazy_bulk_arrays_agree(items: list[Any], indent: int | None) -> None:
    text = json.dumps(items, indent=indent)
    bulk_tree = parse_json_bulk(text, "v.json")
    assert same(to_python(bulk_tree), json.loads(text))  # before the children are built
    lark_tree = parse_json(text, "v.json")
    assert lark_tree == bulk_tree  # builds the lazy children
    assert same(to_python(bulk_tree), json.loads(text))  # and after
    check_positions(text, bulk_tree)


@given(json_values)
def test_positions_name_the_file_and_lines_exist(value: Any) -> None:
    text = json.dumps(value, indent=1)
    root = parse_json(text, "dir/f.json")
    lines = text.split("\n")
    stack: list[JNode] = [root]
    while stack:
        node = stack.pop()
        assert node.pos.file == "dir/f.json"
        assert 1 <= node.pos.line <= len(lines)
        assert 1 <= node.pos.col <= len(lines[node.pos.line - 1])
        if isinstance(node, JObject):
            stack.extend(m.value for m in node.members)
        elif isinstance(node, JArray):
            stack.extend(node.items)
