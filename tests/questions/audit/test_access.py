"""The rules about who outside the zone of trust gets in: public use, external use per
class of operation, and AWS services acting for any account (confused deputy). Each on
a world with the pitfall (the finding, its witness allowed by the evaluator) and on its
near-twin with the rule's fix applied (no finding: the solver proved none); AWS's
documented policies (tests/data/audit/README.md) among them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.questions.audit.common import (
    DATA,
    REALWORLD,
    audited,
    audited_file,
    found,
    rules_of,
    witnessed,
)
from tests.support.builders import ROOT_A, ROOT_B, A, B, policy, stmt

ROOT = stmt(principal=ROOT_A, sid="EnableIAMPolicies")
EXTERNAL = {"public", "external-decrypt", "external-encrypt", "external-sign", "external-grants"}


def test_the_aws_default_key_policy_gives_no_finding(tmp_path: Path) -> None:
    """Root delegation only: the account itself uses the key; nothing outside it can,
    nobody but the account's administrators manages it, and it is not locked."""
    _, result = audited_file(DATA / "aws-default-key-policy.json")
    assert result.findings == ()


def test_the_console_default_policy_gives_no_finding() -> None:
    """Key administrators who cannot decrypt, key users who create grants only through
    AWS services (kms:GrantIsForAWSResource): nothing to report."""
    _, result = audited_file(REALWORLD / "console-default.json")
    assert result.findings == ()


def test_a_cdk_key_narrowed_by_caller_account_and_via_service_is_no_finding() -> None:
    """`Principal: "*"` with kms:CallerAccount and kms:ViaService: the false positive of
    pattern linters (prowler #849, cloud-custodian #5201) is proved to let no other
    account in."""
    _, result = audited_file(DATA / "cdk-viaservice-key.template.json")
    assert rules_of(result) & EXTERNAL == set()
    assert result.findings == ()


def test_principal_star_without_condition_is_public(tmp_path: Path) -> None:
    world, result = audited(tmp_path, policy(ROOT, stmt(principal="*", action="kms:Decrypt")))
    (f,) = found(result, "public")
    witnessed(world, f)
    assert f.answer is not None and f.answer.counterexample is not None
    assert f.answer.counterexample.principal.split(":")[4] not in (A, B)
    assert [r.line for r in f.locations] and found(result, "external-decrypt")


def test_principal_star_narrowed_to_the_account_is_not_public(tmp_path: Path) -> None:
    narrowed = stmt(
        principal="*", action="kms:Decrypt", condition={"StringEquals": {"kms:CallerAccount": A}}
    )
    _, result = audited(tmp_path, policy(ROOT, narrowed))
    assert rules_of(result) & EXTERNAL == set()


def test_an_organization_condition_is_external_use_not_public(tmp_path: Path) -> None:
    """Any account of the organization may decrypt: external to the key's account (a
    witness in another account of o-...), but not any account at all."""
    org = stmt(
        principal="*",
        action="kms:Decrypt",
        condition={"StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid"}},
    )
    world, result = audited(tmp_path, policy(ROOT, org))
    assert found(result, "public") == []
    (f,) = found(result, "external-decrypt")
    witnessed(world, f)


def test_via_service_alone_leaves_every_account_in(tmp_path: Path) -> None:
    """kms:ViaService without kms:CallerAccount: any account's principals, through S3."""
    s3 = stmt(
        principal="*",
        action="kms:Decrypt",
        condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    )
    world, result = audited(tmp_path, policy(ROOT, s3))
    (f,) = found(result, "public")
    witnessed(world, f)


@pytest.mark.parametrize(
    ("rule", "actions", "key"),
    [
        ("external-decrypt", ["kms:Decrypt"], {}),
        ("external-encrypt", ["kms:GenerateDataKey"], {}),
        ("external-sign", ["kms:Sign"], {"key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"}),
        ("external-grants", ["kms:CreateGrant"], {}),
    ],
)
def test_each_class_of_operation_given_to_another_account(
    tmp_path: Path, rule: str, actions: list[str], key: dict[str, str]
) -> None:
    partner = stmt(principal=ROOT_B, action=actions, sid="Partner")
    world, result = audited(tmp_path / "pitfall", policy(ROOT, partner), key=key)
    (f,) = found(result, rule)
    witnessed(world, f)
    assert f.sids == ("Partner",)
    # the fix: the partner is part of the zone of trust
    _, again = audited(
        tmp_path / "fixed", policy(ROOT, partner), key=key, options={"zone": f"{A},{B}"}
    )
    assert rules_of(again) & EXTERNAL == set()


