"""A `Graph` -> one self-contained HTML file for sharing a review: the graph as inline
SVG laid out here (`layout`), the findings table, and the edges table with every label
in full. No script, no stylesheet or font from elsewhere: a Content-Security-Policy of
`default-src 'none'` lets the browser fetch nothing at view time.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from kmsprove.questions.graph import (
    Edge,
    EdgeKind,
    FindingRow,
    Graph,
    NodeKind,
    operations_text,
)
from kmsprove.questions.graph.model import place_text
from kmsprove.report.graph.layout import Box, Curve, Layout, layout, short_label
from kmsprove.report.graph.style import DASHED, EDGE_COLOURS, FINDING, NODE_COLOURS

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #212121; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
.graph { overflow: auto; border: 1px solid #ddd; background: #fff; }
svg text { font-family: Helvetica, Arial, sans-serif; }
svg .node text { font-size: 11px; }
svg .edge text { font-size: 10px; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
tr.highlighted td { background: #fdecea; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  vertical-align: middle; border: 1px solid #999; }
"""


def render_html(graph: Graph, findings: Sequence[FindingRow] = ()) -> str:
    keys = ", ".join(graph.keys) or "no key"
    return render_sections(f"Who reaches {keys}", [("", graph, findings)])


def render_sections(title: str, sections: Sequence[tuple[str, Graph, Sequence[FindingRow]]]) -> str:
    """One report of several graphs (an audit of a directory: one section per world),
    each with its findings and edges; the first section's ids carry no suffix."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>kmsprove: {escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        _legend(),
    ]
    for n, (heading, graph, findings) in enumerate(sections):
        tag = "" if n == 0 else f"-{n}"
        if heading:
            parts.append(f"<h2>{escape(heading)}</h2>")
        parts += [
            f'<section id="graph{tag}"><h2>Graph</h2>',
            f'<div class="graph">{_svg(layout(graph))}</div>',
            "<ul>" + "".join(f"<li>{escape(x)}</li>" for x in graph.notes) + "</ul>",
            "</section>",
            _findings(findings, tag),
            _edges(graph, tag),
        ]
    parts += ["</body>", "</html>"]
    return "\n".join(parts)


def _legend() -> str:
    items = [
        f'<span><i class="swatch" style="background:{fill};border-color:{stroke}"></i>'
        f"{escape(kind.value)}</span>"
        for kind, (fill, stroke) in NODE_COLOURS.items()
    ]
    items += [
        f'<span><i class="swatch" style="background:{colour}"></i>{escape(kind.value)} edge</span>'
        for kind, colour in EDGE_COLOURS.items()
    ]
    items.append(f'<span><i class="swatch" style="background:{FINDING}"></i>finding</span>')
    return f'<p class="legend">{"".join(items)}</p>'


def _markers() -> str:
    colours = sorted({*EDGE_COLOURS.values(), FINDING})
    return (
        "<defs>"
        + "".join(
            f'<marker id="arrow-{c[1:]}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7"'
            f' markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"'
            f' fill="{c}"/></marker>'
            for c in colours
        )
        + "</defs>"
    )


def _svg(lay: Layout) -> str:
    body = [_curve(c) for c in lay.curves] + [_box(b) for b in lay.boxes]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}"'
        f' height="{lay.height:.0f}" viewBox="0 0 {lay.width:.0f} {lay.height:.0f}"'
        f' role="img" aria-label="who reaches the key">{_markers()}{"".join(body)}</svg>'
    )


def _box(b: Box) -> str:
    n = b.node
    fill, stroke = NODE_COLOURS[n.kind]
    colour = FINDING if n.highlighted else stroke
    width = 3 if n.highlighted else 1.2
    radius = 17 if n.kind in (NodeKind.ACCOUNT, NodeKind.ANYONE) else 4
    cls = "node highlighted" if n.highlighted else "node"
    return (
        f'<g class="{cls}" data-id="{escape(n.id)}" data-kind="{n.kind.value}">'
        f"<title>{escape(n.arn or n.label)}</title>"
        f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.width:.1f}" height="{b.height:.1f}"'
        f' rx="{radius}" fill="{fill}" stroke="{colour}" stroke-width="{width}"/>'
        f'<text x="{b.x + b.width / 2:.1f}" y="{b.middle + 4:.1f}"'
        f' text-anchor="middle">{escape(n.label)}</text></g>'
    )


def _curve(c: Curve) -> str:
    e = c.edge
    colour = FINDING if e.highlighted else EDGE_COLOURS[e.kind]
    dash = ' stroke-dasharray="6 4"' if e.kind in DASHED else ""
    width = 3 if e.highlighted or e.kind is EdgeKind.TRACE else 1.4
    text = f"[{c.number}] {short_label(e)}"
    x, y = c.label_at
    cls = "edge highlighted" if e.highlighted else "edge"
    return (
        f'<g class="{cls}" data-kind="{e.kind.value}" data-number="{c.number}">'
        f"<title>{escape(_full(e))}</title>"
        f'<path d="{c.path}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}'
        f' marker-end="url(#arrow-{colour[1:]})"/>'
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="start" fill="{colour}"'
        f' paint-order="stroke" stroke="#fff" stroke-width="3">{escape(text)}</text></g>'
    )


def _full(e: Edge) -> str:
    """The whole label, every operation listed: the edge's tooltip."""
    parts = [f"{e.kind.value}: {e.through}" if e.through else e.kind.value]
    parts.append("operations: " + ", ".join(e.operations))
    if e.conditions:
        parts.append("when " + "; ".join(e.conditions))
    if e.where:
        parts.append("at " + ", ".join(place_text(p) for p in e.where))
    if e.note:
        parts.append(e.note)
    return " | ".join(parts)


def _findings(rows: Sequence[FindingRow], tag: str = "") -> str:
    head = "<tr><th>severity</th><th>rule</th><th>finding</th><th>where</th><th>principal</th><th>detail</th></tr>"
    if not rows:
        body = '<tr><td colspan="6">no findings given</td></tr>'
    else:
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{escape(v)}</td>"
                for v in (
                    r.severity,
                    r.rule,
                    r.title,
                    place_text(r.where) if r.where else "",
                    r.principal or "",
                    r.detail,
                )
            )
            + "</tr>"
            for r in rows
        )
    return (
        f'<section id="findings{tag}"><h2>Findings</h2>'
        f'<table id="findings-table{tag}">{head}{body}</table></section>'
    )


def _edges(graph: Graph, tag: str = "") -> str:
    head = (
        "<tr><th>#</th><th>from</th><th>to</th><th>kind</th><th>through</th>"
        "<th>operations</th><th>conditions</th><th>where</th><th>decided</th></tr>"
    )
    rows = []
    for i, e in enumerate(graph.edges, 1):
        cells = (
            str(i),
            graph.node(e.source).label,
            graph.node(e.target).label,
            e.kind.value,
            e.through + (f" ({e.note})" if e.note else ""),
            operations_text(e.operations, e.all_operations)
            if e.all_operations
            else ", ".join(e.operations),
            "; ".join(e.conditions),
            ", ".join(place_text(p) for p in e.where),
            "evaluator" if e.decided else "documents",
        )
        cls = ' class="highlighted"' if e.highlighted else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return f'<section id="edges{tag}"><h2>Edges</h2><table>{head}{"".join(rows)}</table></section>'
