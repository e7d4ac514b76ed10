"""`who` on worlds written from AWS documentation policies: the list is exactly right.

Each world is checked three ways: against the list written here by hand from the AWS
page, against the independent brute force of `brute.py` (the evaluator alone, over the
principals the world names and a fresh principal per class), and every witness is
decided again by the evaluator in the world it was checked in, and falls in the class
it is listed under.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kmsprove.answer import WhoResult, WhoStatus
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.who import ask_who, parse_actions
from tests.questions.who.brute import (
    Descriptor,
    brute_force,
    descriptor_of_found,
    descriptors,
    names_of,
)
from tests.support.strategies import KEY, A, B

REALWORLD = Path(__file__).resolve().parents[2] / "cases" / "realworld"
C = "777788889999"
ORG = "o-exampleorgid"
KEY_WEST = f"arn:aws:kms:us-west-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _ip(*actions: str, resource: str = "*") -> dict[str, Any]:
    return _policy({"Effect": "Allow", "Action": list(actions), "Resource": resource})


ROOT_DELEGATION = {  # kms-dg/key-policy-default.html, "Enable IAM User Permissions"
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def _world(
    policy: dict[str, Any], accounts: dict[str, Any], grants: Any = (), key: str = KEY
) -> dict[str, Any]:
    return {
        "version": 1,
        "keys": [{"arn": key, "policy": policy, "grants": list(grants)}],
        "accounts": accounts,
    }


def _realworld(name: str) -> dict[str, Any]:
    return json.loads((REALWORLD / name).read_text())


def root(acct: str) -> Descriptor:
    return (True, "root", acct, "root", None)


def user(acct: str, name: str) -> Descriptor:
    return (True, "user", acct, name, None)


def role(acct: str, name: str) -> Descriptor:
    return (True, "role", acct, name, None)


def unnamed(acct: str | None) -> set[Descriptor]:
    """An open account's unnamed users, role sessions and federated users (None: of
    the accounts nothing mentions)."""
    return {(False, t, acct, None, None) for t in ("user", "role", "federated-user")}


def service(name: str, acting_for: str) -> Descriptor:
    return (True, "service", None, name, acting_for)


def _ask(doc: dict[str, Any], actions: str) -> WhoResult:
    [result] = ask_who(load_world_json(doc), parse_actions(actions), timeout=60)
    return result


def check(doc: dict[str, Any], actions: str, expected: set[Descriptor]) -> WhoResult:
    """`who` lists exactly `expected`, the brute force finds exactly those, every witness
    is allowed and in its class, and it took at most one question per finding plus the
    proof."""
    result = _ask(doc, actions)
    assert result.status is WhoStatus.COMPLETE, result.reason
    listed = [descriptor_of_found(f) for f in result.found]
    assert len(listed) == len(set(listed)), listed
    assert set(listed) == expected
    key = doc["keys"][0]["arn"]
    brute = brute_force(doc, [a.strip() for a in actions.split(",")], key)
    found_by_brute = set().union(*(a.descriptors for a in brute)) if brute else set()
    assert found_by_brute == expected, [a.caller.principal for a in brute]
    names = names_of(doc)
    for f in result.found:
        a = f.answer
        assert f.confirmed and a.checked_world is not None and a.shown is not None
        full = complete_request(a.checked_world, a.shown)
        assert evaluate(a.checked_world, full).allowed, f
        ctx = full.context.as_json()
        assert descriptor_of_found(f) in descriptors(full.principal, ctx, names), f
    # one question per entry found and the proof, or fewer (the evaluator's probe)
    assert 1 <= result.queries <= len(result.found) + 1
    return result


# --------------------------------------------------------------------------
# kms-dg/key-policy-default.html: the default key policy, IAM decides


def _default_world(complete: bool) -> dict[str, Any]:
    return _world(
        _policy(ROOT_DELEGATION),
        {
            A: {
                "complete": complete,
                "principals": {
                    f"arn:aws:iam::{A}:user/alice": {"policies": [_ip("kms:Decrypt")]},
                    f"arn:aws:iam::{A}:user/bob": {"policies": [_ip("s3:*")]},
                    f"arn:aws:iam::{A}:role/app": {"policies": [_ip("kms:*", resource=KEY)]},
                    f"arn:aws:iam::{A}:role/audit": {"policies": [_ip("kms:Describe*")]},
                },
            }
        },
    )


def test_default_key_policy_lets_in_whom_iam_lets_in() -> None:
    check(_default_world(True), "kms:Decrypt", {root(A), user(A, "alice"), role(A, "app")})
    check(
        _default_world(True),
        "kms:DescribeKey",
        {root(A), role(A, "app"), role(A, "audit")},
    )


def test_default_key_policy_in_an_open_account_adds_its_unnamed_principals() -> None:
    check(
        _default_world(False),
        "kms:Decrypt",
        {root(A), user(A, "alice"), role(A, "app"), *unnamed(A)},
    )


def test_a_key_type_that_cannot_decrypt_lets_nobody_in() -> None:
    doc = _default_world(True)
    doc["keys"][0].update(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    result = check(doc, "kms:Decrypt", set())
    assert result.reason.startswith("nobody can: no request can succeed")


# --------------------------------------------------------------------------
# kms-dg/key-policy-default.html: the console's policy, administrators and users


def _console(complete: bool, **more: dict[str, Any]) -> dict[str, Any]:
    principals = {
        f"arn:aws:iam::{A}:role/KeyAdmin": {"policies": []},
        f"arn:aws:iam::{A}:role/KeyUser": {"policies": []},
        f"arn:aws:iam::{A}:user/dev": {"policies": [_ip("kms:Decrypt", "kms:Encrypt")]},
        **more,
    }
    return _world(
        _realworld("console-default.json"), {A: {"complete": complete, "principals": principals}}
    )


def test_console_policy_users_decrypt_and_administrators_do_not() -> None:
    check(_console(True), "kms:Decrypt", {root(A), role(A, "KeyUser"), user(A, "dev")})


def test_console_policy_administrators_change_the_policy() -> None:
    check(_console(True), "kms:PutKeyPolicy", {root(A), role(A, "KeyAdmin")})


def test_console_policy_several_actions_mean_any_of_them() -> None:
    check(
        _console(True),
        "kms:Decrypt,kms:ScheduleKeyDeletion",
        {root(A), role(A, "KeyUser"), role(A, "KeyAdmin"), user(A, "dev")},
    )


def test_console_policy_in_an_open_account_lets_the_administrator_decrypt_too() -> None:
    """The administrator's identity policy is not given: in an open account its
    administrators may give it kms:Decrypt, which the root statement delegates."""
    doc = _console(False)
    del doc["accounts"][A]["principals"][f"arn:aws:iam::{A}:role/KeyAdmin"]
    check(
        doc,
        "kms:Decrypt",
        {root(A), role(A, "KeyUser"), role(A, "KeyAdmin"), user(A, "dev"), *unnamed(A)},
    )


# --------------------------------------------------------------------------
# kms-dg/key-policy-modifying-external-accounts.html: another account, both sides


def _cross_account(b_complete: bool) -> dict[str, Any]:
    policy = _policy(
        ROOT_DELEGATION,
        {
            "Sid": "Allow use of the key",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    )
    reader = _ip("kms:Decrypt", resource=KEY)
    accounts = {
        A: {"complete": True},
        B: {
            "complete": b_complete,
            "principals": {
                f"arn:aws:iam::{B}:role/Reader": {"policies": [reader]},
                f"arn:aws:iam::{B}:role/Auditor": {"policies": []},
                f"arn:aws:iam::{B}:user/writer": {"policies": [_ip("kms:Encrypt")]},
            },
        },
    }
    return _world(policy, accounts)


def test_cross_account_delegation_needs_the_external_identity_policy() -> None:
    check(_cross_account(True), "kms:Decrypt", {root(A), root(B), role(B, "Reader")})
    check(_cross_account(True), "kms:Encrypt", {root(A), root(B), user(B, "writer")})


def test_cross_account_delegation_to_an_open_account() -> None:
    check(_cross_account(False), "kms:Decrypt", {root(A), root(B), role(B, "Reader"), *unnamed(B)})


# --------------------------------------------------------------------------
# kms-dg/grants.html: grants to roles in this account and in others


def test_grants_let_in_their_grantees_across_accounts() -> None:
    grants = [
        {
            "GrantId": "g-partner",
            "GranteePrincipal": f"arn:aws:iam::{B}:role/Partner",
            "Operations": ["Decrypt", "Encrypt"],
            "IssuingAccount": f"arn:aws:iam::{A}:root",
        },
        {
            "GrantId": "g-batch",
            "GranteePrincipal": f"arn:aws:iam::{A}:role/Batch",
            "Operations": ["Decrypt"],
            "Constraints": {"EncryptionContextSubset": {"Dept": "IT"}},
            "IssuingAccount": f"arn:aws:iam::{A}:root",
        },
        {
            "GrantId": "g-other",
            "GranteePrincipal": f"arn:aws:iam::{C}:role/Other",
            "Operations": ["Encrypt"],
            "IssuingAccount": f"arn:aws:iam::{A}:root",
        },
    ]
    accounts = {
        A: {"complete": True, "principals": {f"arn:aws:iam::{A}:role/Batch": {"policies": []}}},
        B: {"complete": True, "principals": {f"arn:aws:iam::{B}:role/Partner": {"policies": []}}},
        C: {"complete": True, "principals": {f"arn:aws:iam::{C}:role/Other": {"policies": []}}},
    }
    doc = _world(_policy(ROOT_DELEGATION), accounts, grants)
    check(doc, "kms:Decrypt", {root(A), role(A, "Batch"), role(B, "Partner")})
    check(doc, "kms:Encrypt", {root(A), role(B, "Partner"), role(C, "Other")})


# --------------------------------------------------------------------------
# services: CloudTrail's key policy (SourceArn), and a service without a pin


def test_cloudtrail_key_policy_ties_the_service_to_the_trail_account() -> None:
    doc = _world(_realworld("cloudtrail.json"), {A: {"complete": True}})
    check(doc, "kms:GenerateDataKey", {root(A), service("cloudtrail.amazonaws.com", A)})


def test_an_unconditioned_service_statement_acts_for_any_account() -> None:
    doc = _world(_realworld("cloudtrail.json"), {A: {"complete": True}})
    check(
        doc,
        "kms:DescribeKey",
        {
            root(A),
            service("cloudtrail.amazonaws.com", A),
            service("cloudtrail.amazonaws.com", "*"),
        },
    )


def _events(condition: dict[str, Any] | None) -> dict[str, Any]:
    """sns-dg/sns-key-management.html: an event source publishing to an encrypted topic."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = condition
    # B appears as a partner, so "acting for B" is a class of its own
    partner = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
    }
    return _world(_policy(ROOT_DELEGATION, statement, partner), {A: {"complete": True}})


