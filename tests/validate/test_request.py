"""`kmsprove validate --kind request`: requests AWS could receive pass; each thing AWS
never receives is one positioned error (requests written from the KMS API reference
and the condition-keys pages)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_validate

KEY = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GRANTEE = "arn:aws:iam::111122223333:role/keyUserRole"

GOOD: dict[str, dict[str, Any]] = {
    # the API reference's CreateGrant example, as a request context
    "create-grant": {
        "principal": "arn:aws:sts::111122223333:assumed-role/KeyAdmin/s",
        "action": "kms:CreateGrant",
        "key": KEY,
        "context": {
            "kms:GranteePrincipal": GRANTEE,
            "kms:GrantOperations": ["Encrypt", "Decrypt"],
            "kms:GrantConstraintType": "EncryptionContextSubset",
            "kms:EncryptionContextKeys": ["Department"],
        },
    },
    "decrypt-through-s3": {
        "principal": "arn:aws:iam::444455556666:user/alice",
        "action": "kms:Decrypt",
        "key": KEY,
        "context": {
            "kms:ViaService": "s3.us-east-2.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::amzn-s3-demo-bucket/key",
            "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "aws:SourceVpce": "vpce-1a2b3c4d",
        },
    },
    "cloudtrail": {
        "principal": "cloudtrail.amazonaws.com",
        "action": "kms:GenerateDataKey",
        "key": KEY,
        "context": {
            "aws:SourceArn": "arn:aws:cloudtrail:us-east-2:111122223333:trail/management",
            "aws:SourceAccount": "111122223333",
        },
    },
    "alias-name": {
        "principal": "arn:aws:iam::111122223333:root",
        "action": "kms:Encrypt",
        "key": "alias/ExampleAlias",
        "context": {"kms:RequestAlias": "alias/ExampleAlias"},
    },
    "revoke": {
        "principal": "arn:aws:iam::111122223333:user/admin",
        "action": "kms:RevokeGrant",
        "key": KEY,
        "grant_id": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
    },
    "s3-read": {
        "principal": "arn:aws:sts::444455556666:assumed-role/Reader/s1",
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET/reports/q1.csv",
    },
}


def _write(tmp: Path, doc: dict[str, Any]) -> str:
    path = tmp / "request.json"
    path.write_text(json.dumps(doc, indent=2))
    return str(path)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_requests_aws_receives_pass(tmp_path: Path, name: str) -> None:
    result = run_validate(tmp_path, "--kind", "request", _write(tmp_path, GOOD[name]))
    assert result.exit_code == 0, result.output
    assert "error" not in result.output


def test_a_request_file_is_recognised_without_kind(tmp_path: Path) -> None:
    result = run_validate(tmp_path, _write(tmp_path, GOOD["create-grant"]))
    assert result.exit_code == 0 and "1 file(s) valid" in result.output


BAD = [
    # (what changes, the message's words)
    ({"principal": "arn:aws:iam::111122223333:group/Admins"}, "is not a caller"),
    ({"principal": "arn:aws:iam::1111:user/a"}, "is not a caller"),
    ({"principal": "logs.us-east-1"}, "is not a service principal"),
    ({"action": "kms:Decrpyt"}, "unknown action `kms:Decrpyt` (did you mean `kms:Decrypt`?)"),
    ({"key": "1234"}, "is no way to name a key"),
    ({"key": "arn:aws:kms:us-east-2:111122223333:alias"}, "is no way to name a key"),
    (
        {
            "context": {
                "kms:GranteePrincipal": "arn:aws:iam::999999999999:",
                "kms:GrantOperations": ["Decrypt"],
            }
        },
        "`arn:aws:iam::999999999999:` is not a value AWS sends for `kms:GranteePrincipal`:"
        " it takes a principal's ARN or a service principal",
    ),
    (
        {"context": {"kms:GranteePrincipal": GRANTEE, "kms:GrantOperations": []}},
        "`kms:GrantOperations` is never an empty list",
    ),
    (
        {"context": {"kms:GranteePrincipal": GRANTEE, "kms:GrantOperations": ["Decrypt", "Dance"]}},
        "`Dance` is not a value AWS sends for `kms:GrantOperations`: it takes one of CreateGrant,",
    ),
    (
        {"context": {"kms:GrantOperations": ["Decrypt"]}},
        "kms:CreateGrant is never sent without `kms:GranteePrincipal` (a required parameter)",
    ),
    (
        {
            "context": {
                "kms:GranteePrincipal": GRANTEE,
                "kms:GrantOperations": ["Decrypt"],
                "kms:ViaService": "-.a.amazonaws.com",
            }
        },
        "`-.a.amazonaws.com` is not a value AWS sends for `kms:ViaService`",
    ),
    (
        {
            "context": {
                "kms:GranteePrincipal": GRANTEE,
                "kms:GrantOperations": ["Decrypt"],
                "kms:SigningAlgorithm": "ECDSA_SHA_256",
            }
        },
        "kms:CreateGrant never carries `kms:SigningAlgorithm`",
    ),
    (
        {
            "context": {
                "kms:GranteePrincipal": GRANTEE,
                "kms:GrantOperations": ["Decrypt"],
                "aws:SourceAccount": "111122223333",
            }
        },
        "only a service acting for a resource sends `aws:SourceAccount`",
    ),
    (
        {
            "context": {
                "kms:GranteePrincipal": GRANTEE,
                "kms:GrantOperations": ["Decrypt"],
                "kms:EncryptionContext:Dept": "a\u0000b",
            }
        },
        "`kms:EncryptionContext:Dept` holds a control character",
    ),
    ({"via_vpce": "vpc-1a2b3c4d"}, "`vpc-1a2b3c4d` is not a VPC endpoint id"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_what_aws_never_receives_is_an_error(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    doc = {**GOOD["create-grant"], **change}
    result = run_validate(tmp_path, "--kind", "request", _write(tmp_path, doc))
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.output
    assert message in errors[0]
    assert errors[0].startswith(f"{tmp_path}/request.json:")


def test_a_role_as_the_caller_is_a_warning_naming_the_session(tmp_path: Path) -> None:
    doc = {**GOOD["revoke"], "principal": "arn:aws:iam::111122223333:role/Admin"}
    result = run_validate(tmp_path, "--kind", "request", _write(tmp_path, doc))
    assert result.exit_code == 0
    assert (
        "warning: `arn:aws:iam::111122223333:role/Admin` is a role, not a caller" in result.output
    )


def test_revoke_grant_needs_a_grant(tmp_path: Path) -> None:
    doc = {k: v for k, v in GOOD["revoke"].items() if k != "grant_id"}
    result = run_validate(tmp_path, "--kind", "request", _write(tmp_path, doc))
    assert result.exit_code == 2
    assert "RevokeGrant is never sent without a grant id" in result.output
