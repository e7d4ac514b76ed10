"""CLI: arguments -> library call -> report -> exit code. Click only, no logic.

Bad input (`InputError`) prints one `FILE:LINE:COL: error: ...` line per
problem on stderr and exits 2 with nothing written; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import click

from kmsprove.cli_support import FORMAT, KEY_ARN, READ_OPTIONS, progress, run, write
from kmsprove.collect.cli import collect as collect_command
from kmsprove.errors import InputError

# Start-up: each command imports its stages when it runs (the imports marked
# "start-up"), so `--help` and a command load nothing another command needs; the
# stages and z3 would be most of a short command's time.


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


def _save_witnesses(directory: str, answers: Sequence[Any]) -> list[str | None]:
    """Write each "yes" answer's witness under `directory`; where each went, None for an
    answer without one (or a None in `answers`: a witness the report does not show)."""
    # start-up: imported when the command runs
    from kmsprove.inputs.files import write_witnesses
    from kmsprove.report.world_file import witness_files

    return write_witnesses(directory, [None if a is None else witness_files(a) for a in answers])


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
@FORMAT
@click.option("--timeout", type=float, default=None, help="Ignored by explain (no solver).")
@READ_OPTIONS
@KEY_ARN
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
    fmt: str,
    timeout: float | None,
    options: tuple[Any, ...],
    key_arn: str | None,
) -> None:
    """Decide one request and show, layer by layer, why (WORLD: a world, a template or a
    key policy)."""
    # start-up: imported when the command runs
    from kmsprove.answer import ExitCode
    from kmsprove.inputs.key_policy_world import load_world_input
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.explain import explain_request, request_from_cli, request_from_file
    from kmsprove.report.decision import decision_json, render_decision

    def body() -> tuple[str, int, list[str]]:
        given = load_world_input(world, read_options(*options, key_arn=key_arn))
        w, notes = given.world, [str(d) for d in given.warnings]
        if request_file is not None:
            if principal or action or key or resource or context:
                raise InputError.at_cli("give either --request or --principal/--action, not both")
            req = request_from_file(w, request_file)
        else:
            req = request_from_cli(w, principal, action, key, resource, context, grant_id, via_vpce)
        decision, full = explain_request(w, req)
        code = ExitCode.OK if decision.unknown is None else ExitCode.UNKNOWN
        if fmt == "json":
            return json.dumps(decision_json(decision, full, w.assumed), indent=2), code, notes
        return render_decision(decision, full, w.assumed), code, notes

    run(body)


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
@READ_OPTIONS
@KEY_ARN
def query(
    world: str,
    query: str,
    fmt: str,
    timeout: float,
    trust: tuple[str, ...],
    max_steps: int | None,
    save_witness: str | None,
    options: tuple[Any, ...],
    key_arn: str | None,
) -> None:
    """Can <who> <actions> on a key? yes (with a request), no (a proof) or unknown.

    WORLD is a world file, a template or a key policy (`--key-arn` says which key)."""
    # start-up: imported when the command runs
    from kmsprove.answer import exit_status
    from kmsprove.inputs.key_policy_world import load_world_input
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.ask import ask
    from kmsprove.report.answer import answers_json, render_answers, shortened
    from kmsprove.syntax.query import parse_query

    def body() -> tuple[str, int, list[str]]:
        q = parse_query(query)
        given = load_world_input(world, read_options(*options, key_arn=key_arn))
        notes = [str(d) for d in given.warnings]
        answers = shortened(ask(given.world, q, timeout, trust), max_steps)
        unknown = any(a.verdict.value == "unknown" for a in answers)
        code = exit_status(failed=False, unknown=unknown)
        saved = _save_witnesses(save_witness, answers) if save_witness else []
        if fmt == "json":
            return json.dumps(answers_json(answers), indent=2), code, notes
        return render_answers(answers, world, saved, given.options.flags()), code, notes

    run(body)


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
    from kmsprove.report.check import shows_witness
    from kmsprove.report.estate import render_check, render_estate

    workers = jobs or os.cpu_count() or 1

    def body() -> tuple[str, int, list[str]]:
        read = read_options(*options, key_arn=key_arn)
        expectations, units, given = estate.prepare(world, spec, workers, read)
        job = estate.Job(expectations, timeout, trust)
        with progress(len(units)) as advance:
            reports = estate.run_estate(units, job, workers, advance)
        errors = [e for r in reports for e in r.errors]
        if errors and not os.path.isdir(world):
            raise InputError(errors)  # a directory's bad worlds leave the others reported
        notes = [str(d) for d in (given.warnings if given else ())] + [str(e) for e in errors]
        flags = given.options.flags() if given else read.flags()
        if sarif_output:
            write(sarif_output, render_estate(reports, "sarif"))
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
        if len(units) > 1 or os.path.isdir(world):
            return render_estate(reports, fmt, saved, flags), code, notes
        return render_check(reports[0].outcomes, world, fmt, saved[0], flags), code, notes

    run(body)


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


@main.command()
@click.argument("world")
@click.argument("actions", nargs=-1, required=True)
@FORMAT
@click.option("--timeout", type=float, default=30.0, show_default=True, help="In all, seconds.")
@click.option("--trust", multiple=True, help="A trusted principal: left out of the list.")
@click.option("--save-witness", type=click.Path(file_okay=False), help="Witnesses to DIR/N/.")
@READ_OPTIONS
@KEY_ARN
def who(world: str, actions: tuple[str, ...], fmt: str, timeout: float, **kw: Any) -> None:
    """Every principal and class of principals that can ACTIONS [on key K], each with a
    request, and a proof that nobody else can (WORLD as for query)."""
    # start-up: imported when the command runs
    from kmsprove.inputs.key_policy_world import load_world_input
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.who import ask_who, parse_actions
    from kmsprove.report.who import render_who, who_exit, witness_answers

    def body() -> tuple[str, int, list[str]]:
        q = parse_actions(" ".join(actions))
        given = load_world_input(world, read_options(*kw["options"], key_arn=kw["key_arn"]))
        results = ask_who(given.world, q, timeout, kw["trust"])
        saved = kw["save_witness"] and _save_witnesses(kw["save_witness"], witness_answers(results))
        text = render_who(results, world, fmt, saved or [], given.options.flags())
        return text, who_exit(results), [str(d) for d in given.warnings]

    run(body)


# `kmsprove collect` (AWS -> a world directory) is defined with its package
main.add_command(collect_command)

if __name__ == "__main__":
    main()
