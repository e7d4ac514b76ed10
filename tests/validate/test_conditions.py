"""check_policy: condition keys, set operators and value types (R5, R6)."""

from __future__ import annotations

from typing import Any

import pytest

from kmsprove.ast import PolicyKind
from kmsprove.errors import SourcePos
from kmsprove.validate.conditions import is_single_valued, kms_condition_keys, value_type_problem
from tests.support.builders import diags_of, id_stmt, key_stmt, problems

ID = PolicyKind.IDENTITY


def cond(block: dict[str, Any], kind: PolicyKind = PolicyKind.KEY_POLICY) -> set[str]:
    st = key_stmt(Condition=block) if kind.is_resource_policy else id_stmt(Condition=block)
    return problems(st, kind=kind)


def test_known_keys_in_any_case_are_fine() -> None:
    assert cond({"StringEquals": {"KMS:ViaService": "s3.us-east-1.amazonaws.com"}}) == set()
    assert cond({"StringEquals": {"kms:encryptioncontext:Dept": "IT"}}) == set()
    assert cond({"StringEquals": {"aws:PRINCIPALORGID": "o-1"}}) == set()
    assert cond({"StringEquals": {"kms:CustomerMasterKeySpec": "RSA_2048"}}, ID) == set()
    assert cond({"StringLike": {"kms:RecipientAttestation:ImageSha384": "abc*"}}) == set()


def test_unknown_kms_keys_warn_with_did_you_mean() -> None:
    assert cond({"StringEquals": {"kms:CallerAcount": "1"}}) == {
        "warning: unknown KMS condition key `kms:CallerAcount` (did you mean `kms:CallerAccount`?)"
    }
    assert cond({"StringEquals": {"kms:EncryptionContex:dept": "IT"}}) == {
        "warning: unknown KMS condition key `kms:EncryptionContex:dept` "
        "(did you mean `kms:EncryptionContext:dept`?)"
    }
    assert cond({"StringEquals": {"kms:Zzzzzz": "1"}}) == {
        "warning: unknown KMS condition key `kms:Zzzzzz`"
    }
    # other services' keys are not ours to judge
    assert cond({"StringEquals": {"s3:prefix": "home/"}}) == set()


def test_empty_encryption_context_key() -> None:
    assert cond({"StringEquals": {"kms:EncryptionContext:": "x"}}) == {
        "error: `kms:EncryptionContext:` needs an encryption context key after "
        "`kms:EncryptionContext:`"
    }


def test_variables_in_key_names_are_not_substituted() -> None:
    assert cond({"StringEquals": {"kms:EncryptionContext:${aws:username}": "x"}}) == {
        "warning: policy variables are not substituted in condition key names: "
        "`kms:EncryptionContext:${aws:username}`"
    }


def test_iam_only_keys_in_key_policies() -> None:
    for op, key in (
        ("ForAnyValue:StringEquals", "kms:ResourceAliases"),
        ("StringEquals", "aws:ResourceTag/team"),
    ):
        block = {op: {key: "x"}}
        assert cond(block) == {
            f"warning: `{key}` is available only in IAM policies: in a key policy it is always absent"
        }
        assert cond(block, ID) == set()


@pytest.mark.parametrize("key", ["kms:EncryptionContext:dept", "aws:RequestTag/team"])
def test_for_all_values_on_single_valued_tags_and_context(key: str) -> None:
    msg = (
        f"`ForAllValues` on `{key}` also holds when the key is absent: "
        "KMS rejects it in key policies (OverlyPermissiveCondition)"
    )
    block = {"ForAllValues:StringEquals": {key: "x"}}
    assert cond(block) == {f"error: {msg}"}
    assert cond(block, ID) == {f"warning: {msg}"}


