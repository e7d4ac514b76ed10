"""`kmsprove who` end to end through the CLI: every input format `query` takes, text
and JSON, `--trust`, `--save-witness`, `--timeout` (unknown, exit 3, never "nobody
else"), and bad input positioned (exit 2, nothing on stdout). Every `reproduce:` line
printed here is run by tests/conftest.py and must give ALLOW."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from kmsprove.cli import main

A, B = "111122223333", "444455556666"
ROOT = Path(__file__).resolve().parents[2]
CROSS = str(ROOT / "examples" / "cross-account" / "world.json")
CONSOLE = str(ROOT / "tests" / "cases" / "realworld" / "console-default.json")
CDK = str(ROOT / "tests" / "data" / "cloudformation" / "cdk-synth-key.template.json")
PLAN = str(ROOT / "tests" / "data" / "terraform" / "kms-complete" / "plan.json")
KEY = f"arn:aws:kms:us-west-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FOUND_FIELDS = {
    "description",
    "named",
    "type",
    "principal",
    "account",
    "acting_for",
    "status",
    "request",
    "reason",
    "let_in_by",
    "notes",
    "reproduce",
}


def who(*args: str) -> Result:
    result = CliRunner().invoke(main, ["who", *args])
    assert "Traceback" not in result.output, result.output
    return result


def who_json(*args: str) -> tuple[int, dict]:
    result = who(*args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_the_cross_account_example_lists_each_principal_and_class_with_its_witness() -> None:
    result = who(CROSS, "kms:Decrypt")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"who can kms:Decrypt (key {KEY}): 9 found\n")
    for line in (
        f"  arn:aws:iam::{A}:root (root user)",
        f"  arn:aws:iam::{B}:root (root user)",
        f"  arn:aws:iam::{B}:role/Reader (role: its sessions)",
        f"  unnamed role sessions of account {B}",
        f"  unnamed IAM users of account {A}",
        "  nobody else can (proved)",
        "  solver questions: ",
    ):
        assert any(x.startswith(line) for x in out.splitlines()), line
    assert "Auditor" not in out  # named, and no identity policy lets it decrypt
    assert out.count("reproduce: kmsprove explain") == 3  # the named ones; classes assume
    assert out.count("witness: it rests on what is assumed above") == 6


def test_json_gives_every_finding_its_request_and_the_proof() -> None:
    code, out = who_json(CROSS, "kms:Decrypt")
    assert code == 0 and out["status"] == "complete"
    [key] = out["keys"]
    assert key["key"] == KEY and key["actions"] == ["kms:Decrypt"]
    assert key["reason"] == "nobody else can (proved)" and 1 <= key["queries"] <= 10
    assert set(key["assumptions"]) == {"open_accounts", "inputs"}
    assert all(set(f) == FOUND_FIELDS for f in key["found"])
    reader = next(f for f in key["found"] if f["principal"] == f"arn:aws:iam::{B}:role/Reader")
    assert reader["named"] and reader["type"] == "role" and reader["status"] == "yes"
    assert reader["request"]["principal"].startswith(f"arn:aws:sts::{B}:assumed-role/Reader/")
    assert reader["reproduce"].startswith(f"kmsprove explain {CROSS} --principal")
    assert {s["layer"] for s in reader["let_in_by"]} == {"key-policy", "identity-policy"}
    unnamed = [f for f in key["found"] if not f["named"]]
    assert {(f["type"], f["account"]) for f in unnamed} == {
        (t, a) for t in ("user", "role", "federated-user") for a in (A, B)
    }
    assert all(
        f["reproduce"] is None and f["request"]["assumed_identity_policies"] for f in unnamed
    )


def test_words_after_world_are_the_actions_and_the_key() -> None:
    spread = who(CROSS, "kms:Decrypt", "on", "key", "alias/shared-app")
    quoted = who(CROSS, "kms:Decrypt on key alias/shared-app")
    assert spread.exit_code == quoted.exit_code == 0
    strip = [x for x in spread.stdout.splitlines() if "time:" not in x]
    assert strip == [x for x in quoted.stdout.splitlines() if "time:" not in x]


def test_a_bare_key_policy_is_read_as_query_reads_it() -> None:
    result = who(CONSOLE, "kms:Decrypt")
    assert result.exit_code == 0, result.output
    assert "warning: the key's account is taken from this principal" in result.stderr
    assert "  input assumed: the key is arn:aws:kms:us-east-1:111122223333:key/" in result.stdout
    assert f"  arn:aws:iam::{A}:role/KeyUser (role: its sessions)" in result.stdout
    # every account is open: the administrator's identity policy may allow it (R1.4)
    assert f"  arn:aws:iam::{A}:role/KeyAdmin (role: its sessions)" in result.stdout
    arn = f"arn:aws:kms:eu-west-1:{A}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    result = who(CONSOLE, "kms:Decrypt", "--key-arn", arn)
    assert result.exit_code == 0 and f"(key {arn})" in result.stdout
    assert f"--key-arn {arn}" in result.stdout  # reproduce lines rebuild the same world


def test_templates_and_plans_are_worlds_too() -> None:
    result = who(CDK, "kms:Decrypt on key alias/app-data")
    assert result.exit_code == 0, result.output
    assert "role/kmsprove-stack-ReaderRoleC7E6A1D2-FEDPO4QGZA7O (role: its" in result.stdout
    # a grantee known only after apply: that key's list is unknown, never complete
    code, out = who_json(PLAN, "kms:Decrypt")
    assert code == 3 and out["status"] == "unknown"
    hedged = [k for k in out["keys"] if k["status"] == "unknown"]
    assert hedged and all("known only after apply" in k["reason"] for k in hedged)
    assert all(f["status"] == "unknown" and f["request"] is None for f in hedged[0]["found"])


def test_trusted_principals_are_not_listed_and_the_answer_says_so() -> None:
    trusted = (f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:root")
    code, out = who_json(CROSS, "kms:Decrypt", "--trust", trusted[0], "--trust", trusted[1])
    assert code == 0
    [key] = out["keys"]
    assert key["trusted"] == list(trusted)
    assert not {f["principal"] for f in key["found"]} & set(trusted)
    text = who(CROSS, "kms:Decrypt", "--trust", trusted[0]).stdout
    assert f"  trusted (not enumerated): {trusted[0]}" in text


def test_save_witness_writes_each_witness_and_prints_its_reproduce_line(tmp_path: Path) -> None:
    saved = tmp_path / "w"
    result = who(CROSS, "kms:Decrypt", "--save-witness", str(saved))
    assert result.exit_code == 0, result.output
    lines = [x.strip() for x in result.stdout.splitlines() if "reproduce:" in x]
    assert len(lines) == 9  # conftest runs each: ALLOW
    assert sum(f"{saved}/" in x for x in lines) == 9
    assert (saved / "1" / "world.json").is_file() and (saved / "9" / "request.json").is_file()


def test_a_spent_timeout_is_unknown_and_never_says_nobody_else() -> None:
    result = who(CROSS, "kms:Decrypt", "--timeout", "0")
    assert result.exit_code == 3, result.output
    assert "  unknown: timeout after 0 found: whether anyone else can is unknown" in result.stdout
    assert "nobody" not in result.stdout
    code, out = who_json(CROSS, "kms:Decrypt", "--timeout", "0")
    assert code == 3 and out["status"] == "unknown" and out["keys"][0]["found"] == []


def test_bad_input_is_positioned_and_prints_nothing(tmp_path: Path) -> None:
    for args, line in (
        ((CROSS, "kms:Decryp"), "<actions>:1:1: error: `kms:Decryp` matches no KMS action"),
        ((CROSS, "kms:Decrypt on key alias/nope"), "<actions>:1:13: error: no key `alias/nope`"),
        ((CROSS, "s3:GetObject", "on", "bucket", "arn:aws:s3:::b"), "<actions>:1:14: error:"),
    ):
        result = who(*args)
        assert result.exit_code == 2 and result.stdout == "", result.output
        assert result.stderr.startswith(line), result.stderr
    bad = tmp_path / "world.json"
    bad.write_text('{"version": 1, "keys": [{"arn": "x"}]')
    result = who(str(bad), "kms:Decrypt")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"{bad}:1:"), result.stderr
    assert " error: " in result.stderr


def test_the_readme_transcript_is_what_who_prints(monkeypatch: Any) -> None:
    """README, "Who can": every line of its transcript that elides nothing is a line of
    the output, in the same order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Who can\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("    $ kmsprove who ", 1)[1].split("\n\n", 1)[0]
    command, *shown = block.split("\n")
    monkeypatch.chdir(ROOT)
    result = who(*command.split())
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    at = 0
    for line in (x[4:] for x in shown):
        if "..." in line or line.lstrip().startswith("solver questions:"):
            continue
        assert line in lines[at:], line
        at = lines.index(line, at) + 1
