"""`python -m kmsprove.cli`: the command line, as the `kmsprove` script runs it."""

from __future__ import annotations

from kmsprove.cli import entry

entry()
