"""Golden tests for kms-semantics.md sections 2 (principals) and 4 (grants)."""

from __future__ import annotations

from tests.support.builders import (
    DEFAULT_KP,
    ROOT_A,
    ROOT_B,
    A,
    B,
    C,
    allow_ip,
    decide,
    make_world,
    policy,
    stmt,
)

ROLE_A = f"arn:aws:iam::{A}:role/app"
SESSION_A = f"arn:aws:sts::{A}:assumed-role/app/s1"
USER_A = f"arn:aws:iam::{A}:user/alice"
ROLE_B = f"arn:aws:iam::{B}:role/Reader"
SESSION_B = f"arn:aws:sts::{B}:assumed-role/Reader/s1"
CT = "cloudtrail.amazonaws.com"


def test_r2_3_role_with_path_covers_sessions_without_path(tmp_path):
    role = f"arn:aws:iam::{A}:role/team/app"
    w = make_world(
        tmp_path, policy(stmt(principal=role, action="kms:Decrypt")), principals={role: {}}
    )
    assert decide(w, SESSION_A).allowed


def test_r2_3_principal_arn_of_a_session_is_the_role_arn(tmp_path):
    role = f"arn:aws:iam::{A}:role/team/app"
    cond = {"ArnEquals": {"aws:PrincipalArn": role}}
    w = make_world(
        tmp_path,
        policy(stmt(principal="*", action="kms:Decrypt", condition=cond)),
        principals={role: {}},
    )
    assert decide(w, SESSION_A).allowed


def test_r2_6_federated_principal_matches_no_kms_caller(tmp_path):
    kp = policy(
        stmt(principal={"Federated": "cognito-identity.amazonaws.com"}, action="kms:Decrypt")
    )
    w = make_world(tmp_path, kp)
    assert not decide(w, SESSION_A).allowed


def test_r2_6_federated_user_session_of_a_named_user_is_capped_by_session_policy(tmp_path):
    from kmsprove.ast import PolicyKind
    from kmsprove.syntax.json import parse_json
    from kmsprove.syntax.policy import build_policy

    kp = policy(stmt(principal=USER_A, action="kms:Decrypt"))
    w = make_world(tmp_path, kp, principals={USER_A: {}})
    fed = f"arn:aws:sts::{A}:federated-user/alice"
    s3_only, _ = build_policy(
        parse_json(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
        ),
        PolicyKind.SESSION,
    )
    kms_ok, _ = build_policy(
        parse_json(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}'
        ),
        PolicyKind.SESSION,
    )
    assert not decide(w, fed, session_policy=s3_only, federated_from=USER_A).allowed
    assert decide(w, fed, session_policy=kms_ok, federated_from=USER_A).allowed


def test_r2_7_service_principal_needs_only_the_key_policy(tmp_path):
    kp = policy(
        stmt(principal=ROOT_A), stmt(principal={"Service": CT}, action="kms:GenerateDataKey*")
    )
    w = make_world(tmp_path, kp)
    assert decide(w, CT, "kms:GenerateDataKey").allowed
    assert not decide(w, CT, "kms:Decrypt").allowed
    assert not decide(w, "logs.amazonaws.com", "kms:GenerateDataKey").allowed


def test_r2_7_source_account_condition_pins_the_service(tmp_path):
    cond = {"StringEquals": {"aws:SourceAccount": A}}
    kp = policy(stmt(principal={"Service": CT}, action="kms:GenerateDataKey*", condition=cond))
    w = make_world(tmp_path, kp)
    assert decide(w, CT, "kms:GenerateDataKey", {"aws:SourceAccount": A}).allowed
    assert not decide(w, CT, "kms:GenerateDataKey", {"aws:SourceAccount": B}).allowed


def test_r2_8_wildcard_same_account_needs_nothing_more(tmp_path):
    w = make_world(
        tmp_path, policy(stmt(principal="*", action="kms:Decrypt")), principals={ROLE_A: {}}
    )
    assert decide(w, SESSION_A).allowed


