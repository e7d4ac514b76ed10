"""CLI: `kmsprove collect` (click only): arguments -> `run.run_collect` -> summary ->
exit code. `kmsprove.cli` adds it to the command group; it lives beside the collector
so that module stays within its size, and loads nothing of boto3 until it runs.

Exit 0 everything read; 3 something refused (answers that depend on it are unknown);
2 bad options or a run that could not go on (one `FILE:LINE:COL: error:` line each;
`--resume` continues it); 130 interrupted (Ctrl-C, progress kept).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from kmsprove.collect import require_boto3
from kmsprove.errors import InputError

BAD_INPUT = 2  # ExitCode.BAD_INPUT
INTERRUPTED = 130  # Ctrl-C, as shells report it


@contextlib.contextmanager
def _progress() -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """(grow, advance) of a progress bar whose total grows as work is found; on a
    terminal only, never in CI logs or pipes."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield (lambda n: None), (lambda n: None)
        return
    with click.progressbar(length=0, label="collecting", file=sys.stderr) as bar:

        def grow(n: int) -> None:
            bar.length = (bar.length or 0) + n

        yield grow, bar.update


@click.command()
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="The world directory: DIR/world.json and the raw AWS documents it references.",
)
@click.option(
    "--profile", default=None, help="AWS profile (default: the default credential chain)."
)
@click.option(
    "--region", default=None, help="Region to read (default: the profile's, else us-east-1)."
)
@click.option("--all-regions", is_flag=True, help="Every Region the account has enabled.")
@click.option("--org", is_flag=True, help="The whole organization, from its management account.")
@click.option(
    "--role-name", default=None, help="With --org: the role to assume in each member account."
)
@click.option(
    "--resume", is_flag=True, help="Continue a run cut short, without reading again what it wrote."
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Attempts per AWS call (botocore's adaptive retry mode handles throttling).",
)
@click.option("--page-size", type=click.IntRange(min=1), default=None, hidden=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def collect(
    out: str,
    profile: str | None,
    region: str | None,
    all_regions: bool,
    org: bool,
    role_name: str | None,
    resume: bool,
    max_attempts: int,
    page_size: int | None,
    fmt: str,
) -> None:
    """Read (read-only) everything that decides KMS access into a world directory.

    Exit 0: everything read; 3: something was refused (answers that depend on it are
    unknown); 2: the run could not go on (run again with --resume); 130: interrupted.
    """
    try:
        require_boto3()
        # start-up: boto3, the optional `collect` extra, loads with these
        from kmsprove.collect.run import Options, Ticker, run_collect
        from kmsprove.collect.summary import render_json, render_text

        options = Options(
            Path(out), profile, region, all_regions, org, role_name, resume, max_attempts, page_size
        )
        with _progress() as (grow, advance):
            summary = run_collect(options, ticker=Ticker(grow, advance))
    except InputError as exc:
        for d in exc.diagnostics:
            click.echo(str(d), err=True)
        sys.exit(BAD_INPUT)
    except KeyboardInterrupt:
        click.echo(f"interrupted: run again with --resume to continue in {out}", err=True)
        sys.exit(INTERRUPTED)
    if summary.problems:
        click.echo(render_text(summary), err=True)
        sys.exit(BAD_INPUT)
    click.echo(
        json.dumps(render_json(summary), indent=2) if fmt == "json" else render_text(summary)
    )
    sys.exit(summary.exit_code)
