"""Report stage: `Decision` -> the JSON shape of DESIGN.md (explain)."""

from __future__ import annotations

from typing import Any

from kmsprove.request import Decision, LayerResult, Request


def layer_json(lr: LayerResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "layer": lr.layer.value,
        "effect": lr.effect,
        "statements": [
            {
                "sid": s.sid,
                "file": s.file,
                "line": s.line,
                "col": s.col,
                "effect": s.effect,
                "why": s.why,
            }
            for s in lr.statements
            if s.matched
        ],
        "not_matched": [
            {
                "sid": s.sid,
                "file": s.file,
                "line": s.line,
                "col": s.col,
                "effect": s.effect,
                "why": s.why,
            }
            for s in lr.statements
            if not s.matched
        ],
    }
    if lr.note:
        out["note"] = lr.note
    if lr.subject:
        out["subject"] = lr.subject
    return out


def decision_json(decision: Decision, request: Request) -> dict[str, Any]:
    """`{"decision", "layers", "blocked_by"}` plus `reason`, `request`, `warnings`."""
    return {
        "decision": decision.decision,
        "layers": [layer_json(lr) for lr in decision.layers],
        "blocked_by": decision.blocked_by,
        "reason": decision.reason,
        "request": request.as_json(),
        "warnings": list(decision.warnings),
    }