def test_a_service_with_aws_source_account_acts_for_that_account_only() -> None:
    doc = _events({"StringEquals": {"aws:SourceAccount": A}})
    check(doc, "kms:Decrypt", {root(A), service("events.amazonaws.com", A)})


def test_a_service_without_aws_source_account_acts_for_every_account() -> None:
    check(
        _events(None),
        "kms:Decrypt",
        {
            root(A),
            service("events.amazonaws.com", A),
            service("events.amazonaws.com", B),
            service("events.amazonaws.com", "*"),
        },
    )
    result = _ask(_events(None), "kms:Decrypt")
    deputy = next(f for f in result.found if f.acting_for == "*")
    assert any("may act for any account" in n for n in deputy.answer.notes)


# --------------------------------------------------------------------------
# Principal "*" under conditions


def test_principal_star_through_ebs_lets_in_every_principal_of_the_account() -> None:
    """The AWS managed key for EBS: anyone of the account, through EC2 only; in a
    complete account that is every principal it lists, with or without policies."""
    accounts = {
        A: {
            "complete": True,
            "principals": {
                f"arn:aws:iam::{A}:user/alice": {"policies": []},
                f"arn:aws:iam::{A}:role/app": {"policies": [_ip("s3:*")]},
            },
        }
    }
    doc = _world(_realworld("aws-managed-ebs.json"), accounts, key=KEY_WEST)
    check(doc, "kms:Decrypt", {root(A), user(A, "alice"), role(A, "app")})
    doc["accounts"][A]["complete"] = False
    check(doc, "kms:Decrypt", {root(A), user(A, "alice"), role(A, "app"), *unnamed(A)})


