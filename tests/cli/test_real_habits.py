"""Issue 11 worked cases through the real CLI, each from the AWS page that states the rule:
a session carries its role's path (IAM, aws:PrincipalArn: "the ARN of the role, not the
role session"); an SSE-KMS read by another organization member is two authorizations
(S3 and KMS, "Using SSE-KMS" / "Specifying server-side encryption with AWS KMS"); and a
chain that ends at a role grantee is completed by a session of that role (KMS grants,
"Grantee principal": "the grantee ... can be ... an IAM role")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kmsprove.cli import main
from tests.support.builders import KEY, ROOT_A, A, B, policy, stmt

C = "555555555555"
ORG = "o-a1b2c3d4e5"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _write(tmp: Path, doc: dict[str, Any]) -> str:
    path = tmp / "world.json"
    path.write_text(json.dumps(doc, indent=2))
    return str(path)


def _path_world(tmp: Path) -> str:
    kp = policy(
        stmt(principal=ROOT_A, sid="Root"),
        stmt(
            principal="*",
            sid="Ops",
            action="kms:Decrypt",
            condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/ops/*"}},
        ),
    )
    roles = {f"arn:aws:iam::{A}:role/ops/deploy": {"policies": []}}
    doc = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": kp}],
        "accounts": {A: {"complete": True, "principals": roles}},
    }
    return _write(tmp, doc)


def test_an_explicit_principal_arn_with_the_roles_path_is_the_sessions_own(tmp_path: Path) -> None:
    world = _path_world(tmp_path)
    session = f"arn:aws:sts::{A}:assumed-role/deploy/s"
    ctx = f"aws:PrincipalArn=arn:aws:iam::{A}:role/ops/deploy"
    code, out = _run(
        "explain", world, "--principal", session, "--action", "kms:Decrypt", "--context", ctx
    )
    assert code == 0 and out.startswith("ALLOW"), out
    assert "Sid `Ops`" in out and "+ Allow Sid `Ops`" in out
    # without the path the pattern does not match, and AWS says the same: the caller
    # then is not the role the world lists
    wrong = f"aws:PrincipalArn=arn:aws:iam::{A}:role/deploy"
    code, out = _run(
        "explain", world, "--principal", session, "--action", "kms:Decrypt", "--context", wrong
    )
    assert code == 2 and ": error: " in out and "role/ops/deploy" in out, out


def test_a_query_by_role_arn_is_decided_for_a_session_of_it(tmp_path: Path) -> None:
    world = _path_world(tmp_path)
    code, out = _run("query", world, f"can principal arn:aws:iam::{A}:role/ops/deploy kms:Decrypt")
    assert code == 0 and out.startswith("yes"), out
    assert f"arn:aws:sts::{A}:assumed-role/deploy/" in out


def _org_bucket_world(tmp: Path) -> str:
    kp = policy(
        stmt(principal=ROOT_A, sid="Root"),
        stmt(
            principal="*",
            sid="OrgViaS3",
            action=["kms:Decrypt", "kms:GenerateDataKey"],
            condition={
                "StringEquals": {
                    "aws:PrincipalOrgID": ORG,
                    "kms:ViaService": "s3.us-east-1.amazonaws.com",
                }
            },
        ),
    )
    bp = policy(
        stmt(
            principal="*",
            action="s3:GetObject",
            resource="arn:aws:s3:::shared/*",
            condition={"StringEquals": {"aws:PrincipalOrgID": ORG}},
        )
    )
    doc = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": kp}],
        "buckets": [
            {
                "arn": "arn:aws:s3:::shared",
                "account": A,
                "region": "us-east-1",
                "policy": bp,
                "kms_key": KEY,
            }
        ],
        "accounts": {A: {"organization": ORG}, B: {"organization": ORG}},
    }
    return _write(tmp, doc)


def test_an_sse_kms_read_by_an_organization_member_is_found_and_reproduces(tmp_path: Path) -> None:
    world = _org_bucket_world(tmp_path)
    q = f"can any principal outside account {A} s3:GetObject on bucket arn:aws:s3:::shared"
    code, out = _run("query", world, q, "--save-witness", str(tmp_path / "w"))
    assert code == 0 and out.startswith("yes"), out
    caller = out.splitlines()[1].split()[0]
    assert caller.split(":")[4] != A, out  # another member (a fresh one the witness world names)
    assert "Sid `OrgViaS3`" in out and "S3 allows the s3:GetObject" in out
    assert "reproduce: kmsprove explain" in out  # tests/conftest.py runs it: ALLOW


def test_no_sse_kms_read_from_outside_the_organization(tmp_path: Path) -> None:
    world = _org_bucket_world(tmp_path)
    q = f"can any principal outside org {ORG} s3:GetObject on bucket arn:aws:s3:::shared"
    code, out = _run("query", world, q)
    assert code == 0 and out.startswith("no"), out


def test_ever_through_a_role_grantee_ends_with_a_session_of_the_role(tmp_path: Path) -> None:
    grant = {
        "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
        "KeyId": KEY,
        "GranteePrincipal": f"arn:aws:iam::{B}:role/Partner",
        "Operations": ["Decrypt", "CreateGrant"],
        "IssuingAccount": ROOT_A,
    }
    partner = {"policies": [policy(stmt(action="kms:*", resource="*"))]}
    doc = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": policy(stmt(principal=ROOT_A)), "grants": [grant]}],
        "accounts": {
            A: {"complete": True, "principals": {}},
            B: {"complete": True, "principals": {f"arn:aws:iam::{B}:role/Partner": partner}},
        },
    }
    world = _write(tmp_path, doc)
    # the grantee itself: a session of the role decrypts through the grant
    code, out = _run(
        "query", world, f"can principal arn:aws:iam::{B}:role/Partner ever kms:Decrypt"
    )
    assert code == 0 and out.startswith("yes"), out
    assert f"arn:aws:sts::{B}:assumed-role/Partner/" in out and "a grant allows it" in out
    # a role the partner's grant could be passed on to (it holds CreateGrant): a chain
    code, out = _run("query", world, f"can principal arn:aws:iam::{C}:role/X ever kms:Decrypt")
    assert code == 0 and out.startswith("yes"), out
    assert "step 1:" in out and f"arn:aws:sts::{C}:assumed-role/X/" in out
