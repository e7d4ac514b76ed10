"""`kmsprove audit --html FILE`: one self-contained HTML report for sharing a review,
each world's graph of who reaches its keys with the edges its findings name coloured,
and its findings table (`kmsprove.report.graph.html`: no script, nothing fetched)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kmsprove.errors import SourcePos
from kmsprove.questions.audit.estate import AuditReport
from kmsprove.questions.audit.findings import AuditFinding
from kmsprove.questions.graph import FindingRow, build_graph
from kmsprove.report.graph.html import render_sections
from kmsprove.world import World


def finding_row(f: AuditFinding) -> FindingRow:
    """A finding as the graph's table shows it: its first place, who gets in."""
    where = None
    if f.locations:
        at = f.locations[0]
        where = SourcePos(at.file, at.line, at.col)
    req = f.answer.counterexample if f.answer is not None else None
    status = "" if f.status.value == "found" else f" ({f.status.value})"
    return FindingRow(
        severity=f.severity.name.lower(),
        rule=f.rule.id,
        title=f.rule.title + status,
        where=where,
        principal=req.principal if req is not None else None,
        detail=f.message,
    )


def render_audit_html(reports: Sequence[AuditReport], worlds: Mapping[str, World]) -> str:
    """The report of an audit run: a section per world that was read."""
    sections = []
    for r in reports:
        world = worlds.get(r.world)
        if world is None:
            continue
        rows = [finding_row(f) for f in r.findings]
        places = [(x.where.file, x.where.line) for x in rows if x.where is not None]
        who = [x.principal for x in rows if x.principal]
        graph = build_graph(world, highlight=places, principals=who)
        sections.append((r.world, graph, rows))
    total = sum(len(r.findings) for r in reports)
    return render_sections(f"kmsprove audit: {total} finding(s)", sections)


__all__ = ["finding_row", "render_audit_html"]
