"""Golden tests for kms-semantics.md section 1 (the decision procedure), one per rule."""

from __future__ import annotations

from kmsprove.evaluate.context import complete_request
from kmsprove.request import Request
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


def test_r1_1_default_deny_even_for_root_without_a_statement(tmp_path):
    w = make_world(
        tmp_path, policy(stmt(principal=f"arn:aws:iam::{A}:user/other", action="kms:Decrypt"))
    )
    d = decide(w, ROOT_A)
    assert not d.allowed


def test_r1_2_a_role_arn_is_not_a_caller_its_sessions_are(tmp_path):
    # kmsprove reads a role ARN given as the caller as one of its sessions (docs/choices.md)
    w = make_world(tmp_path, policy(stmt(principal=ROLE_A, action="kms:Decrypt")))
    as_role = decide(w, ROLE_A)
    session = ROLE_A.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + "/kmsprove"
    assert as_role.allowed == decide(w, session).allowed
    # the request is completed as the session's, for both twins, and says so
    req = complete_request(w, Request(ROLE_A, "kms:Decrypt", key=w.keys[0].arn))
    assert req.principal == session and any(session in note for note in req.notes)


def test_r1_3_explicit_deny_in_identity_policy_wins_without_delegation(tmp_path):
    kp = policy(stmt(principal=ROLE_A, action="kms:Decrypt"))
    ip = policy(stmt("Deny", action="kms:Decrypt", resource="*"))
    w = make_world(tmp_path, kp, principals={ROLE_A: {"policies": [ip]}})
    d = decide(w, SESSION_A)
    assert not d.allowed
    assert "Deny" in d.reason


def test_r1_3_deny_in_key_policy_beats_grant(tmp_path):
    kp = policy(stmt(principal=ROOT_A), stmt("Deny", principal="*", action="kms:Decrypt"))
    grant = {"GrantId": "g", "GranteePrincipal": ROLE_A, "Operations": ["Decrypt"]}
    w = make_world(tmp_path, kp, grants=[grant])
    assert not decide(w, SESSION_A).allowed


def test_r1_4_account_principal_delegates_to_iam(tmp_path):
    w = make_world(
        tmp_path, DEFAULT_KP, principals={ROLE_A: {"policies": [allow_ip()]}, USER_A: {}}
    )
    assert decide(w, SESSION_A).allowed
    assert not decide(w, USER_A).allowed  # no IAM allow


def test_r1_4_account_principal_allows_root_directly(tmp_path):
    w = make_world(tmp_path, DEFAULT_KP)
    assert decide(w, ROOT_A).allowed


def test_r1_4_bare_account_id_means_account_principal(tmp_path):
    w = make_world(
        tmp_path, policy(stmt(principal=A)), principals={ROLE_A: {"policies": [allow_ip()]}}
    )
    assert decide(w, SESSION_A).allowed


def test_r1_5_key_policy_naming_the_role_suffices_without_iam(tmp_path):
    w = make_world(
        tmp_path, policy(stmt(principal=ROLE_A, action="kms:Decrypt")), principals={ROLE_A: {}}
    )
    assert decide(w, SESSION_A).allowed


def test_r1_5_iam_allow_without_key_policy_allow_never_works(tmp_path):
    kp = policy(stmt(principal=f"arn:aws:iam::{A}:role/admin"))
    w = make_world(tmp_path, kp, principals={ROLE_A: {"policies": [allow_ip(resource="*")]}})
    d = decide(w, SESSION_A)
    assert not d.allowed


def test_r1_6_role_arn_allow_is_capped_by_boundary(tmp_path):
    kp = policy(stmt(principal=ROLE_A, action="kms:Decrypt"))
    boundary = policy(stmt(action="s3:*", resource="*"))
    w = make_world(tmp_path, kp, principals={ROLE_A: {"boundary": boundary}})
    assert not decide(w, SESSION_A).allowed


def test_r1_6_user_arn_allow_is_not_capped_by_boundary(tmp_path):
    kp = policy(stmt(principal=USER_A, action="kms:Decrypt"))
    boundary = policy(stmt(action="s3:*", resource="*"))
    w = make_world(tmp_path, kp, principals={USER_A: {"boundary": boundary}})
    assert decide(w, USER_A).allowed


