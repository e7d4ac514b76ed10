"""`kmsprove query`: one question over every request, with a witness or a proof."""

from __future__ import annotations

import json
from typing import Any

import click

from kmsprove.cli.support import (
    FORMAT,
    KEY_ARN,
    READ_OPTIONS,
    run,
    save_witnesses,
)


@click.command()
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
        saved = save_witnesses(save_witness, answers) if save_witness else []
        if fmt == "json":
            return json.dumps(answers_json(answers), indent=2), code, notes
        return render_answers(answers, world, saved, given.options.flags()), code, notes

    run(body)