def test_set_operator_on_a_single_valued_key() -> None:
    assert cond({"ForAnyValue:StringEquals": {"kms:CallerAccount": "111122223333"}}) == {
        "warning: set operator `ForAnyValue` on single-valued key `kms:CallerAccount`: "
        "use `StringEquals`"
    }
    assert cond({"ForAllValues:BoolIfExists": {"aws:SecureTransport": "true"}}, ID) == {
        "warning: set operator `ForAllValues` on single-valued key `aws:SecureTransport`: "
        "use `BoolIfExists`"
    }
    # unknown keys are left alone
    assert cond({"ForAnyValue:StringEquals": {"s3:prefix": "a"}}, ID) == set()


@pytest.mark.parametrize(
    "key",
    [
        "kms:EncryptionContextKeys",
        "kms:GrantOperations",
        "kms:ResourceAliases",
        "aws:CalledVia",
        "aws:TagKeys",
    ],
)
def test_multi_valued_keys_without_a_set_operator(key: str) -> None:
    value = "Decrypt" if key == "kms:GrantOperations" else "x"
    assert cond({"StringEquals": {key: value}}, ID) == {
        f"warning: `{key}` is multi-valued: use `ForAnyValue:` or `ForAllValues:`; "
        "kmsprove reads `StringEquals` as `ForAnyValue:StringEquals`"
    }
    assert cond({"ForAnyValue:StringEquals": {key: value}}, ID) == set()
    assert cond({"Null": {key: "false"}}, ID) == set()


@pytest.mark.parametrize(
    ("operator", "key"),
    [
        ("NumericLessThan", "kms:ScheduleKeyDeletionPendingWindowInDays"),
        ("DateGreaterThan", "aws:CurrentTime"),
        ("Bool", "aws:SecureTransport"),
        ("BinaryEquals", "kms:RecipientAttestation:ImageSha384"),
        ("IpAddress", "aws:SourceIp"),
        ("Null", "kms:CallerAccount"),
    ],
)
def test_variables_only_in_string_and_arn_values(operator: str, key: str) -> None:
    assert cond({operator: {key: "${aws:username}"}}, ID) == {
        f"error: policy variables are not allowed in `{operator.removesuffix('IfExists')}` values: "
        "`${aws:username}`"
    }
    assert cond({"StringEquals": {"aws:PrincipalTag/a": "${aws:username}"}}, ID) == set()


@pytest.mark.parametrize(
    ("family", "good", "bad", "message"),
    [
        (
            "Bool",
            ["true", "false", "True", "FALSE"],
            ["yes", "1"],
            "`Bool` values must be `true` or `false`, not `{v}`",
        ),
        (
            "Null",
            ["true", "false"],
            ["absent"],
            "`Null` values must be `true` or `false`, not `{v}`",
        ),
        (
            "Numeric",
            # one literal syntax for the validator and both twins (docs/choices.md):
            # ASCII decimal notation with an optional exponent
            ["7", "-3", "2.5", "+4", "1e3", "1E-2"],
            ["seven", "", "1.2.3", "\uff11\uff10", "NaN", "1_000"],
            "`{v}` is not a number (`NumericEquals` compares numbers)",
        ),
        (
            "Date",
            [
                "2026-01-31",
                "2026-01-31T12:00:00Z",
                "2026-01-31T12:00:00.123+01:00",
                "2026-01-31T12:00+0100",
                "1700000000",
                # the W3C profile's reduced precision, and epoch seconds with a fraction
                "2030",
                "2030-01",
                "2026-01-31T12:00",
                "1700000000.5",
                "-5",
            ],
            ["2026-13-01", "yesterday", "2026-02-30T00:00:00Z", "31/01/2026", "2030-1", "1e9"],
            "`{v}` is not a date: use ISO 8601 (`2026-01-31T12:00:00Z`) or epoch seconds",
        ),
        (
            "Ip",
            ["203.0.113.0/24", "203.0.113.5", "2001:db8::/32", "203.0.113.5/24"],
            ["203.0.113.999", "10.0.0.0/33", "host"],
            "`{v}` is not an IP address or CIDR block",
        ),
        (
            "Binary",
            ["QmluYXJ5", ""],
            ["not base64!", "abc"],
            "`{v}` is not base64 (`BinaryEquals` compares base64)",
        ),
    ],
)
def test_value_types(family: str, good: list[str], bad: list[str], message: str) -> None:
    base = {
        "Bool": "Bool",
        "Null": "Null",
        "Numeric": "NumericEquals",
        "Date": "DateEquals",
        "Ip": "IpAddress",
        "Binary": "BinaryEquals",
    }[family]
    for v in good:
        assert value_type_problem(family, base, v) is None, v
    for v in bad:
        assert value_type_problem(family, base, v) == message.format(v=v), v


