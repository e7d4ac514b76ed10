"""check_policy warnings on principals AWS accepts but that are almost surely mistakes:
service principals that name no service, services that may act for any account (the
confused deputy), an IAM user named root, and a key policy that names no principal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kmsprove.ast import PolicyKind
from kmsprove.errors import SourcePos
from kmsprove.validate import check_policy
from tests.support.builders import (
    KP,
    ROOT_A,
    at,
    built,
    diags_of,
    id_stmt,
    key_stmt,
    policy_text,
    problems,
)

BUCKET = PolicyKind.BUCKET
SOURCE_ACCOUNT = {"StringEquals": {"aws:SourceAccount": "111122223333"}}


def service(name: str, **fields: Any) -> dict[str, Any]:
    """A key-policy statement for service principal `name`, tied to an account unless
    `Condition` says otherwise."""
    return key_stmt(Principal={"Service": name}, **{"Condition": SOURCE_ACCOUNT, **fields})


def deputy(name: str) -> str:
    return (
        f"warning: `{name}` may act for any account: no `aws:SourceAccount` or "
        "`aws:SourceArn` condition ties it to one (confused deputy)"
    )


def position(text: str, kind: PolicyKind = KP) -> list[tuple[str, str]]:
    """(`:LINE:COL`, message) of every diagnostic of the policy `text`."""
    return [(f":{d.pos.line}:{d.pos.col}", d.message) for d in check_policy(built(text, kind))]


# -- service principals that name no service -----------------------------------


@pytest.mark.parametrize(
    ("name", "label", "example"),
    [
        ("logs.region.amazonaws.com", "region", "logs.us-east-1.amazonaws.com"),
        ("logs.REGION.amazonaws.com", "REGION", "logs.us-east-1.amazonaws.com"),
        ("logs.Region.amazonaws.com", "Region", "logs.us-east-1.amazonaws.com"),
        ("logs.aws-region.amazonaws.com", "aws-region", "logs.us-east-1.amazonaws.com"),
        ("logs.region.amazonaws.com.cn", "region", "logs.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_region_placeholders_warn(name: str, label: str, example: str) -> None:
    assert problems(service(name)) == {
        f"warning: `{name}` is not a service principal: `{label}` stands for a Region name "
        f"(for example `{example}`)"
    }


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("logs.us-east1.amazonaws.com", "us-east1"),
        ("logs.us-east.amazonaws.com", "us-east"),
        ("logs.us-east-1a.amazonaws.com", "us-east-1a"),  # an Availability Zone
        ("logs.US-EAST-1.amazonaws.com", "US-EAST-1"),
        ("logs.eu-west-12.amazonaws.com", "eu-west-12"),
    ],
)
def test_labels_that_start_like_a_region_must_be_one(name: str, label: str) -> None:
    assert problems(service(name)) == {
        f"warning: `{name}` is not a service principal: `{label}` is not a Region name "
        "(for example `logs.us-east-1.amazonaws.com`)"
    }


@pytest.mark.parametrize(
    "name",
    [
        "cloudtrail.amazonaws.com",
        "logs.us-east-1.amazonaws.com",
        "logs.us-gov-west-1.amazonaws.com",
        "logs.ap-southeast-2.amazonaws.com",
        "logs.cn-north-1.amazonaws.com.cn",
        "ec2.amazonaws.com.cn",
        # three labels whose middle one is a service, not a Region
        "delivery.logs.amazonaws.com",
        "monitoring.rds.amazonaws.com",
        "batchoperations.s3.amazonaws.com",
        "replication.dynamodb.amazonaws.com",
        "streams.metrics.cloudwatch.amazonaws.com",
    ],
)
def test_real_service_principals_do_not_warn(name: str) -> None:
    assert problems(service(name)) == set()


@pytest.mark.parametrize(
    "name", ["logs.<region>.amazonaws.com", "logs.${AWS::Region}.amazonaws.com"]
)
def test_placeholders_that_are_not_names_stay_errors(name: str) -> None:
    # already an error (not a service principal name): no warning on top, and no
    # confused-deputy warning either, with or without a condition
    only = {f"error: `{name}` is not a service principal name (such as `cloudtrail.amazonaws.com`)"}
    assert problems(service(name)) == only
    assert problems(service(name, Condition=None)) == only


def test_region_placeholders_warn_in_every_policy_that_names_principals() -> None:
    name = "logs.region.amazonaws.com"
    msg = (
        f"warning: `{name}` is not a service principal: `region` stands for a Region name "
        "(for example `logs.us-east-1.amazonaws.com`)"
    )
    trust = key_stmt(Principal={"Service": name}, Action="sts:AssumeRole", Resource=None)
    assert problems(trust, kind=PolicyKind.TRUST) == {msg}
    bucket = service(name, Action="s3:GetObject", Resource="arn:aws:s3:::b/*")
    assert problems(bucket, kind=BUCKET) == {msg}
    deny = key_stmt(Effect="Deny", Principal=None, NotPrincipal={"Service": name})
    assert problems(deny) == {msg}


def test_service_warnings_sit_on_the_value() -> None:
    bad = "logs.region.amazonaws.com"
    text = policy_text(key_stmt(Principal={"Service": ["cloudtrail.amazonaws.com", bad]}))
    assert sorted(position(text)) == sorted(
        [
            (
                at(text, '"cloudtrail'),
                deputy("cloudtrail.amazonaws.com").removeprefix("warning: "),
            ),
            (
                at(text, json.dumps(bad)),
                f"`{bad}` is not a service principal: `region` stands for a Region name "
                "(for example `logs.us-east-1.amazonaws.com`)",
            ),
        ]
    )


# -- the confused deputy ----------------------------------------------------------


def test_service_without_a_tying_condition_warns_in_key_and_bucket_policies() -> None:
    name = "cloudtrail.amazonaws.com"
    assert problems(service(name, Condition=None)) == {deputy(name)}
    bucket = service(name, Condition=None, Action="s3:PutObject", Resource="arn:aws:s3:::b/*")
    assert problems(bucket, kind=BUCKET) == {deputy(name)}


def test_each_service_principal_gets_its_own_warning() -> None:
    names = ["cloudtrail.amazonaws.com", "logs.us-east-1.amazonaws.com"]
    st = key_stmt(Principal={"Service": names, "AWS": ROOT_A})
    assert problems(st) == {deputy(n) for n in names}


@pytest.mark.parametrize(
    ("operator", "key", "value"),
    [
        ("StringEquals", "aws:SourceAccount", "111122223333"),
        ("StringEquals", "AWS:SOURCEACCOUNT", "111122223333"),
        ("ArnLike", "aws:SourceArn", "arn:aws:cloudtrail:us-east-1:111122223333:trail/*"),
        ("StringEquals", "aws:SourceOrgID", "o-abc"),
        ("ForAnyValue:StringLike", "aws:SourceOrgPaths", "o-abc/r-ab12/*"),
        ("StringEquals", "kms:ViaService", "s3.us-east-1.amazonaws.com"),
        ("StringEquals", "kms:CallerAccount", "111122223333"),
        (
            "StringLike",
            "kms:EncryptionContext:aws:cloudtrail:arn",
            "arn:aws:cloudtrail:*:111122223333:trail/*",
        ),
        ("StringEquals", "kms:EncryptionContext:aws:logs:arn", "arn:aws:logs:us-east-1:1:*"),
    ],
)
def test_tying_conditions_silence_the_warning(operator: str, key: str, value: str) -> None:
    st = service("cloudtrail.amazonaws.com", Condition={operator: {key: value}})
    assert problems(st) == set()


@pytest.mark.parametrize(
    "condition",
    [
        {"StringNotEquals": {"aws:SourceAccount": "999999999999"}},  # any other account
        {"Null": {"aws:SourceArn": "false"}},  # present, but anyone's
        {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "aws:cloudtrail:arn"}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},  # the service's, not the victim's
    ],
)
def test_conditions_that_tie_nothing_still_warn(condition: dict[str, Any]) -> None:
    name = "cloudtrail.amazonaws.com"
    assert deputy(name) in problems(service(name, Condition=condition))


def test_no_confused_deputy_warning_where_it_does_not_apply() -> None:
    name = "cloudtrail.amazonaws.com"
    assert problems(service(name, Condition=None, Effect="Deny")) == set()
    trust = key_stmt(
        Principal={"Service": "ec2.amazonaws.com"}, Action="sts:AssumeRole", Resource=None
    )
    assert problems(trust, kind=PolicyKind.TRUST) == set()
    assert problems(service(name, Condition=None), kind=PolicyKind.VPCE) == set()
    assert problems(key_stmt()) == set()  # AWS principals are not services


def test_confused_deputy_warning_sits_on_the_service_principal() -> None:
    name = "cloudtrail.amazonaws.com"
    text = policy_text(key_stmt(), service(name, Condition=None), service(name))
    assert position(text) == [(at(text, json.dumps(name)), deputy(name).removeprefix("warning: "))]


# -- an IAM user named root -------------------------------------------------------


def test_user_named_root_is_not_the_account() -> None:
    user = "arn:aws:iam::111122223333:user/root"
    msg = (
        "warning: `user/root` is an IAM user named root, not the account: "
        "the account is `arn:aws:iam::111122223333:root`"
    )
    assert problems(key_stmt(Principal={"AWS": user})) == {msg}
    assert problems(key_stmt(Principal={"AWS": [ROOT_A, user]})) == {msg}
    assert problems(key_stmt(Principal={"AWS": "arn:aws-cn:iam::111122223333:user/Root"})) == {
        "warning: `user/Root` is an IAM user named Root, not the account: "
        "the account is `arn:aws-cn:iam::111122223333:root`"
    }
    trust = key_stmt(Principal={"AWS": user}, Action="sts:AssumeRole", Resource=None)
    assert problems(trust, kind=PolicyKind.TRUST) == {msg}


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:iam::111122223333:root",
        "111122223333",
        "arn:aws:iam::111122223333:user/ops/root",
        "arn:aws:iam::111122223333:user/rooter",
        "arn:aws:sts::111122223333:assumed-role/user/root",
    ],
)
def test_other_roots_and_users_do_not_warn(value: str) -> None:
    assert problems(key_stmt(Principal={"AWS": value})) == set()


def test_user_named_root_warning_sits_on_the_value() -> None:
    user = "arn:aws:iam::111122223333:user/root"
    text = policy_text(key_stmt(Principal={"AWS": [ROOT_A, user]}))
    assert position(text) == [
        (
            at(text, json.dumps(user)),
            "`user/root` is an IAM user named root, not the account: "
            "the account is `arn:aws:iam::111122223333:root`",
        )
    ]


# -- a key policy that names no principal -------------------------------------------

NO_PRINCIPAL = (
    "warning: no statement names a principal: this looks like an identity policy or an SCP, "
    "not a key policy (use `--kind scp` or `--kind identity-policy`)"
)
MISSING = "error: statement has no `Principal`: every statement of a key policy names one"


def test_key_policy_without_any_principal_warns_once() -> None:
    assert problems(id_stmt()) == {NO_PRINCIPAL, MISSING}
    two = diags_of(id_stmt(), id_stmt(Effect="Deny", Action="kms:ScheduleKeyDeletion"))
    found = [f"{d.severity.value}: {d.message}" for d in two]
    assert sorted(found) == sorted([NO_PRINCIPAL, MISSING, MISSING])  # the statements' errors stay


def test_one_principal_anywhere_is_enough() -> None:
    assert NO_PRINCIPAL not in problems(id_stmt(), key_stmt())
    deny = key_stmt(Effect="Deny", Principal=None, NotPrincipal={"AWS": ROOT_A})
    assert NO_PRINCIPAL not in problems(id_stmt(), deny)


def test_only_key_policies_get_the_policy_warning() -> None:
    bucket = id_stmt(Action="s3:GetObject", Resource="arn:aws:s3:::b/*")
    assert problems(bucket, kind=BUCKET) == {
        "error: statement has no `Principal`: every statement of a bucket policy names one"
    }
    assert problems(id_stmt(), kind=PolicyKind.IDENTITY) == set()
    assert problems(id_stmt(), kind=PolicyKind.SCP) == set()
    assert problems() == set()  # no statement at all: nothing to say it looks like


def test_no_principal_warning_sits_on_the_policy() -> None:
    text = policy_text(id_stmt())
    assert position(text)[0] == (":1:1", NO_PRINCIPAL.removeprefix("warning: "))
    [whole] = [d for d in check_policy(built(text)) if d.message.startswith("no statement")]
    assert whole.pos == SourcePos("p.json", 1, 1)
