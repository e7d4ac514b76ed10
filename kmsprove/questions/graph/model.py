"""The `graph` question's result: who reaches a key and through what, as a `Graph`
of nodes and edges (built by `kmsprove.questions.graph.build`, drawn by
`kmsprove.report.graph`).

Nodes are principal classes (any principal of an account, any account, a service
acting for an account, whoever a grantee passes its grant to), named principals and
the keys. Every edge points toward the key (`source` reaches `target`), says how
(`EdgeKind`), which operations, and the file:line of the documents that let it through,
so a path from a node to a key reads as the chain of documents a request goes through.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace

from kmsprove.errors import SourcePos


class NodeKind(enum.Enum):
    KEY = "key"  # a KMS key of the world
    PRINCIPAL = "principal"  # a named IAM principal: a user, a role, a session
    ACCOUNT = "account"  # any principal of one account (the key policy names its root)
    ANYONE = "anyone"  # any principal of any account (`Principal: "*"`)
    SERVICE = "service"  # an AWS service principal calling as itself, for an account or any
    VIA_SERVICE = "via-service"  # callers reach the key only through a service (kms:ViaService)
    REGRANTEE = "regrantee"  # whoever a grantee holding CreateGrant passes its grant on to


class EdgeKind(enum.Enum):
    STATEMENT = "statement"  # an Allow statement of the key policy covers the source
    DELEGATION = "delegation"  # the source is allowed through its account's class (evaluated)
    GRANT = "grant"  # a grant of the key names the source as grantee
    CHAIN = "chain"  # a grant the target grantee may create (its grant holds CreateGrant)
    VIA = "via"  # the source's callers call through a service the key policy demands
    TRACE = "trace"  # a step of an `ever` trace, or its final request


@dataclass(frozen=True, slots=True)
class Node:
    id: str  # stable and unique: `account:111122223333`, `key:arn:aws:kms:...`
    kind: NodeKind
    label: str  # for people: "any principal of account 111122223333"
    arn: str | None = None  # the principal (a class's root ARN) or key it stands for
    account: str | None = None  # the account it is in or acts for; None: any
    highlighted: bool = False  # a finding names it


@dataclass(frozen=True, slots=True)
class Edge:
    source: str  # a node id
    target: str  # a node id, nearer the key
    kind: EdgeKind
    operations: tuple[str, ...]  # KMS actions, `kms:Decrypt`, sorted
    through: str = ""  # the statement's Sid, `grant GRANT_ID`, `identity policy`, `step 2`
    where: tuple[SourcePos, ...] = ()  # the statements or grant that let it through
    conditions: tuple[str, ...] = ()  # conditions or grant constraints, as written
    decided: bool = False  # decided by the evaluator (a plain call), not read off a document
    highlighted: bool = False  # a finding points at one of its places or its source
    trace: int | None = None  # the 1-based trace it belongs to (TRACE edges)
    note: str = ""  # what else a reader needs (a trace step's change)
    all_operations: bool = False  # every operation the key's type can perform


@dataclass(frozen=True, slots=True)
class Graph:
    keys: tuple[str, ...]  # the key ARNs drawn
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    notes: tuple[str, ...] = ()  # how it was decided, what it leaves out

    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One finding as the graph's reports show it: the `audit` question builds them; a
    finding's place and principal colour the edges they name."""

    severity: str  # `high`, `medium`, `low`
    rule: str  # the rule id
    title: str
    where: SourcePos | None = None  # the statement or grant that lets it in
    principal: str | None = None  # who gets in
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Highlight:
    """What to colour: (file, line) places and principal ARNs."""

    places: frozenset[tuple[str, int]] = frozenset()
    principals: frozenset[str] = frozenset()

    @staticmethod
    def of(places: Collection[tuple[str, int]] = (), principals: Collection[str] = ()) -> Highlight:
        norm = frozenset((os.path.normpath(f), line) for f, line in places)
        return Highlight(norm, frozenset(principals))

    @staticmethod
    def of_findings(rows: Iterable[FindingRow]) -> Highlight:
        rows = list(rows)
        places = [(r.where.file, r.where.line) for r in rows if r.where is not None]
        return Highlight.of(places, [r.principal for r in rows if r.principal])

    def covers_place(self, pos: SourcePos) -> bool:
        return (os.path.normpath(pos.file), pos.line) in self.places


