"""`kmsprove graph`: a `World` -> the `Graph` of who reaches its keys, and through what.

Construction only (`kmsprove.report.graph` draws it): the key policy's statements and
the grants give the structural edges (`documents`), the evaluator decides which named
principals get in through an account's delegation (`delegation`), and the caller may
overlay `ever` traces (`traces`) and highlight what findings point at
(`model.Highlight`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from kmsprove.answer import Answer
from kmsprove.errors import InputError
from kmsprove.questions.graph.delegation import add_delegations
from kmsprove.questions.graph.documents import add_grants, add_statements
from kmsprove.questions.graph.model import (
    Edge,
    EdgeKind,
    FindingRow,
    Graph,
    GraphBuilder,
    Highlight,
    Node,
    NodeKind,
    edge_label,
    highlighted,
    operations_text,
)
from kmsprove.questions.graph.traces import add_traces
from kmsprove.world import Key, World

__all__ = [
    "Edge",
    "EdgeKind",
    "FindingRow",
    "Graph",
    "Highlight",
    "Node",
    "NodeKind",
    "build_graph",
    "edge_label",
    "operations_text",
    "select_keys",
]

NOTES = (
    "statement, grant, chain and via edges are read off the documents, conditions shown as"
    " written; delegation edges are decided by the evaluator for a plain call (a role's"
    " session, the context AWS derives, no encryption context or kms:ViaService)",
    "deny statements, SCPs, RCPs and boundaries only cap: they remove delegation edges the"
    " evaluator denies, and are not drawn",
)


def select_keys(world: World, key: str | None) -> tuple[Key, ...]:
    """The key `--key` names (ARN, id, alias), or every key of the world."""
    if key is None:
        return world.keys
    found = world.find_key(key)
    if found is None:
        raise InputError.at_cli(f"no key `{key}` in {world.file}")
    return (found,)


def build_graph(
    world: World,
    key: str | None = None,
    traces: Sequence[Answer] = (),
    highlight: Collection[tuple[str, int]] = (),
    principals: Collection[str] = (),
) -> Graph:
    """Who reaches the key (`key`, or every key) and through what. `traces`: `ever`
    answers drawn as paths; `highlight`: (file, line) places and `principals`: ARNs
    whose edges are coloured (a finding's statement or grant, and who it lets in)."""
    b = GraphBuilder()
    keys = select_keys(world, key)
    for k in keys:
        add_statements(b, world, k)
        add_grants(b, world, k)
        add_delegations(b, world, k)
    add_traces(b, world, traces)
    graph = b.graph(tuple(k.arn for k in keys), NOTES)
    return highlighted(graph, Highlight.of(highlight, principals))
