"""Run `kmsprove validate` through click and build expected `FILE:LINE:COL` lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from kmsprove.cli import main


def listing(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def run_validate(tmp_path: Path, *args: str) -> Result:
    """Invoke the real CLI; bad input must never leave a traceback or a file behind."""
    before = listing(tmp_path)
    result = CliRunner().invoke(main, ["validate", *args])
    assert listing(tmp_path) == before, "validate wrote into the directory"
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def policy_text(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    """A policy whose statement n (1-based) starts at line n + 1, column 1."""
    head = "{" + (f'"Version": "{version}", ' if version else "") + '"Statement": [\n'
    return head + ",\n".join(json.dumps(s) for s in statements) + "\n]}\n"


def grants_text(*grants: dict[str, Any] | str) -> str:
    """A grant list whose grant n (1-based) starts at line n + 1, column 1."""
    items = [g if isinstance(g, str) else json.dumps(g) for g in grants]
    return "[\n" + ",\n".join(items) + "\n]\n"


def at(text: str, needle: str, nth: int = 1, after: str = "") -> str:
    """`:LINE:COL` of the nth `needle` (searched from the first `after`)."""
    start = text.index(after) + len(after) if after else 0
    offset = start - 1
    for _ in range(nth):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f":{line}:{col}"


def stmt_at(n: int) -> str:
    """Where statement (or grant) n of `policy_text`/`grants_text` starts."""
    return f":{n + 1}:1"


def value_at(text: str, key: str, nth: int = 1) -> str:
    """Where the value of member `key` (its nth occurrence) starts."""
    needle = json.dumps(key) + ": "
    return _shift(at(text, needle, nth), len(needle))


def _shift(pos: str, by: int) -> str:
    _, line, col = pos.split(":")
    return f":{line}:{int(col) + by}"
