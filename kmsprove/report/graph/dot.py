"""A `Graph` -> Graphviz DOT: `dot -Tsvg graph.dot > graph.svg`.

Node names are the graph's node ids, quoted; each node and edge carries its kind as a
`kind` attribute (and edges their operations and places), so a program reading the DOT
gets the graph back.
"""

from __future__ import annotations

from kmsprove.questions.graph import Edge, Graph, Node, NodeKind, edge_label
from kmsprove.questions.graph.model import place_text
from kmsprove.report.graph.style import DASHED, EDGE_COLOURS, FINDING, NODE_COLOURS

SHAPES = {
    NodeKind.KEY: "cylinder",
    NodeKind.PRINCIPAL: "box",
    NodeKind.ACCOUNT: "box",
    NodeKind.ANYONE: "box",
    NodeKind.SERVICE: "hexagon",
    NodeKind.VIA_SERVICE: "parallelogram",
    NodeKind.REGRANTEE: "cds",
}
ROUNDED = frozenset({NodeKind.ACCOUNT, NodeKind.ANYONE})  # classes of principals


def quote(text: str) -> str:
    """A DOT quoted string: backslashes and quotes escaped, one line."""
    one = " ".join(text.split())
    return '"' + one.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(pairs: list[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{k}={quote(v)}" for k, v in pairs) + "]"


def _node(n: Node) -> str:
    fill, stroke = NODE_COLOURS[n.kind]
    style = "filled,rounded" if n.kind in ROUNDED else "filled"
    pairs = [
        ("label", n.label),
        ("kind", n.kind.value),
        ("shape", SHAPES[n.kind]),
        ("style", style),
        ("fillcolor", fill),
        ("color", FINDING if n.highlighted else stroke),
    ]
    if n.arn:
        pairs.append(("arn", n.arn))
    if n.highlighted:
        pairs.append(("penwidth", "3"))
    return f"  {quote(n.id)} {_attrs(pairs)};"


def _edge(e: Edge) -> str:
    pairs = [
        ("label", edge_label(e)),
        ("kind", e.kind.value),
        ("operations", " ".join(e.operations)),
        ("where", " ".join(place_text(p) for p in e.where)),
        ("color", FINDING if e.highlighted else EDGE_COLOURS[e.kind]),
    ]
    if e.kind in DASHED:
        pairs.append(("style", "dashed"))
    if e.highlighted:
        pairs.append(("penwidth", "3"))
    if e.decided:
        pairs.append(("decided", "true"))
    return f"  {quote(e.source)} -> {quote(e.target)} {_attrs(pairs)};"


def render_dot(graph: Graph) -> str:
    lines = ["digraph kmsprove {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];']
    lines.append('  edge [fontname="Helvetica", fontsize=9];')
    lines += [f"  // {' '.join(note.split())}" for note in graph.notes]
    lines += [_node(n) for n in graph.nodes]
    lines += [_edge(e) for e in graph.edges]
    lines.append("}")
    return "\n".join(lines)
