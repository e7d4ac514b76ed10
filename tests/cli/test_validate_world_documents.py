"""`kmsprove validate` on a world: every document it gives takes part in some decision,
or a warning at the document says why not (`kmsprove.validate.world`).

- SCPs and RCPs of the management account: "SCPs don't affect users or roles in the
  management account" (AWS Organizations, https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html),
  and RCPs do not affect its resources (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html);
- a root user's entry: no identity policies and no boundary apply to it
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html:
  boundaries are set on IAM users and roles);
- SCPs of an account with no `organization`: applied, its organization id unknown;
- RCPs of an account whose keys the world does not hold, a bucket without its key,
  a VPC endpoint policy (only requests through the endpoint), a
  `multi_region_key_type` on a single-Region key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.builders import at
from tests.support.cli import run_validate

A, M, N = "111122223333", "222233334444", "555566667777"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = f"arn:aws:iam::{A}:root"
KP = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
    ],
}


def doc_with(sid: str, **fields: Any) -> dict[str, Any]:
    st = {"Sid": sid, "Effect": "Allow", "Action": "*", "Resource": "*", **fields}
    return {"Version": "2012-10-17", "Statement": [st]}


def write(tmp: Path, doc: dict[str, Any]) -> tuple[Path, str]:
    path = tmp / "world.json"
    text = json.dumps(doc, indent=1)
    path.write_text(text)
    return path, text


def warnings_of(tmp: Path, doc: dict[str, Any]) -> tuple[list[str], Path, str]:
    path, text = write(tmp, doc)
    result = run_validate(tmp, str(path))
    assert result.exit_code == 0, result.stderr
    return sorted(result.stderr.splitlines()), path, text


def test_documents_that_take_part_in_no_decision_are_warned_at_their_position(
    tmp_path: Path,
) -> None:
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::no-key-bucket/*",
            }
        ],
    }
    vpce = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}],
    }
    doc = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": KP, "multi_region_key_type": "PRIMARY"}],
        "accounts": {
            M: {
                "organization": "o-exampleorgid",
                "management": True,
                "scps": [doc_with("MgmtScp")],
                "rcps": [doc_with("MgmtRcp", Principal="*")],
            },
            N: {"scps": [doc_with("NoOrgScp")], "rcps": [doc_with("NoKeyRcp", Principal="*")]},
            A: {
                "principals": {
                    ROOT: {
                        "boundary": doc_with("RootBoundary"),
                        "policies": [doc_with("RootPolicy")],
                    }
                }
            },
        },
        "buckets": [{"arn": "arn:aws:s3:::no-key-bucket", "account": A, "policy": bucket_policy}],
        "vpc_endpoints": {"vpce-1a2b3c4d": vpce},
    }
    got, path, text = warnings_of(tmp_path, doc)

    def doc_at(sid: str) -> str:
        return _doc_pos(text, sid)

    want = [
        (
            at(text, '{\n   "arn": "arn:aws:kms'),
            "`multi_region_key_type` `PRIMARY` takes part in no decision: the key is not multi-Region (`multi_region` is false)",
        ),
        (
            doc_at("MgmtScp"),
            f"this SCP never applies: account {M} is its organization's management account, and SCPs do not affect users or roles in the management account",
        ),
        (
            doc_at("MgmtRcp"),
            f"this RCP never applies: account {M} is its organization's management account, and RCPs do not affect resources in the management account",
        ),
        (
            doc_at("NoOrgScp"),
            f"account {N} has SCPs but no `organization`: kmsprove applies them, but its organization id is unknown, so in questions `aws:PrincipalOrgID` of its principals may be any organization's id or absent, and in `explain` it is absent unless the request gives it",
        ),
        (
            doc_at("NoKeyRcp"),
            f"this RCP binds account {N}'s resources, and the world holds no customer managed key of {N}: it takes part in no decision (R1.10)",
        ),
        (
            doc_at("RootBoundary"),
            f"`boundary` of `{ROOT}` takes part in no decision: permissions boundaries apply to IAM users and roles, not to the root user",
        ),
        (
            at(text, "[", after='"policies": '),
            f"`policies` of `{ROOT}` takes part in no decision: the root user carries no identity policies (R1.4)",
        ),
        (
            at(text, '{\n   "arn": "arn:aws:s3'),
            "bucket `no-key-bucket` has no `kms_key` (its default encryption key): kmsprove decides SSE-KMS reads only, so the key is unknown and the bucket's policy takes part in no decision (R8.3)",
        ),
        (
            at(text, "{", after='"vpce-1a2b3c4d": '),
            "the policy of VPC endpoint `vpce-1a2b3c4d` applies only to requests made through it: `explain --via-vpce` and `diff` decide those; `query` and `check` ask about requests from anywhere, which it cannot restrict",
        ),
    ]
    assert got == sorted(f"{path}{pos}: warning: {msg}" for pos, msg in want)


def _doc_pos(text: str, sid: str) -> str:
    """`:LINE:COL` of the `{` that opens the document whose statement has `sid`."""
    offset = text.rindex("{", 0, text.rindex('"Version"', 0, text.index(json.dumps(sid))))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f":{line}:{col}"


def test_the_same_documents_where_they_take_part_are_not_warned(tmp_path: Path) -> None:
    """The baseline: a member account with its organization, RCPs over a key it owns, a
    bucket with its key, a user with a boundary, the root user with no entry."""
    user = f"arn:aws:iam::{A}:user/alice"
    doc = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": KP}],
        "accounts": {
            A: {
                "organization": "o-exampleorgid",
                "scps": [doc_with("MemberScp")],
                "rcps": [doc_with("KeyRcp", Principal="*")],
                "principals": {user: {"boundary": doc_with("UserBoundary")}},
            },
            M: {"organization": "o-exampleorgid", "management": True},
        },
        "buckets": [{"arn": "arn:aws:s3:::with-key", "account": A, "kms_key": KEY}],
    }
    got, _, _ = warnings_of(tmp_path, doc)
    assert got == []


def test_an_empty_root_entry_is_a_warning_not_an_error(tmp_path: Path) -> None:
    doc = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": KP}],
        "accounts": {A: {"principals": {ROOT: {}}}},
    }
    got, path, text = warnings_of(tmp_path, doc)
    assert got == [
        f"{path}{at(text, '{}')}: warning: `{ROOT}` needs no entry: every account has its root "
        "user, and the root user carries no identity documents (R1.4)"
    ]
