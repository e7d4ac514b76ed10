"""The rules whose pitfall is a proof that something never works (lockout over `ever`,
permissions that never work across accounts, a shared bucket under an AWS managed key),
a bucket whose default key is an alias, and escalation over time (`ever`, --trust):
each with the pitfall and with its fix."""

from __future__ import annotations

from pathlib import Path

from kmsprove.inputs import load_world
from kmsprove.questions.audit import Status
from tests.questions.audit.common import (
    APP,
    IN_ACCOUNT_TRUST,
    audited,
    found,
    key_doc,
    rules_of,
    run,
    witnessed,
    world_file,
)
from tests.support.builders import KEY, ROOT_A, ROOT_B, A, B, allow_ip, policy, stmt

ROOT = stmt(principal=ROOT_A, sid="Enable IAM User Permissions")
BUCKET = "arn:aws:s3:::shared-bucket"
READ_B = policy(
    stmt(principal=ROOT_B, action="s3:GetObject", resource=f"{BUCKET}/*", sid="PartnerReads")
)


def test_a_key_nobody_can_ever_re_police_is_locked_out(tmp_path: Path) -> None:
    only_use = stmt(principal=APP, action="kms:Decrypt", sid="AppDecrypts")
    _, result = audited(tmp_path / "locked", policy(only_use))
    (f,) = found(result, "lockout")
    assert f.answer is not None and f.answer.verdict.value == "no"
    assert f.locations and f.locations[0].file.endswith("world.json")
    _, fixed = audited(tmp_path / "fixed", policy(ROOT, only_use))
    assert found(fixed, "lockout") == []


def test_an_administrator_that_can_re_police_keeps_the_key_manageable(tmp_path: Path) -> None:
    admin = stmt(principal=APP, action="kms:PutKeyPolicy", sid="Allow administration of the key")
    _, result = audited(tmp_path, policy(admin))
    assert found(result, "lockout") == []


def test_aws_managed_keys_are_not_asked_about_lockout(tmp_path: Path) -> None:
    path = world_file(
        tmp_path, {"version": 1, "keys": [key_doc(manager="AWS", aliases=["alias/aws/s3"])]}
    )
    result = run(load_world(path))
    assert "lockout" not in rules_of(result)
    assert any("lockout" in n for n in result.not_asked)


def test_operations_that_never_work_across_accounts_are_inert(tmp_path: Path) -> None:
    """Seed 000: ScheduleKeyDeletion given to another account is proved never allowed;
    Decrypt, which works across accounts, is not inert."""
    given = stmt(
        principal=ROOT_B, action=["kms:Decrypt", "kms:ScheduleKeyDeletion"], sid="PartnerStuff"
    )
    _, result = audited(tmp_path / "pitfall", policy(ROOT, given))
    (f,) = found(result, "inert-cross-account")
    assert f.sids == ("PartnerStuff",)
    assert "kms:ScheduleKeyDeletion" in f.message and "kms:Decrypt" not in f.question
    assert f.answer is not None and f.answer.verdict.value == "no"
    fixed = stmt(principal=ROOT_B, action=["kms:Decrypt"], sid="PartnerStuff")
    _, again = audited(tmp_path / "fixed", policy(ROOT, fixed))
    assert found(again, "inert-cross-account") == []


def test_an_identity_policy_in_another_account_can_be_inert(tmp_path: Path) -> None:
    reader = f"arn:aws:iam::{B}:role/Reader"
    ip = allow_ip(action=["kms:Decrypt", "kms:DisableKey"], sid="ReaderOnTheKey")
    _, result = audited(tmp_path, policy(ROOT), principals={reader: {"policies": [ip]}})
    (f,) = found(result, "inert-cross-account")
    assert f.sids == ("ReaderOnTheKey",) and reader in f.message


def bucket_world(tmp: Path, kms_key: str, bucket_policy: dict, managed: bool = False) -> Path:
    key = (
        key_doc(manager="AWS", aliases=["alias/aws/s3"])
        if managed
        else key_doc(policy(ROOT), aliases=["alias/app"])
    )
    bucket = {"arn": BUCKET, "account": A, "region": "us-east-1", "kms_key": kms_key}
    bucket["policy"] = bucket_policy
    return world_file(tmp, {"version": 1, "keys": [key], "buckets": [bucket]})