def test_value_type_errors_reach_check_policy_with_every_bad_value() -> None:
    found = cond(
        {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": ["7", "x", "y"]}}, ID
    )
    assert found == {
        "error: `x` is not a number (`NumericLessThan` compares numbers)",
        "error: `y` is not a number (`NumericLessThan` compares numbers)",
    }
    # JSON true/false and numbers become strings and are fine
    assert (
        cond(
            {
                "Bool": {"aws:SecureTransport": True},
                "NumericEquals": {"kms:RotationPeriodInDays": 90},
            },
            ID,
        )
        == set()
    )


def test_arn_operators_need_arns() -> None:
    assert cond(
        {"ArnLike": {"aws:SourceArn": ["arn:aws:cloudtrail:*:111122223333:trail/*", "*", "trail"]}},
        ID,
    ) == {
        "warning: `trail` is not an ARN: `ArnLike` compares the six `:`-separated fields of ARNs, "
        "so it never matches"
    }


def test_grant_operations_values() -> None:
    block = {
        "ForAllValues:StringEquals": {
            "kms:GrantOperations": ["Decrypt", "Decryptt", "kms:Encrypt", "decrypt"]
        }
    }
    assert cond(block) == {
        "error: `Decryptt` is not a grant operation (did you mean `Decrypt`?)",
        "error: `kms:Encrypt` is not a grant operation (did you mean `Encrypt`?)",
        "error: `decrypt` is not a grant operation (did you mean `Decrypt`?)",
    }
    assert (
        cond({"ForAllValues:StringEqualsIgnoreCase": {"kms:GrantOperations": "decrypt"}}) == set()
    )
    assert cond({"ForAllValues:StringLike": {"kms:GrantOperations": ["Generate*", "Re*"]}}) == set()
    assert cond({"ForAllValues:StringLike": {"kms:GrantOperations": "generate*"}}) == {
        "error: `generate*` matches no grant operation (values are case-sensitive)"
    }
    assert cond({"ForAllValues:StringLike": {"kms:GrantOperations": ["Revoke*", "Decrypt"]}}) == {
        "error: `Revoke*` matches no grant operation"
    }
    assert cond({"ForAnyValue:StringEquals": {"kms:GrantOperations": "RevokeGrant"}}) == {
        "error: `RevokeGrant` is not a grant operation (did you mean `RetireGrant`?)"
    }


def test_every_condition_is_reported_at_its_value() -> None:
    block = {"StringEquals": {"kms:Nope": "a"}, "NumericEquals": {"kms:RotationPeriodInDays": "x"}}
    diags = diags_of(id_stmt(Condition=block), kind=ID)
    assert len(diags) == 2
    assert all(d.pos.line == 1 and d.pos.file == "p.json" for d in diags)
    assert len({d.pos for d in diags}) == 2
    assert all(isinstance(d.pos, SourcePos) for d in diags)


def test_catalogue_keys() -> None:
    exact, prefixes = kms_condition_keys()
    assert "kms:ViaService" in exact and "kms:EncryptionContext:" in prefixes
    assert is_single_valued("kms:viaservice") and is_single_valued("kms:encryptioncontext:x")
    assert not is_single_valued("kms:encryptioncontextkeys")
    assert not is_single_valued("s3:prefix")
