"""Golden tests for kms-semantics.md sections 3 (actions), 5 (context), 7 (default and
managed keys), 8 (S3 SSE-KMS reads) and 9 (key states)."""

from __future__ import annotations

import pytest

from kmsprove.catalog import expand, s3_facts
from tests.support.builders import (
    DEFAULT_KP,
    KEY,
    ROOT_A,
    ROOT_B,
    A,
    B,
    allow_ip,
    decide,
    make_world,
    policy,
    stmt,
)

ROLE_A = f"arn:aws:iam::{A}:role/app"
SESSION_A = f"arn:aws:sts::{A}:assumed-role/app/s1"
ROLE_B = f"arn:aws:iam::{B}:role/Reader"
SESSION_B = f"arn:aws:sts::{B}:assumed-role/Reader/s1"
BUCKET = "arn:aws:s3:::shared"
OBJECT = "arn:aws:s3:::shared/reports/q1.csv"


def test_r3_6_wildcards_expand_against_the_catalogue():
    assert expand("kms:ReEncrypt*") == ("kms:ReEncryptFrom", "kms:ReEncryptTo")
    assert set(expand("kms:GenerateDataKey*")) == {
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext",
        "kms:GenerateDataKeyWithoutPlaintext",
    }
    assert {"kms:GenerateMac", "kms:GenerateRandom"} <= set(expand("kms:Gen*"))
    assert expand("kms:Create*") == (
        "kms:CreateAlias",
        "kms:CreateCustomKeyStore",
        "kms:CreateGrant",
        "kms:CreateKey",
    )
    assert "kms:GetKeyLastUsage" in expand("kms:Get*")
    assert "kms:Encapsulate" in expand("kms:Enc*") and "kms:Decapsulate" in expand("kms:De*")
    assert expand("KMS:DECRYPT") == ("kms:Decrypt",)
    assert expand("kms:?ecrypt") == ("kms:Decrypt",)
    assert "kms:SynchronizeMultiRegionKey" in expand("kms:*")


def test_r3_6_action_case_and_wildcards_in_statements(tmp_path):
    w = make_world(
        tmp_path, policy(stmt(principal=ROLE_A, action="KMS:decrypt")), principals={ROLE_A: {}}
    )
    assert decide(w, SESSION_A).allowed
    w2 = make_world(
        tmp_path, policy(stmt(principal=ROLE_A, action="kms:*")), principals={ROLE_A: {}}
    )
    assert decide(w2, SESSION_A, "kms:ScheduleKeyDeletion").allowed


def test_r3_6_not_action_covers_every_other_action(tmp_path):
    kp = policy(stmt(principal=ROLE_A, action=None, NotAction=["kms:Decrypt", "kms:Put*"]))
    w = make_world(tmp_path, kp, principals={ROLE_A: {}})
    assert decide(w, SESSION_A, "kms:Encrypt").allowed
    assert not decide(w, SESSION_A, "kms:Decrypt").allowed
    assert not decide(w, SESSION_A, "kms:PutKeyPolicy").allowed


def test_r3_3_iam_only_actions_are_decided_by_iam_alone(tmp_path):
    user = f"arn:aws:iam::{A}:user/dev"
    w = make_world(
        tmp_path,
        policy(stmt(principal=user, action="kms:*")),
        principals={user: {"policies": [allow_ip("kms:ListKeys", resource="*")]}},
    )
    assert decide(w, user, "kms:ListKeys", key=None).allowed
    assert not decide(w, user, "kms:CreateKey", key=None).allowed  # a key policy cannot grant it


def test_r5_derived_context_drives_conditions(tmp_path):
    cond = {"StringEquals": {"aws:PrincipalTag/team": "red", "kms:CallerAccount": A}}
    kp = policy(stmt(principal="*", action="kms:Decrypt", condition=cond))
    w = make_world(
        tmp_path,
        kp,
        principals={
            ROLE_A: {"tags": {"team": "red"}},
            f"arn:aws:iam::{A}:role/blue": {"tags": {"team": "blue"}},
        },
    )
    assert decide(w, SESSION_A).allowed
    assert not decide(w, f"arn:aws:sts::{A}:assumed-role/blue/s").allowed


def test_r5_2_request_alias_only_when_the_key_is_named_by_alias(tmp_path):
    cond = {"StringEquals": {"kms:RequestAlias": "alias/app"}}
    kp = policy(stmt(principal=ROLE_A, action="kms:Decrypt", condition=cond))
    w = make_world(tmp_path, kp, principals={ROLE_A: {}}, key={"aliases": ["alias/app"]})
    assert decide(w, SESSION_A, key_id_as_sent="alias/app").allowed
    assert not decide(w, SESSION_A).allowed