def test_r2_8_wildcard_external_caller_still_needs_its_iam(tmp_path):
    w = make_world(
        tmp_path,
        policy(stmt(principal="*", action="kms:Decrypt")),
        principals={ROLE_B: {"policies": [allow_ip()]}},
    )
    assert decide(w, SESSION_B).allowed
    assert not decide(w, f"arn:aws:sts::{C}:assumed-role/x/s").allowed


def test_r2_8_wildcard_with_caller_account_is_the_safe_idiom(tmp_path):
    cond = {"StringEquals": {"kms:CallerAccount": A}}
    kp = policy(stmt(principal="*", action="kms:Decrypt", condition=cond))
    w = make_world(tmp_path, kp, principals={ROLE_B: {"policies": [allow_ip()]}, ROLE_A: {}})
    assert decide(w, SESSION_A).allowed
    assert not decide(w, SESSION_B).allowed


def test_r2_9_deny_not_principal_denies_everyone_else(tmp_path):
    kp = policy(
        stmt(principal="*", action="kms:Decrypt"),
        stmt("Deny", principal=None, action="kms:Decrypt", NotPrincipal={"AWS": [ROLE_A, ROOT_A]}),
    )
    w = make_world(tmp_path, kp, principals={ROLE_A: {}, USER_A: {}})
    assert decide(w, SESSION_A).allowed
    assert not decide(w, USER_A).allowed


def test_r2_9_not_principal_never_exempts_a_caller_with_a_boundary(tmp_path):
    kp = policy(
        stmt(principal="*", action="kms:Decrypt"),
        stmt("Deny", principal=None, action="kms:Decrypt", NotPrincipal={"AWS": [ROLE_A, ROOT_A]}),
    )
    boundary = policy(stmt(action="kms:*", resource="*"))
    w = make_world(tmp_path, kp, principals={ROLE_A: {"boundary": boundary}})
    assert not decide(w, SESSION_A).allowed


def test_r4_3_role_grantee_covers_its_sessions_and_user_grantee_itself(tmp_path):
    grants = [
        {"GrantId": "g1", "GranteePrincipal": ROLE_A, "Operations": ["Decrypt"]},
        {"GrantId": "g2", "GranteePrincipal": USER_A, "Operations": ["Encrypt"]},
    ]
    w = make_world(tmp_path, policy(stmt(principal=f"arn:aws:iam::{A}:role/admin")), grants=grants)
    assert decide(w, SESSION_A).allowed
    assert decide(w, USER_A, "kms:Encrypt").allowed
    assert not decide(w, USER_A, "kms:Decrypt").allowed


def test_r4_3_grantee_service_principal_covers_only_that_service(tmp_path):
    arn = f"arn:aws:rds:us-east-1:{A}:db:x"
    g = {
        "GrantId": "g",
        "GranteeServicePrincipal": "rds.amazonaws.com",
        "RetiringServicePrincipal": "rds.amazonaws.com",
        "Operations": ["Decrypt"],
        "Constraints": {"SourceArn": arn},
    }
    w = make_world(tmp_path, policy(stmt(principal=ROOT_A, action="kms:DescribeKey")), grants=[g])
    assert decide(w, "rds.amazonaws.com", context={"aws:SourceArn": arn}).allowed
    assert not decide(w, "rds.amazonaws.com", context={"aws:SourceArn": arn + "2"}).allowed
    assert not decide(w, SESSION_A).allowed


def test_r4_5_subset_allows_extra_pairs_equals_does_not(tmp_path):
    grants = [
        {
            "GrantId": "sub",
            "GranteePrincipal": ROLE_A,
            "Operations": ["Decrypt"],
            "Constraints": {"EncryptionContextSubset": {"Department": "IT"}},
        },
        {
            "GrantId": "eq",
            "GranteePrincipal": USER_A,
            "Operations": ["Decrypt"],
            "Constraints": {"EncryptionContextEquals": {"Department": "IT"}},
        },
    ]
    w = make_world(tmp_path, policy(stmt(principal=f"arn:aws:iam::{A}:role/admin")), grants=grants)
    two = {"kms:EncryptionContext:Department": "IT", "kms:EncryptionContext:Purpose": "Test"}
    one = {"kms:EncryptionContext:Department": "IT"}
    assert decide(w, SESSION_A, context=two).allowed
    assert not decide(
        w, SESSION_A, context={"kms:EncryptionContext:Department": "it"}
    ).allowed  # values exact
    assert not decide(w, USER_A, context=two).allowed
    assert decide(w, USER_A, context=one).allowed
    assert not decide(w, SESSION_A).allowed  # no EC at all


