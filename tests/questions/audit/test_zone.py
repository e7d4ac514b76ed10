"""The rules about the zone's own principals: grants not limited to AWS resources, key
management and deletion by principals who are no key administrator, administrators who
can decrypt; and how a key's administrators are known. What counts: what the key
policy and grants give directly, and what the identity policies the world lists give;
an open account's IAM that nobody listed is not assumed (questions/audit/zone.py)."""

from __future__ import annotations

from pathlib import Path

from kmsprove.questions.audit.table import ADMINISTRATOR_SIDS
from kmsprove.questions.audit.zone import administrators
from kmsprove.world import Key
from tests.questions.audit.common import (
    ADMIN,
    APP,
    IN_ACCOUNT_TRUST,
    REALWORLD,
    audited,
    audited_file,
    found,
    rules_of,
    witnessed,
)
from tests.support.builders import KEY, ROOT_A, A, allow_ip, built, policy, stmt

ROOT = stmt(principal=ROOT_A, sid="Enable IAM User Permissions")
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
ADMINS = stmt(principal=ADMIN, action=ADMIN_ACTIONS, sid="Allow access for Key Administrators")
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
USERS = stmt(principal=APP, action=USE, sid="Allow use of the key")
GRANTS_FOR_AWS = stmt(
    principal=APP,
    action=["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
    condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
    sid="Allow attachment of persistent resources",
)
INZONE = {"grant-not-for-aws-resource", "least-privilege", "delete-or-disable"}


def test_create_grant_without_grant_is_for_aws_resource(tmp_path: Path) -> None:
    direct = stmt(principal=APP, action="kms:CreateGrant", sid="AppGrants")
    world, result = audited(tmp_path / "pitfall", policy(ROOT, ADMINS, USERS, direct))
    (f,) = found(result, "grant-not-for-aws-resource")
    witnessed(world, f)
    assert f.answer is not None and f.answer.counterexample is not None
    assert ":assumed-role/App/" in f.answer.counterexample.principal
    assert f.sids == ("AppGrants",)
    _, fixed = audited(tmp_path / "fixed", policy(ROOT, ADMINS, USERS, GRANTS_FOR_AWS))
    assert found(fixed, "grant-not-for-aws-resource") == []


def test_an_identity_policy_the_world_lists_counts(tmp_path: Path) -> None:
    """A complete account whose role has kms:CreateGrant in IAM, through the root
    delegation: a finding; the same role in an open account, its IAM not listed: none."""
    app = {"policies": [allow_ip(action="kms:CreateGrant")], "trust_policy": IN_ACCOUNT_TRUST}
    world, result = audited(
        tmp_path / "listed",
        policy(ROOT, ADMINS),
        principals={APP: app},
        accounts={A: {"complete": True}},
    )
    (f,) = found(result, "grant-not-for-aws-resource")
    witnessed(world, f)
    assert {r.sid for r in f.locations} >= {"Enable IAM User Permissions"}
    _, unlisted = audited(tmp_path / "unlisted", policy(ROOT, ADMINS))
    assert rules_of(unlisted) & INZONE == set()


def test_principal_star_in_the_account_reaches_principals_nobody_named(tmp_path: Path) -> None:
    """`*` with kms:CallerAccount and kms:* gives every principal of the account the
    key's management, with no IAM policy: the direct view finds an unnamed one."""
    everyone = stmt(
        principal="*", action="kms:*", condition={"StringEquals": {"kms:CallerAccount": A}}
    )
    world, result = audited(tmp_path, policy(ROOT, everyone))
    for rule in INZONE:
        (f,) = found(result, rule)
        witnessed(world, f)


def test_key_users_with_kms_star(tmp_path: Path) -> None:
    """Seed 003: kms:* given to a key user manages and deletes the key."""
    everything = stmt(principal=APP, action="kms:*", sid="Allow use of the key")
    world, result = audited(tmp_path, policy(ROOT, ADMINS, everything))
    for rule in INZONE:
        (f,) = found(result, rule)
        witnessed(world, f)
        assert f.sids == ("Allow use of the key",)


def test_deletion_only_by_the_administrators(tmp_path: Path) -> None:
    deleter = stmt(principal=APP, action=["kms:ScheduleKeyDeletion", "kms:DisableKey"])
    world, result = audited(tmp_path / "pitfall", policy(ROOT, ADMINS, USERS, deleter))
    (f,) = found(result, "delete-or-disable")
    witnessed(world, f)
    assert found(result, "least-privilege") == []
    _, fixed = audited(tmp_path / "fixed", policy(ROOT, ADMINS, USERS))
    assert rules_of(fixed) & INZONE == set()


def test_administrators_who_can_decrypt(tmp_path: Path) -> None:
    decrypting = stmt(principal=ADMIN, action=[*ADMIN_ACTIONS, "kms:Decrypt"], sid=ADMINS["Sid"])
    world, result = audited(tmp_path / "pitfall", policy(ROOT, decrypting, USERS))
    (f,) = found(result, "admin-can-decrypt")
    witnessed(world, f)
    assert f.subject == ADMIN
    _, fixed = audited_file(REALWORLD / "console-default.json")
    assert found(fixed, "admin-can-decrypt") == []


def test_admin_names_the_administrators_when_the_policy_does_not(tmp_path: Path) -> None:
    ops = stmt(principal=ADMIN, action="kms:*", sid="Operations")
    _, result = audited(tmp_path / "a", policy(ROOT, ops))
    assert found(result, "delete-or-disable") and found(result, "least-privilege")
    assert any("admin-can-decrypt" in n for n in result.not_asked)
    _, declared = audited(tmp_path / "b", policy(ROOT, ops), options={"admins": (ADMIN,)})
    assert rules_of(declared) & INZONE == set()
    (f,) = found(declared, "admin-can-decrypt")
    assert f.subject == ADMIN


def test_administrators_come_from_the_statements_whose_sid_says_so() -> None:
    doc = policy(
        ROOT,
        stmt(
            principal=[ADMIN, ROOT_A], action="kms:Put*", sid="Allow access for Key Administrators"
        ),
        stmt(principal=f"arn:aws:iam::{A}:user/ops", action="kms:*", sid="KeyAdmins"),
        stmt(principal=APP, action="kms:Decrypt", sid="Allow use of the key"),
    )
    key = Key(KEY, built(doc))
    assert administrators(key, (), ADMINISTRATOR_SIDS) == (ADMIN, f"arn:aws:iam::{A}:user/ops")
    assert administrators(key, (APP,), ADMINISTRATOR_SIDS) == (APP,)
