"""Edges the evaluator decides: which named principals of the world reach the key
through a class the key policy lets in (an account's root, `Principal: "*"`).

A key policy that names an account's root delegates to that account's IAM (R1.4): who
of it gets in is decided by identity policies, boundaries, SCPs. So for each user and
role of the world that such a class covers, each operation the class's statements
allow is decided by `kmsprove.evaluate` for a plain call (a role's session, the
context AWS derives, nothing the caller adds: no encryption context, no
kms:ViaService, no grant parameters). An allowed call gives a DELEGATION edge into the
class node, labelled with the operations and the identity-policy statements that
matched (file:line); none when the key policy alone let it in (a `Principal: "*"` of
the key's own account).
"""

from __future__ import annotations

from collections import defaultdict

from kmsprove.errors import SourcePos
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.questions.graph.documents import key_operations
from kmsprove.questions.graph.model import Edge, EdgeKind, GraphBuilder, NodeKind
from kmsprove.questions.graph.nodes import key_node, named_node
from kmsprove.request import Decision, Layer, Request
from kmsprove.world import Identity, Key, World

_CLASSES = (NodeKind.ACCOUNT, NodeKind.ANYONE)


def _matched(decision: Decision, layer: Layer) -> set[SourcePos]:
    return {
        SourcePos(r.file, r.line, r.col)
        for result in decision.layers
        if result.layer is layer
        for r in result.statements
        if r.matched and r.effect == "Allow"
    }


def _class_edges(b: GraphBuilder, key: Key) -> list[Edge]:
    target = key_node(key).id
    return [
        e
        for e in b.edges.values()
        if e.target == target
        and e.kind is EdgeKind.STATEMENT
        and b.nodes[e.source].kind in _CLASSES
    ]


def _covers(b: GraphBuilder, edge: Edge, ident: Identity) -> bool:
    node = b.nodes[edge.source]
    return node.kind is NodeKind.ANYONE or node.account == ident.account


def add_delegations(b: GraphBuilder, world: World, key: Key) -> None:
    """A DELEGATION edge from each world identity the evaluator lets in through a class."""
    classes = _class_edges(b, key)
    if not classes:
        return
    every = set(key_operations(key))
    for account in world.accounts.values():
        for ident in account.principals.values():
            if ident.kind not in ("user", "role"):
                continue
            mine = [e for e in classes if _covers(b, e, ident)]
            if mine:
                _add_identity(b, world, key, ident, mine, every)


def _add_identity(
    b: GraphBuilder,
    world: World,
    key: Key,
    ident: Identity,
    classes: list[Edge],
    every: set[str],
) -> None:
    # (class node, identity statements) -> operations
    found: dict[tuple[str, tuple[SourcePos, ...]], set[str]] = defaultdict(set)
    for op in sorted({o for e in classes for o in e.operations}):
        req = complete_request(world, Request(ident.arn, op, key.arn))
        decision = evaluate(world, req)
        if not decision.allowed:
            continue
        by_key_policy = _matched(decision, Layer.KEY_POLICY)
        by_identity = tuple(sorted(_matched(decision, Layer.IDENTITY)))
        for e in classes:
            if op in e.operations and by_key_policy & set(e.where):
                found[(e.source, by_identity)].add(op)
    if not found:
        return
    src = b.add_node(named_node(world, ident.arn))
    for (cls, where), ops in sorted(found.items()):
        through = "identity policy" if where else "the key policy alone"
        b.add_edge(
            Edge(
                src,
                cls,
                EdgeKind.DELEGATION,
                tuple(sorted(ops)),
                through,
                where,
                decided=True,
                all_operations=ops == every,
            )
        )