def test_r4_5_constraint_key_case_is_insensitive_10_1(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_A,
        "Operations": ["Decrypt"],
        "Constraints": {"EncryptionContextSubset": {"Department": "IT"}},
    }
    w = make_world(tmp_path, policy(stmt(principal=ROOT_A, action="kms:DescribeKey")), grants=[g])
    assert decide(w, SESSION_A, context={"kms:EncryptionContext:department": "IT"}).allowed


def test_r4_5_ec_constraint_does_not_bind_describe_key(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_A,
        "Operations": ["DescribeKey"],
        "Constraints": {"EncryptionContextEquals": {"a": "b"}},
    }
    w = make_world(tmp_path, policy(stmt(principal=ROOT_A, action="kms:Decrypt")), grants=[g])
    assert decide(w, SESSION_A, "kms:DescribeKey").allowed


def test_r4_5_ec_constraint_is_no_constraint_on_asymmetric_keys_10_26(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_A,
        "Operations": ["Decrypt"],
        "Constraints": {"EncryptionContextEquals": {"a": "b"}},
    }
    w = make_world(
        tmp_path,
        policy(stmt(principal=ROOT_A, action="kms:DescribeKey")),
        grants=[g],
        key={"key_spec": "RSA_2048", "key_usage": "ENCRYPT_DECRYPT"},
    )
    assert decide(w, SESSION_A).allowed


def test_r4_6_grant_made_grants_stay_within_the_parent(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_A,
        "Operations": ["Decrypt", "CreateGrant"],
        "Constraints": {"EncryptionContextSubset": {"Department": "IT"}},
    }
    w = make_world(tmp_path, policy(stmt(principal=ROOT_A, action="kms:DescribeKey")), grants=[g])
    within = {
        "kms:GrantOperations": ["Decrypt"],
        "kms:GrantConstraintType": "EncryptionContextSubset",
        "kms:EncryptionContext:Department": "IT",
    }
    assert decide(w, SESSION_A, "kms:CreateGrant", within).allowed
    wider = dict(within, **{"kms:GrantOperations": ["Decrypt", "Encrypt"]})
    assert not decide(w, SESSION_A, "kms:CreateGrant", wider).allowed
    no_constraint = {"kms:GrantOperations": ["Decrypt"]}
    assert not decide(w, SESSION_A, "kms:CreateGrant", no_constraint).allowed


def test_r4_7_retiring_principal_may_retire_even_across_accounts(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_A,
        "RetiringPrincipal": ROLE_B,
        "Operations": ["Decrypt"],
        "IssuingAccount": ROOT_A,
    }
    w = make_world(tmp_path, DEFAULT_KP, grants=[g])
    assert decide(w, SESSION_B, "kms:RetireGrant", grant_id="g").allowed
    assert not decide(
        w, f"arn:aws:sts::{B}:assumed-role/Other/s", "kms:RetireGrant", grant_id="g"
    ).allowed


def test_r4_7_grantee_retires_only_with_retire_grant_in_operations(tmp_path):
    g1 = {
        "GrantId": "g1",
        "GranteePrincipal": ROLE_B,
        "Operations": ["Decrypt", "RetireGrant"],
        "IssuingAccount": ROOT_A,
    }
    g2 = {
        "GrantId": "g2",
        "GranteePrincipal": ROLE_B,
        "Operations": ["Decrypt"],
        "IssuingAccount": ROOT_A,
    }
    w = make_world(tmp_path, DEFAULT_KP, grants=[g1, g2])
    assert decide(w, SESSION_B, "kms:RetireGrant", grant_id="g1").allowed
    assert not decide(w, SESSION_B, "kms:RetireGrant", grant_id="g2").allowed


