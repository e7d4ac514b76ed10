"""The CLI's plumbing that every command shares: the `--format` flag, the template
flags (`READ_OPTIONS`), `graph`'s flags (`GRAPH_OPTIONS`), `audit`'s flags
(`AUDIT_OPTIONS`), where estates run and their cache (`RUN_OPTIONS`, `estate_run`),
`--key-arn` (a key policy given as WORLD), writing a file, a progress
bar, and running a command body so bad input is one line per problem and exit 2
(`run`), the `--kind` choices, and writing witnesses. Click only; the commands are the
package's other modules.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from kmsprove.errors import InputError, SourcePos

BAD_INPUT = 2  # ExitCode.BAD_INPUT (kmsprove.answer), without loading the results module

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
_READ_FLAGS = (  # how WORLD is read when it is a template (kmsprove.inputs.options)
    click.option("--account", help="A template's AWS::AccountId (default 111122223333)."),
    click.option("--region", help="A template's AWS::Region (default us-east-1)."),
    click.option("--parameter", multiple=True, help="NAME=VALUE: a template parameter's value."),
    click.option("--physical-id", multiple=True, help="LOGICAL_ID=ID: a resource's deployed id."),
)


_GRAPH_FLAGS = (  # `kmsprove graph`
    click.option("--key", default=None, help="Key ARN, key id or alias/NAME (default: every key)."),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(["mermaid", "dot", "html"]),  # kmsprove.report.graph.FORMATS
        default="mermaid",
        show_default=True,
        help="Mermaid for GitHub markdown, DOT for Graphviz, or one self-contained HTML report.",
    ),
    click.option(
        "--output",
        type=click.Path(dir_okay=False),
        default=None,
        help="Write to this file (whole, or not at all) instead of stdout.",
    ),
)


def GRAPH_OPTIONS(command: Callable[..., None]) -> Callable[..., None]:
    """`graph`'s `--key`, `--format` and `--output`."""
    for flag in reversed(_GRAPH_FLAGS):
        command = flag(command)
    return command


KEY_ARN = click.option(
    "--key-arn",
    default=None,
    help="The key of a WORLD that is a key policy (default: a placeholder in its root's account).",
)


def READ_OPTIONS(command: Callable[..., None]) -> Callable[..., None]:
    """The template flags, given to the command as one `options` tuple (the arguments
    of `kmsprove.inputs.options.read_options`)."""

    @functools.wraps(command)
    def wrapper(
        *args: Any, account: Any, region: Any, parameter: Any, physical_id: Any, **kwargs: Any
    ) -> None:
        command(*args, options=(account, region, parameter, physical_id), **kwargs)

    for flag in reversed(_READ_FLAGS):
        wrapper = flag(wrapper)
    return wrapper


_AUDIT_FLAGS = (  # `kmsprove audit`, given to the command as one `flags` dict
    click.option(
        "--zone",
        default="account",
        show_default=True,
        help="The zone of trust: `account` (the key's), `org` (its organization), or"
        " account ids `A,B` (with the key's).",
    ),
    click.option("--trust", multiple=True, help="A trusted principal (`ever`): asks escalation."),
    click.option(
        "--admin",
        multiple=True,
        help="A key administrator (default: those of key-policy statements whose Sid says so).",
    ),
    click.option(
        "--fail-on",
        type=click.Choice(["critical", "high", "medium", "low", "info"]),
        default="medium",
        show_default=True,
        help="Exit 1 when a finding at or above this severity counts.",
    ),
    click.option(
        "--suppressions",
        type=click.Path(dir_okay=False),
        help="A JSON or YAML list of {rule, key or sid, reason, expires}: findings that do"
        " not count.",
    ),
    click.option(
        "--baseline",
        type=click.Path(dir_okay=False),
        help="An earlier `--format json` report: only findings not in it count.",
    ),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json", "sarif"]),
        default="text",
        show_default=True,
    ),
    click.option(
        "--sarif-output",
        type=click.Path(dir_okay=False, writable=True),
        help="Also write the SARIF log to this file.",
    ),
    click.option("--timeout", type=float, default=30.0, show_default=True, help="Per question."),
    click.option(
        "--jobs",
        type=click.IntRange(min=1),
        help="Worker processes for a directory of worlds or a world with many keys"
        " (default: one per CPU).",
    ),
)
AUDIT_FLAG_NAMES = (
    "zone",
    "trust",
    "admin",
    "fail_on",
    "suppressions",
    "baseline",
    "fmt",
    "sarif_output",
    "timeout",
    "jobs",
)