def test_principal_star_for_an_organization_lets_in_accounts_nobody_names() -> None:
    """iam-ug/reference_policies_condition-keys.html#condition-keys-principalorgid: any
    account of the organization, which may be an account the world does not mention."""
    org_statement = {
        "Sid": "AllowOrganization",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}},
    }
    accounts = {
        A: {"complete": True, "organization": ORG},
        B: {"complete": True, "organization": "o-otherorgid1"},
    }
    doc = _world(_policy(ROOT_DELEGATION, org_statement), accounts)
    outsiders = {(False, "root", None, None, None), *unnamed(None)}
    check(doc, "kms:Decrypt", {root(A), *outsiders})


def test_principal_star_for_a_partner_account() -> None:
    partner = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:CallerAccount": B}},
    }
    doc = _world(_policy(ROOT_DELEGATION, partner), {A: {"complete": True}})
    check(doc, "kms:Decrypt", {root(A), root(B), *unnamed(B)})


# --------------------------------------------------------------------------
# the question's own parts: a key among several, `where`, trusted principals


def test_on_key_picks_one_key_of_several_and_without_it_each_key_is_asked() -> None:
    doc = _console(True)
    other = copy.deepcopy(doc["keys"][0])
    other.update(arn=KEY.replace("1234abcd", "5678abcd"), aliases=["alias/other"])
    other["policy"] = _policy(ROOT_DELEGATION)
    doc["keys"].append(other)
    world = load_world_json(doc)
    results = ask_who(world, parse_actions("kms:Decrypt"), timeout=60)
    assert [r.key for r in results] == [KEY, other["arn"]]
    [picked] = ask_who(world, parse_actions("kms:Decrypt on key alias/other"), timeout=60)
    assert picked.key == other["arn"]
    assert {descriptor_of_found(f) for f in picked.found} == {root(A), user(A, "dev")}