def test_r1_6_session_arn_allow_is_not_capped_by_boundary(tmp_path):
    kp = policy(stmt(principal=SESSION_A, action="kms:Decrypt"))
    boundary = policy(stmt(action="s3:*", resource="*"))
    w = make_world(tmp_path, kp, principals={ROLE_A: {"boundary": boundary}})
    assert decide(w, SESSION_A).allowed
    assert not decide(w, f"arn:aws:sts::{A}:assumed-role/app/other").allowed


def test_r1_6_role_arn_allow_is_capped_by_session_policy(tmp_path):
    from kmsprove.ast import PolicyKind
    from kmsprove.syntax.json import parse_json
    from kmsprove.syntax.policy import build_policy

    kp = policy(stmt(principal=ROLE_A, action="kms:Decrypt"))
    w = make_world(tmp_path, kp, principals={ROLE_A: {}})
    sp, _ = build_policy(
        parse_json(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
        ),
        PolicyKind.SESSION,
    )
    assert not decide(w, SESSION_A, session_policy=sp).allowed
    assert decide(w, SESSION_A).allowed


def test_r1_6_account_principal_path_is_capped_by_boundary(tmp_path):
    boundary = policy(stmt(action="s3:*", resource="*"))
    w = make_world(
        tmp_path, DEFAULT_KP, principals={ROLE_A: {"policies": [allow_ip()], "boundary": boundary}}
    )
    assert not decide(w, SESSION_A).allowed


def test_r1_7_cross_account_needs_both_sides(tmp_path):
    kp = policy(stmt(principal=ROOT_A), stmt(principal=ROOT_B, action="kms:Decrypt"))
    w = make_world(tmp_path, kp, principals={ROLE_B: {"policies": [allow_ip()]}})
    assert decide(w, SESSION_B).allowed
    assert not decide(w, f"arn:aws:sts::{B}:assumed-role/Other/s").allowed  # no IAM side


def test_r1_7_naming_the_external_role_exactly_still_needs_its_iam(tmp_path):
    kp = policy(stmt(principal=ROLE_B, action="kms:Decrypt"))
    w = make_world(tmp_path, kp, principals={ROLE_B: {}})
    assert not decide(w, SESSION_B).allowed


def test_r1_7_iam_resource_must_cover_the_key_arn(tmp_path):
    kp = policy(stmt(principal=ROOT_B, action="kms:Decrypt"))
    other_key = f"arn:aws:kms:us-east-1:{A}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    w = make_world(tmp_path, kp, principals={ROLE_B: {"policies": [allow_ip(resource=other_key)]}})
    assert not decide(w, SESSION_B).allowed


def test_r1_7_actions_absent_from_the_key_policy_do_nothing(tmp_path):
    kp = policy(stmt(principal=ROOT_B, action="kms:Encrypt"))
    w = make_world(tmp_path, kp, principals={ROLE_B: {"policies": [allow_ip(action="kms:*")]}})
    assert not decide(w, SESSION_B, "kms:Decrypt").allowed
    assert decide(w, SESSION_B, "kms:Encrypt").allowed


def test_r1_8_opt_in_region_not_enabled_in_caller_account(tmp_path):
    kp = policy(stmt(principal=ROOT_B, action="kms:Decrypt"))
    accounts = {B: {"enabled_regions": ["us-west-2"]}}
    w = make_world(tmp_path, kp, principals={ROLE_B: {"policies": [allow_ip()]}}, accounts=accounts)
    assert not decide(w, SESSION_B).allowed


def test_r1_9_grant_allows_without_policies(tmp_path):
    kp = policy(stmt(principal=f"arn:aws:iam::{A}:role/admin"))
    grant = {"GrantId": "g", "GranteePrincipal": ROLE_B, "Operations": ["Decrypt"]}
    w = make_world(tmp_path, kp, grants=[grant])
    assert decide(w, SESSION_B).allowed
    assert not decide(w, SESSION_B, "kms:Encrypt").allowed


