"""Golden tests for condition operators (kms-semantics.md R6.1-R6.9, R5.4, 10.8, 10.25).

Set operators, open points and policy variables: test_conditions_open.py.
"""

from __future__ import annotations

import pytest

from kmsprove.ast import Condition
from kmsprove.evaluate.conditions import MATCHERS, condition_holds, conditions_hold
from kmsprove.operators import OPERATORS
from kmsprove.request import Context
from tests.support.builders import ALLOW, DENY, A, B, both, cond, holds

# ---------------------------------------------------------------- R6.1


def test_r6_1_values_or_for_positive_operators() -> None:
    c = cond("StringEquals", "kms:CallerAccount", A, B)
    assert holds(c, Context.of({"kms:CallerAccount": B}))
    assert not holds(c, Context.of({"kms:CallerAccount": "999999999999"}))


def test_r6_1_values_nor_for_negated_operators() -> None:
    # StringNotEquals k [a, b] means k is in neither
    c = cond("StringNotEquals", "kms:CallerAccount", A, B)
    assert not holds(c, Context.of({"kms:CallerAccount": A}))
    assert not holds(c, Context.of({"kms:CallerAccount": B}))
    assert holds(c, Context.of({"kms:CallerAccount": "999999999999"}))


def test_r6_1_conditions_and_with_reason_of_first_failure() -> None:
    ctx = Context.of({"kms:CallerAccount": B, "aws:SecureTransport": "true"})
    ok = cond("Bool", "aws:SecureTransport", "true")
    bad = cond("StringEquals", "kms:CallerAccount", A)
    absent = cond("StringEquals", "kms:ViaService", "s3.us-east-1.amazonaws.com")
    assert conditions_hold((ok,), ctx, ALLOW, True) == (True, "")
    assert conditions_hold((), ctx, DENY, True) == (True, "")
    held, why = conditions_hold((ok, bad, absent), ctx, ALLOW, True)
    assert not held
    assert why == f"`StringEquals kms:CallerAccount` wants `{A}`, request has `{B}`"
    assert conditions_hold((ok, absent), ctx, ALLOW, True) == (False, "`kms:ViaService` is absent")


def test_r6_1_reason_for_negated_and_null() -> None:
    ctx = Context.of({"kms:CallerAccount": A})
    _, why = conditions_hold(
        (cond("StringNotEquals", "kms:CallerAccount", A, B),), ctx, ALLOW, True
    )
    assert why == f"`StringNotEquals kms:CallerAccount` excludes `{A}`, `{B}`, request has `{A}`"
    _, why = conditions_hold((cond("Null", "kms:CallerAccount", "true"),), ctx, ALLOW, True)
    assert why == "`Null kms:CallerAccount` wants the key absent, but it is present"


# ---------------------------------------------------------------- R6.2 strings


def test_r6_2_string_equals_is_case_sensitive_and_literal() -> None:
    ctx = Context.of({"aws:username": "Alice"})
    assert holds(cond("StringEquals", "aws:username", "Alice"), ctx)
    assert not holds(cond("StringEquals", "aws:username", "alice"), ctx)
    # no wildcards outside the Like operators
    assert not holds(cond("StringEquals", "aws:username", "A*"), ctx)
    assert holds(cond("StringEquals", "aws:username", "A*"), Context.of({"aws:username": "A*"}))


def test_r6_2_ignore_case() -> None:
    ctx = Context.of({"aws:username": "Alice"})
    assert holds(cond("StringEqualsIgnoreCase", "aws:username", "ALICE"), ctx)
    assert not holds(cond("StringNotEqualsIgnoreCase", "aws:username", "aLiCe"), ctx)
    assert holds(cond("StringNotEqualsIgnoreCase", "aws:username", "bob"), ctx)
    assert not holds(cond("StringEqualsIgnoreCase", "aws:username", "Alic"), ctx)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("alias/app-*", "alias/app-prod", True),
        ("alias/app-*", "alias/app-", True),  # `*` also matches the empty run
        ("alias/app-*", "alias/App-prod", False),  # case-sensitive
        ("alias/app-*", "xalias/app-prod", False),  # anchored at both ends
        ("*", "arn:aws:s3:::a/b:c", True),  # `*` crosses `:` and `/`
        ("alias/???", "alias/abc", True),
        ("alias/???", "alias/ab", False),  # `?` is exactly one character
        ("alias/???", "alias/abcd", False),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "aXXbYY", False),
    ],
)
def test_r6_2_string_like(pattern: str, value: str, expected: bool) -> None:
    ctx = Context.of({"kms:RequestAlias": value})
    assert holds(cond("StringLike", "kms:RequestAlias", pattern), ctx) is expected
    assert holds(cond("StringNotLike", "kms:RequestAlias", pattern), ctx) is not expected


