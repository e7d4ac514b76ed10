"""Report stage: a `Graph` (`kmsprove.questions.graph`) -> Mermaid (GitHub markdown),
DOT (Graphviz) or one self-contained HTML file, each whole text built at once."""

from __future__ import annotations

from collections.abc import Sequence

from kmsprove.questions.graph import FindingRow, Graph
from kmsprove.report.graph.dot import render_dot
from kmsprove.report.graph.html import render_html
from kmsprove.report.graph.mermaid import render_mermaid

FORMATS = ("mermaid", "dot", "html")


def render_graph(graph: Graph, fmt: str, findings: Sequence[FindingRow] = ()) -> str:
    """The graph in `fmt` (one of FORMATS); `findings` go to the HTML report's table."""
    if fmt == "dot":
        return render_dot(graph)
    if fmt == "html":
        return render_html(graph, findings)
    return render_mermaid(graph)
