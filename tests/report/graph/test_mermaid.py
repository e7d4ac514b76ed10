"""The Mermaid output, line by line against the small grammar it promises
(kmsprove/report/graph/mermaid.py): a header, comments, node declarations with one
shape per kind, labelled edges, classDef/class and linkStyle lines; every label a
quoted string with no character Mermaid would read as syntax, decoding back to the
graph's label."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest

from kmsprove.questions.graph import Edge, EdgeKind, Graph, Node, NodeKind, edge_label
from kmsprove.report.graph.mermaid import ARROWS, SHAPES, escape, render_mermaid
from tests.questions.graph.worlds import WORLDS, graph_of

ID = r"n\d+"
# a quoted label: entity codes, and no quote, bracket, pipe, `#` or `;` left raw
TEXT = r'"((?:[^"\[\](){}<>|`;#]|#\w+;)*)"'
SHAPE = "|".join(f"{re.escape(o)}{TEXT}{re.escape(c)}" for o, c in set(SHAPES.values()))
NODE = re.compile(rf"  ({ID})(?:{SHAPE})")
ARROW = "|".join(re.escape(a) for a in set(ARROWS.values()))
EDGE = re.compile(rf"  ({ID}) ({ARROW})\|{TEXT}\| ({ID})")
CLASSDEF = re.compile(r"  classDef (\w+) [a-z-]+:[#\w]+(,[a-z-]+:[#\w]+)*")
CLASS = re.compile(rf"  class ({ID}(?:,{ID})*) (\w+)")
LINKSTYLE = re.compile(r"  linkStyle (\d+(?:,\d+)*) [a-z-]+:[#\w]+(,[a-z-]+:[#\w]+)*")
COMMENT = re.compile(r"  %% [^\n]*")


def _decode(text: str) -> str:
    """Mermaid's entity codes (`#quot;`, `#91;`) back to characters."""
    return html.unescape(
        re.sub(r"#(\w+);", lambda m: f"&{'#' if m.group(1).isdigit() else ''}{m.group(1)};", text)
    )


def _parse(
    text: str,
) -> tuple[
    dict[str, tuple[str, str]], list[tuple[str, str, str, str]], dict[str, set[str]], set[int]
]:
    lines = text.split("\n")
    assert lines[0] == "flowchart LR"
    nodes: dict[str, tuple[str, str]] = {}
    edges: list[tuple[str, str, str, str]] = []
    classes: dict[str, set[str]] = {}
    styled: set[int] = set()
    for line in lines[1:]:
        if COMMENT.fullmatch(line):
            continue
        if m := NODE.fullmatch(line):
            label = next(g for g in m.groups()[1:] if g is not None)
            shape = next(s for s in SHAPES.values() if line.startswith(f'  {m.group(1)}{s[0]}"'))
            nodes[m.group(1)] = (_decode(label), shape[0])
        elif m := EDGE.fullmatch(line):
            edges.append((m.group(1), m.group(2), _decode(m.group(3)), m.group(4)))
        elif m := CLASS.fullmatch(line):
            classes.setdefault(m.group(2), set()).update(m.group(1).split(","))
        elif CLASSDEF.fullmatch(line):
            pass
        elif m := LINKSTYLE.fullmatch(line):
            styled.update(int(n) for n in m.group(1).split(","))
        else:
            raise AssertionError(f"not a construct the renderer promises: {line!r}")
    return nodes, edges, classes, styled


def _check(g: Graph) -> None:
    nodes, edges, classes, styled = _parse(render_mermaid(g))
    by_label = {label: ident for ident, (label, _) in nodes.items()}
    assert sorted(label for label, _ in nodes.values()) == sorted(
        " ".join(n.label.split()) for n in g.nodes
    )
    for n in g.nodes:
        ident = by_label[" ".join(n.label.split())]
        assert nodes[ident][1] == SHAPES[n.kind][0]
        assert ident in classes[n.kind.value.replace("-", "_")]
    ids = {n.id: by_label[" ".join(n.label.split())] for n in g.nodes}
    assert edges == [
        (ids[e.source], ARROWS[e.kind], " ".join(edge_label(e).split()), ids[e.target])
        for e in g.edges
    ]
    assert styled == set(range(len(g.edges)))  # every edge coloured by kind or as a finding


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_the_mermaid_of_each_world_keeps_to_the_grammar(name: str) -> None:
    _check(graph_of(name))


def test_quotes_and_brackets_in_arns_are_entity_codes() -> None:
    g = graph_of("grants")
    odd = 'arn:aws:iam::111122223333:role/a"b[c](d){e}|f<g>#h;`i`'
    node = Node(f"principal:{odd}", NodeKind.PRINCIPAL, odd, odd, "111122223333")
    edge = Edge(node.id, g.nodes[0].id, EdgeKind.GRANT, ("kms:Decrypt",), f'grant "{odd}"')
    _check(replace(g, nodes=(*g.nodes, node), edges=(*g.edges, edge)))
    assert escape('a"b[c]|#') == "a#quot;b#91;c#93;#124;#35;"
    assert _decode(escape(odd)) == odd


def test_findings_get_their_own_class_and_link_style() -> None:
    who = "arn:aws:iam::111122223333:role/Auditor"
    g = graph_of("default", principals=[who])
    text = render_mermaid(g)
    nodes, _, classes, _ = _parse(text)
    [hot] = [i for i, (label, _) in nodes.items() if label == who]
    assert classes["finding"] == {hot}
    hot_edges = [str(i) for i, e in enumerate(g.edges) if e.highlighted]
    assert f"  linkStyle {','.join(hot_edges)} stroke:#d62728,stroke-width:3px" in text.split("\n")
