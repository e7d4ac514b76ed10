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

__all__ = ["DIFF_KINDS", "main"]

if __name__ == "__main__":
    main()
