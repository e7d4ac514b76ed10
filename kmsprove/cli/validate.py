"""`kmsprove validate`: parse and validate documents."""

from __future__ import annotations

import json
from typing import Any

import click

from kmsprove.cli.support import (
    FORMAT,
    READ_OPTIONS,
    TableChoice,
    run,
)


@click.command()
@click.option(
    "--kind",
    type=TableChoice(),
    default=None,
    help="What the files are (default: guessed from each file's content).",
)
@FORMAT
@READ_OPTIONS
@click.argument("files", nargs=-1, required=True)
def validate(kind: str | None, fmt: str, files: tuple[str, ...], options: tuple[Any, ...]) -> None:
    """Parse and validate documents; exit 0 without errors, 2 with."""
    # start-up: imported when the command runs
    from kmsprove.answer import ExitCode
    from kmsprove.inputs import validate_files
    from kmsprove.inputs.options import read_options
    from kmsprove.report.diagnostics import diagnostics_json, validate_summary

    def body() -> tuple[str, int, list[str]]:
        diags = validate_files(list(files), kind, read_options(*options))
        code = ExitCode.BAD_INPUT if any(d.is_error for d in diags) else ExitCode.OK
        if fmt == "json":
            return json.dumps(diagnostics_json(diags), indent=2), code, []
        lines = [str(d) for d in diags]
        if code is ExitCode.BAD_INPUT:
            return "", code, lines
        return validate_summary(len(files), diags), code, lines

    run(body)
