"""What each kind of node and edge looks like, shared by the renderers: one colour per
kind, and one for what a finding names."""

from __future__ import annotations

from kmsprove.questions.graph import EdgeKind, NodeKind

# fill, stroke
NODE_COLOURS: dict[NodeKind, tuple[str, str]] = {
    NodeKind.KEY: ("#fff3c4", "#b58900"),
    NodeKind.PRINCIPAL: ("#e8f1fb", "#1f5f99"),
    NodeKind.ACCOUNT: ("#e6f4ea", "#2e7d32"),
    NodeKind.ANYONE: ("#fdecea", "#c62828"),
    NodeKind.SERVICE: ("#f3e8fd", "#6a1b9a"),
    NodeKind.VIA_SERVICE: ("#f3e8fd", "#8e24aa"),
    NodeKind.REGRANTEE: ("#eeeeee", "#616161"),
}

EDGE_COLOURS: dict[EdgeKind, str] = {
    EdgeKind.STATEMENT: "#455a64",
    EdgeKind.DELEGATION: "#2e7d32",
    EdgeKind.GRANT: "#1f5f99",
    EdgeKind.CHAIN: "#616161",
    EdgeKind.VIA: "#8e24aa",
    EdgeKind.TRACE: "#ef6c00",
}

DASHED = frozenset({EdgeKind.CHAIN, EdgeKind.VIA})  # what could be, or goes through a service

FINDING = "#d62728"  # the colour of what a finding names