def test_r4_7_key_account_principal_retires_through_iam_and_key_policy_has_no_say(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_B,
        "Operations": ["Decrypt"],
        "IssuingAccount": ROOT_A,
    }
    kp = policy(
        stmt(principal=ROOT_A, action="kms:DescribeKey"),
        stmt(principal=ROLE_A, action="kms:RetireGrant"),
    )
    w = make_world(
        tmp_path,
        kp,
        grants=[g],
        principals={ROLE_A: {}, USER_A: {"policies": [allow_ip("kms:RetireGrant")]}},
    )
    assert not decide(
        w, SESSION_A, "kms:RetireGrant", grant_id="g"
    ).allowed  # KP RetireGrant is inert
    assert decide(w, USER_A, "kms:RetireGrant", grant_id="g").allowed
    assert decide(w, ROOT_A, "kms:RetireGrant", grant_id="g").allowed  # issuing account root


def test_r4_7_iam_deny_blocks_retiring(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_A,
        "RetiringPrincipal": ROLE_A,
        "Operations": ["Decrypt"],
    }
    deny = policy(stmt("Deny", action="kms:RetireGrant", resource="*"))
    w = make_world(tmp_path, DEFAULT_KP, grants=[g], principals={ROLE_A: {"policies": [deny]}})
    assert not decide(w, SESSION_A, "kms:RetireGrant", grant_id="g").allowed


def test_r4_7_revoke_grant_is_a_policy_action(tmp_path):
    g = {
        "GrantId": "g",
        "GranteePrincipal": ROLE_A,
        "RetiringPrincipal": ROLE_A,
        "Operations": ["RetireGrant"],
    }
    w = make_world(
        tmp_path,
        policy(stmt(principal=ROLE_A, action="kms:Decrypt")),
        grants=[g],
        principals={ROLE_A: {}},
    )
    assert not decide(w, SESSION_A, "kms:RevokeGrant", grant_id="g").allowed


def test_grant_to_external_account_root_covers_its_users(tmp_path):
    g = {"GrantId": "g", "GranteePrincipal": ROOT_B, "Operations": ["Decrypt"]}
    w = make_world(tmp_path, DEFAULT_KP, grants=[g])
    assert decide(w, f"arn:aws:iam::{B}:user/bob").allowed


def test_r2_2_user_with_a_path_and_a_group_is_never_a_principal(tmp_path):
    user = f"arn:aws:iam::{A}:user/division/alice"
    w = make_world(
        tmp_path, policy(stmt(principal=user, action="kms:Decrypt")), principals={user: {}}
    )
    assert decide(w, user).allowed
    assert not decide(w, f"arn:aws:iam::{A}:user/alice").allowed  # another path, another user
    from kmsprove.errors import InputError

    group = policy(stmt(principal=f"arn:aws:iam::{A}:group/Developers", action="kms:Decrypt"))
    try:
        make_world(tmp_path, group)
    except InputError as exc:
        assert "IAM group" in str(exc)
    else:
        raise AssertionError("a group as principal must be rejected (R2.2)")


def test_r2_10_principals_in_one_element_are_ored(tmp_path):
    kp = policy(
        stmt(
            principal={"AWS": [ROLE_A, USER_A], "Service": "cloudtrail.amazonaws.com"},
            action="kms:Decrypt",
        )
    )
    w = make_world(tmp_path, kp, principals={ROLE_A: {}, USER_A: {}})
    assert decide(w, SESSION_A).allowed
    assert decide(w, USER_A).allowed
    assert decide(w, "cloudtrail.amazonaws.com").allowed
    assert not decide(w, f"arn:aws:iam::{A}:user/bob").allowed


def test_r2_10_principals_listed_in_one_element_are_ored(tmp_path):
    from tests.support.builders import decide_both

    other = f"arn:aws:iam::{A}:role/other"
    kp = policy(stmt(principal=[ROLE_B, ROLE_A], action="kms:Decrypt"))
    reads = {"policies": [allow_ip()]}
    w = make_world(
        tmp_path,
        kp,
        principals={ROLE_A: {}, other: reads},
        accounts={B: {"principals": {ROLE_B: reads}}},
    )
    for caller, allowed in (
        (SESSION_A, True),
        (SESSION_B, True),
        (f"arn:aws:sts::{A}:assumed-role/other/s", False),
    ):
        decision, verdict = decide_both(w, caller)
        assert decision.allowed is allowed, caller
        assert (verdict.value == "yes") is allowed, caller
