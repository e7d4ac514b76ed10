"""Start-up: each command imports only what it needs (bench/startup_bench.py times it).

A fresh interpreter runs the command and lists what it imported: `--help` loads no
stage, no z3 and no parser; a command given a world file loads neither the
CloudFormation nor the Terraform reader, nor YAML; only a question that builds a
formula loads z3 (a concrete yes or a syntactic no does not); lark (the
parsers are generated, `kmsprove.syntax.lark_standalone`) and importlib.metadata (the
results cache's) are never imported to answer. And
the script's entry, which skips the interpreter's teardown, keeps every exit status and
all the output. Module lists, not timings: a timed assertion would fail on a busy
machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORLD = str(ROOT / "examples" / "cross-account" / "world.json")
TEMPLATE = str(ROOT / "tests" / "data" / "cloudformation" / "userguide-bucket.yaml")

# runs `kmsprove ARGS` as the console script does, then writes the names of the
# modules it imported to the file in argv[1]
_RUN = """
import json, sys
out = sys.argv.pop(1)
sys.argv[0] = "kmsprove"
from kmsprove.cli import main
try:
    main()
except SystemExit:
    pass
with open(out, "w") as f:
    json.dump(sorted(sys.modules), f)
"""

TEMPLATE_READERS = ("kmsprove.inputs.cloudformation", "kmsprove.inputs.terraform", "yaml")
STAGES = ("kmsprove.syntax", "kmsprove.inputs", "kmsprove.evaluate", "kmsprove.encode")
SOLVING = ("z3", "kmsprove.encode", "kmsprove.solve")
# never needed to answer: lark (the parsers are generated), importlib.metadata (about
# 10 ms; the results cache's code digest and SARIF's tool version read it)
NEVER = ("lark", "importlib.metadata")


def imported(tmp_path: Path, *args: str) -> set[str]:
    """The modules a fresh `kmsprove ARGS` imported (its exit code is not checked here)."""
    out = tmp_path / "modules.json"
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}  # this checkout's kmsprove
    subprocess.run(
        [sys.executable, "-c", _RUN, str(out), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    return set(json.loads(out.read_text()))


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """The modules of `modules` in one of `packages` (a package or any module under it)."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_help_imports_no_stage_no_z3_and_no_parser(tmp_path: Path) -> None:
    modules = imported(tmp_path, "--help")
    assert "kmsprove.cli" in modules
    assert loaded(modules, (*STAGES, *SOLVING, *NEVER, *TEMPLATE_READERS)) == []


@pytest.mark.parametrize(
    "args",
    [
        ("validate", WORLD),
        (
            "explain",
            WORLD,
            "--principal",
            "arn:aws:iam::444455556666:root",
            "--action",
            "kms:Decrypt",
        ),
    ],
    ids=["validate", "explain"],
)
def test_a_command_on_a_world_file_imports_no_template_reader_and_no_solver(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    modules = imported(tmp_path, *args)
    assert "kmsprove.inputs.world_file" in modules  # it did read the world
    assert loaded(modules, (*TEMPLATE_READERS, *SOLVING, *NEVER)) == []


# what a question needs only when it builds a formula
FORMULAS = (
    "z3",
    "kmsprove.questions.formulas",
    "kmsprove.encode.symbolic",
    "kmsprove.solve.session",
)


@pytest.mark.parametrize(
    "query",
    [
        # a concrete yes: account 444455556666's root user, one evaluation
        "can any principal outside account 111122223333 kms:Decrypt",
        # the syntactic no: no statement or grant covers a caller outside both accounts
        "can any principal outside account 111122223333,444455556666 kms:Decrypt",
    ],
    ids=["concrete-yes", "syntactic-no"],
)
def test_a_query_settled_without_a_formula_imports_no_z3(tmp_path: Path, query: str) -> None:
    modules = imported(tmp_path, "query", WORLD, query)
    assert "kmsprove.questions.today" in modules  # it did ask
    others = ("kmsprove.questions.ever", "kmsprove.questions.bucket")
    assert loaded(modules, (*FORMULAS, *TEMPLATE_READERS, *others, *NEVER)) == []


def test_a_query_that_needs_the_solver_imports_it_and_no_template_reader(
    tmp_path: Path,
) -> None:
    # no named caller's plain request settles it: only the solver can say no
    query = (
        "can any principal outside account 111122223333 kms:Decrypt"
        ' where aws:PrincipalArn like "arn:aws:sts::*:assumed-role/Reader/*"'
    )
    modules = imported(tmp_path, "query", WORLD, query)
    assert set(FORMULAS) <= modules  # it did ask the solver
    others = ("kmsprove.questions.ever", "kmsprove.questions.bucket")
    assert loaded(modules, (*TEMPLATE_READERS, *others, *NEVER)) == []


def test_a_template_loads_its_reader(tmp_path: Path) -> None:
    """The readers are imported on use, so a template still finds its own."""
    modules = imported(tmp_path, "validate", TEMPLATE)
    assert {"kmsprove.inputs.cloudformation", "yaml"} <= modules
    assert loaded(modules, ("kmsprove.inputs.terraform", *SOLVING, *NEVER)) == []


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m kmsprove.cli ARGS`, the entry the `kmsprove` script calls."""
    path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    return subprocess.run(
        [sys.executable, "-m", "kmsprove.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_script_ends_with_the_command_status_and_all_its_output() -> None:
    """`entry` skips the interpreter's teardown, never the output or the exit status."""
    query = "can any principal outside account 111122223333 kms:Decrypt"
    answered = _script("query", WORLD, query, "--format", "json")
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["answer"] == "yes"
    bad = _script("query", WORLD, query.replace("Decrypt", "Decryp"))
    assert bad.returncode == 2 and bad.stdout == ""
    assert "matches no KMS action" in bad.stderr
    # a template parameter without a value leaves the answer unsettled
    unsettled = str(ROOT / "tests" / "data" / "cloudformation" / "userguide-key-tags.json")
    unknown = _script("query", unsettled, query)
    assert unknown.returncode == 3 and unknown.stdout.startswith("unknown")
    assert "parameter `Key` has no value" in unknown.stdout
    usage = _script("no-such-command")
    assert usage.returncode == 2 and "No such command" in usage.stderr
