"""`kmsprove audit`: every rule of the audit on every key, findings proved."""

from __future__ import annotations

from typing import Any

import click

from kmsprove.cli.support import AUDIT_OPTIONS, KEY_ARN, READ_OPTIONS, progress, run, write


@click.command()
@click.argument("world")
@AUDIT_OPTIONS
@READ_OPTIONS
@KEY_ARN
def audit(world: str, flags: dict[str, Any], options: tuple[Any, ...], key_arn: str | None) -> None:
    """Every rule of the audit on every key of WORLD (a world, a template, a plan, a key
    policy, or a directory of worlds): findings proved with the request that gets in."""
    # start-up: imported when the command runs
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.audit import estate as audits
    from kmsprove.report.audit import render_audit

    def body() -> tuple[str, int, list[str]]:
        read = read_options(*options, key_arn=key_arn)
        ready = audits.prepare(world, read, **flags)
        with progress(len(ready.units)) as advance:
            reports = audits.run_audit(ready, advance)
        reports, notes, code = audits.settle(reports, ready)
        if flags["sarif_output"]:
            write(flags["sarif_output"], render_audit(reports, "sarif", ready.shown, notes))
        text = render_audit(reports, flags["fmt"], ready.shown, notes)
        return text, code, [str(d) for d in (*ready.warnings, *notes)]

    run(body)
