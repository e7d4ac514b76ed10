"""Report stage: `check` outcomes -> text for people and JSON for programs.

The evidence lines (`evidence`) are shared with the SARIF report, so a
failure reads the same in a terminal and in code scanning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kmsprove.answer import Answer, CheckStatus, Outcome
from kmsprove.ast import Expectation
from kmsprove.report.answer import answer_json
from kmsprove.report.common import reproduce_line, shown_context
from kmsprove.request import StatementRef

_HEAD = {CheckStatus.HOLDS: "holds", CheckStatus.FAILS: "FAILS", CheckStatus.UNKNOWN: "unknown"}


def expectation_text(exp: Expectation) -> str:
    return f"expect {'yes' if exp.expect else 'no'}: {exp.query.text}"


def summary(outcomes: Sequence[Outcome]) -> dict[str, int]:
    counts = {s.value: 0 for s in CheckStatus}
    for o in outcomes:
        counts[o.status.value] += 1
    return counts


def where(ref: StatementRef) -> str:
    sid = f" (`{ref.sid}`)" if ref.sid else ""
    return f"{ref.file}:{ref.line}:{ref.col}{sid}"


def evidence(o: Outcome) -> list[str]:
    """Why an outcome fails or is unknown, one line each (no indentation)."""
    if o.status is CheckStatus.UNKNOWN:
        return [o.answer.reason]
    if o.status is CheckStatus.HOLDS:
        return []
    if o.expectation.expect:
        return [f"blocked by {o.blocked_by}"] if o.blocked_by else [o.answer.reason]
    lines = request_lines(o.answer)
    if o.locations:
        lines.append("let in by:")
        lines += [f"  {where(r)}" for r in o.locations]
    return lines


def request_lines(a: Answer) -> list[str]:
    """The trace steps (numbered as `kmsprove query` prints them) and the allowed request."""
    r = a.counterexample
    if r is None:
        return [a.reason]
    lines = []
    for n, step in enumerate(a.trace, 1):
        params = step.get("parameters", {})
        what = params.get("note") or ", ".join(
            f"{k}={v}" for k, v in params.items() if k != "Policy"
        )
        lines.append(
            f"step {n}: {step['principal']} calls {step['action']}" + (f": {what}" if what else "")
        )
    if a.trace:
        lines.append(f"step {len(a.trace) + 1}: the request below")
    target = r.key or r.resource or "*"
    lines.append(f"{r.principal} may call {r.action} on {target}")
    shown = shown_context(r)
    if shown:
        lines.append(
            "with context "
            + ", ".join(
                f"{k}={v if isinstance(v, str) else '[' + ', '.join(v) + ']'}"
                for k, v in shown.items()
            )
        )
    lines += [f"assuming {w}" for w in a.witness]
    lines.append(f"because {a.reason}")
    return lines


def shows_witness(o: Outcome) -> bool:
    """A failing `expect no`: its report shows the request that breaks it."""
    return o.status is CheckStatus.FAILS and not o.expectation.expect


def render_check_text(
    outcomes: Sequence[Outcome],
    world_file: str | None = None,
    totals: bool = True,
    saved: Sequence[str | None] = (),
    flags: Sequence[str] = (),
) -> str:
    """One line per outcome, evidence under failures and unknowns, then the counts
    (unless `totals` is false: an estate run ends with its own table).

    With `world_file`, a failing `expect no` also gets the line that reproduces it;
    `saved[i]` is where outcome i's witness was written (`--save-witness`); `flags`
    read the world again in the commands printed.
    """
    several = len({o.key for o in outcomes if o.key}) > 1
    lines = []
    for i, o in enumerate(outcomes):
        exp = o.expectation
        head = f"{_HEAD[o.status]:<8} {exp.pos.file}:{exp.line}  {expectation_text(exp)}"
        if several and o.key:
            head += f"  [key {o.key}]"
        lines.append(head)
        lines += [f"  {line}" for line in evidence(o)]
        r = o.answer.counterexample
        if world_file and shows_witness(o) and r is not None:
            a = o.answer
            where = saved[i] if i < len(saved) else None
            lines.append(
                f"  {reproduce_line(world_file, a.shown or r, a.rests_on_assumptions, where, flags)}"
            )
    lines += [
        f"input assumed: {n}"
        for n in dict.fromkeys(n for o in outcomes for n in o.answer.inputs_assumed)
    ]
    counts = summary(outcomes)
    if not totals:
        return "\n".join(lines) + "\n" if lines else ""
    lines.append(
        f"{len(outcomes)} checked: {counts['holds']} hold, {counts['fails']} fail,"
        f" {counts['unknown']} unknown"
    )
    return "\n".join(lines) + "\n"


def check_json(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """`{"results": [...], "summary": {"holds", "fails", "unknown"}}`."""
    return {
        "results": [
            {
                "spec": o.expectation.pos.file,
                "line": o.expectation.line,
                "expect": "yes" if o.expectation.expect else "no",
                "query": o.expectation.query.text,
                "key": o.key,
                "status": o.status.value,
                "answer": answer_json(o.answer),
                "locations": [
                    {"file": r.file, "line": r.line, "col": r.col, "sid": r.sid}
                    for r in o.locations
                ],
                "blocked_by": o.blocked_by,
            }
            for o in outcomes
        ],
        "summary": summary(outcomes),
    }