# ---------------------------------------------------------------- R6.3 ARNs

AWS_PATTERN = "arn:aws:someservice:*:111122223333:finance/*"
AWS_VALUE = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"


def test_r6_3_aws_example_string_like_matches_arn_like_does_not() -> None:
    ctx = Context.of({"aws:SourceArn": AWS_VALUE})
    assert holds(cond("StringLike", "aws:SourceArn", AWS_PATTERN), ctx)
    assert not holds(cond("ArnLike", "aws:SourceArn", AWS_PATTERN), ctx)
    assert not holds(cond("ArnEquals", "aws:SourceArn", AWS_PATTERN), ctx)
    assert holds(cond("ArnNotLike", "aws:SourceArn", AWS_PATTERN), ctx)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:iam::*:role/Admin", f"arn:aws:iam::{A}:role/Admin", True),
        ("arn:aws:iam::*:role/Admin", f"arn:aws:iam::{A}:role/admin", False),
        # a `*` in the Region field cannot swallow the account field
        (f"arn:aws:kms:*:{A}:key/*", f"arn:aws:kms:us-east-1:{B}:key/k", False),
        (f"arn:aws:kms:*:{A}:key/*", f"arn:aws:kms:us-east-1:{A}:key/k", True),
        # the resource field keeps its colons, and `*` there crosses them
        ("arn:aws:logs:*:*:log-group:*", "arn:aws:logs:r:1:log-group:g:log-stream:s", True),
        ("arn:aws:s3:::bucket/?", "arn:aws:s3:::bucket/o", True),
        ("*", "not-an-arn", True),  # a bare `*` matches anything
        ("arn:aws:*", f"arn:aws:iam::{A}:root", False),  # fewer than six fields
        ("arn:*:*:*:*:*", "arn:aws:iam", False),  # value with fewer than six fields
    ],
)
def test_r6_3_arn_fields(pattern: str, value: str, expected: bool) -> None:
    ctx = Context.of({"aws:PrincipalArn": value})
    for op in ("ArnLike", "ArnEquals"):  # ArnEquals is ArnLike
        assert holds(cond(op, "aws:PrincipalArn", pattern), ctx) is expected
    for op in ("ArnNotLike", "ArnNotEquals"):
        assert holds(cond(op, "aws:PrincipalArn", pattern), ctx) is not expected


# ---------------------------------------------------------------- R6.4 others


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("NumericEquals", "10", "10.0", True),  # compared as numbers, not text
        ("NumericEquals", "10", "1e1", True),
        ("NumericNotEquals", "10", "11", True),
        ("NumericLessThan", "30", "7", True),  # request value < policy value
        ("NumericLessThan", "7", "7", False),
        ("NumericLessThanEquals", "7", "7", True),
        ("NumericGreaterThan", "7", "30", True),
        ("NumericGreaterThanEquals", "7.5", "7", False),
        ("NumericEquals", "-0.5", "-.5", True),
        # a value that is not a number matches nothing: positive fails, negated holds
        ("NumericEquals", "7", "seven", False),
        ("NumericNotEquals", "7", "seven", True),
        ("NumericLessThan", "7", "NaN", False),
        ("NumericLessThan", "inf", "7", False),
        ("NumericEquals", "7", " 7", False),
        ("NumericEquals", "1_0", "10", False),
    ],
)
def test_r6_4_numeric(operator: str, policy: str, request_value: str, expected: bool) -> None:
    ctx = Context.of({"kms:ScheduleKeyDeletionPendingWindowInDays": request_value})
    c = cond(operator, "kms:ScheduleKeyDeletionPendingWindowInDays", policy)
    assert holds(c, ctx) is expected


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("DateEquals", "2020-01-01T00:00:00Z", "1577836800", True),  # ISO 8601 = epoch
        ("DateEquals", "2020-01-01", "2020-01-01T00:00:00Z", True),  # a date is its midnight
        ("DateEquals", "2020-01-01T02:00:00+02:00", "2020-01-01T00:00:00Z", True),
        ("DateEquals", "2020-01-01T00:00:00", "2020-01-01T00:00:00Z", True),  # no zone: UTC
        ("DateNotEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z", True),
        ("DateLessThan", "2020-01-01T00:00:00Z", "2019-12-31T23:59:59.5Z", True),
        ("DateLessThan", "2020-01-01T00:00:00Z", "1577836800", False),
        ("DateLessThanEquals", "2020-01-01T00:00:00Z", "1577836800", True),
        ("DateGreaterThan", "1577836800", "2020-06-01T00:00:00Z", True),
        ("DateGreaterThanEquals", "1577836800.5", "1577836800", False),
        ("DateEquals", "2020-01-01T00:00:00Z", "yesterday", False),  # unparsable
        ("DateNotEquals", "2020-01-01T00:00:00Z", "2020-13-01", True),
        ("DateLessThan", "not a date", "1577836800", False),
    ],
)
def test_r6_4_date(operator: str, policy: str, request_value: str, expected: bool) -> None:
    ctx = Context.of({"aws:CurrentTime": request_value})
    assert holds(cond(operator, "aws:CurrentTime", policy), ctx) is expected


