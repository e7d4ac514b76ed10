"""Report stage: `WhoResult`s (who can use a key) -> text for people, and JSON.

Each principal or class found is printed with its witness as `kmsprove query` prints a
"yes" (the request, why the evaluator allows it, the statements that let it in, the
`kmsprove explain` line that reproduces it), then whether anyone else can. The JSON
shape is in the README ("Who can").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kmsprove.answer import Answer, ExitCode, WhoFound, WhoResult, WhoStatus, exit_status
from kmsprove.report.answer import answer_json
from kmsprove.report.common import (
    accounts_text,
    explain_command,
    reproduce_line,
    shown_context,
    value_text,
)
from kmsprove.request import Layer

_OTHER = "any account the world does not mention"
_UNNAMED = {
    "user": "unnamed IAM users",
    "role": "unnamed role sessions",
    "federated-user": "unnamed federated users",
    "root": "the root user",
    "service": "any other service principal",
}


def who_exit(results: Sequence[WhoResult]) -> ExitCode:
    """0 when every key's list is complete, 3 when some is not."""
    return exit_status(failed=False, unknown=any(r.status is WhoStatus.UNKNOWN for r in results))


def describe(f: WhoFound) -> str:
    """One line naming the principal or the class."""
    where = f"account {f.account}" if f.account else _OTHER
    if f.type == "service":
        who = f.principal or _UNNAMED["service"]
        if f.acting_for is None:
            return who
        if f.acting_for == "*":
            return f"{who}, acting for {_OTHER} (or naming none)"
        return f"{who}, acting for account {f.acting_for}"
    if f.named:
        kind = {"user": "IAM user", "role": "role: its sessions", "root": "root user"}
        return f"{f.principal} ({kind.get(f.type, f.type)})"
    if f.type == "federated-user" and f.principal:
        return f"federated users of {f.principal} (its GetFederationToken sessions)"
    return f"{_UNNAMED[f.type]} of {where}"


def _statements(f: WhoFound) -> list[dict[str, Any]]:
    d = f.answer.decision
    if d is None:
        return []
    return [
        {"layer": lr.layer.value, "sid": s.sid, "file": s.file, "line": s.line}
        for lr in d.layers
        for s in lr.statements
        if s.matched
    ]


def _reproduce(f: WhoFound, world_file: str, flags: Sequence[str]) -> str | None:
    a = f.answer
    r = a.shown or a.counterexample
    if not f.confirmed or r is None or a.rests_on_assumptions:
        return None
    return explain_command(world_file, r, flags)


def found_json(f: WhoFound, world_file: str, flags: Sequence[str] = ()) -> dict[str, Any]:
    witness = answer_json(f.answer)
    return {
        "description": describe(f),
        "named": f.named,
        "type": f.type,
        "principal": f.principal,
        "account": f.account,
        "acting_for": f.acting_for,
        "status": f.answer.verdict.value,
        "request": witness["counterexample"],
        "reason": f.answer.reason,
        "let_in_by": _statements(f),
        "notes": list(f.answer.notes),
        "reproduce": _reproduce(f, world_file, flags),
    }


def result_json(r: WhoResult, world_file: str, flags: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "key": r.key,
        "actions": list(r.actions),
        "status": r.status.value,
        "reason": r.reason,
        "found": [found_json(f, world_file, flags) for f in r.found],
        "trusted": list(r.trusted),
        "assumptions": {"open_accounts": list(r.open_accounts), "inputs": list(r.inputs_assumed)},
        "queries": r.queries,
        "seconds": round(r.seconds, 4),
    }


def who_json(
    results: Sequence[WhoResult], world_file: str, flags: Sequence[str] = ()
) -> dict[str, Any]:
    complete = all(r.status is WhoStatus.COMPLETE for r in results)
    return {
        "status": WhoStatus.COMPLETE.value if complete else WhoStatus.UNKNOWN.value,
        "keys": [result_json(r, world_file, flags) for r in results],
        "seconds": round(sum(r.seconds for r in results), 4),
    }


def _found_lines(
    f: WhoFound, world_file: str, saved: str | None, flags: Sequence[str]
) -> list[str]:
    a = f.answer
    r = a.counterexample
    lines = [f"  {describe(f)}"]
    if not f.confirmed or r is None:
        return [*lines, f"    unconfirmed: {a.reason}"]
    lines.append(f"    e.g. {r.principal} calls {r.action}")
    shown = shown_context(r)
    if shown:
        lines.append(
            "    with context: " + ", ".join(f"{k}={value_text(v)}" for k, v in shown.items())
        )
    lines.append(f"    because {a.reason}")
    lines += [f"    assuming {w}" for w in a.witness]
    lines += [f"    note: {n}" for n in a.notes]
    for lr in a.decision.layers if a.decision is not None else ():
        for s in lr.statements:
            if s.matched:
                what = f"grant `{s.sid}`" if lr.layer is Layer.GRANTS else f"Sid `{s.sid}`"
                what = what if s.sid else "statement"
                lines.append(f"      {lr.layer.value}: {s.effect} {what} at {s.file}:{s.line}")
    shown_req = a.shown or r
    line = reproduce_line(world_file, shown_req, a.rests_on_assumptions, saved, flags)
    return [*lines, f"    {line}"]


def render_who(
    results: Sequence[WhoResult],
    world_file: str,
    fmt: str = "text",
    saved: Sequence[str | None] = (),
    flags: Sequence[str] = (),
) -> str:
    """Each key's list, as text for people or as JSON; `saved[n]` is where the n-th
    witness (`witness_answers`) was written; `flags` read WORLD again in the commands
    printed."""
    if fmt == "json":
        return json.dumps(who_json(results, world_file, flags), indent=2)
    lines: list[str] = []
    n = 0
    for r in results:
        lines.append(f"who can {', '.join(r.actions)} (key {r.key}): {len(r.found)} found")
        for f in r.found:
            where = saved[n] if n < len(saved) else None
            lines += _found_lines(f, world_file, where, flags)
            n += 1
        done = r.status is WhoStatus.COMPLETE
        lines.append(f"  {r.reason}" if done else f"  unknown: {r.reason}")
        if r.open_accounts:
            lines.append(f"  open accounts assumed: {accounts_text(r.open_accounts)}")
        lines.extend(f"  input assumed: {i}" for i in r.inputs_assumed)
        if r.trusted:
            lines.append(f"  trusted (not enumerated): {', '.join(r.trusted)}")
        lines.append(f"  solver questions: {r.queries}, time: {r.seconds:.3f} s")
    return "\n".join(lines) + "\n"


def witness_answers(results: Sequence[WhoResult]) -> list[Answer | None]:
    """Every witness in the order the report shows them (None: one not confirmed)."""
    return [f.answer if f.confirmed else None for r in results for f in r.found]
