"""Documented rules kmsprove used to get wrong (issue 11 §1), one worked case each from
the AWS page that states it, decided by the evaluator and by the encoder (they agree)."""

from __future__ import annotations

from pathlib import Path

from kmsprove.answer import Verdict
from tests.support.builders import (
    KEY,
    ROOT_A,
    ROOT_B,
    A,
    B,
    decide,
    decide_both,
    make_world,
    policy,
    stmt,
)

ROLE_B = f"arn:aws:iam::{B}:role/Reader"
SESSION_B = f"arn:aws:sts::{B}:assumed-role/Reader/s1"
SESSION_A = f"arn:aws:sts::{A}:assumed-role/App/s1"
ROLE_A = f"arn:aws:iam::{A}:role/App"
ALIAS_ARN = f"arn:aws:kms:us-east-1:{A}:alias/app"
OPEN_TO_B = policy(
    stmt(principal=ROOT_A, sid="Owner"),
    stmt(principal=ROOT_B, action=["kms:Decrypt", "kms:CreateGrant", "kms:DescribeKey"]),
)
READER_POLICY = {"policies": [policy(stmt(action="kms:*", resource="*"))]}


def _cross_account(tmp: Path, **kw: object) -> object:
    return make_world(
        tmp, OPEN_TO_B, principals={ROLE_B: READER_POLICY}, key={"aliases": ["alias/app"]}, **kw
    )


def _agree(pair: tuple[object, Verdict], allowed: bool) -> str:
    decision, verdict = pair
    assert decision.allowed is allowed, decision.reason  # type: ignore[attr-defined]
    assert verdict is (Verdict.YES if allowed else Verdict.NO)
    return decision.reason  # type: ignore[attr-defined,no-any-return]


# -- SCPs given without `organization` (Organizations: SCPs apply to member accounts)


def test_an_scp_applies_without_an_organization_id(tmp_path: Path) -> None:
    deny_kms = policy(
        stmt(action="*", resource="*"), stmt(effect="Deny", action="kms:*", resource="*")
    )
    w = _cross_account(tmp_path, accounts={B: {"scps": [deny_kms]}})
    assert "SCP denies" in _agree(decide_both(w, SESSION_B), False)


def test_an_allow_list_scp_without_kms_blocks_kms(tmp_path: Path) -> None:
    s3_only = policy(stmt(action="s3:*", resource="*"))
    w = _cross_account(tmp_path, accounts={B: {"scps": [s3_only]}})
    assert "no Allow path" in _agree(decide_both(w, SESSION_B), False)


def test_the_management_account_is_not_bound_by_its_scps(tmp_path: Path) -> None:
    s3_only = policy(stmt(action="s3:*", resource="*"))
    w = _cross_account(tmp_path, accounts={B: {"scps": [s3_only], "management": True}})
    _agree(decide_both(w, SESSION_B), True)


# -- account-level operations act on the caller's own account (API reference:
#    "Cross-account use: No"; seed 000: granting them to another account has no effect)


def test_list_keys_naming_another_accounts_key_is_denied(tmp_path: Path) -> None:
    w = _cross_account(tmp_path)
    d = decide(w, SESSION_B, "kms:ListKeys", key=KEY)
    assert not d.allowed and "does not reach account 111122223333's key" in d.reason
    assert decide(w, SESSION_B, "kms:ListKeys", key=None).allowed  # its own account


# -- how the caller names the key (KMS Developer Guide, allowing users in other
#    accounts: "If you enter only a key ID or alias name, AWS assumes the KMS key is
#    in your account"; API reference: CreateGrant/ListGrants/RevokeGrant/
#    GetKeyRotationStatus take a key ARN across accounts)


def test_another_account_names_the_key_by_arn(tmp_path: Path) -> None:
    w = _cross_account(tmp_path)
    _agree(decide_both(w, SESSION_B), True)
    _agree(decide_both(w, SESSION_B, key_id_as_sent=ALIAS_ARN), True)


def test_a_key_id_or_alias_name_from_another_account_resolves_in_its_own(tmp_path: Path) -> None:
    w = _cross_account(tmp_path)
    key_id = KEY.rsplit("/", 1)[1]
    for sent in (key_id, "alias/app"):
        reason = _agree(decide_both(w, SESSION_B, key_id_as_sent=sent), False)
        assert "resolves in the caller's own account 444455556666" in reason


