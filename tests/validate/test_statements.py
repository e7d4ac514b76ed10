"""check_policy: actions (R3), resources (R1.11, R6.10), Sids, versions and sizes (R4.10)."""

from __future__ import annotations

import json

import pytest

from kmsprove.ast import PolicyKind
from kmsprove.validate import check_policy
from kmsprove.validate.statements import policy_json
from tests.support.builders import built, id_stmt, key_stmt, problems

ID = PolicyKind.IDENTITY
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


# -- actions ------------------------------------------------------------------


@pytest.mark.parametrize(
    "action", ["kms", "kms:", ":Decrypt", "kms:Decrypt Key", "kms:De.crypt", ""]
)
def test_malformed_actions_are_errors(action: str) -> None:
    assert problems(key_stmt(Action=action)) == {
        f"error: `{action}` is not an action: expected `SERVICE:ACTION` (such as `kms:Decrypt`) or `*`"
    }


def test_unknown_kms_actions_warn_with_a_suggestion() -> None:
    assert problems(key_stmt(Action="kms:Decrpyt")) == {
        "warning: action `kms:Decrpyt` does not exist (did you mean `kms:Decrypt`?)"
    }
    assert problems(key_stmt(Action="kms:Foo*")) == {"warning: `kms:Foo*` matches no KMS action"}
    # in NotAction and in identity policies too
    assert problems(id_stmt(Action=None, NotAction="kms:Decrpyt"), kind=ID) == {
        "warning: action `kms:Decrpyt` does not exist (did you mean `kms:Decrypt`?)"
    }


def test_action_names_are_case_insensitive() -> None:
    assert problems(key_stmt(Action=["KMS:decrypt", "kms:REENCRYPT*", "*"])) == set()


@pytest.mark.parametrize(
    ("action", "why"),
    [
        ("kms:CreateKey", "is allowed only by IAM policies"),
        ("kms:ListKeys", "is allowed only by IAM policies"),
        ("kms:SynchronizeMultiRegionKey", "is used only by KMS's service-linked role"),
        ("kms:RetireGrant", "is decided by the grant, not the key policy"),
    ],
)
def test_inert_actions_in_key_policies(action: str, why: str) -> None:
    assert problems(key_stmt(Action=action)) == {
        f"warning: `{action}` {why}: in a key policy it has no effect"
    }
    assert problems(id_stmt(Action=action), kind=ID) == set()


def test_inert_wildcards_warn_only_when_nothing_they_cover_works() -> None:
    assert problems(key_stmt(Action="kms:*CustomKeyStore*")) == {
        "warning: `kms:*CustomKeyStore*` covers only actions that have no effect in a key policy"
    }
    assert problems(key_stmt(Action=["kms:List*", "kms:Create*", "kms:*"])) == set()


def test_non_kms_actions_are_inert_in_key_policies() -> None:
    assert problems(key_stmt(Action=["s3:GetObject", "k*:Decrypt"])) == {
        "warning: `s3:GetObject` is not a KMS action: in a key policy it has no effect"
    }
    assert problems(id_stmt(Action="s3:GetObject"), kind=ID) == set()


def test_retire_grant_in_an_rcp() -> None:
    st = {"Effect": "Deny", "Principal": "*", "Action": "kms:RetireGrant", "Resource": "*"}
    assert problems(st, kind=PolicyKind.RCP) == {
        "warning: an RCP cannot restrict `kms:RetireGrant`: this entry has no effect"
    }


def test_missing_action_or_resource() -> None:
    assert problems(key_stmt(Action=None)) == {
        "warning: statement has no `Action` or `NotAction`: KMS accepts it, but it never applies"
    }
    assert problems(key_stmt(Resource=None)) == {
        "warning: statement has no `Resource` or `NotResource`: KMS accepts it, but it never applies"
    }
    assert problems(id_stmt(Action=None, Resource=None), kind=ID) == {
        "error: statement has no `Action` or `NotAction`",
        "error: statement has no `Resource` or `NotResource`",
    }
    bucket = key_stmt(Action="s3:GetObject", Resource=None)
    assert problems(bucket, kind=PolicyKind.BUCKET) == {
        "error: statement has no `Resource` or `NotResource`"
    }


# -- resources ----------------------------------------------------------------


def test_key_policy_resource_should_be_star() -> None:
    assert problems(key_stmt(Resource=KEY_ARN)) == {
        f'warning: key policy `Resource` `{KEY_ARN}` is not `"*"`: in a key policy `"*"` means '
        "this key, and other values may match nothing"
    }
    assert problems(key_stmt(Resource=None, NotResource=KEY_ARN)) == {
        "warning: `NotResource` in a key policy: the only resource is this key; "
        'write `"Resource": "*"`'
    }