def highlighted(graph: Graph, highlight: Highlight) -> Graph:
    """The graph with the nodes and edges `highlight` names marked."""
    if not highlight.places and not highlight.principals:
        return graph
    nodes = tuple(
        replace(n, highlighted=n.highlighted or (n.arn in highlight.principals))
        for n in graph.nodes
    )
    marked = {n.id for n in nodes if n.highlighted}
    edges = tuple(
        replace(
            e,
            highlighted=e.highlighted
            or e.source in marked
            or any(highlight.covers_place(p) for p in e.where),
        )
        for e in graph.edges
    )
    return replace(graph, nodes=nodes, edges=edges)


# --------------------------------------------------------------------------
# labels, shared by every renderer

MAX_OPERATIONS = 4  # more than this in a label: the first ones and "+N more"


def operations_text(ops: tuple[str, ...], every: bool = False) -> str:
    """`Decrypt, Encrypt` (the `kms:` prefix dropped), `kms:*` when they are every
    operation of the key, cut after MAX_OPERATIONS."""
    if every:
        return "kms:*"
    short = [o.split(":", 1)[1] if o.lower().startswith("kms:") else o for o in ops]
    if len(short) > MAX_OPERATIONS:
        return ", ".join(short[:MAX_OPERATIONS]) + f" +{len(short) - MAX_OPERATIONS} more"
    return ", ".join(short)


def place_text(pos: SourcePos) -> str:
    return f"{pos.file}:{pos.line}"


def edge_label(edge: Edge) -> str:
    """One line: `through: operations [when conditions] (file:line, ...)`."""
    ops = operations_text(edge.operations, edge.all_operations)
    head = f"{edge.through}: {ops}" if edge.through else ops
    if edge.conditions:
        head += " [when " + "; ".join(edge.conditions) + "]"
    if edge.where:
        head += " (" + ", ".join(place_text(p) for p in edge.where) + ")"
    return head


def _ident(e: Edge) -> tuple[object, ...]:
    """What makes two edges one: the same way through the same places."""
    return (e.source, e.target, e.kind, e.through, e.where, e.trace)


@dataclass
class GraphBuilder:
    """Collects nodes and edges once each, in a stable order."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[object, ...], Edge] = field(default_factory=dict)  # in order added

    def add_node(self, node: Node) -> str:
        self.nodes.setdefault(node.id, node)
        return node.id

    def add_edge(self, edge: Edge) -> None:
        """Add an edge; the same edge again (another key's) adds its operations."""
        if not edge.operations and edge.kind is not EdgeKind.TRACE:
            return  # an edge that lets nothing through is no edge
        ident = _ident(edge)
        old = self.edges.get(ident)
        if old is not None:
            ops = tuple(sorted({*old.operations, *edge.operations}))
            every = old.all_operations and edge.all_operations
            edge = replace(old, operations=ops, all_operations=every)
        self.edges[ident] = edge

    def graph(self, keys: tuple[str, ...], notes: tuple[str, ...] = ()) -> Graph:
        order = {k: n for n, k in enumerate(NodeKind)}
        nodes = sorted(self.nodes.values(), key=lambda n: (order[n.kind], n.label, n.id))
        # a trace's edges in the order of its path; the others by where they lead
        added = {ident: n for n, ident in enumerate(self.edges)}
        edges = sorted(
            self.edges.values(),
            key=lambda e: (
                e.trace or 0,
                added[_ident(e)] if e.trace else 0,
                e.target,
                e.source,
                e.kind.value,
                tuple(e.where),
                e.through,
            ),
        )
        return Graph(keys, tuple(nodes), tuple(edges), notes)
