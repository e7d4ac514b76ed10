"""Report stage: `Decision` -> text for people, layer by layer."""

from __future__ import annotations

from kmsprove.evaluate.context import DERIVED_KEYS
from kmsprove.request import Decision, Layer, LayerResult, Request, StatementRef

# Context keys AWS derives from the caller and the key: reports leave them out of text,
# where they would hide the few values a request really had to carry (JSON keeps them).
DERIVED_PREFIXES = (
    "aws:Principal",
    "kms:Key",
    "aws:Secure",
    "aws:Requested",
    "kms:MultiRegion",
    "kms:ResourceAliases",
    "aws:ViaAWSService",
    "kms:CallerAccount",
    "kms:PolicyName",
    "aws:username",
)


def shown_context(req: Request) -> dict[str, str | list[str]]:
    """The request's context without the keys AWS derives."""
    return {k: v for k, v in req.context.as_json().items() if not k.startswith(DERIVED_PREFIXES)}


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


def explain_command(world_file: str, req: Request) -> str:
    """The `kmsprove explain` command that reproduces a counterexample."""
    import shlex

    parts = [
        "kmsprove",
        "explain",
        world_file,
        "--principal",
        req.principal,
        "--action",
        req.action,
    ]
    if req.key:
        parts += ["--key", req.key]
    if req.resource:
        parts += ["--resource", req.resource]
    for low, vals in sorted(req.context.values.items()):
        if low in DERIVED_KEYS or low.startswith("aws:resourcetag/"):
            continue
        parts += [x for v in vals for x in ("--context", f"{req.context.names[low]}={v}")]
    return " ".join(shlex.quote(p) for p in parts)


def render_answers(answers: list, world_file: str) -> str:  # type: ignore[type-arg]
    lines: list[str] = []
    for a in answers:
        head = f"{a.verdict.value}" + (f" (key {a.key})" if a.key else "")
        lines.append(head)
        if a.counterexample is not None and a.verdict.value == "yes":
            r = a.counterexample
            for n, step in enumerate(a.trace, 1):
                params = step.get("parameters", {})
                what = params.get("note") or ", ".join(
                    f"{k}={v}" for k, v in params.items() if k != "Policy"
                )
                lines.append(
                    f"  step {n}: {step['principal']} calls {step['action']}"
                    + (f": {what}" if what else "")
                )
            if a.trace:
                lines.append(f"  step {len(a.trace) + 1}: the request below")
            lines.append(f"  {r.principal} may call {r.action}")
            lines.append(f"  because {a.reason}")
            shown = shown_context(r)
            if shown:
                lines.append(
                    "  with context: " + ", ".join(f"{k}={_value(v)}" for k, v in shown.items())
                )
            lines.extend(f"  assuming {w}" for w in a.witness)
            if a.decision is not None:
                for lr in a.decision.layers:
                    for s in lr.statements:
                        if s.matched:
                            what = (
                                f"grant `{s.sid}`"
                                if lr.layer is Layer.GRANTS
                                else (f"Sid `{s.sid}`" if s.sid else "statement")
                            )
                            lines.append(
                                f"    {lr.layer.value}: {s.effect} {what} at {s.file}:{s.line}"
                            )
            lines.append(f"  reproduce: {explain_command(world_file, r)}")
        elif a.verdict.value == "unknown":
            lines.append(f"  {a.reason}")
        else:
            lines.append(f"  {a.reason}")
        if a.open_accounts:
            lines.append(f"  open accounts assumed: {', '.join(a.open_accounts)}")
        if a.trusted:
            lines.append(f"  trusted (took no steps of their own): {', '.join(a.trusted)}")
        if a.not_modelled and a.verdict.value == "no":
            lines.append(f"  steps not modelled: {'; '.join(a.not_modelled)}")
        lines.append(f"  solver time: {a.seconds:.3f} s")
    return "\n".join(lines) + "\n"