def test_create_grant_takes_no_alias(tmp_path: Path) -> None:
    w = _cross_account(tmp_path)
    ctx = {"kms:GrantOperations": ["Decrypt"], "kms:GranteePrincipal": ROLE_B}
    reason = _agree(
        decide_both(w, SESSION_B, "kms:CreateGrant", ctx, key_id_as_sent=ALIAS_ARN), False
    )
    assert "takes a key ID or key ARN, not an alias" in reason
    _agree(decide_both(w, SESSION_B, "kms:CreateGrant", ctx), True)


def test_the_owner_may_name_its_key_by_id_or_alias(tmp_path: Path) -> None:
    w = make_world(tmp_path, key={"aliases": ["alias/app"]})
    for sent in (KEY.rsplit("/", 1)[1], "alias/app"):
        _agree(decide_both(w, ROOT_A, key_id_as_sent=sent), True)


# -- session policies cap every identity-based permission (IAM: session policies)


def test_a_session_policy_caps_an_iam_only_action(tmp_path: Path) -> None:
    w = make_world(tmp_path, principals={ROLE_A: {"policies": [policy(stmt(action="kms:*"))]}})
    from kmsprove.ast import PolicyKind
    from kmsprove.inputs.documents import policy_from_value

    s3_only = policy_from_value(policy(stmt(action="s3:*")), PolicyKind.SESSION, "session")
    assert decide(w, SESSION_A, "kms:CreateKey", key=None).allowed
    d = decide(w, SESSION_A, "kms:CreateKey", key=None, session_policy=s3_only)
    assert not d.allowed and "session policy does not allow" in d.reason


# -- CreateKey with tags needs kms:TagResource (KMS Developer Guide, tags in the API)


def test_create_key_with_tags_also_needs_tag_resource(tmp_path: Path) -> None:
    only_create = {"policies": [policy(stmt(action="kms:CreateKey"))]}
    both = {"policies": [policy(stmt(action=["kms:CreateKey", "kms:TagResource"]))]}
    w = make_world(tmp_path, principals={ROLE_A: only_create})
    tags = {"aws:TagKeys": ["team"], "aws:RequestTag/team": "red"}
    assert decide(w, SESSION_A, "kms:CreateKey", key=None).allowed
    d = decide(w, SESSION_A, "kms:CreateKey", tags, key=None)
    assert not d.allowed and "also needs kms:TagResource" in d.reason
    w2 = make_world(tmp_path, principals={ROLE_A: both})
    assert decide(w2, SESSION_A, "kms:CreateKey", tags, key=None).allowed


# -- grant constraints are valid only for symmetric encryption keys (creating a grant)


def test_an_encryption_context_constraint_on_an_asymmetric_key_fails(tmp_path: Path) -> None:
    w = make_world(
        tmp_path,
        policy(stmt(principal=ROOT_A)),
        key={"key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"},
    )
    ctx = {
        "kms:GrantOperations": ["DescribeKey"],
        "kms:GranteePrincipal": ROLE_A,
        "kms:GrantConstraintType": "EncryptionContextSubset",
        "kms:EncryptionContext:Dept": "IT",
    }
    reason = _agree(decide_both(w, ROOT_A, "kms:CreateGrant", ctx), False)
    assert "valid only on a symmetric encryption key" in reason
    unconstrained = {k: v for k, v in ctx.items() if "Constraint" not in k and "Context:" not in k}
    _agree(decide_both(w, ROOT_A, "kms:CreateGrant", unconstrained), True)


# -- CreateGrant's constraint is its encryption context (conditions-kms: CreateGrant
#    supports kms:EncryptionContext:context-key and kms:EncryptionContextKeys)


