"""Generate the world of a key many teams share (issue 14): grantees in thousands of
other accounts, external roles named in the key policy under encryption-context
conditions, a complete key account of thousands of roles with identity policies.

    python bench/make_shared_world.py OUT_DIR [--grants 50000] [--principals 5000]
        [--statements 170] [--external 0.3] [--leak]

Shape (the numbers of the issue, each a flag):
- the key policy (kept under AWS's 32 KB quota): the account's root, a key
  administrator role, and one statement per partner role in its own account, allowing
  Encrypt and GenerateDataKey* when `kms:EncryptionContext:t` is the
  partner's tenant (producers that encrypt for us, never read);
- `--grants` grants, in a separate `aws kms list-grants` file: a share `--external` of
  them to roles in distinct other accounts (Encrypt and GenerateDataKey, half under an
  EncryptionContextSubset constraint), the rest to the account's own application roles
  (Decrypt, Encrypt, GenerateDataKey, each under its application's context), and every
  hundredth a grant the account's pipeline role may pass on (CreateGrant);
- `--principals` roles in the key account (complete), each with an identity policy for
  its bucket and the key under its context and a trust policy for Lambda (the key
  administrator's trusts the account, the pipeline's CodeBuild);
- the account is in organization o-shared0000; the partners' accounts are open.
With `--leak`, one external grant near the end also carries Decrypt: the "yes" a
question about outside callers must find.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from make_estate import ADMIN_ACTIONS  # bench/ runs its scripts from this folder

A = "111122223333"
ORG = "o-shared0000"
KEY = f"arn:aws:kms:us-east-1:{A}:key/5ba7e1c2-3d4f-4a5b-8c6d-7e8f9a0b1c2d"
ISSUER = f"arn:aws:iam::{A}:root"
QUOTA = 32 * 1024


def external_account(i: int) -> str:
    return f"{200000000000 + i * 7919:012d}"


def partner_statement(i: int) -> dict:
    return {
        "Sid": f"P{i}",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{external_account(i)}:role/w"},
        "Action": ["kms:Encrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:t": f"t{i}"}},
    }


def key_policy(statements: int) -> dict:
    head = [
        {
            "Sid": "EnableIAMUserPermissions",
            "Effect": "Allow",
            "Principal": {"AWS": ISSUER},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "KeyAdministrators",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:role/KeyAdmin"},
            "Action": ADMIN_ACTIONS,  # the console's key-administrator list
            "Resource": "*",
        },
    ]
    policy = {"Version": "2012-10-17", "Statement": head}
    for i in range(statements):
        policy["Statement"].append(partner_statement(i))
        if len(json.dumps(policy, separators=(",", ":"))) > QUOTA:
            policy["Statement"].pop()
            break
    return policy


def grant(i: int, n: int, external: float, leak: bool) -> dict:
    g: dict = {
        "KeyId": KEY,
        "GrantId": f"{i:064x}",
        "Name": "",
        "CreationDate": "2024-01-01T00:00:00+00:00",
        "IssuingAccount": ISSUER,
    }
    k = int((i + 1) * external)
    if k > int(i * external):  # a share `external` of the grants, spread evenly
        g["GranteePrincipal"] = f"arn:aws:iam::{external_account(10_000 + k)}:role/consumer"
        g["Operations"] = ["Encrypt", "GenerateDataKey"]
        if leak and k == int(n * external) - int(n * external) // 50:
            g["Operations"] = ["Decrypt", "Encrypt", "GenerateDataKey"]
        if k % 2 == 0:
            g["Constraints"] = {"EncryptionContextSubset": {"partner": f"p{k}"}}
        return g
    g["GranteePrincipal"] = f"arn:aws:iam::{A}:role/app-{i % 5000}"
    g["RetiringPrincipal"] = f"arn:aws:iam::{A}:role/KeyAdmin"
    g["Operations"] = ["Decrypt", "Encrypt", "GenerateDataKey"]
    if i % 100 == 1:
        g["GranteePrincipal"] = f"arn:aws:iam::{A}:role/pipeline"
        g["Operations"] = ["CreateGrant", "Decrypt", "RetireGrant"]
    g["Constraints"] = {"EncryptionContextSubset": {"app": f"app-{i % 5000}"}}
    return g


def principals(m: int) -> dict:
    out = {}
    for i in range(m):
        out[f"arn:aws:iam::{A}:role/app-{i}"] = {
            "policies": [
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:PutObject"],
                            "Resource": f"arn:aws:s3:::bucket-{i}/*",
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                            "Resource": KEY,
                            "Condition": {
                                "StringEquals": {"kms:EncryptionContext:app": f"app-{i}"}
                            },
                        },
                    ],
                }
            ],
            "tags": {"team": f"t{i % 7}"},
            "trust_policy": trust({"Service": "lambda.amazonaws.com"}),
        }
    admin = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": KEY}],
    }
    out[f"arn:aws:iam::{A}:role/KeyAdmin"] = {
        "policies": [admin],
        "trust_policy": trust({"AWS": ISSUER}),
    }
    out[f"arn:aws:iam::{A}:role/pipeline"] = {
        "policies": [],
        "trust_policy": trust({"Service": "codebuild.amazonaws.com"}),
    }
    return out


def trust(principal: dict) -> dict:
    """An assume-role policy: the account's applications run on Lambda, its pipeline on
    CodeBuild, its administrators come from the account itself."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--grants", type=int, default=50_000)
    ap.add_argument("--principals", type=int, default=5_000)
    ap.add_argument("--statements", type=int, default=170)
    ap.add_argument("--external", type=float, default=0.3, help="share of grants to other accounts")
    ap.add_argument("--leak", action="store_true", help="one external grant carries Decrypt")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    gs = [grant(i, a.grants, a.external, a.leak) for i in range(a.grants)]
    (out / "grants.json").write_text(json.dumps({"Grants": gs}, indent=1))
    (out / "key-policy.json").write_text(
        json.dumps(key_policy(a.statements), separators=(",", ":"))
    )
    world = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": "key-policy.json", "grants": "grants.json"}],
        "accounts": {
            A: {"complete": True, "organization": ORG, "principals": principals(a.principals)}
        },
    }
    (out / "world.json").write_text(json.dumps(world, indent=1))


if __name__ == "__main__":
    main()
