"""`kmsprove who`: every principal and class of principals that can, each with a
request, and a proof that nobody else can."""

from __future__ import annotations

from typing import Any

import click

from kmsprove.cli.support import FORMAT, KEY_ARN, READ_OPTIONS, run, save_witnesses


@click.command()
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
        saved = kw["save_witness"] and save_witnesses(kw["save_witness"], witness_answers(results))
        text = render_who(results, world, fmt, saved or [], given.options.flags())
        return text, who_exit(results), [str(d) for d in given.warnings]

    run(body)
