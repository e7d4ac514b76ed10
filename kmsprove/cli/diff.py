"""`kmsprove diff`: the relation of two policies or worlds."""

from __future__ import annotations

import json
from typing import Any

import click

from kmsprove.cli.support import (
    DIFF_KINDS,
    FORMAT,
    READ_OPTIONS,
    run,
)


@click.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "--kind",
    type=DIFF_KINDS,
    default=None,
    help="What OLD and NEW are (default: guessed from their content).",
)
@click.option(
    "--who",
    default="anyone",
    show_default=True,
    help="Whose requests count, as in a query: `any principal outside account A`...",
)
@FORMAT
@click.option(
    "--timeout", type=float, default=30.0, show_default=True, help="Solver time limit, seconds."
)
@READ_OPTIONS
def diff(
    old: str,
    new: str,
    kind: str | None,
    who: str,
    fmt: str,
    timeout: float,
    options: tuple[Any, ...],
) -> None:
    """Relation of two policies or worlds; exit 1 when NEW allows something OLD denies."""
    # start-up: imported when the command runs
    from kmsprove.answer import exit_status
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.diff import diff_files
    from kmsprove.report.diff import diff_json, render_diff

    def body() -> tuple[str, int, list[str]]:
        warnings: list[Any] = []
        read = read_options(*options)
        result = diff_files(old, new, kind, who, timeout, read, warnings)
        unknown = result.relation.value == "unknown"
        code = exit_status(failed=result.new_access_shown, unknown=unknown)
        notes = [str(d) for d in warnings]
        if fmt == "json":
            return json.dumps(diff_json(result), indent=2), code, notes
        return render_diff(result, old, new, read.flags()), code, notes

    run(body)
