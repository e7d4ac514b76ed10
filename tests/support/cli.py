"""Run the real CLI through click, checking it never leaves a traceback or a file."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
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


def invoke(*args: str) -> Result:
    """The real CLI; whatever it answers, never with a traceback."""
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def invoke_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = invoke(*args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


@cache
def sarif_validator() -> jsonschema.Draft202012Validator:
    """SARIF 2.1.0's schema, itself checked first."""
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)