@pytest.mark.parametrize("resource", ["key/1234", "arn:aws:kms:*", "arn:aws:kms:us-east-1:key/1"])
def test_malformed_resources_are_errors(resource: str) -> None:
    assert problems(id_stmt(Resource=resource), kind=ID) == {
        f"error: `{resource}` is not a resource ARN: expected `*` or "
        "`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`"
    }


def test_resource_arns_with_colons_in_the_resource_part_are_fine() -> None:
    assert problems(id_stmt(Resource="arn:aws:s3:::b/a:b:c"), kind=ID) == set()


def test_variables_outside_the_resource_part_never_match() -> None:
    bad = "arn:aws:kms:us-east-1:${aws:PrincipalAccount}:key/*"
    good = "arn:aws:kms:us-east-1:111122223333:key/${aws:PrincipalTag/key}"
    assert problems(id_stmt(Resource=[bad, good]), kind=ID) == {
        f"warning: `{bad}`: policy variables are substituted only in the resource part of an ARN, "
        "so this entry matches nothing"
    }


def test_trust_policies_take_no_resource() -> None:
    st = key_stmt(Principal={"Service": "ec2.amazonaws.com"}, Action="sts:AssumeRole")
    assert problems(st, kind=PolicyKind.TRUST) == {"error: a trust policy cannot have `Resource`"}
    st = key_stmt(
        Principal={"Service": "ec2.amazonaws.com"}, Action="sts:AssumeRole", Resource=None
    )
    assert problems(st, kind=PolicyKind.TRUST) == set()


# -- versions -------------------------------------------------------------------


def test_variables_are_literal_under_2008_10_17() -> None:
    res = "arn:aws:kms:us-east-1:111122223333:key/${aws:username}"
    found = problems(
        id_stmt(
            Resource=res, Condition={"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}}
        ),
        kind=ID,
        Version="2008-10-17",
    )
    assert found == {
        f'warning: `{res}` holds a policy variable, but under `"Version": "2008-10-17"` it is literal text',
        'warning: `${aws:username}` holds a policy variable, but under `"Version": "2008-10-17"` it '
        "is literal text",
    }
    # without variables, 2008-10-17 is fine
    assert problems(id_stmt(), kind=ID, Version="2008-10-17") == set()


# -- Sids ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (PolicyKind.IDENTITY, "an identity policy"),
        (PolicyKind.SCP, "an SCP"),
        (PolicyKind.SESSION, "a session policy"),
    ],
)
def test_identity_side_sids_are_alphanumeric(kind: PolicyKind, label: str) -> None:
    assert problems(id_stmt(Sid="Allow-Decrypt"), kind=kind) == {
        f"error: `Sid` `Allow-Decrypt`: in {label} a `Sid` may hold only ASCII letters and digits"
    }
    assert problems(id_stmt(Sid="AllowDecrypt1"), kind=kind) == set()
    # key policies accept any Sid (AWS's console uses spaces)
    assert problems(key_stmt(Sid="Allow use of the key")) == set()


def test_duplicate_sids() -> None:
    dup = "duplicate `Sid` `a` (first at line 1, column 41)"
    assert problems(key_stmt(Sid="a"), key_stmt(Sid="a")) == {f"warning: {dup}"}
    b1 = key_stmt(Sid="a", Action="s3:GetObject", Resource="arn:aws:s3:::b/*")
    assert problems(b1, b1, kind=PolicyKind.BUCKET) == {f"error: {dup}"}
    assert problems(id_stmt(Sid="a"), id_stmt(Sid="a"), kind=ID) == {f"error: {dup}"}
    assert problems(key_stmt(Sid="a"), key_stmt(Sid="b"), key_stmt()) == set()


# -- size ---------------------------------------------------------------------


def _kp_of_size(n_statements: int) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [key_stmt(Sid=f"s{i}") for i in range(n_statements)]}
    )


def test_key_policy_size_limit_counts_the_stored_text() -> None:
    small = _kp_of_size(10)
    p = built(small)
    assert check_policy(p, small) == []
    padded = small + " " * (32_768 - len(small))
    assert check_policy(p, padded) == []
    over = padded + " "
    [d] = check_policy(p, over)
    assert (d.severity.value, d.message) == (
        "error",
        "key policy is 32,769 bytes, more than the 32,768 KMS accepts",
    )
    assert d.pos == p.pos


