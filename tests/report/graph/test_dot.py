"""The DOT output read back by a DOT parser (pydot): the same nodes, edges, kinds,
operations and places as the `Graph`, whatever quotes or backslashes the labels hold."""

from __future__ import annotations

from dataclasses import replace

import pydot
import pytest

from kmsprove.questions.graph import Edge, EdgeKind, Graph, Node, NodeKind, edge_label
from kmsprove.questions.graph.model import place_text
from kmsprove.report.graph.dot import render_dot
from tests.questions.graph.worlds import WORLDS, graph_of

# pydot's parser calls pyparsing's old names, which warn (not ours to fix)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _unquote(text: str) -> str:
    """pydot gives quoted names and values back with their quotes and escapes."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _read(dot: str) -> pydot.Dot:
    [parsed] = pydot.graph_from_dot_data(dot)
    return parsed


def _compare(g: Graph) -> None:
    parsed = _read(render_dot(g))
    nodes = {
        _unquote(n.get_name()): {k: _unquote(v) for k, v in n.get_attributes().items()}
        for n in parsed.get_nodes()
        if _unquote(n.get_name()) not in ("node", "edge", "graph")
    }
    assert set(nodes) == {n.id for n in g.nodes}
    for n in g.nodes:
        assert nodes[n.id]["label"] == n.label
        assert nodes[n.id]["kind"] == n.kind.value
    edges = sorted(
        (
            _unquote(e.get_source()),
            _unquote(e.get_destination()),
            _unquote(e.get_attributes()["kind"]),
            _unquote(e.get_attributes()["label"]),
            tuple(_unquote(e.get_attributes()["operations"]).split()),
            tuple(_unquote(e.get_attributes()["where"]).split()),
        )
        for e in parsed.get_edges()
    )
    assert edges == sorted(
        (
            e.source,
            e.target,
            e.kind.value,
            " ".join(edge_label(e).split()),
            e.operations,
            tuple(place_text(p) for p in e.where),
        )
        for e in g.edges
    )


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_the_dot_of_each_world_parses_back_to_its_graph(name: str) -> None:
    _compare(graph_of(name))


def test_quotes_backslashes_and_brackets_survive() -> None:
    g = graph_of("default")
    odd = 'arn:aws:iam::111122223333:role/a"b\\c[d]{e}|f<g>'
    node = Node(f"principal:{odd}", NodeKind.PRINCIPAL, odd, odd, "111122223333")
    edge = Edge(node.id, g.nodes[0].id, EdgeKind.GRANT, ("kms:Decrypt",), 'grant "x"\\y')
    _compare(replace(g, nodes=(*g.nodes, node), edges=(*g.edges, edge)))


def test_highlighted_edges_are_drawn_in_the_finding_colour() -> None:
    g = graph_of("default", highlight=[("tests/data/graph/default/user-policy.json", 4)])
    parsed = _read(render_dot(g))
    hot = [e for e in parsed.get_edges() if e.get_attributes().get("penwidth") in ("3", '"3"')]
    assert len(hot) == 1
    assert "user-policy.json:4" in _unquote(hot[0].get_attributes()["where"])
