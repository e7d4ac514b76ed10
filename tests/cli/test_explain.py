"""`kmsprove explain` through the real CLI: decisions, JSON shape, and every kind of
bad input (positioned error lines, exit 2, no traceback, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmsprove.cli import main

A, B = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SESSION_B = f"arn:aws:sts::{B}:assumed-role/Reader/s1"
WORLD = {
    "version": 1,
    "keys": [
        {
            "arn": KEY,
            "aliases": ["alias/app"],
            "policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Root",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "External",
                        "Effect": "Allow",
                        "Principal": {"AWS": B},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                    },
                ],
            },
        }
    ],
    "accounts": {
        B: {
            "principals": {
                f"arn:aws:iam::{B}:role/Reader": {
                    "policies": [
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}
                            ],
                        }
                    ]
                }
            }
        }
    },
}


@pytest.fixture
def world(tmp_path: Path) -> Path:
    p = tmp_path / "world.json"
    p.write_text(json.dumps(WORLD, indent=2))
    return p


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def files(tmp: Path) -> set[str]:
    return {str(p) for p in tmp.rglob("*")}


def test_allow_with_layers_and_file_lines(world: Path) -> None:
    code, out, _ = run("explain", str(world), "--principal", SESSION_B, "--action", "kms:Decrypt")
    assert code == 0
    assert out.startswith("ALLOW:")
    assert f"Sid `External` at {world}:" in out
    assert "identity-policy: allow" in out


def test_json_shape(world: Path) -> None:
    code, out, _ = run(
        "explain",
        str(world),
        "--principal",
        SESSION_B,
        "--action",
        "kms:Encrypt",
        "--format",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    assert {"decision", "layers", "blocked_by"} <= set(doc)
    assert doc["decision"] == "deny"
    kp = next(lr for lr in doc["layers"] if lr["layer"] == "key-policy")
    assert {"layer", "effect", "statements"} <= set(kp)
    assert all({"sid", "file", "line"} <= set(s) for s in kp["statements"] + kp["not_matched"])


def _alias_request(tmp_path: Path, key: str) -> Path:
    req = tmp_path / "req.json"
    req.write_text(
        json.dumps(
            {
                "principal": SESSION_B,
                "action": "kms:Decrypt",
                "key": key,
                "context": {"kms:EncryptionContextKeys": ["a", "b"]},
            }
        )
    )
    return req


def test_request_file_and_alias(world: Path, tmp_path: Path) -> None:
    # another account names the key by its alias ARN (an alias name would resolve in
    # the caller's own account: KMS Developer Guide, allowing users in other accounts)
    req = _alias_request(tmp_path, f"arn:aws:kms:us-east-1:{A}:alias/app")
    code, out, _ = run("explain", str(world), "--request", str(req), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["decision"] == "allow"
    assert doc["request"]["context"]["kms:RequestAlias"] == "alias/app"


def test_an_alias_name_from_another_account_never_reaches_the_key(
    world: Path, tmp_path: Path
) -> None:
    req = _alias_request(tmp_path, "alias/app")
    code, out, _ = run("explain", str(world), "--request", str(req), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["decision"] == "deny"
    assert "resolves in the caller's own account 444455556666" in doc["reason"]


def test_multi_valued_context_from_repeated_flags(world: Path) -> None:
    code, out, _ = run(
        "explain",
        str(world),
        "--principal",
        SESSION_B,
        "--action",
        "kms:Decrypt",
        "--format",
        "json",
        "--context",
        "kms:EncryptionContextKeys=a",
        "--context",
        "kms:EncryptionContextKeys=b",
    )
    assert code == 0
    assert json.loads(out)["request"]["context"]["kms:EncryptionContextKeys"] == ["a", "b"]


BAD_REQUESTS = [
    ({"principal": SESSION_B}, "request has no `action`"),
    (
        {"principal": SESSION_B, "action": "kms:Decrypt", "context": []},
        "`context` must be an object",
    ),
    (
        {"principal": SESSION_B, "action": "kms:Decrypt", "context": {"k": {"a": 1}}},
        "context `k` must be a string or a list of strings",
    ),
    (
        {"principal": SESSION_B, "action": "kms:Decrypt", "colour": "red"},
        "unknown request field `colour`",
    ),
    ({"principal": 7, "action": "kms:Decrypt"}, "`principal` must be a string"),
    ({"principal": SESSION_B, "action": "kms:Decrpyt"}, "unknown action `kms:Decrpyt`"),
    (
        {"principal": SESSION_B, "action": "kms:Decrypt", "key": "alias/nope"},
        "no key `alias/nope` in the world",
    ),
    (
        {"principal": SESSION_B, "action": "kms:Decrypt", "context": {"kms:CallerAccount": A}},
        "contradicts the caller",
    ),
    ({"principal": SESSION_B, "action": "s3:GetObject"}, "needs a resource"),
]


@pytest.mark.parametrize(("request_doc", "message"), BAD_REQUESTS)
def test_bad_request_file(world: Path, tmp_path: Path, request_doc: dict, message: str) -> None:
    req = tmp_path / "req.json"
    req.write_text(json.dumps(request_doc, indent=2))
    before = files(tmp_path)
    code, out, err = run("explain", str(world), "--request", str(req))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert lines and all(":" in line and " error: " in line for line in lines), err
    assert any(message in line for line in lines), err
    assert lines[0].startswith(str(req) + ":")
    assert files(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--principal", SESSION_B], "give --request FILE, or --principal and --action"),
        (
            ["--principal", SESSION_B, "--action", "kms:Decrypt", "--context", "novalue"],
            "is not KEY=VALUE",
        ),
        (["--principal", "bob", "--action", "kms:Decrypt"], "is not a caller"),
    ],
)
def test_bad_flags(world: Path, args: list[str], message: str) -> None:
    code, out, err = run("explain", str(world), *args)
    assert code == 2 and out == ""
    assert err.startswith("<cli>:1:1: error: ") and message in err, err


def test_request_and_flags_together(world: Path, tmp_path: Path) -> None:
    req = tmp_path / "req.json"
    req.write_text("{}")
    code, _, err = run("explain", str(world), "--request", str(req), "--principal", SESSION_B)
    assert code == 2 and "not both" in err


@pytest.mark.parametrize(
    ("content", "message", "where"),
    [
        (None, "no such file", "1:1"),
        ("", "empty file", "1:1"),
        ('{"version": 1,\n "keys": [}', "unexpected `}`", "2:11"),
        ('{"version": 2}', "unsupported world `version`", "1:13"),
        (b"{\xff}", "invalid UTF-8", "1:2"),
        (
            '{"version": 1, "keys": [{"arn": "arn:aws:kms:us-east-1:1:key/x", "policy": {}}]}',
            "is not a KMS key ARN",
            "1:33",
        ),
    ],
)
def test_bad_world(tmp_path: Path, content: str | bytes | None, message: str, where: str) -> None:
    p = tmp_path / "world.json"
    if isinstance(content, bytes):
        p.write_bytes(content)
    elif content is not None:
        p.write_text(content)
    before = files(tmp_path)
    code, out, err = run("explain", str(p), "--principal", SESSION_B, "--action", "kms:Decrypt")
    assert code == 2 and out == ""
    assert err.startswith(f"{p}:{where}: error: ") and message in err, err
    assert files(tmp_path) == before


def test_world_is_a_directory(tmp_path: Path) -> None:
    code, _, err = run(
        "explain", str(tmp_path), "--principal", SESSION_B, "--action", "kms:Decrypt"
    )
    assert code == 2 and "is a directory" in err


def test_missing_document_path_is_positioned(tmp_path: Path) -> None:
    p = tmp_path / "world.json"
    p.write_text('{"version": 1,\n "keys": [{"arn": "' + KEY + '", "policy": "nope.json"}]}')
    code, _, err = run("explain", str(p), "--principal", SESSION_B, "--action", "kms:Decrypt")
    assert code == 2
    assert err.startswith(f"{p}:2:") and "cannot read `nope.json`: no such file" in err, err


def test_a_role_as_the_caller_is_decided_for_a_session_of_it(world: Path) -> None:
    # AWS's policy simulator, pmapper and iam-simulate take role ARNs: kmsprove decides
    # for a session of the role and says which
    role = f"arn:aws:iam::{B}:role/Reader"
    code, out, _ = run(
        "explain", str(world), "--principal", role, "--action", "kms:Decrypt", "--format", "json"
    )
    assert code == 0
    doc = json.loads(out)
    session = f"arn:aws:sts::{B}:assumed-role/Reader/kmsprove"
    assert doc["request"]["principal"] == session
    assert f"`{role}` is a role: decided for its session `{session}`" in doc["warnings"]
    _, by_session, _ = run(
        "explain", str(world), "--principal", session, "--action", "kms:Decrypt", "--format", "json"
    )
    assert doc["decision"] == json.loads(by_session)["decision"]
