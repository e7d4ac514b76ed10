"""check_policy: principals (R2) by policy kind."""

from __future__ import annotations

import pytest

from kmsprove.ast import PolicyKind
from kmsprove.errors import SourcePos
from kmsprove.validate import check_policy
from kmsprove.validate.principals import caller_arn_problem
from tests.support.builders import KP, built, diags_of, id_stmt, key_stmt, problems

PARTIAL = (
    "error: partial wildcard `{v}` in `Principal`: only a bare `*` is a wildcard "
    '(use `"*"` with an `ArnLike` condition on `aws:PrincipalArn`)'
)
STAR = (
    'warning: `Principal: "*"` allows every principal of every AWS account: restrict it with a '
    "condition on `kms:CallerAccount`, `aws:PrincipalOrgID`, `aws:PrincipalArn` or `kms:ViaService`"
)
FORMS = (
    "expected `*`, a 12-digit account id, or an IAM `root`, `user/NAME`, `role/NAME` "
    "or STS `assumed-role/ROLE/SESSION`, `federated-user/NAME` ARN"
)


def test_valid_key_policy_has_no_problems() -> None:
    assert problems(key_stmt()) == set()


@pytest.mark.parametrize(
    "value",
    [
        "*",
        "111122223333",
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:iam::111122223333:user/division/team/alice",
        "arn:aws:iam::111122223333:role/service-role/app",
        "arn:aws-cn:iam::111122223333:role/app",
        "arn:aws:sts::111122223333:assumed-role/app/session-1",
        "arn:aws:sts::111122223333:federated-user/bob",
    ],
)
def test_valid_aws_principals(value: str) -> None:
    conditions = {"StringEquals": {"kms:CallerAccount": "111122223333"}}
    assert problems(key_stmt(Principal={"AWS": value}, Condition=conditions)) == set()


@pytest.mark.parametrize(
    "value", ["arn:aws:iam::*:root", "arn:aws:iam::111122223333:role/app-*", "arn:aws:iam::1111*"]
)
def test_partial_wildcards_are_errors(value: str) -> None:
    assert problems(key_stmt(Principal={"AWS": value})) == {PARTIAL.format(v=value)}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x", f"`x` is not a valid principal: {FORMS}"),
        ("11112222333", f"`11112222333` is not a valid principal: {FORMS}"),
        ("arn:aws:s3:::bucket", f"`arn:aws:s3:::bucket` is not a valid principal: {FORMS}"),
        (
            "arn:aws:iam::111122223333:policy/p",
            f"`arn:aws:iam::111122223333:policy/p` is not a valid principal: {FORMS}",
        ),
        (
            "arn:aws:sts::111122223333:assumed-role/app",
            f"`arn:aws:sts::111122223333:assumed-role/app` is not a valid principal: {FORMS}",
        ),
        (
            "arn:awz:iam::111122223333:root",
            "`arn:awz:iam::111122223333:root`: unknown partition `awz` (did you mean `aws`?)",
        ),
        (
            "arn:aws:iam:us-east-1:111122223333:root",
            "`arn:aws:iam:us-east-1:111122223333:root`: IAM and STS ARNs have no Region, "
            "found `us-east-1`",
        ),
        (
            "arn:aws:iam::1234:root",
            "`arn:aws:iam::1234:root`: account `1234` is not a 12-digit account id",
        ),
        (
            "arn:aws:iam::111122223333:group/admins",
            "`arn:aws:iam::111122223333:group/admins` is an IAM group: groups cannot be principals",
        ),
    ],
)
def test_malformed_aws_principals_are_errors(value: str, message: str) -> None:
    assert problems(key_stmt(Principal={"AWS": value})) == {f"error: {message}"}


@pytest.mark.parametrize("value", ["AROAEXAMPLEDELETED0001", "AIDAJQABLZS4A3QDU576Q"])
def test_unique_ids_warn_deleted_principal(value: str) -> None:
    assert problems(key_stmt(Principal={"AWS": value})) == {
        f"warning: `{value}` is a unique id, not an ARN: the principal it stood for was deleted, "
        "and it matches nobody, not even a re-created namesake"
    }


def test_service_principals() -> None:
    assert problems(key_stmt(Principal={"Service": "cloudtrail.amazonaws.com"})) == {
        "warning: `cloudtrail.amazonaws.com` may act for any account: no `aws:SourceAccount` "
        "or `aws:SourceArn` condition ties it to one (confused deputy)"
    }
    assert problems(key_stmt(Principal={"Service": "logs.*.amazonaws.com"})) == {
        "error: wildcard in service principal `logs.*.amazonaws.com`: service principals are exact names"
    }
    assert problems(key_stmt(Principal={"Service": "cloudtrail"})) == {
        "error: `cloudtrail` is not a service principal name (such as `cloudtrail.amazonaws.com`)"
    }


def test_federated_warns_only_in_key_policies() -> None:
    fed = {"Federated": "cognito-identity.amazonaws.com"}
    assert problems(key_stmt(Principal=fed)) == {
        "warning: `Federated` principal `cognito-identity.amazonaws.com` matches no KMS caller: "
        "federated users call KMS as role sessions"
    }
    trust = key_stmt(Principal=fed, Action="sts:AssumeRoleWithWebIdentity", Resource=None)
    assert problems(trust, kind=PolicyKind.TRUST) == set()