def test_r6_4_bool() -> None:
    ctx = Context.of({"aws:SecureTransport": "true"})
    assert holds(cond("Bool", "aws:SecureTransport", "true"), ctx)  # JSON true is "true"
    assert holds(cond("Bool", "aws:SecureTransport", "TRUE"), ctx)
    assert not holds(cond("Bool", "aws:SecureTransport", "false"), ctx)
    assert holds(
        cond("Bool", "aws:SecureTransport", "false"), Context.of({"aws:SecureTransport": "False"})
    )
    assert not holds(cond("Bool", "aws:SecureTransport", "yes"), ctx)
    assert not holds(
        cond("Bool", "aws:SecureTransport", "true"), Context.of({"aws:SecureTransport": "1"})
    )


def test_r6_4_binary_equals_compares_decoded_base64() -> None:
    ctx = Context.of({"kms:Blob": "QUJD"})  # b"ABC"
    assert holds(cond("BinaryEquals", "kms:Blob", "QUJD"), ctx)
    assert not holds(cond("BinaryEquals", "kms:Blob", "QUJE"), ctx)
    assert not holds(cond("BinaryEquals", "kms:Blob", "QUJD!"), ctx)  # not base64
    assert not holds(cond("BinaryEquals", "kms:Blob", "QUJ"), ctx)  # bad padding
    assert not holds(cond("BinaryEquals", "kms:Blob", "QUJD"), Context.of({"kms:Blob": "@@"}))


@pytest.mark.parametrize(
    ("cidr", "address", "expected"),
    [
        ("203.0.113.0/24", "203.0.113.7", True),
        ("203.0.113.0/24", "203.0.114.7", False),
        ("203.0.113.7", "203.0.113.7", True),  # a bare address is /32
        ("203.0.113.7", "203.0.113.8", False),
        ("10.0.0.5/8", "10.200.1.1", True),  # host bits in the CIDR are ignored
        ("2001:db8::/32", "2001:db8:1::1", True),
        ("2001:db8::1", "2001:db8::1", True),  # /128
        ("2001:db8::1", "2001:db8::2", False),
        ("1.2.3.0/24", "::ffff:1.2.3.4", False),  # IPv4 and IPv6 never mix
        ("1.2.3.0/24", "1.2.3", False),  # not an address
        ("1.2.3.0/33", "1.2.3.4", False),  # not a network
    ],
)
def test_r6_4_ip_address(cidr: str, address: str, expected: bool) -> None:
    ctx = Context.of({"aws:SourceIp": address})
    assert holds(cond("IpAddress", "aws:SourceIp", cidr), ctx) is expected
    assert holds(cond("NotIpAddress", "aws:SourceIp", cidr), ctx) is not expected


# ---------------------------------------------------------------- R6.5 absent keys

POSITIVE = [
    ("StringEquals", "x"),
    ("StringEqualsIgnoreCase", "x"),
    ("StringLike", "*"),
    ("NumericEquals", "1"),
    ("NumericLessThan", "1"),
    ("DateEquals", "2020-01-01"),
    ("Bool", "false"),
    ("BinaryEquals", "QUJD"),
    ("IpAddress", "0.0.0.0/0"),
    ("ArnLike", "*"),
    ("ArnEquals", "*"),
]
NEGATED = [
    ("StringNotEquals", "x"),
    ("StringNotEqualsIgnoreCase", "x"),
    ("StringNotLike", "*"),
    ("NumericNotEquals", "1"),
    ("DateNotEquals", "2020-01-01"),
    ("NotIpAddress", "0.0.0.0/0"),
    ("ArnNotLike", "*"),
    ("ArnNotEquals", "*"),
]