def test_r1_10_scp_deny_binds_root_and_principals(tmp_path):
    scp = policy(stmt(sid="All", action="*"), stmt("Deny", action="kms:Decrypt"))
    accounts = {A: {"organization": "o-aaaaaaaaaa", "scps": [scp]}}
    w = make_world(tmp_path, DEFAULT_KP, accounts=accounts)
    d = decide(w, ROOT_A)
    assert not d.allowed
    assert "SCP" in d.reason


def test_r1_10_scp_without_allow_path_blocks(tmp_path):
    scp = policy(stmt(action="s3:*"))
    accounts = {A: {"organization": "o-aaaaaaaaaa", "scps": [scp]}}
    w = make_world(tmp_path, DEFAULT_KP, accounts=accounts)
    assert not decide(w, ROOT_A).allowed


def test_r1_10_scp_does_not_apply_in_management_account(tmp_path):
    scp = policy(stmt(action="*"), stmt("Deny", action="kms:*"))
    accounts = {A: {"organization": "o-aaaaaaaaaa", "management": True, "scps": [scp]}}
    w = make_world(tmp_path, DEFAULT_KP, accounts=accounts)
    assert decide(w, ROOT_A).allowed


def test_r1_10_key_account_scp_does_not_bind_external_callers(tmp_path):
    scp = policy(stmt(action="*"), stmt("Deny", action="kms:*"))
    kp = policy(stmt(principal=ROOT_B, action="kms:Decrypt"))
    accounts = {A: {"organization": "o-aaaaaaaaaa", "scps": [scp]}}
    w = make_world(tmp_path, kp, accounts=accounts, principals={ROLE_B: {"policies": [allow_ip()]}})
    assert decide(w, SESSION_B).allowed


def test_r1_10_rcp_deny_binds_external_callers(tmp_path):
    rcp = policy(
        stmt(
            "Deny",
            principal="*",
            action="kms:*",
            condition={"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"}},
        )
    )
    kp = policy(stmt(principal=ROOT_B, action="kms:Decrypt"))
    accounts = {A: {"organization": "o-aaaaaaaaaa", "rcps": [rcp]}}
    w = make_world(tmp_path, kp, accounts=accounts, principals={ROLE_B: {"policies": [allow_ip()]}})
    assert not decide(w, SESSION_B).allowed


def test_r1_10_rcp_does_not_apply_to_aws_managed_keys(tmp_path):
    rcp = policy(stmt("Deny", principal="*", action="kms:*"))
    accounts = {A: {"organization": "o-aaaaaaaaaa", "rcps": [rcp]}}
    w = make_world(tmp_path, DEFAULT_KP, accounts=accounts, key={"manager": "AWS"})
    assert decide(w, ROOT_A).allowed


def test_r1_10_vpc_endpoint_policy_caps(tmp_path):
    vpce = policy(stmt(principal="*", action="kms:Encrypt"))
    kp = policy(stmt(principal=ROLE_A, action="kms:*"))
    w = make_world(tmp_path, kp, principals={ROLE_A: {}}, vpc_endpoints={"vpce-1": vpce})
    assert not decide(w, SESSION_A, via_vpce="vpce-1").allowed
    assert decide(w, SESSION_A, "kms:Encrypt", via_vpce="vpce-1").allowed
    assert decide(w, SESSION_A).allowed  # not through the endpoint


def test_r1_11_key_policy_statement_without_resource_is_inert(tmp_path):
    kp = policy(stmt(principal=ROLE_A, action="kms:Decrypt", resource=None))
    w = make_world(tmp_path, kp, principals={ROLE_A: {}})
    assert not decide(w, SESSION_A).allowed


def test_r1_11_alias_arn_in_iam_resource_does_not_cover_the_key(tmp_path):
    alias_arn = f"arn:aws:kms:us-east-1:{A}:alias/app"
    w = make_world(
        tmp_path,
        DEFAULT_KP,
        principals={ROLE_A: {"policies": [allow_ip(resource=alias_arn)]}},
        key={"aliases": ["alias/app"]},
    )
    assert not decide(w, SESSION_A).allowed


