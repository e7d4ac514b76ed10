"""Report stage for `check`: one world's outcomes, or an estate's units -> one text,
JSON or SARIF document (an estate's text ends with the summary table)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from kmsprove.answer import Outcome
from kmsprove.questions.check.estate import UnitReport, totals
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


def render_estate(
    reports: Sequence[UnitReport],
    fmt: str,
    saved: Sequence[Sequence[str | None]] = (),
    flags: Sequence[str] = (),
) -> str:
    """Every world's outcomes and the summary table; `saved[n][i]` is where report n's
    outcome i's witness was written; `flags` read the worlds again."""
    if fmt == "json":
        worlds: dict[str, dict[str, float]] = {}
        for r in reports:
            row = worlds.setdefault(
                r.world, {"keys": 0, "holds": 0, "fails": 0, "unknown": 0, "seconds": 0.0}
            )
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
        }
        return json.dumps(doc, indent=2)
    if fmt == "sarif":
        log = sarif_log([o for r in reports for o in r.outcomes])
        return json.dumps(log, indent=2)
    body = "".join(
        f"{r.world}:\n"
        + render_check_text(
            r.outcomes,
            r.world,
            totals=False,
            saved=saved[n] if n < len(saved) else (),
            flags=flags,
        )
        for n, r in enumerate(reports)
    )
    return (body + "\n" if body else "") + summary_table(reports)


def summary_table(reports: Sequence[UnitReport]) -> str:
    """Per world (a world's key slices together): keys, holds, fails, unknown, seconds."""
    rows: dict[str, list[float]] = {}
    for r in reports:
        row = rows.setdefault(r.world, [0, 0, 0, 0, 0.0])
        row[0] += r.keys
        for i, k in enumerate(("holds", "fails", "unknown"), 1):
            row[i] += r.counts.get(k, 0)
        row[4] += r.seconds
    width = max([len("world"), *(len(w) for w in rows)])
    lines = [f"{'world':<{width}}  keys  holds  fails  unknown  seconds"]
    for w, (keys, holds, fails, unknown, secs) in rows.items():
        lines.append(f"{w:<{width}}  {keys:4d}  {holds:5d}  {fails:5d}  {unknown:7d}  {secs:7.2f}")
    t = totals(reports)
    lines.append(
        f"{len(rows)} worlds, {sum(r.keys for r in reports)} keys:"
        f" {t['holds']} hold, {t['fails']} fail, {t['unknown']} unknown"
    )
    return "\n".join(lines) + "\n"
