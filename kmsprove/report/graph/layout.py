"""Where the HTML report draws each node and edge: a layered layout computed here, so
the report needs no layout script and no network.

Columns by distance to a key (keys rightmost, each node one column left of the
nearest thing it reaches), nodes in a column ordered by where what they reach stands
(one barycentre pass from the keys leftward), edges as cubic curves from a node's right
side to its target's left side, parallel edges fanned out.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from kmsprove.questions.graph import Edge, Graph, Node, NodeKind, operations_text

CHAR_WIDTH = 6.1  # px per character of the 11px sans-serif labels, a little generous
NODE_HEIGHT = 36.0
NODE_PADDING = 24.0
ROW_GAP = 26.0
COLUMN_GAP = 270.0  # room for edge labels between columns
MARGIN = 20.0
LABEL_CHARS = 44  # an edge's label on the drawing; the edges table has all of it


@dataclass(frozen=True, slots=True)
class Box:
    node: Node
    x: float
    y: float
    width: float
    height: float = NODE_HEIGHT

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True, slots=True)
class Curve:
    edge: Edge
    number: int  # 1-based, the row of the edges table
    points: tuple[tuple[float, float], ...]  # start, control 1, control 2, end
    label_at: tuple[float, float]

    @property
    def path(self) -> str:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.points
        return f"M{x0:.1f},{y0:.1f} C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}"


@dataclass(frozen=True, slots=True)
class Layout:
    boxes: tuple[Box, ...]
    curves: tuple[Curve, ...]
    width: float
    height: float


def _ranks(graph: Graph) -> dict[str, int]:
    """Edges to a key of the shortest path from each node; keys 0."""
    into: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        into[e.target].append(e.source)
    rank = {n.id: 0 for n in graph.nodes if n.kind is NodeKind.KEY}
    queue = deque(rank)
    while queue:
        here = queue.popleft()
        for src in into[here]:
            if src not in rank:
                rank[src] = rank[here] + 1
                queue.append(src)
    deepest = max(rank.values(), default=0)
    return {n.id: rank.get(n.id, deepest + 1) for n in graph.nodes}


def _columns(graph: Graph, rank: dict[str, int]) -> list[list[Node]]:
    """Nodes per column, left to right, each column ordered by barycentre."""
    deepest = max(rank.values(), default=0)
    columns: list[list[Node]] = [[] for _ in range(deepest + 1)]
    for n in graph.nodes:
        columns[deepest - rank[n.id]].append(n)
    out_of: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        out_of[e.source].append(e.target)
    where: dict[str, float] = {}
    for col in reversed(columns):
        for i, n in enumerate(col):
            seen = [where[t] for t in out_of[n.id] if t in where]
            where[n.id] = sum(seen) / len(seen) if seen else float(i)
        col.sort(key=lambda n: (where[n.id], n.label))
        for i, n in enumerate(col):
            where[n.id] = float(i)
    return columns


def layout(graph: Graph) -> Layout:
    rank = _ranks(graph)
    columns = _columns(graph, rank)
    widths = [max((_width(n) for n in col), default=0.0) for col in columns]
    tallest = max((len(col) for col in columns), default=0)
    height = 2 * MARGIN + tallest * NODE_HEIGHT + max(tallest - 1, 0) * ROW_GAP
    boxes: dict[str, Box] = {}
    x = MARGIN
    for col, width in zip(columns, widths, strict=True):
        used = len(col) * NODE_HEIGHT + max(len(col) - 1, 0) * ROW_GAP
        y = (height - used) / 2
        for n in col:
            boxes[n.id] = Box(n, x + (width - _width(n)) / 2, y, _width(n))
            y += NODE_HEIGHT + ROW_GAP
        x += width + COLUMN_GAP
    total = x - COLUMN_GAP + MARGIN
    curves = _curves(graph, boxes)
    lowest = max((y for c in curves for _, y in c.points), default=0.0)
    return Layout(
        tuple(boxes.values()), curves, max(total, 2 * MARGIN), max(height, lowest + MARGIN)
    )


def _width(n: Node) -> float:
    return len(n.label) * CHAR_WIDTH + NODE_PADDING


def _curves(graph: Graph, boxes: dict[str, Box]) -> tuple[Curve, ...]:
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, e in enumerate(graph.edges):
        pairs[(e.source, e.target)].append(i)
    out = []
    for i, e in enumerate(graph.edges):
        siblings = pairs[(e.source, e.target)]
        fan = (siblings.index(i) - (len(siblings) - 1) / 2) * 12.0
        a, b = boxes[e.source], boxes[e.target]
        start = (a.x + a.width, a.middle + fan)
        end = (b.x, b.middle + fan)
        if end[0] <= start[0]:  # a trace edge within a column, or backwards: loop around
            start, end = (a.x + a.width / 2, a.y + a.height), (b.x + b.width / 2, b.y + b.height)
            bend = 40.0 + 12.0 * siblings.index(i)
            c1, c2 = (start[0], start[1] + bend), (end[0], end[1] + bend)
        else:
            mid = (start[0] + end[0]) / 2
            c1, c2 = (mid, start[1]), (mid, end[1])
        points = (start, c1, c2, end)
        # labels start at the source, where edges converging on a key are still apart
        label = (start[0] + 8, start[1] - 4) if c1[1] == start[1] else (start[0] + 8, start[1] + 14)
        out.append(Curve(e, i + 1, points, label))
    return tuple(out)


def short_label(edge: Edge) -> str:
    """The edge's name on the drawing, cut to LABEL_CHARS."""
    ops = operations_text(edge.operations, edge.all_operations)
    text = f"{edge.through}: {ops}" if edge.through else ops
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
