"""Templates through the CLI: each real template answers what the world written by hand
from it answers; every intrinsic function and every unresolvable form as a query
answer; the template flags on every command; bad templates are positioned errors,
exit 2, no traceback, nothing written."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from kmsprove.cli import main
from tests.support.cli import listing
from tests.support.templates import (
    INTRINSICS,
    UNRESOLVED,
    intrinsic_template,
    unresolved_template,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "cloudformation"
A, B = "111122223333", "444455556666"
OUTSIDE = f"can any principal outside account {A} kms:Decrypt"


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def answers(world: Path | str, query: str, *flags: str) -> list[tuple[str | None, str]]:
    """(key, answer) of a query; a hedged answer as the answer it would have been."""
    result = run("query", str(world), query, "--format", "json", *flags)
    assert result.exit_code in (0, 3), result.output
    doc = json.loads(result.stdout)
    out = []
    for a in doc.get("keys", [doc]):
        would = re.match(r"the answer would be (yes|no)", a.get("reason") or "")
        out.append((a.get("key"), would.group(1) if would else a["answer"]))
    return out


PAIRS = [
    (
        "userguide-key.yaml",
        (),
        [
            OUTSIDE,
            "can principal arn:aws:iam::123456789012:user/Bob kms:Decrypt",
            "can principal arn:aws:iam::123456789012:user/Bob kms:PutKeyPolicy",
            f"can any principal outside account {A} kms:ScheduleKeyDeletion",
            "can anyone kms:Decrypt on key alias/myKeyAlias",
        ],
    ),
    (
        "userguide-key-tags.json",
        ("--account", B, "--region", "eu-west-1", "--parameter", "Key=team"),
        [
            f"can any principal outside account {B} kms:Decrypt",
            f"can any principal in account {B} kms:Decrypt",
        ],
    ),
    (
        "userguide-replica-key.json",
        (),
        [OUTSIDE, f"can principal arn:aws:iam::{A}:role/developer kms:Decrypt"],
    ),
    (
        "userguide-role-key.yaml",
        (),
        [
            OUTSIDE,
            f"can principal arn:aws:iam::{A}:role/kmsprove-stack-RootRole-G7NRRMXFA6KC kms:Decrypt",
        ],
    ),
    ("cdk-key-alias.template.json", (), [OUTSIDE, f"can anyone kms:Decrypt on key alias/MyKey{A}"]),
    (
        "cdk-key-grants.template.json",
        (),
        [
            OUTSIDE,
            f"can principal arn:aws:sts::{A}:assumed-role/kmsprove-stack-Role1ABCC5F0-6NN4LZRQ2Z2C/s kms:Sign",
            f"can principal arn:aws:sts::{A}:assumed-role/kmsprove-stack-Role1ABCC5F0-6NN4LZRQ2Z2C/s kms:Decrypt",
        ],
    ),
    (
        "cdk-synth-key.template.json",
        (),
        [
            OUTSIDE,
            f"can principal arn:aws:sts::{A}:assumed-role/kmsprove-stack-ReaderRoleC7E6A1D2-FEDPO4QGZA7O/s kms:Decrypt",
            f"can principal arn:aws:sts::{A}:assumed-role/kmsprove-stack-ReaderRoleC7E6A1D2-FEDPO4QGZA7O/s kms:Encrypt",
            "can anyone kms:Decrypt on key alias/app-data",
        ],
    ),
    (
        "userguide-bucket.yaml",
        (),
        [
            OUTSIDE,
            f"can principal arn:aws:iam::{A}:role/reader s3:GetObject on bucket arn:aws:s3:::encryptedbucket-us-east-1-{A}",
        ],
    ),
]


@pytest.mark.parametrize(("name", "flags", "queries"), PAIRS, ids=[p[0] for p in PAIRS])
def test_a_template_answers_what_its_hand_written_world_answers(
    name: str, flags: tuple[str, ...], queries: list[str]
) -> None:
    template = DATA / name
    world = DATA / (name.split(".")[0] + ".world.json")
    if name == "userguide-key-tags.json":
        flags = (*flags, "--parameter", "Value=red")
    for q in queries:
        assert answers(template, q, *flags) == answers(world, q), q


def test_the_real_templates_validate(tmp_path: Path) -> None:
    templates = sorted(
        str(p) for p in DATA.iterdir() if p.suffix in (".yaml", ".json") and "world" not in p.name
    )
    result = run("validate", *templates)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{len(templates)} file(s) valid")


def test_an_unset_parameter_is_unknown_until_given() -> None:
    template = DATA / "userguide-key-tags.json"
    result = run("query", str(template), OUTSIDE)
    assert result.exit_code == 3 and result.stdout.startswith("unknown")
    assert "`Ref Key`" in result.stdout and "parameter `Key` has no value" in result.stdout
    given = run(
        "query", str(template), OUTSIDE, "--parameter", "Key=team", "--parameter", "Value=red"
    )
    assert given.exit_code == 0 and given.stdout.startswith("no ")


def test_the_cdk_templates_need_no_parameter() -> None:
    """`BootstrapVersion` is an SSM parameter nobody but `Rules` reads: nothing unknown."""
    for name in ("cdk-key-alias.template.json", "cdk-synth-key.template.json"):
        result = run("query", str(DATA / name), OUTSIDE)
        assert result.exit_code == 0 and result.stdout.startswith("no "), result.output
        assert "unsettled" not in result.output


# --------------------------------------------------------------------------
# every intrinsic function and every unresolvable form, as answers


def _write(tmp: Path, doc: dict[str, Any], yaml_form: bool = False) -> Path:
    path = tmp / ("t.yaml" if yaml_form else "t.json")
    text = json.dumps(doc, indent=1)
    path.write_text(text)  # JSON is YAML too: the YAML path reads it the same
    return path


@pytest.mark.parametrize(("value", "want"), INTRINSICS)
def test_each_intrinsic_function_decides_the_answer(tmp_path: Path, value: Any, want: str) -> None:
    path = _write(tmp_path, intrinsic_template(value))
    caller = f"arn:aws:iam::{want}:root" if want.isdigit() else want  # a role: its session
    result = run("query", str(path), f"can principal {caller} kms:Decrypt")
    assert result.exit_code == 0 and result.stdout.startswith("yes"), result.output
    other = run("query", str(path), "can principal arn:aws:iam::999999999999:root kms:Decrypt")
    assert other.exit_code == 0 and other.stdout.startswith("no "), other.output


@pytest.mark.parametrize(("value", "reason", "params"), UNRESOLVED)
def test_each_unresolvable_form_makes_the_answer_unknown(
    tmp_path: Path, value: Any, reason: str, params: dict[str, Any]
) -> None:
    path = _write(tmp_path, unresolved_template(value, params))
    result = run("query", str(path), OUTSIDE, "--format", "json")
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert doc["answer"] == "unknown" and reason in doc["reason"]
    assert "unsettled" in result.stderr and reason in result.stderr


# --------------------------------------------------------------------------
# the flags on every command


def test_explain_check_and_diff_read_a_template_with_the_flags(tmp_path: Path) -> None:
    template = DATA / "userguide-key-tags.json"
    flags = [
        "--account",
        B,
        "--region",
        "eu-west-1",
        "--parameter",
        "Key=team",
        "--parameter",
        "Value=red",
    ]
    key = f"arn:aws:kms:eu-west-1:{B}:key/ce1044c8-7d85-5e56-be28-9caf72522267"
    explained = run(
        "explain",
        str(template),
        "--principal",
        f"arn:aws:iam::{B}:root",
        "--action",
        "kms:Decrypt",
        "--key",
        key,
        *flags,
    )
    assert explained.exit_code == 0 and explained.stdout.startswith("ALLOW"), explained.output
    assert "give --account" not in explained.stderr
    spec = tmp_path / "t.spec"
    spec.write_text(f"expect no: can any principal outside account {B} kms:Decrypt\n")
    checked = run("check", str(template), str(spec), *flags)
    assert checked.exit_code == 0, checked.output
    unknown = run("check", str(template), str(spec), "--account", B, "--region", "eu-west-1")
    assert unknown.exit_code == 3 and "unknown" in unknown.stdout
    same = run("diff", str(template), str(DATA / "userguide-key-tags.world.json"), *flags)
    assert same.exit_code == 0 and "equivalent" in same.stdout, same.output


def test_diff_of_two_template_versions(tmp_path: Path) -> None:
    old = DATA / "userguide-key.yaml"
    text = old.read_text().replace(
        "- kms:Decrypt\n", "- kms:Decrypt\n          - kms:CreateGrant\n"
    )
    new = tmp_path / "new.yaml"
    new.write_text(text)
    result = run("diff", str(old), str(new), "--who", f"any principal outside account {A}")
    assert result.exit_code == 1 and "more-permissive" in result.stdout, result.output
    assert "kms:CreateGrant" in result.stdout


def test_printed_commands_carry_the_flags(tmp_path: Path) -> None:
    path = _write(tmp_path, intrinsic_template({"Ref": "P"}))
    result = run(
        "query",
        str(path),
        f"can principal arn:aws:iam::{B}:root kms:Decrypt",
        "--account",
        A,
        "--parameter",
        "P=" + B,
    )
    line = next(x for x in result.stdout.splitlines() if "reproduce: kmsprove " in x)
    args = shlex.split(line.partition("reproduce: kmsprove ")[2])
    assert args[:6] == ["explain", str(path), "--account", A, "--parameter", f"P={B}"]


def test_template_flags_are_refused_for_a_world_file() -> None:
    result = run("query", str(DATA / "userguide-key.world.json"), OUTSIDE, "--account", A)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "<cli>:1:1: error: --account, --region, --parameter and --physical-id read a"
        " CloudFormation template;"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--account", "12"), "--account takes a 12-digit account id, not `12`"),
        (("--region", "moon"), "--region takes a Region name such as us-east-1, not `moon`"),
        (("--parameter", "novalue"), "--parameter takes NAME=VALUE, not `novalue`"),
        (("--parameter", "Nope=1"), "--parameter `Nope`: the template has no such parameter"),
    ],
)
def test_bad_flags_are_errors(flags: tuple[str, ...], message: str) -> None:
    result = run("validate", str(DATA / "userguide-key.yaml"), *flags)
    assert result.exit_code == 2 and f"<cli>:1:1: error: {message}" in result.stderr, result.output


# --------------------------------------------------------------------------
# bad templates


BAD = [
    (
        "t.yaml",
        "Resources:\n  K:\n   Type: x\n  - y\n",
        "t.yaml:4:3: error: bad YAML: expected <block end>, but found '-'",
    ),
    (
        "t.yaml",
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy: !Magic x\n",
        "t.yaml:5:18: error: unknown tag `!Magic`",
    ),
    (
        "t.yaml",
        "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement:\n          - Effect: Allow\n            Principal: {AWS: !Ref Missing}\n            Action: kms:*\n            Resource: '*'\n",
        "t.yaml:8:30: error: `Ref` to `Missing`: no parameter or resource of that name",
    ),
    (
        "t.json",
        '{"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Fn::Magic": "x"}}}}}',
        "t.json:1:77: error: unknown intrinsic function `Fn::Magic`",
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "line"),
    BAD,
    ids=["yaml-syntax", "yaml-tag", "missing-ref", "unknown-function"],
)
def test_a_bad_template_is_a_positioned_error_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str, line: str
) -> None:
    (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    explain = ["explain", name, "--principal", f"arn:aws:iam::{A}:root", "--action", "kms:Decrypt"]
    for command in (["validate", name], ["query", name, OUTSIDE], explain):
        result = run(*command)
        assert result.exit_code == 2, result.output
        assert any(x.startswith(line) for x in result.stderr.splitlines()), result.stderr
    assert listing(tmp_path) == before


# --------------------------------------------------------------------------
# the README's commands


def test_the_readme_template_commands_give_their_stated_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("### CloudFormation and CDK templates", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(
        r"^\s*kmsprove ((?:query|validate|explain) .*?)\s+#\s*(yes|no|unknown|valid|allow|deny)\b",
        section,
        re.MULTILINE,
    )
    assert len(commands) >= 4
    monkeypatch.chdir(ROOT)
    for command, expected in commands:
        result = run(*shlex.split(command))
        assert result.exit_code in (0, 3), (command, result.output)
        word = {"valid": "1 file(s) valid", "allow": "ALLOW", "deny": "DENY"}.get(
            expected, expected
        )
        assert result.stdout.startswith(word), (command, result.output)