def test_key_policy_size_without_text_uses_a_compact_rendering() -> None:
    big = _kp_of_size(400)
    p = built(big)
    n = len(policy_json(p).encode())
    assert 32_768 < n < len(big)
    assert [d.message for d in check_policy(p)] == [
        f"key policy is {n:,} bytes, more than the 32,768 KMS accepts"
    ]
    assert check_policy(built(_kp_of_size(100))) == []


def test_policy_json_round_trips_the_statements() -> None:
    doc = {
        "Version": "2012-10-17",
        "Id": "x",
        "Statement": [
            key_stmt(Sid="a", Condition={"StringEquals": {"kms:CallerAccount": ["1", "2"]}}),
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": [ROOT_B]},
                "NotAction": ["kms:Decrypt"],
                "NotResource": ["*"],
            },
            {"Effect": "Allow", "Principal": "*", "Action": ["kms:*"], "Resource": ["*"]},
        ],
    }
    assert built(policy_json(built(doc))) == built(doc)


ROOT_B = "arn:aws:iam::444455556666:root"


@pytest.mark.parametrize(
    ("chars", "expected"),
    [
        (2_000, None),
        (3_000, "more than an inline user policy may hold (2,048)"),
        (7_000, "more than a managed policy (6,144) or an inline user policy (2,048) may hold"),
        (
            11_000,
            "more than any identity policy may hold (inline role 10,240, managed 6,144, inline user 2,048)",
        ),
    ],
)
def test_identity_policy_size_warnings(chars: int, expected: str | None) -> None:
    base = json.dumps({"Version": "2012-10-17", "Statement": [id_stmt(Sid="")]})
    # pad the Sid so the text has exactly `chars` non-whitespace characters
    pad = chars - len(base.replace(" ", ""))
    doc = json.dumps({"Version": "2012-10-17", "Statement": [id_stmt(Sid="A" * pad)]})
    text = doc + "\n" * 5000  # whitespace does not count
    p = built(doc, ID)
    found = [(d.severity.value, d.message) for d in check_policy(p, text)]
    if expected is None:
        assert found == []
    else:
        assert found == [
            ("warning", f"identity policy has {chars:,} characters without whitespace, {expected}")
        ]


def test_org_and_bucket_policy_size_limits() -> None:
    scp = {"Version": "2012-10-17", "Statement": [id_stmt(Sid="A" * 5_100)]}
    p = built(scp, PolicyKind.SCP)
    n = len(json.dumps(scp).replace(" ", ""))
    assert [d.message for d in check_policy(p, json.dumps(scp))] == [
        f"an SCP holds at most 5,120 characters; this one has {n:,}"
    ]
    rcp = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "A" * 5_100,
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    p = built(rcp, PolicyKind.RCP)
    assert [d.message for d in check_policy(p)] == [
        f"an RCP holds at most 5,120 characters; this one has {len(policy_json(p)):,}"
    ]
    bucket = {
        "Version": "2012-10-17",
        "Statement": [
            key_stmt(Sid=f"S{i}", Action="s3:GetObject", Resource="arn:aws:s3:::b/*")
            for i in range(200)
        ],
    }
    p = built(bucket, PolicyKind.BUCKET)
    n = len(json.dumps(bucket).replace(" ", ""))
    assert n > 20_480
    assert [d.message for d in check_policy(p, json.dumps(bucket))] == [
        f"a bucket policy holds at most 20 KB; this one has {n:,} characters"
    ]


def test_every_statement_is_checked() -> None:
    found = problems(key_stmt(Action="kms:Nope"), key_stmt(), key_stmt(Action="kms:AlsoNope"))
    assert found == {
        "warning: action `kms:Nope` does not exist",
        "warning: action `kms:AlsoNope` does not exist",
    }


def test_customer_rcps_only_deny() -> None:
    full = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    assert problems(full, kind=PolicyKind.RCP) == set()
    allow = {**full, "Action": "kms:*"}
    assert problems(allow, kind=PolicyKind.RCP) == {
        'error: an RCP statement can only `Deny`: `"Effect": "Allow"` is reserved to '
        "`RCPFullAWSAccess` (Principal, Action and Resource `*`, no Condition)"
    }
    conditioned = {**full, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}
    assert len(problems(conditioned, kind=PolicyKind.RCP)) == 1
    assert problems({**allow, "Effect": "Deny"}, kind=PolicyKind.RCP) == set()
