"""CLI: arguments -> library call -> report -> exit code. Click only, no logic.

Bad input (`InputError`) prints one `FILE:LINE:COL: error: ...` line per
problem on stderr and exits 2 with nothing written; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from kmsprove.errors import InputError, SourcePos

# Start-up: each command imports its stages when it runs (the imports marked
# "start-up"), so `--help` and a command load nothing another command needs; the
# stages and z3 would be most of a short command's time.

BAD_INPUT = 2  # ExitCode.BAD_INPUT (kmsprove.answer), without loading the results module


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

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
KEY_ARN = click.option(
    "--key-arn",
    default=None,
    help="The key of a WORLD that is a key policy (default: a placeholder in its root's account).",
)


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    except OSError as exc:
        raise InputError.at(SourcePos(path), f"cannot write: {exc.strerror}") from None


def _save_witnesses(directory: str, answers: Sequence[Any]) -> list[str | None]:
    """Write each "yes" answer's witness under `directory` (one numbered subdirectory
    per witness when there are several); where each went, None for an answer without
    one (or a None in `answers`: a witness the report does not show)."""
    # start-up: imported when the command runs
    from kmsprove.report.world_file import witness_files

    files = [None if a is None else witness_files(a) for a in answers]
    several = sum(f is not None for f in files) > 1
    out: list[str | None] = []
    for n, found in enumerate(files, 1):
        if found is None:
            out.append(None)
            continue
        where = os.path.join(directory, str(n)) if several else directory
        try:
            os.makedirs(where, exist_ok=True)
        except OSError as exc:
            raise InputError.at(SourcePos(where), f"cannot write: {exc.strerror}") from None
        for name, text in found.items():
            _write(os.path.join(where, name), text.rstrip("\n"))
        out.append(where)
    return out


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; nothing in CI logs or pipes."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        yield lambda n: None
        return
    with click.progressbar(length=total, label="checking", file=sys.stderr) as bar:
        yield bar.update


def _run(body: Callable[[], tuple[str, int, list[str]]]) -> None:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kmsprove")
def main() -> None:
    """Prove who can use an AWS KMS key."""


@main.command()
@click.option(
    "--kind",
    type=TableChoice(),
    default=None,
    help="What the files are (default: guessed from each file's content).",
)
@FORMAT
@click.argument("files", nargs=-1, required=True)
def validate(kind: str | None, fmt: str, files: tuple[str, ...]) -> None:
    """Parse and validate documents; exit 0 without errors, 2 with."""
    # start-up: imported when the command runs
    from kmsprove.answer import ExitCode
    from kmsprove.inputs import validate_files
    from kmsprove.report.diagnostics import diagnostics_json, validate_summary

    def body() -> tuple[str, int, list[str]]:
        diags = validate_files(list(files), kind)
        code = ExitCode.BAD_INPUT if any(d.is_error for d in diags) else ExitCode.OK
        if fmt == "json":
            return json.dumps(diagnostics_json(diags), indent=2), code, []
        lines = [str(d) for d in diags]
        if code is ExitCode.BAD_INPUT:
            return "", code, lines
        return validate_summary(len(files), diags), code, lines

    _run(body)


@main.command()
@click.argument("world")
@click.option("--request", "request_file", default=None, help="JSON request file.")
@click.option("--principal", default=None, help="Caller ARN or service principal.")
@click.option("--action", default=None, help="Action, e.g. kms:Decrypt or s3:GetObject.")
@click.option("--key", default=None, help="Key ARN, key id or alias/NAME.")
@click.option("--resource", default=None, help="S3 object ARN (composed SSE-KMS read).")
@click.option(
    "--context", "context", multiple=True, help="KEY=VALUE; repeat a key for a multi-valued key."
)
@click.option("--grant-id", default=None, help="GrantId for RetireGrant/RevokeGrant.")
@click.option("--via-vpce", default=None, help="The call came through this KMS VPC endpoint.")
@KEY_ARN
@FORMAT
@click.option("--timeout", type=float, default=None, help="Ignored by explain (no solver).")
def explain(
    world: str,
    request_file: str | None,
    principal: str | None,
    action: str | None,
    key: str | None,
    resource: str | None,
    context: tuple[str, ...],
    grant_id: str | None,
    via_vpce: str | None,
    key_arn: str | None,
    fmt: str,
    timeout: float | None,
) -> None:
    """Decide one request and show, layer by layer, why (WORLD: a world or key policy)."""
    # start-up: imported when the command runs
    from kmsprove.answer import ExitCode
    from kmsprove.inputs import load_world_or_policy
    from kmsprove.questions.explain import explain_request, request_from_cli, request_from_file
    from kmsprove.report.decision import decision_json, render_decision

    def body() -> tuple[str, int, list[str]]:
        given = load_world_or_policy(world, key_arn)
        w, notes = given.world, [str(d) for d in given.warnings]
        if request_file is not None:
            if principal or action or key or resource or context:
                raise InputError.at_cli("give either --request or --principal/--action, not both")
            req = request_from_file(w, request_file)
        else:
            req = request_from_cli(w, principal, action, key, resource, context, grant_id, via_vpce)
        decision, full = explain_request(w, req)
        if fmt == "json":
            doc = decision_json(decision, full, given.placed)
            return json.dumps(doc, indent=2), ExitCode.OK, notes
        return render_decision(decision, full, given.placed), ExitCode.OK, notes

    _run(body)


@main.command()
@click.argument("world")
@click.argument("query")
@FORMAT
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Solver time limit per key, seconds.",
)
@click.option(
    "--trust", multiple=True, help="A trusted principal: it takes no steps of its own (`ever`)."
)
@click.option(
    "--max-steps",
    type=int,
    default=None,
    help="Longest trace to show (`ever`); never limits the proof.",
)
@click.option(
    "--save-witness",
    type=click.Path(file_okay=False),
    default=None,
    help="Write each witness's world and request under this directory, so that"
    " `kmsprove explain DIR/world.json --request DIR/request.json` reproduces it.",
)
@KEY_ARN
def query(
    world: str,
    query: str,
    fmt: str,
    timeout: float,
    trust: tuple[str, ...],
    max_steps: int | None,
    save_witness: str | None,
    key_arn: str | None,
) -> None:
    """Can <who> <actions> on a key? yes (with a request), no (a proof) or unknown.

    WORLD is a world file, or a key policy (`--key-arn` says which key it is)."""
    # start-up: imported when the command runs
    from kmsprove.answer import exit_status
    from kmsprove.inputs import load_world_or_policy
    from kmsprove.questions.ask import ask
    from kmsprove.report.answer import answers_json, render_answers, shortened
    from kmsprove.syntax.query import parse_query

    def body() -> tuple[str, int, list[str]]:
        q = parse_query(query)
        given = load_world_or_policy(world, key_arn)
        notes = [str(d) for d in given.warnings]
        answers = shortened(ask(given.world, q, timeout, trust), max_steps)
        unknown = any(a.verdict.value == "unknown" for a in answers)
        code = exit_status(failed=False, unknown=unknown)
        saved = _save_witnesses(save_witness, answers) if save_witness else []
        if fmt == "json":
            return json.dumps(answers_json(answers, given.placed), indent=2), code, notes
        return render_answers(answers, world, saved, given.placed), code, notes

    _run(body)


@main.command()
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
    key_arn: str | None,
) -> None:
    """Does every `expect yes:` / `expect no:` line of SPEC hold in WORLD?

    WORLD may be a directory: every world file under it is checked, in parallel; or a
    key policy (`--key-arn` says which key it is).
    """
    # start-up: imported when the command runs
    from kmsprove.questions.check import estate
    from kmsprove.report.check import shows_witness
    from kmsprove.report.estate import render_check, render_estate

    workers = jobs or os.cpu_count() or 1

    def body() -> tuple[str, int, list[str]]:
        expectations, units, given = estate.prepare(world, spec, workers, key_arn)
        job = estate.Job(expectations, timeout, trust)
        with _progress(len(units)) as advance:
            reports = estate.run_estate(units, job, workers, advance)
        errors = [e for r in reports for e in r.errors]
        if errors and not os.path.isdir(world):
            raise InputError(errors)  # a directory's bad worlds leave the others reported
        notes = [str(d) for d in (given.warnings if given else ())] + [str(e) for e in errors]
        if sarif_output:
            _write(sarif_output, render_estate(reports, "sarif"))
        saved: list[list[str | None]] = [[] for _ in reports]
        if save_witness:
            # numbered through the whole run, in the order the report shows them
            shown = [(n, o) for n, r in enumerate(reports) for o in r.outcomes]
            where = _save_witnesses(
                save_witness, [o.answer if shows_witness(o) else None for _, o in shown]
            )
            for (n, _), w in zip(shown, where, strict=True):
                saved[n].append(w)
        code = estate.exit_code(reports)
        if len(units) > 1 or os.path.isdir(world):  # never a key policy (`estate.plan`)
            return render_estate(reports, fmt, saved), code, notes
        one = (reports[0].outcomes, world, fmt, saved[0], given.placed if given else None)
        return render_check(*one), code, notes

    _run(body)


@main.command()
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
def diff(old: str, new: str, kind: str | None, who: str, fmt: str, timeout: float) -> None:
    """Relation of two policies or worlds; exit 1 when NEW allows something OLD denies."""
    # start-up: imported when the command runs
    from kmsprove.answer import exit_status
    from kmsprove.questions.diff import diff_files
    from kmsprove.report.diff import diff_json, render_diff

    def body() -> tuple[str, int, list[str]]:
        result = diff_files(old, new, kind, who, timeout)
        unknown = result.relation.value == "unknown"
        code = exit_status(failed=result.new_access_shown, unknown=unknown)
        if fmt == "json":
            return json.dumps(diff_json(result), indent=2), code, []
        return render_diff(result, old, new), code, []

    _run(body)


if __name__ == "__main__":
    main()