def test_signing_keys_are_asked_the_operations_they_can_perform(tmp_path: Path) -> None:
    """Only GetPublicKey to the partner: nothing to sign with, so no finding."""
    pub = stmt(principal=ROOT_B, action="kms:GetPublicKey")
    sign = {"key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"}
    _, result = audited(tmp_path, policy(ROOT, pub), key=sign)
    assert found(result, "external-sign") == []


def test_grants_only_for_aws_resources_are_no_external_grant_finding(tmp_path: Path) -> None:
    """The console's statement for another account: CreateGrant only when an AWS
    service asks for the caller (kms:GrantIsForAWSResource)."""
    _, result = audited_file(
        Path(__file__).resolve().parents[3] / "examples" / "cross-account" / "world.json"
    )
    assert found(result, "external-grants") == []
    assert found(result, "external-decrypt")
    unconditioned = stmt(principal=ROOT_B, action=["kms:CreateGrant"])
    _, again = audited(tmp_path, policy(ROOT, unconditioned))
    assert found(again, "external-grants")


def test_administration_never_works_across_accounts(tmp_path: Path) -> None:
    """kms:* to another account: its principals can use the key, never administer it
    (R3.2): the external-admin question is proved no, and the inert rule says why."""
    _, result = audited(tmp_path, policy(ROOT, stmt(principal=ROOT_B, action="kms:*")))
    assert "external-admin" not in rules_of(result)
    assert found(result, "external-decrypt") and found(result, "inert-cross-account")


@pytest.mark.parametrize(
    ("pitfall", "fixed", "service"),
    [
        ("cloudtrail-legacy.json", "cloudtrail-sourcearn.json", "cloudtrail.amazonaws.com"),
        ("logs-ec-only.json", "logs-sourceaccount.json", "logs.us-east-1.amazonaws.com"),
        ("sns-no-condition.json", "sns-sourcearn.json", "cloudwatch.amazonaws.com"),
    ],
)
def test_service_keys_with_and_without_source_conditions(
    pitfall: str, fixed: str, service: str
) -> None:
    world, result = audited_file(DATA / pitfall)
    (f,) = found(result, "confused-deputy")
    witnessed(world, f)
    assert f.subject == service and f.locations
    _, again = audited_file(DATA / fixed)
    assert again.findings == ()


def test_each_service_is_its_own_finding(tmp_path: Path) -> None:
    two = [
        stmt(principal={"Service": s}, action="kms:GenerateDataKey", sid=s.split(".")[0])
        for s in ("cloudtrail.amazonaws.com", "delivery.logs.amazonaws.com")
    ]
    world, result = audited(tmp_path, policy(ROOT, *two))
    subjects = sorted(f.subject for f in found(result, "confused-deputy"))
    assert subjects == ["cloudtrail.amazonaws.com", "delivery.logs.amazonaws.com"]
    for f in found(result, "confused-deputy"):
        witnessed(world, f)


def test_a_service_tied_to_another_zone_account_is_no_confused_deputy(tmp_path: Path) -> None:
    """aws:SourceAccount of the partner: confused deputy with the key's account as the
    zone, none once the partner is in the zone."""
    tied = stmt(
        principal={"Service": "cloudtrail.amazonaws.com"},
        action="kms:GenerateDataKey",
        condition={"StringEquals": {"aws:SourceAccount": B}},
    )
    _, result = audited(tmp_path / "a", policy(ROOT, tied))
    assert found(result, "confused-deputy")
    _, again = audited(tmp_path / "b", policy(ROOT, tied), options={"zone": f"{A},{B}"})
    assert found(again, "confused-deputy") == []
