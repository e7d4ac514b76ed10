"""`kmsprove audit`: every rule of the audit on every key, findings proved."""

from __future__ import annotations

import os
from typing import Any

import click

from kmsprove.cli.support import (
    AUDIT_OPTIONS,
    KEY_ARN,
    READ_OPTIONS,
    RUN_OPTIONS,
    estate_run,
    progress,
    run,
    write,
)


@click.command()
@click.argument("world")
@AUDIT_OPTIONS
@click.option(
    "--html",
    "html_output",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write an HTML report: each world's graph with its findings.",
)
@RUN_OPTIONS
@READ_OPTIONS
@KEY_ARN
def audit(
    world: str,
    flags: dict[str, Any],
    html_output: str | None,
    running: tuple[Any, ...],
    options: tuple[Any, ...],
    key_arn: str | None,
) -> None:
    """Every rule of the audit on every key of WORLD (a world, a template, a plan, a key
    policy, or a directory of worlds): findings proved with the request that gets in."""
    # start-up: imported when the command runs
    from kmsprove.inputs import world_files
    from kmsprove.inputs.files import write_atomic
    from kmsprove.inputs.key_policy_world import load_world_input
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.audit import estate as audits
    from kmsprove.report.audit import render_audit
    from kmsprove.report.audit_html import render_audit_html

    def body() -> tuple[str, int, list[str]]:
        read = read_options(*options, key_arn=key_arn)
        ready = audits.prepare(world, read, **flags)
        executor, cache = estate_run("audit", ready.workers, *running)
        with progress(len(ready.units)) as advance:
            reports = audits.run_audit(ready, advance, executor, cache)
        reports, notes, code = audits.settle(reports, ready)
        if flags["sarif_output"]:
            write(flags["sarif_output"], render_audit(reports, "sarif", ready.shown, notes))
        if html_output:
            paths = world_files(world) if os.path.isdir(world) else [world]
            worlds = {}
            for path in paths:
                if any(r.world == path and not r.errors for r in reports):
                    worlds[path] = load_world_input(path, read).world
            write_atomic(html_output, render_audit_html(reports, worlds))
        text = render_audit(reports, flags["fmt"], ready.shown, notes)
        said = (*ready.warnings, *notes, *(cache.warnings if cache else ()))  # cache: stderr only
        return text, code, [str(d) for d in said]

    run(body)
