"""Report stage for `check`: one world's outcomes, or an estate's units -> one text,
JSON or SARIF document (an estate's text ends with the summary table).

A world that was bad input keeps its place: a `not checked` section and table row in
text (its `FILE:LINE:COL: error:` lines go to stderr, as all bad input does), an entry
under `errors` and its `worlds` row in JSON, error notifications in SARIF.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kmsprove.answer import Outcome
from kmsprove.errors import Diagnostic
from kmsprove.questions.check.estate import UnitReport, not_checked, totals
from kmsprove.report.check import check_json, render_check_text
from kmsprove.report.sarif import sarif_log


def render_check(
    outcomes: Sequence[Outcome],
    world_file: str,
    fmt: str,
    saved: Sequence[str | None] = (),
    flags: Sequence[str] = (),
) -> str:
    """One world's outcomes (`check WORLD SPEC`) in text, JSON or SARIF; `saved[i]` is
    where outcome i's witness was written; `flags` read WORLD again."""
    if fmt == "json":
        return json.dumps(check_json(outcomes), indent=2)
    if fmt == "sarif":
        return json.dumps(sarif_log(outcomes), indent=2)
    return render_check_text(outcomes, world_file, saved=saved, flags=flags)


def diagnostic_json(world: str, d: Diagnostic) -> dict[str, Any]:
    return {
        "world": world,
        "file": d.pos.file,
        "line": d.pos.line,
        "col": d.pos.col,
        "severity": d.severity.value,
        "message": d.message,
    }


def render_estate(
    reports: Sequence[UnitReport],
    fmt: str,
    saved: Sequence[Sequence[str | None]] = (),
    flags: Sequence[str] = (),
) -> str:
    """Every world's outcomes and the summary table; `saved[n][i]` is where report n's
    outcome i's witness was written; `flags` read the worlds again (those read with them:
    a single WORLD, a directory's templates and plans)."""
    if fmt == "json":
        worlds: dict[str, dict[str, float]] = {}
        for r in reports:
            row = worlds.setdefault(
                r.world,
                {"keys": 0, "holds": 0, "fails": 0, "unknown": 0, "seconds": 0.0, "errors": 0},
            )
            row["errors"] += len(r.errors)
            row["keys"] += r.keys
            row["seconds"] = round(row["seconds"] + r.seconds, 4)
            for k, v in r.counts.items():
                row[k] += v
        results = [
            {"world": r.world, **x} for r in reports for x in check_json(r.outcomes)["results"]
        ]
        doc = {
            "results": results,
            "summary": totals(reports),
            "worlds": [{"world": w, **row} for w, row in worlds.items()],
            "errors": [diagnostic_json(r.world, d) for r in reports for d in r.errors],
        }
        return json.dumps(doc, indent=2)
    if fmt == "sarif":
        errors = [d for r in reports for d in r.errors]
        log = sarif_log([o for r in reports for o in r.outcomes], errors=errors)
        return json.dumps(log, indent=2)
    body = "".join(
        f"{r.world}:\n"
        + (
            f"not checked: bad input ({_errors(len(r.errors))}, on stderr)\n"
            if r.errors
            else render_check_text(
                r.outcomes,
                r.world,
                totals=False,
                saved=saved[n] if n < len(saved) else (),
                flags=flags if r.read_with_flags else (),  # a directory's world file: none
            )
        )
        for n, r in enumerate(reports)
    )
    return (body + "\n" if body else "") + summary_table(reports)


def _errors(n: int) -> str:
    return f"{n} error" + ("" if n == 1 else "s")


def summary_table(reports: Sequence[UnitReport]) -> str:
    """Per world (a world's key slices together): keys, holds, fails, unknown, seconds."""
    rows: dict[str, list[float]] = {}
    bad = set(not_checked(reports))
    for r in reports:
        row = rows.setdefault(r.world, [0, 0, 0, 0, 0.0])
        row[0] += r.keys
        for i, k in enumerate(("holds", "fails", "unknown"), 1):
            row[i] += r.counts.get(k, 0)
        row[4] += r.seconds
    width = max([len("world"), *(len(w) for w in rows)])
    lines = [f"{'world':<{width}}  keys  holds  fails  unknown  seconds"]
    for w, (keys, holds, fails, unknown, secs) in rows.items():
        if w in bad:
            dashes = f"{'-':>4}  {'-':>5}  {'-':>5}  {'-':>7}  {'-':>7}"
            lines.append(f"{w:<{width}}  {dashes}  bad input")
            continue
        lines.append(f"{w:<{width}}  {keys:4d}  {holds:5d}  {fails:5d}  {unknown:7d}  {secs:7.2f}")
    t = totals(reports)
    lines.append(
        f"{len(rows)} worlds, {sum(r.keys for r in reports)} keys:"
        f" {t['holds']} hold, {t['fails']} fail, {t['unknown']} unknown"
        + (f"; {len(bad)} not checked (bad input)" if bad else "")
    )
    return "\n".join(lines) + "\n"