def test_canonical_user_warns_outside_bucket_policies() -> None:
    cu = {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}
    msg = (
        "warning: `CanonicalUser` principal "
        "`79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be` is an S3 notion "
        "and matches no KMS caller"
    )
    assert problems(key_stmt(Principal=cu)) == {msg}
    bucket = key_stmt(Principal=cu, Action="s3:GetObject", Resource="arn:aws:s3:::b/*")
    assert problems(bucket, kind=PolicyKind.BUCKET) == set()


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (PolicyKind.KEY_POLICY, "a key policy"),
        (PolicyKind.BUCKET, "a bucket policy"),
        (PolicyKind.RCP, "an RCP"),
        (PolicyKind.VPCE, "a VPC endpoint policy"),
        (PolicyKind.TRUST, "a trust policy"),
    ],
)
def test_resource_policies_need_a_principal(kind: PolicyKind, label: str) -> None:
    st = id_stmt(
        Effect="Deny", Action="kms:Decrypt", Resource=None if kind is PolicyKind.TRUST else "*"
    )
    assert f"error: statement has no `Principal`: every statement of {label} names one" in problems(
        st, kind=kind
    )


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (PolicyKind.IDENTITY, "an identity policy"),
        (PolicyKind.SESSION, "a session policy"),
        (PolicyKind.SCP, "an SCP"),
    ],
)
def test_identity_side_policies_reject_principals(kind: PolicyKind, label: str) -> None:
    assert problems(key_stmt(), kind=kind) == {f"error: {label} cannot have `Principal`"}
    st = key_stmt(
        Effect="Deny", Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"}
    )
    assert problems(st, kind=kind) == {f"error: {label} cannot have `NotPrincipal`"}
    assert problems(id_stmt(), kind=kind) == set()


def test_allow_with_not_principal_is_an_error() -> None:
    st = key_stmt(Principal=None, NotPrincipal={"AWS": "arn:aws:iam::111122223333:root"})
    assert problems(st) == {'error: `NotPrincipal` works only with `"Effect": "Deny"`'}


def test_rcp_principal_rules() -> None:
    rcp = PolicyKind.RCP
    deny = {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}
    assert problems({**deny, "Principal": "*"}, kind=rcp) == set()
    assert problems({**deny, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}, kind=rcp) == {
        'error: an RCP `Principal` must be `"*"`, not `arn:aws:iam::111122223333:root`'
    }
    assert problems(
        {**deny, "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}}, kind=rcp
    ) == {"error: an RCP cannot have `NotPrincipal`"}


def test_deny_not_principal_must_exempt_the_account_and_role() -> None:
    session = "arn:aws:sts::111122223333:assumed-role/Admin/s1"
    role = "arn:aws:iam::111122223333:role/Admin"
    root = "arn:aws:iam::111122223333:root"
    deny = key_stmt(Effect="Deny", Principal=None, NotPrincipal={"AWS": [session]})
    assert problems(deny) == {
        f"warning: `NotPrincipal` exempts `{session}` but not its account `{root}`: "
        "AWS may check the account first and deny",
        f"warning: `NotPrincipal` exempts session `{session}` but not its role `{role}`: "
        "AWS may check the role first and deny",
    }
    role_with_path = "arn:aws:iam::111122223333:role/ops/Admin"
    full = key_stmt(
        Effect="Deny", Principal=None, NotPrincipal={"AWS": [session, role_with_path, root]}
    )
    assert problems(full) == set()


def test_principal_star_allow_needs_a_restricting_condition() -> None:
    assert problems(key_stmt(Principal="*")) == {STAR}
    assert problems(key_stmt(Principal={"AWS": "*"})) == {STAR}
    assert problems(key_stmt(Principal="*", Effect="Deny")) == set()
    for op, key, value in [
        ("StringEquals", "kms:CallerAccount", "111122223333"),
        ("StringEquals", "KMS:CALLERACCOUNT", "111122223333"),
        ("StringEquals", "aws:PrincipalOrgID", "o-abc"),
        ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/app-*"),
        ("StringLike", "kms:ViaService", "s3.*.amazonaws.com"),
        ("StringEquals", "aws:SourceAccount", "111122223333"),
    ]:
        cond = {op: {key: value}}
        assert problems(key_stmt(Principal="*", Condition=cond)) == set(), key
    # conditions that any caller can meet do not restrict
    for op in ("StringNotEquals", "StringEqualsIfExists", "ForAllValues:StringEquals"):
        cond = {op: {"aws:PrincipalOrgID": "o-abc"}}
        assert STAR in problems(key_stmt(Principal="*", Condition=cond)), op
    assert STAR in problems(
        key_stmt(Principal="*", Condition={"Null": {"kms:CallerAccount": "false"}})
    )


def test_principal_problems_sit_on_the_principal_value() -> None:
    text = (
        '{"Version": "2012-10-17", "Statement": [\n'
        '  {"Effect": "Allow", "Action": "kms:*", "Resource": "*",\n'
        '   "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::*:root"]}}]}'
    )
    [d] = check_policy(built(text, KP))
    line3 = text.splitlines()[2]
    assert d.pos == SourcePos("p.json", 3, line3.index('"arn:aws:iam::*') + 1)
    # on the statement: json.dumps puts it after `[`; the policy-wide warning on the policy
    [whole, missing] = diags_of(id_stmt())
    doc = '{"Version": "2012-10-17", "Statement": [{'
    assert missing.pos == SourcePos("p.json", 1, len(doc))
    assert whole.message.startswith("no statement names a principal")
    assert whole.pos == SourcePos("p.json", 1, 1)


def test_caller_arn_problem_accepts_only_callers() -> None:
    assert caller_arn_problem("arn:aws:iam::111122223333:role/a") is None
    assert caller_arn_problem("arn:aws:iam::111122223333:role/a*") is not None
    assert caller_arn_problem("arn:aws:iam::111122223333:role/") is not None
    assert caller_arn_problem("arn:aws:sts::111122223333:federated-user/") is not None
