"""`kmsprove graph` through the real CLI: each format, each input format `query` takes
(a world file, a key policy alone, a CloudFormation template, a Terraform plan),
`--key`, `--output` written whole or not at all, and bad input as positioned errors
with exit 2 and nothing written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pydot
import pytest
from click.testing import CliRunner, Result

from kmsprove.cli import main
from tests.support.cli import listing

ROOT = Path(__file__).resolve().parents[2]
CROSS = "examples/cross-account/world.json"
KEY = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pydot's pyparsing calls


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _graph(*args: str) -> Result:
    result = CliRunner().invoke(main, ["graph", *args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_mermaid_is_the_default() -> None:
    result = _graph(CROSS)
    assert result.exit_code == 0, result.output
    lines = result.stdout.split("\n")
    assert lines[0] == "flowchart LR"
    assert any('"arn:aws:iam::444455556666:role/Reader"' in line for line in lines)
    assert any("examples/cross-account/reader-policy.json:4" in line for line in lines)


def test_dot_parses_and_names_every_document() -> None:
    result = _graph(CROSS, "--format", "dot")
    assert result.exit_code == 0, result.output
    [parsed] = pydot.graph_from_dot_data(result.stdout)
    wheres = {e.get_attributes()["where"].strip('"') for e in parsed.get_edges()}
    assert wheres == {
        "examples/cross-account/key-policy.json:5",
        "examples/cross-account/key-policy.json:14",
        "examples/cross-account/key-policy.json:29",
        "examples/cross-account/reader-policy.json:4",
    }


def test_html_to_a_file_is_written_whole(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = _graph(CROSS, "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "no findings given" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary left
    mode = out.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_the_inputs_query_takes() -> None:
    policy = _graph("tests/cases/realworld/console-default.json")
    assert policy.exit_code == 0
    assert "role/KeyAdmin" in policy.stdout
    assert "warning: the key's account is taken from this principal" in policy.stderr
    placed = _graph(
        "tests/cases/realworld/console-default.json", "--key-arn", KEY, "--format", "dot"
    )
    assert placed.exit_code == 0 and f'"key:{KEY}"' in placed.stdout
    template = _graph(
        "tests/data/cloudformation/cdk-key-alias.template.json", "--account", "444455556666"
    )
    assert template.exit_code == 0, template.output
    assert "any principal of account 444455556666" in template.stdout
    plan = _graph("tests/data/terraform/kms-grant/plan.json", "--format", "dot")
    assert plan.exit_code == 0, plan.output
    assert 'kind="grant"' in plan.stdout and "role/iam-role-for-grant" in plan.stdout


def test_one_key_by_alias_and_an_unknown_key() -> None:
    result = _graph(CROSS, "--key", "alias/shared-app", "--format", "dot")
    assert result.exit_code == 0 and f'"key:{KEY}"' in result.stdout
    bad = _graph(CROSS, "--key", "alias/nope")
    assert bad.exit_code == 2
    assert bad.stderr == f"<cli>:1:1: error: no key `alias/nope` in {CROSS}\n"
    assert bad.stdout == ""


def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    world = tmp_path / "world.json"
    world.write_text('{"version": 1, "keys": [{"arn": "x", "policy": {}},]}\n')
    out = tmp_path / "graph.html"
    before = listing(tmp_path)
    result = _graph(str(world), "--format", "html", "--output", str(out))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{world}:1:")
    assert all(": error: " in line for line in result.stderr.splitlines())
    assert listing(tmp_path) == before
    # an existing report stays as it was
    out.write_text("old\n")
    assert _graph(str(world), "--output", str(out)).exit_code == 2
    assert out.read_text() == "old\n"


def test_an_unwritable_output_is_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "graph.mmd"
    result = _graph(CROSS, "--output", str(missing))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{missing}:1:1: error: cannot write")
    assert not missing.parent.exists()


def test_the_graph_of_a_copied_world_names_its_files(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "cross-account", tmp_path / "w")
    result = _graph(str(tmp_path / "w" / "world.json"))
    assert result.exit_code == 0
    assert f"{tmp_path}/w/reader-policy.json:4" in result.stdout


def test_the_readme_example_is_what_the_command_prints() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Graph\n", 1)[1]
    block = section.strip("\n").split("\n\n", 1)[0].split("\n")
    assert block[0] == "    $ kmsprove graph examples/cross-account/world.json"
    shown = [line[4:] for line in block[1:] if line.strip() != "..."]
    printed = _graph(CROSS).stdout.split("\n")
    assert [line for line in printed if line in shown] == shown


def test_an_ever_question_draws_its_trace_and_a_plain_question_is_refused() -> None:
    world = "tests/data/graph/default/world.json"
    q = "can any principal outside account 111122223333 ever kms:Decrypt"
    result = _graph(world, "--format", "dot", "--ever", q)
    assert result.exit_code == 0, result.output
    [dot] = pydot.graph_from_dot_data(result.stdout)
    kinds = [e.get("kind").strip('"') for e in dot.get_edges()]
    assert "trace" in kinds, kinds
    plain = _graph(world, "--format", "dot")
    [before] = pydot.graph_from_dot_data(plain.stdout)
    assert "trace" not in [e.get("kind").strip('"') for e in before.get_edges()]
    bad = _graph(world, "--ever", "can anyone kms:Decrypt")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.startswith("<cli>:1:1: error: --ever takes an `ever` question")