@pytest.mark.parametrize(("operator", "value"), POSITIVE)
def test_r6_5_absent_key_positive_operator_is_false(operator: str, value: str) -> None:
    assert both(cond(operator, "kms:Absent", value), Context.of({})) == (False, False)


@pytest.mark.parametrize(("operator", "value"), NEGATED)
def test_r6_5_absent_key_negated_operator_is_true(operator: str, value: str) -> None:
    assert both(cond(operator, "kms:Absent", value), Context.of({})) == (True, True)


def test_r6_5_deny_not_equals_org_id_hits_service_principals() -> None:
    service = Context.of({"aws:PrincipalIsAWSService": "true"})  # no aws:PrincipalOrgID
    assert holds(cond("StringNotEquals", "aws:PrincipalOrgID", "o-exampleorgid"), service, DENY)


# ---------------------------------------------------------------- R6.6 IfExists


@pytest.mark.parametrize(("operator", "value"), POSITIVE + NEGATED)
def test_r6_6_if_exists_on_absent_key_is_true(operator: str, value: str) -> None:
    c = cond(operator + "IfExists", "kms:Absent", value)
    assert both(c, Context.of({})) == (True, True)


def test_r6_6_if_exists_tests_a_present_key_normally() -> None:
    ctx = Context.of({"kms:ViaService": "ec2.us-east-1.amazonaws.com"})
    assert not holds(
        cond("StringEqualsIfExists", "kms:ViaService", "s3.us-east-1.amazonaws.com"), ctx
    )
    assert holds(cond("StringLikeIfExists", "kms:ViaService", "ec2.*"), ctx)


def test_r6_6_aws_exemption_of_service_principals() -> None:
    exempt = cond("BoolIfExists", "aws:PrincipalIsAWSService", "false")
    assert not holds(exempt, Context.of({"aws:PrincipalIsAWSService": "true"}), DENY)
    assert holds(exempt, Context.of({"aws:PrincipalIsAWSService": "false"}), DENY)


# ---------------------------------------------------------------- R6.7 Null


def test_r6_7_null() -> None:
    present = Context.of({"kms:ViaService": "s3.us-east-1.amazonaws.com"})
    absent = Context.of({})
    assert holds(cond("Null", "kms:ViaService", "true"), absent)
    assert not holds(cond("Null", "kms:ViaService", "true"), present)
    assert holds(cond("Null", "kms:ViaService", "false"), present)
    assert not holds(cond("Null", "kms:ViaService", "false"), absent)
    assert holds(cond("Null", "kms:ViaService", "False"), present)
    assert holds(cond("Null", "kms:ViaService", "true", "false"), absent)  # values OR
    assert not holds(cond("Null", "kms:ViaService", "maybe"), absent)


def test_r6_7_null_on_an_empty_set_means_present() -> None:
    ctx = Context.of({"kms:EncryptionContextKeys": []})
    assert holds(cond("Null", "kms:EncryptionContextKeys", "false"), ctx)


# ---------------------------------------------------------------- R5.4 / R6.9 case


def test_r5_4_key_names_are_case_insensitive() -> None:
    ctx = Context.of({"kms:EncryptionContext:Department": "IT"})
    assert holds(cond("StringEquals", "KMS:ENCRYPTIONCONTEXT:department", "IT"), ctx)
    assert not holds(cond("StringEquals", "kms:encryptioncontext:DEPARTMENT", "it"), ctx)


# ---------------------------------------------------------------- 10.25, invariants


def test_10_25_every_operator_has_a_matcher() -> None:
    assert set(MATCHERS) | {"Null"} == set(OPERATORS)


def test_10_25_unknown_operator_is_a_bug_not_a_decision() -> None:
    # the policy builder rejects operators in any other spelling; none reach here
    c = Condition("stringEquals", "stringEquals", None, False, "aws:username", ("a",))
    with pytest.raises(KeyError):
        condition_holds(c, Context.of({"aws:username": "a"}), ALLOW, True)


def test_empty_value_list_matches_nothing() -> None:
    # the builder reports an empty list but still builds the condition
    ctx = Context.of({"aws:username": "a"})
    assert not holds(cond("StringEquals", "aws:username"), ctx)
    assert holds(cond("StringNotEquals", "aws:username"), ctx)
    assert not holds(cond("Null", "aws:username"), ctx)