def test_create_grant_derives_the_constraint_keys(tmp_path: Path) -> None:
    needs_dept = policy(
        stmt(principal=ROOT_A, sid="Owner", action="kms:PutKeyPolicy"),
        stmt(
            principal=ROOT_A,
            action="kms:CreateGrant",
            condition={"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "Dept"}},
        ),
    )
    w = make_world(tmp_path, needs_dept)
    ctx = {
        "kms:GrantOperations": ["Decrypt"],
        "kms:GranteePrincipal": ROLE_A,
        "kms:GrantConstraintType": "EncryptionContextSubset",
        "kms:EncryptionContext:Dept": "IT",
    }
    _agree(decide_both(w, ROOT_A, "kms:CreateGrant", ctx), True)
    no_constraint = {k: v for k, v in ctx.items() if "Constraint" not in k and "Context:" not in k}
    _agree(decide_both(w, ROOT_A, "kms:CreateGrant", no_constraint), False)


# -- dates: the W3C profile of ISO 8601, reduced precision included (IAM Date operators)


def test_a_year_and_month_is_a_date(tmp_path: Path) -> None:
    before_2030 = policy(
        stmt(principal=ROOT_A, condition={"DateLessThan": {"aws:CurrentTime": "2030-01"}})
    )
    w = make_world(tmp_path, before_2030)
    _agree(decide_both(w, ROOT_A, context={"aws:CurrentTime": "2029-12-31T23:59:59Z"}), True)
    _agree(decide_both(w, ROOT_A, context={"aws:CurrentTime": "2030-01-01T00:00:00Z"}), False)


# -- RetireGrant names its grant (kms:GrantId, as --grant-id)


def test_retire_grant_reads_the_grant_from_the_context(tmp_path: Path) -> None:
    from kmsprove.inputs.request_file import request_from_cli

    grant = {
        "GrantId": "g-1",
        "KeyId": KEY,
        "GranteePrincipal": ROLE_A,
        "RetiringPrincipal": ROLE_A,
        "Operations": ["Decrypt"],
    }
    w = make_world(tmp_path, grants=[grant])
    req, _ = request_from_cli(w, SESSION_A, "kms:RetireGrant", None, None, ("kms:GrantId=g-1",))
    assert req.grant_id == "g-1"
    d = decide(w, SESSION_A, "kms:RetireGrant", grant_id="g-1")
    assert d.allowed, d.reason
    none = decide(w, SESSION_A, "kms:RetireGrant")
    assert not none.allowed and "names no grant" in none.reason


# -- UpdatePrimaryRegion needs permission on the primary and on the replica (multi-Region
#    keys: "the principal needs kms:UpdatePrimaryRegion permission on both keys")

MRK = f"arn:aws:kms:us-east-1:{A}:key/mrk-1234abcd12ab34cd56ef1234567890ab"
MRK_WEST = MRK.replace("us-east-1", "us-west-2")


def _mrk_world(tmp: Path, replica_policy: dict[str, object]) -> object:
    import json

    from kmsprove.inputs import load_world

    doc = {
        "version": 1,
        "keys": [
            {
                "arn": MRK,
                "policy": policy(stmt(principal=ROOT_A)),
                "multi_region": True,
                "multi_region_key_type": "PRIMARY",
            },
            {
                "arn": MRK_WEST,
                "policy": replica_policy,
                "multi_region": True,
                "multi_region_key_type": "REPLICA",
            },
        ],
    }
    path = tmp / "mrk.json"
    path.write_text(json.dumps(doc))
    return load_world(path)


def test_update_primary_region_needs_the_replica_too(tmp_path: Path) -> None:
    ctx = {"kms:PrimaryRegion": "us-west-2"}
    open_replica = _mrk_world(tmp_path, policy(stmt(principal=ROOT_A)))
    assert decide(open_replica, ROOT_A, "kms:UpdatePrimaryRegion", ctx, key=MRK).allowed
    denying = policy(
        stmt(principal=ROOT_A),
        stmt(effect="Deny", principal="*", action="kms:UpdatePrimaryRegion"),
    )
    d = decide(_mrk_world(tmp_path, denying), ROOT_A, "kms:UpdatePrimaryRegion", ctx, key=MRK)
    assert not d.allowed and "the replica" in d.reason and "explicit Deny" in d.reason
    far = decide(
        open_replica, ROOT_A, "kms:UpdatePrimaryRegion", {"kms:PrimaryRegion": "eu-west-1"}, key=MRK
    )
    assert not far.allowed and "no replica" in far.reason


def test_update_primary_region_without_a_replica_in_the_world_is_denied_by_both(
    tmp_path: Path,
) -> None:
    w = make_world(tmp_path, key={"multi_region": True, "multi_region_key_type": "PRIMARY"})
    _agree(
        decide_both(w, ROOT_A, "kms:UpdatePrimaryRegion", {"kms:PrimaryRegion": "us-west-2"}), False
    )
