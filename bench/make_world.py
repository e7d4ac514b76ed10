"""Generate a quota-sized world: a 32 KB key policy, N grants, M principals.

    python bench/make_world.py OUT_DIR [--grants 50000] [--principals 5000] [--statements 20]

The grants go to a separate `aws kms list-grants` file, as a real export would.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def partner(i: int) -> dict:
    """A statement for partner account i: twelve readers, through S3, on their bucket."""
    return {
        "Sid": f"AllowPartner{i}",
        "Effect": "Allow",
        "Principal": {
            "AWS": [f"arn:aws:iam::{444455550000 + i:012d}:role/Reader{j}" for j in range(12)]
        },
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::bucket-{i}/*"},
        },
    }


def key_policy(statements: int) -> dict:
    sts = [
        {
            "Sid": "EnableIAMUserPermissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    sts.extend(partner(i) for i in range(statements - 1))
    return {"Version": "2012-10-17", "Statement": sts}


def grants(n: int, hidden: bool = False) -> dict:
    out = []
    for i in range(n):
        if hidden and i == n // 2:
            # one grant to another account, among tens of thousands: the "yes" a query must find
            out.append(
                {
                    "KeyId": KEY,
                    "GrantId": f"{i:064x}",
                    "GranteePrincipal": "arn:aws:iam::888888888888:role/hidden",
                    "IssuingAccount": "arn:aws:iam::111122223333:root",
                    "Operations": ["Encrypt"],
                }
            )
            continue
        out.append(
            {
                "KeyId": KEY,
                "GrantId": f"{i:064x}",
                "Name": "",
                "CreationDate": "2024-01-01T00:00:00+00:00",
                "GranteePrincipal": f"arn:aws:iam::111122223333:role/app-{i}",
                "RetiringPrincipal": "arn:aws:iam::111122223333:role/admin",
                "IssuingAccount": "arn:aws:iam::111122223333:root",
                "Operations": ["Decrypt", "Encrypt", "GenerateDataKey"],
                "Constraints": {"EncryptionContextSubset": {"app": f"app-{i}"}},
            }
        )
    return {"Grants": out}


def principals(m: int) -> dict:
    out = {}
    for i in range(m):
        out[f"arn:aws:iam::111122223333:role/app-{i}"] = {
            "policies": [
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:GetObject"],
                            "Resource": f"arn:aws:s3:::bucket-{i}/*",
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["kms:Decrypt", "kms:Encrypt"],
                            "Resource": KEY,
                            "Condition": {
                                "StringEquals": {"kms:EncryptionContext:app": f"app-{i}"}
                            },
                        },
                    ],
                }
            ],
            "tags": {"team": f"t{i % 7}"},
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--grants", type=int, default=50_000)
    ap.add_argument("--principals", type=int, default=5_000)
    ap.add_argument("--statements", type=int, default=20)
    ap.add_argument(
        "--hidden-grant", action="store_true", help="one grant to another account among the rest"
    )
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "grants.json").write_text(json.dumps(grants(a.grants, a.hidden_grant), indent=2))
    (out / "key-policy.json").write_text(json.dumps(key_policy(a.statements), indent=2))
    world = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": "key-policy.json", "grants": "grants.json"}],
        "accounts": {"111122223333": {"complete": True, "principals": principals(a.principals)}},
    }
    (out / "world.json").write_text(json.dumps(world, indent=2))


if __name__ == "__main__":
    main()