def test_r1_12_allowed_but_disabled_key_reports_block(tmp_path):
    w = make_world(tmp_path, DEFAULT_KP, key={"state": "Disabled"})
    d = decide(w, ROOT_A)
    assert d.allowed
    assert d.blocked_by is not None and "Disabled" in d.blocked_by
    assert decide(w, ROOT_A, "kms:DescribeKey").blocked_by is None


def test_r3_5_key_type_makes_the_call_impossible_so_deny(tmp_path):
    # kmsprove's choice (docs/choices.md): a key's type never changes, so an
    # operation it cannot perform is denied rather than "allowed but failing"
    w = make_world(tmp_path, DEFAULT_KP, key={"key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"})
    assert decide(w, ROOT_A, "kms:Sign").allowed
    d = decide(w, ROOT_A, "kms:Decrypt")
    assert not d.allowed and "key type" in d.reason
    grant_sign = {"kms:GrantOperations": ["Sign"]}
    sym = make_world(tmp_path, DEFAULT_KP)
    assert not decide(sym, ROOT_A, "kms:CreateGrant", grant_sign).allowed
    assert decide(sym, ROOT_A, "kms:CreateGrant", {"kms:GrantOperations": ["Decrypt"]}).allowed


def test_r1_14_aws_ram_key_policy_counts_and_recipient_needs_iam(tmp_path):
    ram = policy(stmt(principal=ROOT_B, action=["kms:Decrypt"], sid="AWSRAMShare"))
    w = make_world(
        tmp_path,
        DEFAULT_KP,
        key={"aws_ram_policy": ram},
        principals={ROLE_B: {"policies": [allow_ip()]}},
    )
    assert decide(w, SESSION_B).allowed
    assert not decide(w, f"arn:aws:sts::{B}:assumed-role/NoIam/s").allowed


def test_r1_14_deny_in_aws_ram_key_policy_counts(tmp_path):
    ram = policy(stmt("Deny", principal="*", action="kms:Decrypt"))
    w = make_world(tmp_path, DEFAULT_KP, key={"aws_ram_policy": ram})
    assert not decide(w, ROOT_A).allowed


def test_r3_2_non_cross_account_action_is_inert_for_another_account(tmp_path):
    kp = policy(stmt(principal=ROOT_B, action="kms:*"))
    w = make_world(tmp_path, kp, principals={ROLE_B: {"policies": [allow_ip(action="kms:*")]}})
    assert decide(w, SESSION_B, "kms:Decrypt").allowed
    d = decide(w, SESSION_B, "kms:ScheduleKeyDeletion")
    assert not d.allowed and "R3.2" in d.reason
    assert not decide(w, ROOT_B, "kms:PutKeyPolicy").allowed


def test_other_account_grantee_needs_no_iam_10_3(tmp_path):
    grant = {"GrantId": "g", "GranteePrincipal": ROOT_B, "Operations": ["Decrypt"]}
    w = make_world(tmp_path, DEFAULT_KP, grants=[grant])
    assert decide(w, SESSION_B).allowed  # an account grantee covers its principals


def test_grant_is_capped_by_caller_scp_but_not_by_boundary_10_3(tmp_path):
    grant = {"GrantId": "g", "GranteePrincipal": ROLE_B, "Operations": ["Decrypt"]}
    boundary = policy(stmt(action="s3:*", resource="*"))
    w = make_world(
        tmp_path, DEFAULT_KP, grants=[grant], principals={ROLE_B: {"boundary": boundary}}
    )
    assert decide(w, SESSION_B).allowed
    scp = policy(stmt(action="*"), stmt("Deny", action="kms:Decrypt"))
    w2 = make_world(
        tmp_path,
        DEFAULT_KP,
        grants=[grant],
        accounts={B: {"organization": "o-bbbbbbbbbb", "scps": [scp]}},
    )
    assert not decide(w2, SESSION_B).allowed


def test_external_root_allowed_when_key_policy_names_its_account_10_16(tmp_path):
    kp = policy(stmt(principal=ROOT_B, action="kms:Decrypt"))
    w = make_world(tmp_path, kp)
    assert decide(w, ROOT_B).allowed
    assert not decide(w, f"arn:aws:iam::{C}:root").allowed
