"""A `Graph` -> a Mermaid flowchart for GitHub markdown (a ```mermaid block).

The constructs used, and no others (tests/report/graph/test_mermaid.py checks each
line against them): `flowchart LR`; `%%` comments; node declarations `nN<open>"text"<close>`
with one shape per node kind; edges `nA <arrow>|"text"| nB` with `-->`, `==>` (grants
and traces) or `-.->` (chains and services in between); `classDef` and `class` lines
per node kind and for what a finding names; `linkStyle` for coloured edges. Every
label is a quoted string whose quotes, brackets, pipes, `#` and other characters
Mermaid reads are written as entity codes (`#quot;`, `#91;`...).
"""

from __future__ import annotations

from kmsprove.questions.graph import EdgeKind, Graph, NodeKind, edge_label
from kmsprove.report.graph.style import EDGE_COLOURS, FINDING, NODE_COLOURS

SHAPES: dict[NodeKind, tuple[str, str]] = {
    NodeKind.KEY: ("[(", ")]"),  # cylinder
    NodeKind.PRINCIPAL: ("[", "]"),  # rectangle
    NodeKind.ACCOUNT: ("([", "])"),  # stadium: a class of principals
    NodeKind.ANYONE: ("([", "])"),
    NodeKind.SERVICE: ("{{", "}}"),  # hexagon
    NodeKind.VIA_SERVICE: ("[/", "/]"),  # parallelogram
    NodeKind.REGRANTEE: (">", "]"),  # flag
}

ARROWS: dict[EdgeKind, str] = {
    EdgeKind.STATEMENT: "-->",
    EdgeKind.DELEGATION: "-->",
    EdgeKind.GRANT: "==>",
    EdgeKind.CHAIN: "-.->",
    EdgeKind.VIA: "-.->",
    EdgeKind.TRACE: "==>",
}

# characters Mermaid would read inside or around a quoted label, as its entity codes
_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "[": "#91;",
    "]": "#93;",
    "(": "#40;",
    ")": "#41;",
    "{": "#123;",
    "}": "#125;",
    "<": "#lt;",
    ">": "#gt;",
    "|": "#124;",
    "`": "#96;",
    "&": "#amp;",
    ";": "#59;",
}


def escape(text: str) -> str:
    """A label as the body of a Mermaid quoted string: one line, entity codes for
    every character Mermaid could read as syntax."""
    one = " ".join(text.split())
    return "".join(_ENTITIES.get(ch, ch) for ch in one)


def render_mermaid(graph: Graph) -> str:
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    lines += [f"  %% {' '.join(note.split())}" for note in graph.notes]
    for n in graph.nodes:
        opening, closing = SHAPES[n.kind]
        lines.append(f'  {ids[n.id]}{opening}"{escape(n.label)}"{closing}')
    for e in graph.edges:
        label = escape(edge_label(e))
        lines.append(f'  {ids[e.source]} {ARROWS[e.kind]}|"{label}"| {ids[e.target]}')
    for kind in NodeKind:
        members = [ids[n.id] for n in graph.nodes if n.kind is kind]
        if members:
            fill, stroke = NODE_COLOURS[kind]
            lines.append(f"  classDef {_class(kind)} fill:{fill},stroke:{stroke}")
            lines.append(f"  class {','.join(members)} {_class(kind)}")
    marked = [ids[n.id] for n in graph.nodes if n.highlighted]
    if marked:
        lines.append(f"  classDef finding stroke:{FINDING},stroke-width:3px")
        lines.append(f"  class {','.join(marked)} finding")
    for edge_kind in EdgeKind:
        numbers = [
            str(i) for i, e in enumerate(graph.edges) if e.kind is edge_kind and not e.highlighted
        ]
        if numbers:
            lines.append(f"  linkStyle {','.join(numbers)} stroke:{EDGE_COLOURS[edge_kind]}")
    hot = [str(i) for i, e in enumerate(graph.edges) if e.highlighted]
    if hot:
        lines.append(f"  linkStyle {','.join(hot)} stroke:{FINDING},stroke-width:3px")
    return "\n".join(lines)


def _class(kind: NodeKind) -> str:
    return kind.value.replace("-", "_")
