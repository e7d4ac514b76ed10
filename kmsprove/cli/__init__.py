"""CLI: arguments -> library call -> report -> exit code. Click only, no logic: one
module per command, this group, and `support` (the shared options and the run wrapper).

Bad input (`InputError`) prints one `FILE:LINE:COL: error: ...` line per
problem on stderr and exits 2 with nothing written; anything else is a bug and
keeps its traceback.

Start-up: each command imports its stages when it runs (the imports marked
"start-up"), so `--help` and a command load nothing another command needs; the
stages and z3 would be most of a short command's time.
"""

from __future__ import annotations

import atexit
import os
import sys

import click

from kmsprove.cli.audit import audit
from kmsprove.cli.check import check
from kmsprove.cli.diff import diff
from kmsprove.cli.explain import explain
from kmsprove.cli.graph import graph
from kmsprove.cli.query import query
from kmsprove.cli.support import DIFF_KINDS
from kmsprove.cli.validate import validate
from kmsprove.cli.who import who
from kmsprove.collect.cli import collect


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kmsprove")
def main() -> None:
    """Prove who can use an AWS KMS key."""


for command in (validate, explain, query, who, check, audit, diff, graph, collect):
    main.add_command(command)


def entry() -> None:
    """The `kmsprove` script (and `python -m kmsprove.cli`): `main`, then, once its output
    is flushed and the exit handlers registered since have run, the process ends without
    tearing the interpreter down: freeing every module and every z3 term one at a time
    takes 10 to 40 ms, a tenth of a short command (bench/startup_bench.py). Every file a
    command writes is closed before it returns; a traceback or an interrupt leaves the
    usual way. Tests call `main`, which never ends the process."""
    status: list[int] = []  # the exit status of `main`, once it has one

    def leave() -> None:  # registered first, so run after the handlers added since
        if not status:
            return
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            return  # a closed pipe: Python's own exit says so
        os._exit(status[0])

    atexit.register(leave)
    try:
        main()
    except SystemExit as exc:
        # sys.exit's argument: None is success, a message (already printed) is 1
        status.append(exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1)
        raise


__all__ = ["DIFF_KINDS", "entry", "main"]

if __name__ == "__main__":
    entry()