def test_r5_1_ec_condition_never_matches_describe_key(tmp_path):
    cond = {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}
    kp = policy(stmt(principal=ROLE_A, action=["kms:Decrypt", "kms:DescribeKey"], condition=cond))
    w = make_world(tmp_path, kp, principals={ROLE_A: {}})
    ec = {"kms:EncryptionContext:Dept": "IT"}
    assert decide(w, SESSION_A, "kms:Decrypt", ec).allowed
    assert not decide(w, SESSION_A, "kms:DescribeKey").allowed


def test_r7_2_default_key_policy_gives_root_everything_and_others_nothing(tmp_path):
    w = make_world(tmp_path, DEFAULT_KP, principals={ROLE_A: {}})
    assert decide(w, ROOT_A, "kms:ScheduleKeyDeletion").allowed
    assert not decide(w, SESSION_A).allowed
    assert not decide(w, ROOT_B).allowed


def test_r7_3_console_administrators_can_give_themselves_any_use(tmp_path):
    admin_actions = [
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
    kp = policy(
        stmt(principal=ROOT_A),
        stmt(principal=ROLE_A, action=admin_actions, sid="Allow access for Key Administrators"),
    )
    w = make_world(tmp_path, kp, principals={ROLE_A: {}})
    assert not decide(w, SESSION_A, "kms:Decrypt").allowed
    assert decide(w, SESSION_A, "kms:CreateGrant", {"kms:GrantOperations": ["Decrypt"]}).allowed
    assert decide(w, SESSION_A, "kms:PutKeyPolicy").allowed


def test_r7_4_console_cross_account_grant_statement_needs_an_aws_resource(tmp_path):
    kp = policy(
        stmt(principal=ROOT_A),
        stmt(
            principal=ROOT_B,
            action=["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    )
    w = make_world(tmp_path, kp, principals={ROLE_B: {"policies": [allow_ip("kms:CreateGrant")]}})
    ops = {"kms:GrantOperations": ["Decrypt"]}
    assert not decide(w, SESSION_B, "kms:CreateGrant", ops).allowed
    via = {
        **ops,
        "kms:ViaService": "ec2.us-east-1.amazonaws.com",
        "kms:GrantIsForAWSResource": "true",
    }
    assert decide(w, SESSION_B, "kms:CreateGrant", via).allowed


def managed_key_policy(service: str) -> dict:
    template = s3_facts()["aws_managed_key_policy"]
    import json

    text = (
        json.dumps(template)
        .replace("${ACCOUNT}", A)
        .replace("${REGION}", "us-east-1")
        .replace("${SERVICE}", service)
    )
    return json.loads(text)


def test_r7_5_aws_managed_key_is_usable_only_through_the_service_in_its_account(tmp_path):
    w = make_world(
        tmp_path,
        managed_key_policy("s3"),
        key={"manager": "AWS", "aliases": ["alias/aws/s3"]},
        principals={ROLE_A: {}, ROLE_B: {"policies": [allow_ip("kms:*", resource="*")]}},
    )
    via = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert decide(w, SESSION_A, context=via).allowed  # no IAM needed (R1.5 through `*`)
    assert not decide(w, SESSION_A).allowed  # never by a direct call
    assert not decide(w, SESSION_B, context=via).allowed  # never from another account
    assert not decide(w, ROOT_A, "kms:PutKeyPolicy").allowed


def _s3_world(
    tmp_path,
    *,
    kp=None,
    reader_policies=None,
    bucket_policy=None,
    manager="CUSTOMER",
    bucket_key=False,
):
    reader_policies = (
        reader_policies
        if reader_policies is not None
        else [
            policy(
                stmt(action="s3:GetObject", resource=f"{BUCKET}/*"),
                stmt(action="kms:Decrypt", resource=KEY),
            )
        ]
    )
    bucket_policy = (
        bucket_policy
        if bucket_policy is not None
        else policy(stmt(principal=ROOT_B, action="s3:GetObject", resource=f"{BUCKET}/*"))
    )
    kp = kp or policy(
        stmt(principal=ROOT_A),
        stmt(
            principal=ROOT_B,
            action="kms:Decrypt",
            condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        ),
    )
    bucket = {
        "arn": BUCKET,
        "account": A,
        "region": "us-east-1",
        "policy": bucket_policy,
        "kms_key": KEY,
        "bucket_key": bucket_key,
    }
    return make_world(
        tmp_path,
        kp,
        principals={ROLE_B: {"policies": reader_policies}},
        buckets=[bucket],
        key={"manager": manager},
    )


def test_r8_1_cross_account_sse_kms_read_needs_all_four_documents(tmp_path):
    assert decide(_s3_world(tmp_path), SESSION_B, "s3:GetObject", resource=OBJECT).allowed


@pytest.mark.parametrize(
    ("cause", "kwargs"),
    [
        (
            "bucket policy lacks the reader",
            {
                "bucket_policy": policy(
                    stmt(principal=ROOT_A, action="s3:*", resource=f"{BUCKET}/*")
                )
            },
        ),
        (
            "reader IAM lacks s3:GetObject",
            {"reader_policies": [policy(stmt(action="kms:Decrypt", resource=KEY))]},
        ),
        (
            "reader IAM lacks kms:Decrypt",
            {"reader_policies": [policy(stmt(action="s3:GetObject", resource=f"{BUCKET}/*"))]},
        ),
        ("key policy lacks the reader", {"kp": DEFAULT_KP}),
    ],
)
def test_r8_1_each_missing_piece_is_an_access_denied(tmp_path, cause, kwargs):
    d = decide(_s3_world(tmp_path, **kwargs), SESSION_B, "s3:GetObject", resource=OBJECT)
    assert not d.allowed, cause


def test_r8_2_object_arn_conditions_stop_matching_with_a_bucket_key(tmp_path):
    cond = {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"{BUCKET}/reports/*"},
    }
    kp = policy(
        stmt(principal=ROOT_A), stmt(principal=ROOT_B, action="kms:Decrypt", condition=cond)
    )
    assert decide(_s3_world(tmp_path, kp=kp), SESSION_B, "s3:GetObject", resource=OBJECT).allowed
    assert not decide(
        _s3_world(tmp_path, kp=kp, bucket_key=True), SESSION_B, "s3:GetObject", resource=OBJECT
    ).allowed


def test_r8_5_aws_s3_managed_key_objects_cannot_be_read_across_accounts(tmp_path):
    w = _s3_world(tmp_path, kp=managed_key_policy("s3"), manager="AWS")
    assert not decide(w, SESSION_B, "s3:GetObject", resource=OBJECT).allowed


@pytest.mark.parametrize(
    ("state", "action", "fails"),
    [
        ("Disabled", "kms:Decrypt", True),
        ("Disabled", "kms:CreateGrant", True),
        ("Disabled", "kms:DescribeKey", False),
        ("Disabled", "kms:PutKeyPolicy", False),
        ("PendingDeletion", "kms:Encrypt", True),
        ("PendingDeletion", "kms:CancelKeyDeletion", False),
        ("PendingDeletion", "kms:TagResource", True),
        ("PendingImport", "kms:ImportKeyMaterial", False),
        ("PendingImport", "kms:Decrypt", True),
        ("Unavailable", "kms:Decrypt", True),
        ("Unavailable", "kms:CreateGrant", False),
        ("Creating", "kms:Encrypt", True),
        ("Updating", "kms:Decrypt", False),
        ("Updating", "kms:ScheduleKeyDeletion", True),
    ],
)
def test_r9_2_key_state_blocks_but_does_not_decide(tmp_path, state, action, fails):
    w = make_world(tmp_path, DEFAULT_KP, key={"state": state})
    d = decide(
        w,
        ROOT_A,
        action,
        {"kms:GrantOperations": ["Decrypt"]} if action == "kms:CreateGrant" else None,
    )
    assert d.allowed
    assert (d.blocked_by is not None) == fails, d.blocked_by


def test_r7_5_aws_managed_key_without_policy_gets_the_fixed_policy(tmp_path):
    import json

    doc = {"version": 1, "keys": [{"arn": KEY, "manager": "AWS", "aliases": ["alias/aws/ebs"]}]}
    (tmp_path / "w.json").write_text(json.dumps(doc))
    from kmsprove.inputs import load_world

    w = load_world(tmp_path / "w.json")
    assert decide(
        w, SESSION_A, context={"kms:ViaService": "ec2.us-east-1.amazonaws.com"}
    ).allowed  # EBS calls as ec2
    assert not decide(w, SESSION_A).allowed
    assert decide(w, ROOT_A, "kms:DescribeKey").allowed


def test_r9_3_key_policies_and_grants_are_regional_iam_is_global(tmp_path):
    import json

    from kmsprove.inputs import load_world

    west = KEY.replace("us-east-1", "us-west-2")
    ip = allow_ip(resource="arn:aws:kms:*:111122223333:key/*")  # IAM: every Region
    doc = {
        "version": 1,
        "accounts": {A: {"principals": {ROLE_A: {"policies": [ip]}}}},
        "keys": [
            {
                "arn": KEY,
                "policy": DEFAULT_KP,
                "grants": [{"GrantId": "g", "GranteePrincipal": ROLE_B, "Operations": ["Decrypt"]}],
            },
            {"arn": west, "policy": policy(stmt(principal=ROOT_A, action="kms:DescribeKey"))},
        ],
    }
    (tmp_path / "w.json").write_text(json.dumps(doc))
    w = load_world(tmp_path / "w.json")
    assert decide(w, SESSION_A, key=KEY).allowed  # delegated in us-east-1
    assert not decide(
        w, SESSION_A, key=west
    ).allowed  # us-west-2's key policy does not delegate Decrypt
    assert decide(w, SESSION_B, key=KEY).allowed  # the grant is on the us-east-1 key
    assert not decide(w, SESSION_B, key=west).allowed  # and only there


def test_r9_4_kms_service_linked_role_synchronizes_past_scps(tmp_path):
    # R9.4: KMS's service-linked role synchronizes multi-Region keys; SCPs do not restrict it
    slr = f"arn:aws:iam::{A}:role/aws-service-role/mrk.kms.amazonaws.com/AWSServiceRoleForKeyManagementServiceMultiRegionKeys"
    session = (
        f"arn:aws:sts::{A}:assumed-role/AWSServiceRoleForKeyManagementServiceMultiRegionKeys/s"
    )
    deny_all = policy(stmt("Deny", action="*", resource="*"))
    ip = {"policies": [allow_ip("kms:SynchronizeMultiRegionKey", "*")]}
    w = make_world(
        tmp_path,
        DEFAULT_KP,
        principals={slr: ip},
        key={"multi_region": True, "multi_region_key_type": "PRIMARY"},
        accounts={A: {"organization": "o-aaaaaaaaaa", "scps": [deny_all]}},
    )
    assert decide(w, session, "kms:SynchronizeMultiRegionKey").allowed
    # the same SCP stops an ordinary role of the account
    role = f"arn:aws:iam::{A}:role/app"
    w2 = make_world(
        tmp_path,
        DEFAULT_KP,
        principals={role: ip},
        key={"multi_region": True, "multi_region_key_type": "PRIMARY"},
        accounts={A: {"organization": "o-aaaaaaaaaa", "scps": [deny_all]}},
    )
    assert not decide(
        w2, f"arn:aws:sts::{A}:assumed-role/app/s", "kms:SynchronizeMultiRegionKey"
    ).allowed


def test_r9_3_key_policies_are_regional_and_iam_policies_global():
    """Two replicas' worth of Regions, one key id: each key answers to its own policy
    (Regional), while one identity policy with `arn:aws:kms:*:...` covers both."""
    from kmsprove.inputs.world_file import load_world_json
    from tests.support.builders import decide_both

    kid = "mrk-1234abcd12ab34cd56ef1234567890ab"
    east, west = (f"arn:aws:kms:{r}:{A}:key/{kid}" for r in ("us-east-1", "eu-west-1"))
    delegate = policy(stmt(principal=ROOT_A))
    names_role = policy(stmt(principal=ROOT_A), stmt(principal=ROLE_A, action="kms:Decrypt"))
    global_ip = allow_ip(resource=f"arn:aws:kms:*:{A}:key/*")
    w = load_world_json(
        {
            "version": 1,
            "keys": [
                {"arn": east, "policy": names_role, "multi_region": True},
                {"arn": west, "policy": delegate, "multi_region": True},
            ],
            "accounts": {A: {"complete": True, "principals": {ROLE_A: {"policies": []}}}},
        }
    )
    # the role is named by the us-east-1 key's policy only
    assert all(
        x.allowed if hasattr(x, "allowed") else x.value == "yes"
        for x in decide_both(w, SESSION_A, key=east)
    )
    d, v = decide_both(w, SESSION_A, key=west)
    assert not d.allowed and v.value == "no"
    # one identity policy, any Region: both keys delegate to the account
    w2 = load_world_json(
        {
            "version": 1,
            "keys": [
                {"arn": east, "policy": delegate, "multi_region": True},
                {"arn": west, "policy": delegate, "multi_region": True},
            ],
            "accounts": {A: {"complete": True, "principals": {ROLE_A: {"policies": [global_ip]}}}},
        }
    )
    for key in (east, west):
        d, v = decide_both(w2, SESSION_A, key=key)
        assert d.allowed and v.value == "yes", key
