"""`kmsprove check`: the expectations of a spec file, on one world or an estate."""

from __future__ import annotations

import os
from typing import Any

import click

from kmsprove.cli.support import (
    KEY_ARN,
    READ_OPTIONS,
    RUN_OPTIONS,
    estate_run,
    progress,
    run,
    save_witnesses,
    write,
)
from kmsprove.errors import InputError


@click.command()
@click.argument("world")
@click.argument("spec")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
)
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Solver time limit per query per key, seconds.",
)
@click.option(
    "--trust", multiple=True, help="A trusted principal: it takes no steps of its own (`ever`)."
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for a directory of worlds or a world with many keys"
    " (default: one per CPU).",
)
@click.option(
    "--sarif-output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the SARIF log to this file (one run gives the text report and the"
    " alerts); nothing is written when the spec or WORLD is bad input (a directory's bad"
    " world is an error notification in it).",
)
@click.option(
    "--save-witness",
    type=click.Path(file_okay=False),
    default=None,
    help="Write the world and request of each failing `expect no` under this directory,"
    " so that the printed `kmsprove explain DIR/world.json --request DIR/request.json`"
    " reproduces it.",
)
@RUN_OPTIONS
@READ_OPTIONS
@KEY_ARN
def check(
    world: str,
    spec: str,
    fmt: str,
    timeout: float,
    trust: tuple[str, ...],
    jobs: int | None,
    sarif_output: str | None,
    save_witness: str | None,
    running: tuple[Any, ...],
    options: tuple[Any, ...],
    key_arn: str | None,
) -> None:
    """Does every `expect yes:` / `expect no:` line of SPEC hold in WORLD?

    WORLD may be a template, a key policy, or a directory: every world file under it, in
    parallel (a bad one is reported, the others still checked: exit 2).
    """
    # start-up: imported when the command runs
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.check import estate
    from kmsprove.questions.check.incremental import run_estate
    from kmsprove.report.check import shows_witness
    from kmsprove.report.estate import render_check, render_estate

    workers = jobs or os.cpu_count() or 1

    def body() -> tuple[str, int, list[str]]:
        read = read_options(*options, key_arn=key_arn)
        expectations, units, given = estate.prepare(world, spec, workers, read)
        executor, cache = estate_run("check", workers, *running)
        job = estate.Job(expectations, timeout, trust, read)
        with progress(len(units)) as advance:
            reports = run_estate(units, job, executor, advance, cache)
        errors = [e for r in reports for e in r.errors]
        if errors and not os.path.isdir(world):
            raise InputError(errors)  # a directory's bad worlds leave the others reported
        said = given.warnings if given else [w for r in reports for w in r.warnings]
        notes = [str(d) for d in said] + [str(e) for e in errors]
        notes += [str(d) for d in cache.warnings] if cache else []
        flags = given.options.flags() if given else read.flags()
        if sarif_output:
            write(sarif_output, render_estate(reports, "sarif"))
        saved: list[list[str | None]] = [[] for _ in reports]
        if save_witness:
            # numbered through the whole run, in the order the report shows them
            shown = [(n, o) for n, r in enumerate(reports) for o in r.outcomes]
            where = save_witnesses(
                save_witness, [o.answer if shows_witness(o) else None for _, o in shown]
            )
            for (n, _), w in zip(shown, where, strict=True):
                saved[n].append(w)
        code = estate.exit_code(reports)
        if len(units) > 1 or os.path.isdir(world):
            return render_estate(reports, fmt, saved, flags), code, notes
        return render_check(reports[0].outcomes, world, fmt, saved[0], flags), code, notes

    run(body)
