"""Report stage: `Decision` -> text for people, layer by layer, and the JSON shape of
DESIGN.md (explain)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kmsprove.report.common import value_text
from kmsprove.request import Decision, Layer, LayerResult, Request, StatementRef


def _ref(s: StatementRef, grant: bool) -> str:
    if grant:
        return f"grant `{s.sid}` at {s.file}:{s.line}: {s.why}"
    sid = f"Sid `{s.sid}`" if s.sid else "statement"
    return f"{s.effect} {sid} at {s.file}:{s.line}: {s.why}"


def _layer(lr: LayerResult) -> list[str]:
    head = f"  {lr.layer.value}: {lr.effect}"
    if lr.subject:
        head += f"   [{lr.subject}]"
    if lr.note:
        head += f"   ({lr.note})"
    lines = [head]
    matched = [s for s in lr.statements if s.matched]
    other = [s for s in lr.statements if not s.matched]
    grant = lr.layer is Layer.GRANTS
    lines += [f"    + {_ref(s, grant)}" for s in matched]
    lines += [f"    - {_ref(s, grant)}" for s in other]
    if not lr.statements:
        lines.append("    (nothing here)")
    return lines


def render_decision(decision: Decision, request: Request, assumed: Sequence[str] = ()) -> str:
    """The decision for people; `assumed` is what the reader assumed where WORLD is
    silent (`World.assumed`), said last as answers say it."""
    target = request.key or request.resource or "*"
    lines = [
        f"{decision.decision.upper()}: {request.principal} {request.action} on {target}",
        f"  because {decision.reason}",
    ]
    if decision.unknown:
        lines.append(f"  unknown: {decision.unknown}")
    if decision.blocked_by:
        lines.append(f"  but the call would fail: {decision.blocked_by}")
    ctx = request.context.as_json()
    if ctx:
        lines.append("context:")
        lines += [f"  {k} = {value_text(v)}" for k, v in ctx.items()]
    if decision.layers:
        lines.append("layers (+ matched, - did not match):")
        for lr in decision.layers:
            lines += _layer(lr)
    lines += [f"note: {w}" for w in decision.warnings]
    lines += [f"input assumed: {n}" for n in assumed]
    return "\n".join(lines) + "\n"


def statement_json(s: StatementRef) -> dict[str, Any]:
    return {
        "sid": s.sid,
        "file": s.file,
        "line": s.line,
        "col": s.col,
        "effect": s.effect,
        "why": s.why,
    }


def layer_json(lr: LayerResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "layer": lr.layer.value,
        "effect": lr.effect,
        "statements": [statement_json(s) for s in lr.statements if s.matched],
        "not_matched": [statement_json(s) for s in lr.statements if not s.matched],
    }
    if lr.note:
        out["note"] = lr.note
    if lr.subject:
        out["subject"] = lr.subject
    return out


def decision_json(
    decision: Decision, request: Request, assumed: Sequence[str] = ()
) -> dict[str, Any]:
    """`{"decision", "layers", "blocked_by"}` plus `reason`, `unknown` (why a deny may
    be wrong, or null), `request`, `warnings`, `assumptions.inputs` (`assumed`)."""
    return {
        "decision": decision.decision,
        "layers": [layer_json(lr) for lr in decision.layers],
        "blocked_by": decision.blocked_by,
        "reason": decision.reason,
        "unknown": decision.unknown,
        "request": request.as_json(),
        "warnings": list(decision.warnings),
        "assumptions": {"inputs": list(assumed)},
    }
