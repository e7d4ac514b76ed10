"""kmsprove's answers to the open questions of kms-semantics.md section 10, pinned.

Each test names the item; docs/choices.md says what was chosen and why.
"""

from __future__ import annotations

from tests.support.builders import (
    DEFAULT_KP,
    KEY,
    ROOT_A,
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
CT = "cloudtrail.amazonaws.com"


def test_10_5_plain_wildcard_allow_is_not_capped_by_a_boundary(tmp_path):
    boundary = policy(stmt(action="s3:*", resource="*"))
    w = make_world(
        tmp_path,
        policy(stmt(principal="*", action="kms:Decrypt")),
        principals={ROLE_A: {"boundary": boundary}},
    )
    d = decide(w, SESSION_A)
    assert d.allowed
    assert any("10.5" in note for note in d.warnings)


def test_10_6_wildcard_principal_matches_service_principals(tmp_path):
    w = make_world(tmp_path, policy(stmt(principal="*", action="kms:GenerateDataKey")))
    assert decide(w, CT, "kms:GenerateDataKey").allowed


def test_10_11_iam_only_condition_keys_are_absent_in_a_key_policy(tmp_path):
    cond = {"StringEquals": {"aws:ResourceTag/Env": "prod"}}
    kp = policy(stmt(principal=ROLE_A, action="kms:Decrypt", condition=cond))
    w = make_world(tmp_path, kp, principals={ROLE_A: {}}, key={"tags": {"Env": "prod"}})
    assert not decide(w, SESSION_A).allowed
    ip = allow_ip(condition=cond)
    w2 = make_world(
        tmp_path, DEFAULT_KP, principals={ROLE_A: {"policies": [ip]}}, key={"tags": {"Env": "prod"}}
    )
    assert decide(w2, SESSION_A).allowed  # the same condition works in IAM


def test_10_14_source_arn_constraint_does_not_bind_a_direct_grantee(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_A,
        "Operations": ["Decrypt"],
        "Constraints": {"SourceArn": f"arn:aws:rds:us-east-1:{A}:db:x"},
    }
    w = make_world(tmp_path, policy(stmt(principal=ROOT_A, action="kms:DescribeKey")), grants=[g])
    assert decide(w, SESSION_A).allowed


def test_10_15_called_via_on_a_forwarded_call_is_per_effect(tmp_path):
    allow_cond = {"ForAnyValue:StringEquals": {"aws:CalledVia": "s3.amazonaws.com"}}
    via = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    w = make_world(
        tmp_path,
        policy(stmt(principal=ROLE_A, action="kms:Decrypt", condition=allow_cond)),
        principals={ROLE_A: {}},
    )
    assert decide(w, SESSION_A, context=via).allowed  # holds in an Allow
    deny = policy(
        stmt(principal=ROLE_A, action="kms:Decrypt"),
        stmt("Deny", principal="*", action="kms:Decrypt", condition=allow_cond),
    )
    w2 = make_world(tmp_path, deny, principals={ROLE_A: {}})
    assert decide(w2, SESSION_A, context=via).allowed  # fails in a Deny
    assert decide(w2, SESSION_A).allowed  # a direct call has no aws:CalledVia


def test_10_18_rcps_do_not_bind_service_principals(tmp_path):
    rcp = policy(stmt("Deny", principal="*", action="kms:*"))
    kp = policy(stmt(principal={"Service": CT}, action="kms:GenerateDataKey"))
    w = make_world(tmp_path, kp, accounts={A: {"organization": "o-aaaaaaaaaa", "rcps": [rcp]}})
    assert decide(w, CT, "kms:GenerateDataKey").allowed


def test_10_22_grant_is_for_aws_resource_on_a_direct_call_is_per_effect(tmp_path):
    true_cond = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    kp = policy(stmt(principal=ROLE_A, action="kms:CreateGrant", condition=true_cond))
    w = make_world(tmp_path, kp, principals={ROLE_A: {}})
    ops = {"kms:GrantOperations": ["Decrypt"]}
    assert not decide(w, SESSION_A, "kms:CreateGrant", ops).allowed  # false or absent: never true
    via = {
        **ops,
        "kms:ViaService": "ebs.us-east-1.amazonaws.com",
        "kms:GrantIsForAWSResource": "true",
    }
    assert decide(w, SESSION_A, "kms:CreateGrant", via).allowed
    false_cond = {"Bool": {"kms:GrantIsForAWSResource": "false"}}
    deny = policy(
        stmt(principal=ROLE_A, action="kms:CreateGrant"),
        stmt("Deny", principal="*", action="kms:CreateGrant", condition=false_cond),
    )
    w2 = make_world(tmp_path, deny, principals={ROLE_A: {}})
    assert decide(
        w2, SESSION_A, "kms:CreateGrant", ops
    ).allowed  # absent or false: a Deny on "false" fails


def test_grantee_shown_as_a_service_principal_may_cover_anyone_r4_3(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": "rds.us-east-1.amazonaws.com",
        "Operations": ["Decrypt"],
    }
    w = make_world(tmp_path, policy(stmt(principal=ROOT_A, action="kms:DescribeKey")), grants=[g])
    d = decide(w, SESSION_B)
    assert d.allowed


def test_10_2_s3_default_key_given_as_alias_is_unknown(tmp_path):
    bucket = {
        "arn": "arn:aws:s3:::shared",
        "account": A,
        "region": "us-east-1",
        "kms_key": "alias/shared",
        "policy": policy(
            stmt(principal="*", action="s3:GetObject", resource="arn:aws:s3:::shared/*")
        ),
    }
    w = make_world(tmp_path, DEFAULT_KP, buckets=[bucket])
    d = decide(w, ROOT_A, "s3:GetObject", resource="arn:aws:s3:::shared/o")
    assert not d.allowed and "unknown key" in d.reason


def test_10_4_issuing_account_principals_retire_through_iam(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_A,
        "Operations": ["Decrypt"],
        "IssuingAccount": f"arn:aws:iam::{B}:root",
    }
    w = make_world(
        tmp_path,
        DEFAULT_KP,
        grants=[g],
        principals={ROLE_B: {"policies": [allow_ip("kms:RetireGrant", resource=KEY)]}},
    )
    assert decide(w, SESSION_B, "kms:RetireGrant", grant_id="g").allowed
    assert not decide(
        w, f"arn:aws:sts::{B}:assumed-role/NoIam/s", "kms:RetireGrant", grant_id="g"
    ).allowed