def test_a_bucket_default_key_named_by_alias(tmp_path: Path) -> None:
    """Seed 001: which key `alias/app` means depends on who writes; the composed read is
    unknown, the finding is not."""
    (tmp_path / "a").mkdir()
    result = run(load_world(bucket_world(tmp_path / "a", "alias/app", READ_B)))
    (f,) = found(result, "s3-alias-default-key")
    assert f.key == KEY and f.subject == BUCKET
    assert f.answer is not None and f.answer.verdict.value == "unknown"
    (tmp_path / "b").mkdir()
    fixed = run(load_world(bucket_world(tmp_path / "b", KEY, READ_B)))
    assert found(fixed, "s3-alias-default-key") == []


def test_an_alias_no_key_of_the_world_has_is_reported_on_the_bucket(tmp_path: Path) -> None:
    result = run(load_world(bucket_world(tmp_path, "alias/elsewhere", READ_B)))
    (f,) = found(result, "s3-alias-default-key")
    assert f.key == BUCKET


def test_a_shared_bucket_under_an_aws_managed_key(tmp_path: Path) -> None:
    """R8.5: the bucket policy lets account B read, but aws/s3 objects never decrypt in
    another account: proved, at the bucket-policy statement."""
    (tmp_path / "a").mkdir()
    result = run(load_world(bucket_world(tmp_path / "a", KEY, READ_B, managed=True)))
    (f,) = found(result, "s3-managed-key-shared-bucket")
    assert f.sids == ("PartnerReads",)
    assert f.answer is not None and f.answer.verdict.value == "no"
    own = policy(stmt(principal=ROOT_A, action="s3:GetObject", resource=f"{BUCKET}/*"))
    (tmp_path / "b").mkdir()
    fixed = run(load_world(bucket_world(tmp_path / "b", KEY, own, managed=True)))
    assert found(fixed, "s3-managed-key-shared-bucket") == []


def escalation_world(tmp: Path, app_can_re_police: bool) -> tuple:
    tmp.mkdir(parents=True, exist_ok=True)
    statements = [ROOT]
    if app_can_re_police:
        statements.append(stmt(principal=APP, action="kms:PutKeyPolicy", sid="AppPolicies"))
    return audited(
        tmp,
        policy(*statements),
        principals={APP: {"policies": [], "trust_policy": IN_ACCOUNT_TRUST}},
        accounts={A: {"complete": True}},
        options={"trusted": (ROOT_A,)},
    )


def test_an_untrusted_principal_that_can_rewrite_the_policy_escalates(tmp_path: Path) -> None:
    world, result = escalation_world(tmp_path / "pitfall", True)
    (f,) = found(result, "escalation")
    assert f.answer is not None and f.answer.trace
    witnessed(world, f)
    assert f.sids == ("AppPolicies",)
    assert found(result, "external-decrypt") == []
    _, fixed = escalation_world(tmp_path / "fixed", False)
    assert "escalation" not in rules_of(fixed)


def test_escalation_is_asked_only_with_trust(tmp_path: Path) -> None:
    _, result = audited(tmp_path, policy(ROOT))
    assert any("escalation: give --trust" in n for n in result.not_asked)


def test_what_the_inputs_leave_unsettled_is_an_unknown_finding(tmp_path: Path) -> None:
    """A key policy the collector was refused: every question about the key is unknown,
    and each rule says so (never silence, never a clean bill)."""
    doc = {
        "version": 1,
        "keys": [key_doc(policy(ROOT))],
        "unknowns": [{"reason": "kms:GetKeyPolicy was refused (AccessDenied)", "key": KEY}],
    }
    result = run(load_world(world_file(tmp_path, doc)))
    unknown = {f.rule.id for f in result.findings if f.status is Status.UNKNOWN}
    assert {"public", "external-decrypt", "confused-deputy"} <= unknown
    assert all("refused" in f.message for f in result.findings if f.status is Status.UNKNOWN)
