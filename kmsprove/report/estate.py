"""Report stage for estate runs: the workers' rendered reports -> one text, JSON or
SARIF document, ending (text) with the summary table."""

from __future__ import annotations

import json
from collections.abc import Sequence

from kmsprove.questions.check.estate import UnitReport, summary_table, totals
from kmsprove.report.sarif import sarif_log


def render_estate(reports: Sequence[UnitReport], fmt: str) -> str:
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
        doc = {
            "results": [x for r in reports for x in r.results],
            "summary": totals(reports),
            "worlds": [{"world": w, **row} for w, row in worlds.items()],
        }
        return json.dumps(doc, indent=2)
    if fmt == "sarif":
        log = sarif_log([])
        run = log["runs"][0]
        run["results"] = [x for r in reports for x in r.sarif_results]
        run["invocations"][0]["toolExecutionNotifications"] = [
            x for r in reports for x in r.sarif_notes
        ]
        return json.dumps(log, indent=2)
    body = "".join(r.text for r in reports)
    return (body + "\n" if body else "") + summary_table(reports)
