"""Report stage: `Decision` -> text for people, layer by layer."""

from __future__ import annotations

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


def _value(v: str | list[str]) -> str:
    return v if isinstance(v, str) else "[" + ", ".join(v) + "]"


def render_decision(decision: Decision, request: Request) -> str:
    target = request.key or request.resource or "*"
    lines = [
        f"{decision.decision.upper()}: {request.principal} {request.action} on {target}",
        f"  because {decision.reason}",
    ]
    if decision.blocked_by:
        lines.append(f"  but the call would fail: {decision.blocked_by}")
    ctx = request.context.as_json()
    if ctx:
        lines.append("context:")
        lines += [f"  {k} = {_value(v)}" for k, v in ctx.items()]
    if decision.layers:
        lines.append("layers (+ matched, - did not match):")
        for lr in decision.layers:
            lines += _layer(lr)
    lines += [f"note: {w}" for w in decision.warnings]
    return "\n".join(lines) + "\n"
