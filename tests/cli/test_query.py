"""`kmsprove query` end to end through the CLI on the seed scenarios: yes with a
re-checked counterexample, no with its assumptions, unknown with exit 3, and
positioned errors in the query text."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kmsprove.cli import main

A, B = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT_A = f"arn:aws:iam::{A}:root"
ROOT_B = f"arn:aws:iam::{B}:root"
OUTSIDE = f"can any principal outside account {A} kms:Decrypt"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def st(
    principal: Any,
    action: Any = "kms:Decrypt",
    condition: dict | None = None,
    effect: str = "Allow",
) -> dict:
    s: dict[str, Any] = {
        "Effect": effect,
        "Principal": principal,
        "Action": action,
        "Resource": "*",
    }
    if condition:
        s["Condition"] = condition
    return s


def world(
    tmp: Path,
    *statements: dict,
    accounts: dict | None = None,
    grants: list | None = None,
    **extra: Any,
) -> str:
    doc = {
        "version": 1,
        "keys": [
            {
                "arn": KEY,
                "policy": {
                    "Version": "2012-10-17",
                    "Statement": [st({"AWS": ROOT_A}, "kms:*"), *statements],
                },
                "grants": grants or [],
            }
        ],
        "accounts": accounts or {},
        **extra,
    }
    p = tmp / "world.json"
    p.write_text(json.dumps(doc, indent=2))
    return str(p)


def query(world_file: str, text: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["query", world_file, text, "--format", "json"])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip().startswith(
        "{"
    ) else {}


def test_cross_account_example_is_yes_with_a_rechecked_request() -> None:
    code, out = query(str(EXAMPLES / "cross-account" / "world.json"), OUTSIDE)
    assert code == 0 and out["answer"] == "yes"
    ce = out["counterexample"]
    assert (
        ce["principal"].split(":")[4] != A and ce["action"] == "kms:Decrypt" and ce["trace"] == []
    )
    assert {"answer", "counterexample", "assumptions", "seconds"} <= set(out)
    assert "open_accounts" in out["assumptions"]


def test_a_witness_resting_on_an_assumption_reproduces_from_the_saved_world(
    tmp_path: Path,
) -> None:
    # account B is open: the witness (a session of Reader, whose documents the world
    # does not give) assumes the identity policy B's administrators would write, so the
    # explain command on the given world would give DENY; the saved world holds it
    w = world(tmp_path, st({"AWS": f"arn:aws:iam::{B}:role/Reader"}))
    result = CliRunner().invoke(main, ["query", w, OUTSIDE])
    assert result.exit_code == 0 and result.output.startswith("yes")
    assert "reproduce:" not in result.output
    assert "  witness: it rests on what is assumed above; `--save-witness DIR`" in result.output
    saved = tmp_path / "witness"
    result = CliRunner().invoke(main, ["query", w, OUTSIDE, "--save-witness", str(saved)])
    (line,) = [x for x in result.output.splitlines() if "reproduce:" in x]
    assert (
        line == f"  reproduce: kmsprove explain {saved}/world.json --request {saved}/request.json"
    )
    again = CliRunner().invoke(
        main, ["explain", str(saved / "world.json"), "--request", str(saved / "request.json")]
    )
    assert again.exit_code == 0 and again.output.startswith("ALLOW"), again.output
    assert "AssumedByKmsprove" in again.output  # the assumption is in the saved world


def test_a_witness_in_a_described_account_reproduces_from_the_given_world(
    tmp_path: Path,
) -> None:
    role = f"arn:aws:iam::{B}:role/Reader"
    iam = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}],
    }
    accounts = {B: {"complete": True, "principals": {role: {"policies": [iam]}}}}
    w = world(tmp_path, st({"AWS": role}), accounts=accounts)
    result = CliRunner().invoke(main, ["query", w, OUTSIDE])
    (line,) = [x for x in result.output.splitlines() if "reproduce:" in x]
    assert line.startswith(f"  reproduce: kmsprove explain {w} --principal arn:aws:sts::{B}:")
    again = CliRunner().invoke(main, shlex.split(line.split("reproduce: kmsprove ")[1]))
    assert again.exit_code == 0 and again.output.startswith("ALLOW"), again.output


def test_external_role_named_without_its_iam_side_is_no(tmp_path: Path) -> None:
    role = f"arn:aws:iam::{B}:role/Reader"
    accounts = {B: {"complete": True, "principals": {role: {"policies": []}}}}
    assert (
        query(world(tmp_path, st({"AWS": role}), accounts=accounts), OUTSIDE)[1]["answer"] == "no"
    )
    iam = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}],
    }
    accounts = {B: {"complete": True, "principals": {role: {"policies": [iam]}}}}
    assert (
        query(world(tmp_path, st({"AWS": role}), accounts=accounts), OUTSIDE)[1]["answer"] == "yes"
    )


@pytest.mark.parametrize(
    ("condition", "answer"),
    [
        (None, "yes"),
        ({"StringEquals": {"kms:CallerAccount": A}}, "no"),
        (
            {"StringEquals": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"}},
            "yes",
        ),  # an unknown account may be in the org
        (
            {
                "StringEquals": {
                    "kms:ViaService": "s3.us-east-1.amazonaws.com",
                    "kms:CallerAccount": A,
                }
            },
            "no",
        ),
    ],
)
def test_wildcard_principal_with_and_without_narrowing(
    tmp_path: Path, condition: dict | None, answer: str
) -> None:
    code, out = query(world(tmp_path, st("*", condition=condition)), OUTSIDE)
    assert code == 0 and out["answer"] == answer, out


def test_via_service_appears_in_the_counterexample(tmp_path: Path) -> None:
    cond = {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    out = query(world(tmp_path, st({"AWS": ROOT_B}, condition=cond)), OUTSIDE)[1]
    assert out["answer"] == "yes"
    assert out["counterexample"]["context"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com"


def test_encryption_context_condition_and_query_where(tmp_path: Path) -> None:
    cond = {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}
    w = world(tmp_path, st({"AWS": ROOT_B}, condition=cond))
    out = query(w, OUTSIDE)[1]
    assert (
        out["answer"] == "yes"
        and out["counterexample"]["context"]["kms:EncryptionContext:Dept"] == "IT"
    )
    assert query(w, OUTSIDE + ' where kms:EncryptionContext:Dept == "HR"')[1]["answer"] == "no"


def test_grant_constraint_to_an_external_principal(tmp_path: Path) -> None:
    grant = {
        "GrantId": "g1",
        "GranteePrincipal": f"arn:aws:iam::{B}:role/Partner",
        "Operations": ["Decrypt"],
        "Constraints": {"EncryptionContextEquals": {"app": "x"}},
    }
    w = world(tmp_path, grants=[grant])
    out = query(w, OUTSIDE)[1]
    assert (
        out["answer"] == "yes"
        and out["counterexample"]["context"]["kms:EncryptionContext:app"] == "x"
    )
    assert query(w, OUTSIDE + ' where kms:EncryptionContext:app != "x"')[1]["answer"] == "no"


def test_scp_deny_in_the_external_account(tmp_path: Path) -> None:
    scp = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kms:*", "Resource": "*"},
        ],
    }
    accounts = {B: {"organization": "o-bbbbbbbbbb", "scps": [scp]}}
    assert (
        query(world(tmp_path, st({"AWS": ROOT_B}), accounts=accounts), OUTSIDE)[1]["answer"] == "no"
    )


def test_service_principal_with_and_without_source_account(tmp_path: Path) -> None:
    ct = {"Service": "cloudtrail.amazonaws.com"}
    assert (
        query(
            world(tmp_path, st(ct, "kms:GenerateDataKey")),
            f"can any principal outside account {A} kms:GenerateDataKey",
        )[1]["answer"]
        == "yes"
    )
    pinned = st(ct, "kms:GenerateDataKey", {"StringEquals": {"aws:SourceAccount": A}})
    assert (
        query(
            world(tmp_path, pinned), f"can any principal outside account {A} kms:GenerateDataKey"
        )[1]["answer"]
        == "no"
    )


def test_s3_read_under_a_customer_key_and_under_aws_s3(tmp_path: Path) -> None:
    s3_example = EXAMPLES / "s3-sse-kms-cross-account" / "world.json"
    code, out = query(
        str(s3_example),
        f"can any principal outside account {A} s3:GetObject on bucket arn:aws:s3:::DOC-EXAMPLE-BUCKET",
    )
    assert code == 0 and out["answer"] == "yes"
    bucket = {
        "arn": "arn:aws:s3:::b",
        "account": A,
        "region": "us-east-1",
        "kms_key": KEY,
        "policy": {
            "Version": "2012-10-17",
            "Statement": [st({"AWS": ROOT_B}, "s3:GetObject") | {"Resource": "arn:aws:s3:::b/*"}],
        },
    }
    doc = {
        "version": 1,
        "keys": [{"arn": KEY, "manager": "AWS", "aliases": ["alias/aws/s3"]}],
        "buckets": [bucket],
    }
    p = tmp_path / "managed.json"
    p.write_text(json.dumps(doc))
    code, out = query(
        str(p), f"can any principal outside account {A} s3:GetObject on bucket arn:aws:s3:::b"
    )
    assert code == 0 and out["answer"] == "no"


def test_ever_sees_the_account_root_rewriting_the_key_policy(tmp_path: Path) -> None:
    code, out = query(world(tmp_path), f"can any principal outside account {A} ever kms:Decrypt")
    assert code == 0 and out["answer"] == "yes"
    assert out["counterexample"]["trace"][0]["action"] == "kms:PutKeyPolicy"


def test_bad_query_points_into_the_text(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["query", world(tmp_path), "can anyone kms:Decrpyt"])
    assert result.exit_code == 2
    assert result.stderr.startswith("<query>:1:12: error: ") and "kms:Decrpyt" in result.stderr


def test_a_world_with_several_keys_answers_per_key(tmp_path: Path) -> None:
    other = KEY.replace("1234abcd", "99999999")
    doc = {
        "version": 1,
        "keys": [
            {"arn": KEY, "policy": {"Version": "2012-10-17", "Statement": [st({"AWS": ROOT_B})]}},
            {
                "arn": other,
                "policy": {"Version": "2012-10-17", "Statement": [st({"AWS": ROOT_A}, "kms:*")]},
            },
        ],
    }
    p = tmp_path / "two.json"
    p.write_text(json.dumps(doc))
    code, out = query(str(p), OUTSIDE)
    assert code == 0 and out["answer"] == "yes"
    assert {k["key"]: k["answer"] for k in out["keys"]} == {KEY: "yes", other: "no"}
    code, out = query(str(p), OUTSIDE + f" on key {other}")
    assert out["answer"] == "no" and "keys" not in out
