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


@click.command()
@click.argument("world")
@GRAPH_OPTIONS
@READ_OPTIONS
@KEY_ARN
def graph(world: str, key: str | None, fmt: str, output: str | None, **read: Any) -> None:
    """Who reaches the key, and through what: statements, delegations, grants, services.

    WORLD is a world file, a template or a key policy (`--key-arn` says which key)."""
    # start-up: imported when the command runs
    from kmsprove.answer import ExitCode
    from kmsprove.inputs.files import write_atomic
    from kmsprove.inputs.key_policy_world import load_world_input
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.graph import build_graph
    from kmsprove.report.graph import render_graph

    def body() -> tuple[str, int, list[str]]:
        given = load_world_input(world, read_options(*read["options"], key_arn=read["key_arn"]))
        text = render_graph(build_graph(given.world, key), fmt)
        if output is not None:
            write_atomic(output, text)  # whole or not at all
        return "" if output else text, ExitCode.OK, [str(d) for d in given.warnings]

    run(body)
