"""Run the real CLI through click, checking it never leaves a traceback or a file."""

from __future__ import annotations

from pathlib import Path

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