def test_where_conditions_narrow_the_requests() -> None:
    doc = _world(_realworld("cloudtrail.json"), {A: {"complete": True}})
    result = _ask(doc, 'kms:DescribeKey where aws:SourceAccount == "111122223333"')
    assert result.status is WhoStatus.COMPLETE
    assert {descriptor_of_found(f) for f in result.found} == {
        service("cloudtrail.amazonaws.com", A)
    }


def test_trusted_principals_are_left_out_of_the_enumeration() -> None:
    trusted = (f"arn:aws:iam::{A}:root", f"arn:aws:iam::{A}:role/KeyUser")
    world = load_world_json(_console(True))
    [r] = ask_who(world, parse_actions("kms:Decrypt"), timeout=60, trusted=trusted)
    assert r.status is WhoStatus.COMPLETE and r.trusted == trusted
    assert {descriptor_of_found(f) for f in r.found} == {user(A, "dev")}


@pytest.mark.parametrize(
    ("text", "col", "message"),
    [
        ("kms:Decryp", 1, "matches no KMS action"),
        ("s3:GetObject on bucket arn:aws:s3:::b", 14, "`who` asks about a key"),
        ("ever kms:Decrypt", 1, "`who` enumerates today's access"),
        ("kms:Decrypt on", 15, "expected `key` or `bucket` after `on`"),
        ("  ", 1, "expected an action"),
    ],
)
def test_bad_actions_are_positioned_in_the_text(text: str, col: int, message: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_actions(text)
    [d] = exc.value.diagnostics
    assert (d.pos.file, d.pos.line, d.pos.col) == ("<actions>", 1, col), str(d)
    assert message in d.message, str(d)


def test_principals_alike_cost_one_question_not_one_each() -> None:
    """Thirty roles with one identity policy (a managed policy attached to each): the
    first one the solver finds, the evaluator's probe finds the others with its request."""
    readers = {
        f"arn:aws:iam::{A}:role/reader{i}": {"policies": [_ip("kms:Decrypt")]} for i in range(30)
    }
    others = {f"arn:aws:iam::{A}:role/other{i}": {"policies": [_ip("s3:*")]} for i in range(30)}
    doc = _world(
        _policy(ROOT_DELEGATION), {A: {"complete": True, "principals": {**readers, **others}}}
    )
    result = check(doc, "kms:Decrypt", {root(A), *(role(A, f"reader{i}") for i in range(30))})
    assert result.queries <= 3
