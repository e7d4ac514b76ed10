"""Write N world files of real-world-shaped key policies, for the estate benchmark.

    python bench/make_estate.py OUT_DIR [N]

The shapes are those of keys in the wild: the console default (administrators and
users by role), the default plus a partner account, a service-scoped key
(`kms:ViaService`, `kms:CallerAccount`), an organization-wide key
(`aws:PrincipalOrgID`), CloudTrail's key policy, grants only for AWS resources, and a
key with a deliberate mistake (a wildcard principal without a condition) so some
expectations fail. Names, accounts and the mix vary with a seeded random generator.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

OWNER = "111122223333"
ORG = "o-exampleorgid"
PARTNERS = ("444455556666", "777788889999", "210987654321")
SERVICES = ("s3", "dynamodb", "rds", "secretsmanager", "sqs", "ebs")


def _allow(principal: Any, actions: Any, sid: str, cond: dict | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": actions,
        "Resource": "*",
    }
    if cond:
        st["Condition"] = cond
    return st


ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
]
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def _root(acct: str) -> dict[str, str]:
    return {"AWS": f"arn:aws:iam::{acct}:root"}


def _console(rng: random.Random) -> list[dict[str, Any]]:
    admins = [f"arn:aws:iam::{OWNER}:role/KeyAdmin{rng.randint(1, 9)}"]
    users = [
        f"arn:aws:iam::{OWNER}:role/app-{rng.randint(100, 999)}" for _ in range(rng.randint(1, 3))
    ]
    return [
        _allow(_root(OWNER), "kms:*", "Enable IAM User Permissions"),
        _allow({"AWS": admins}, ADMIN_ACTIONS, "Allow access for Key Administrators"),
        _allow({"AWS": users}, USE, "Allow use of the key"),
        _allow(
            {"AWS": users},
            ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            "Allow attachment of persistent resources",
            {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]


def _partner(rng: random.Random) -> list[dict[str, Any]]:
    partner = rng.choice(PARTNERS)
    return [
        *_console(rng),
        _allow(
            _root(partner),
            ["kms:Decrypt", "kms:DescribeKey"],
            "Allow a partner account to decrypt",
            {"StringEquals": {"aws:PrincipalOrgID": ORG}} if rng.random() < 0.8 else None,
        ),
    ]


def _service(rng: random.Random) -> list[dict[str, Any]]:
    svc = rng.choice(SERVICES)
    return [
        _allow(_root(OWNER), "kms:*", "Enable IAM User Permissions"),
        _allow(
            {"AWS": "*"},
            [*USE, "kms:CreateGrant"],
            f"Allow access through {svc} for all principals in the account",
            {
                "StringEquals": {
                    "kms:CallerAccount": OWNER,
                    "kms:ViaService": f"{svc}.us-east-1.amazonaws.com",
                }
            },
        ),
    ]


def _org(rng: random.Random) -> list[dict[str, Any]]:
    return [
        _allow(_root(OWNER), "kms:*", "Enable IAM User Permissions"),
        _allow(
            {"AWS": "*"},
            ["kms:Decrypt", "kms:DescribeKey"],
            "Allow the organization to decrypt",
            {"StringEquals": {"aws:PrincipalOrgID": ORG}},
        ),
    ]


def _cloudtrail(rng: random.Random) -> list[dict[str, Any]]:
    trail = f"arn:aws:cloudtrail:us-east-1:{OWNER}:trail/trail-{rng.randint(1, 99)}"
    return [
        _allow(_root(OWNER), "kms:*", "Enable IAM User Permissions"),
        _allow(
            {"Service": "cloudtrail.amazonaws.com"},
            "kms:GenerateDataKey*",
            "Allow CloudTrail to encrypt logs",
            {
                "StringEquals": {"aws:SourceArn": trail},
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{OWNER}:trail/*"
                },
            },
        ),
        _allow(
            _root(OWNER),
            ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Enable log file decryption",
            {"Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}},
        ),
    ]


def _mistake(rng: random.Random) -> list[dict[str, Any]]:
    return [*_console(rng), _allow("*", ["kms:Decrypt"], "Oops: everyone may decrypt")]


SHAPES = (
    (_console, 30),
    (_partner, 20),
    (_service, 20),
    (_org, 10),
    (_cloudtrail, 10),
    (_mistake, 10),
)


def world(i: int, rng: random.Random) -> dict[str, Any]:
    make = rng.choices([s for s, _ in SHAPES], [w for _, w in SHAPES])[0]
    key_id = f"{i:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
    return {
        "version": 1,
        "keys": [
            {
                "arn": f"arn:aws:kms:us-east-1:{OWNER}:key/{key_id}",
                "policy": {"Version": "2012-10-17", "Statement": make(rng)},
            }
        ],
        "accounts": {
            OWNER: {"organization": ORG},
            **{p: {"organization": ORG} for p in PARTNERS[:2]},
        },
    }


SPEC = """\
# five invariants, as a security team would write them
expect no: can any principal outside org o-exampleorgid kms:Decrypt
expect no: can any principal outside account 111122223333 kms:PutKeyPolicy
expect no: can any principal outside account 111122223333 kms:CreateGrant where kms:GrantIsForAWSResource != "true"
expect yes: can principal arn:aws:iam::111122223333:root kms:PutKeyPolicy
expect no: can anyone kms:ScheduleKeyDeletion where aws:PrincipalAccount != "111122223333"
"""


def main() -> None:
    out = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261126)
    for i in range(n):
        (out / f"key-{i:04d}.json").write_text(json.dumps(world(i, rng), indent=1))
    (out.parent / "estate.spec").write_text(SPEC)
    print(f"wrote {n} worlds to {out} and the spec to {out.parent / 'estate.spec'}")


if __name__ == "__main__":
    main()