def AUDIT_OPTIONS(command: Callable[..., None]) -> Callable[..., None]:
    """`kmsprove audit`'s flags, given to the command as one `flags` dict (the keyword
    arguments of `kmsprove.questions.audit.estate.prepare`)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        flags = {name: kwargs.pop(name) for name in AUDIT_FLAG_NAMES}
        command(*args, flags=flags, **kwargs)

    for flag in reversed(_AUDIT_FLAGS):
        wrapper = flag(wrapper)
    return wrapper


_RUN_FLAGS = (  # where an estate runs, and the results cache (`RUN_OPTIONS`)
    click.option(
        "--cache",
        "cache_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="The results cache, a SQLite file (default"
        " $XDG_CACHE_HOME/kmsprove/results.sqlite): answers of worlds whose files, options"
        " and questions are unchanged are served from it.",
    ),
    click.option(
        "--no-cache", is_flag=True, help="Compute every answer; neither read nor write the cache."
    ),
    click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Run on the workers of a Dask cluster (`tcp://HOST:8786`) instead of local"
        " processes (the `dask` extra).",
    ),
)


def RUN_OPTIONS(command: Callable[..., None]) -> Callable[..., None]:
    """`--cache`, `--no-cache` and `--scheduler`, given to the command as one `running`
    tuple (the arguments of `estate_run`)."""

    @functools.wraps(command)
    def wrapper(*args: Any, cache_path: Any, no_cache: Any, scheduler: Any, **kwargs: Any) -> None:
        command(*args, running=(cache_path, no_cache, scheduler), **kwargs)

    for flag in reversed(_RUN_FLAGS):
        wrapper = flag(wrapper)
    return wrapper


def estate_run(
    command: str, jobs: int, cache_path: str | None, no_cache: bool, scheduler: str | None
) -> tuple[Any, Any]:
    """The executor (local processes, or a Dask cluster's workers) and the results cache
    (None: `--no-cache`) of one run of `command`; `--cache` with `--no-cache` is bad
    input."""
    # start-up: imported when the command runs
    from kmsprove.questions.cache import ResultsCache
    from kmsprove.questions.workers import executor_for

    if no_cache and cache_path is not None:
        raise InputError.at_cli("give --cache PATH or --no-cache, not both")
    executor = executor_for(jobs, scheduler)
    return executor, None if no_cache else ResultsCache.open(cache_path, command)


def write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    except OSError as exc:
        raise InputError.at(SourcePos(path), f"cannot write: {exc.strerror}") from None


@contextlib.contextmanager
def progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; nothing in CI logs or pipes."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield lambda n: None
        return
    with click.progressbar(length=total, label="checking", file=sys.stderr) as bar:
        yield bar.update


def run(body: Callable[[], tuple[str, int, list[str]]]) -> None:
    """Run a command body that returns (stdout text, exit code, stderr lines)."""
    try:
        out, code, notes = body()
    except InputError as exc:
        for d in exc.diagnostics:
            click.echo(str(d), err=True)
        sys.exit(BAD_INPUT)
    for line in notes:
        click.echo(line, err=True)
    if out:
        click.echo(out, nl=not out.endswith("\n"))
    sys.exit(code)


class TableChoice(click.Choice[str]):
    """A `--kind` choice read from the formats table when first needed."""

    def __init__(self, only: tuple[str, ...] | None = None) -> None:
        self.only = only
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]  # read from the table
        # start-up: the formats table imports every input reader
        from kmsprove.inputs import KINDS

        return tuple(k for k in KINDS if self.only is None or k in self.only)


# what `diff` compares (kmsprove.questions.diff.KINDS; a test holds the two equal)
DIFF_KINDS = TableChoice(("key-policy", "identity-policy", "world"))


def save_witnesses(directory: str, answers: Sequence[Any]) -> list[str | None]:
    """Write each "yes" answer's witness under `directory`; where each went, None for an
    answer without one (or a None in `answers`: a witness the report does not show)."""
    # start-up: imported when the command runs
    from kmsprove.inputs.files import write_witnesses
    from kmsprove.report.world_file import witness_files

    return write_witnesses(directory, [None if a is None else witness_files(a) for a in answers])
