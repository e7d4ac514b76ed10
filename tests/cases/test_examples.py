"""Every `kmsprove explain` and `kmsprove query` command in examples/*/README.md runs
and gives the answer its comment states (`# allow...`, `# deny...`, `# yes...`,
`# no...`), and every example world validates."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmsprove.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/README.md"))
COMMAND = re.compile(
    r"^\s+kmsprove ((?:explain|query) .*?)\s+#\s*(allow|deny|yes|no)\b", re.MULTILINE
)


def _commands() -> list[pytest.param]:  # type: ignore[valid-type]
    out = []
    for readme in EXAMPLES:
        for i, m in enumerate(COMMAND.finditer(readme.read_text(encoding="utf-8"))):
            out.append(pytest.param(m.group(1), m.group(2), id=f"{readme.parent.name}-{i}"))
    return out


@pytest.mark.parametrize(("command", "expected"), _commands())
def test_example_command_gives_the_stated_decision(
    command: str, expected: str, monkeypatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, shlex.split(command))
    assert result.exit_code == 0, result.output
    if command.startswith("query"):
        assert result.output.startswith(expected + " "), result.output
    else:
        assert result.output.startswith(expected.upper() + ":"), result.output


def test_examples_have_commands() -> None:
    assert len(_commands()) >= 10


@pytest.mark.parametrize(
    "world", sorted((ROOT / "examples").glob("*/world.json")), ids=lambda p: p.parent.name
)
def test_example_world_validates(world: Path) -> None:
    result = CliRunner().invoke(main, ["validate", "--kind", "world", str(world)])
    assert result.exit_code == 0, result.output
