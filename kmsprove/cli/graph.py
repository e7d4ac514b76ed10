"""`kmsprove graph`: who reaches the key, and through what."""

from __future__ import annotations

from typing import Any

import click

from kmsprove.cli.support import (
    GRAPH_OPTIONS,
    KEY_ARN,
    READ_OPTIONS,
    run,
)
from kmsprove.errors import InputError


@click.command()
@click.argument("world")
@GRAPH_OPTIONS
@click.option(
    "--ever",
    "questions",
    multiple=True,
    help="An `ever` question (`can ... ever ...`): its trace, if one gets in, drawn as a path.",
)
@click.option("--trust", multiple=True, help="A trusted principal for the --ever questions.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Per --ever question.")
@READ_OPTIONS
@KEY_ARN
def graph(
    world: str,
    key: str | None,
    fmt: str,
    output: str | None,
    questions: tuple[str, ...],
    trust: tuple[str, ...],
    timeout: float,
    **read: Any,
) -> None:
    """Who reaches the key, and through what: statements, delegations, grants, services,
    and the steps of `--ever` traces.

    WORLD is a world file, a template or a key policy (`--key-arn` says which key)."""
    # start-up: imported when the command runs
    from kmsprove.answer import ExitCode
    from kmsprove.inputs.files import write_atomic
    from kmsprove.inputs.key_policy_world import load_world_input
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.ask import ask
    from kmsprove.questions.graph import build_graph
    from kmsprove.report.graph import render_graph
    from kmsprove.syntax.query import parse_query

    def body() -> tuple[str, int, list[str]]:
        asked = [parse_query(q, "<--ever>") for q in questions]
        given = load_world_input(world, read_options(*read["options"], key_arn=read["key_arn"]))
        notes = [str(d) for d in given.warnings]
        traces = []
        for q, text in zip(asked, questions, strict=True):
            if not q.ever:
                raise InputError.at_cli(f"--ever takes an `ever` question, not `{text}`")
            for a in ask(given.world, q, timeout, trust):
                if a.verdict.value == "yes" and a.trace:
                    traces.append(a)
                elif a.verdict.value == "unknown":  # never drawn as "no path"
                    notes.append(f"<--ever>:1:1: warning: `{text}`: unknown ({a.reason})")
        text = render_graph(build_graph(given.world, key, traces=traces), fmt)
        if output is not None:
            write_atomic(output, text)  # whole or not at all
        return "" if output else text, ExitCode.OK, notes

    run(body)
