"""Golden tests: set operators (R6.8, 10.8, 10.20), open points per effect
(10.15, 10.22, 10.23) and policy variables in conditions (R6.10, 10.13).
"""

from __future__ import annotations

from kmsprove.evaluate.conditions import conditions_hold
from kmsprove.request import Context
from tests.support.builders import ALLOW, DENY, A, B, both, cond, holds

# ---------------------------------------------------------------- R6.8 set operators


def test_r6_8_for_all_values_every_request_value_matches_some_policy_value() -> None:
    c = cond("ForAllValues:StringEquals", "kms:EncryptionContextKeys", "Department", "Project")
    assert both(c, Context.of({"kms:EncryptionContextKeys": ["Department"]})) == (True, True)
    assert both(c, Context.of({"kms:EncryptionContextKeys": ["Project", "Department"]})) == (
        True,
        True,
    )
    assert both(c, Context.of({"kms:EncryptionContextKeys": ["Department", "Other"]})) == (
        False,
        False,
    )


def test_r6_8_for_all_values_on_an_empty_set_is_true() -> None:
    c = cond("ForAllValues:StringEquals", "kms:EncryptionContextKeys", "Department")
    assert both(c, Context.of({"kms:EncryptionContextKeys": []})) == (True, True)


def test_r6_8_10_20_for_all_values_on_an_absent_key_is_per_effect() -> None:
    c = cond("ForAllValues:StringEquals", "kms:EncryptionContextKeys", "Department")
    assert both(c, Context.of({})) == (True, False)
    negated = cond("ForAllValues:StringNotEquals", "kms:EncryptionContextKeys", "Department")
    assert both(negated, Context.of({})) == (True, False)
    # IfExists settles it: absent means true in both
    settled = cond("ForAllValues:StringEqualsIfExists", "kms:EncryptionContextKeys", "Department")
    assert both(settled, Context.of({})) == (True, True)


def test_r4_11_pitfall_for_all_values_grant_operations_allows_decrypt() -> None:
    # Allow + ForAllValues kms:GrantOperations on a request without GrantOperations
    decrypt = Context.of({"kms:CallerAccount": A})
    c = cond("ForAllValues:StringEquals", "kms:GrantOperations", "Decrypt", "Encrypt")
    assert holds(c, decrypt, ALLOW)
    create = Context.of({"kms:GrantOperations": ["Decrypt", "CreateGrant"]})
    assert not holds(c, create, ALLOW)


def test_r6_8_for_any_value() -> None:
    c = cond("ForAnyValue:StringLike", "kms:ResourceAliases", "alias/app-*")
    assert holds(c, Context.of({"kms:ResourceAliases": ["alias/x", "alias/app-1"]}))
    assert not holds(c, Context.of({"kms:ResourceAliases": ["alias/x"]}))
    assert both(c, Context.of({"kms:ResourceAliases": []})) == (False, False)
    assert both(c, Context.of({})) == (False, False)


def test_r6_8_negated_inner_operator_is_per_element() -> None:
    all_out = cond("ForAllValues:StringNotEquals", "aws:TagKeys", "secret", "owner")
    assert holds(all_out, Context.of({"aws:TagKeys": ["team", "env"]}))
    assert not holds(all_out, Context.of({"aws:TagKeys": ["team", "owner"]}))
    any_out = cond("ForAnyValue:StringNotEquals", "aws:TagKeys", "secret", "owner")
    assert holds(any_out, Context.of({"aws:TagKeys": ["owner", "team"]}))
    assert not holds(any_out, Context.of({"aws:TagKeys": ["owner", "secret"]}))
    # ForAnyValue on an absent key is false even with a negated operator
    assert both(any_out, Context.of({})) == (False, False)


def test_r6_8_single_valued_key_with_set_operator_is_a_set_of_one() -> None:
    ctx = Context.of({"kms:CallerAccount": A})
    assert holds(cond("ForAnyValue:StringEquals", "kms:CallerAccount", A, B), ctx)
    assert holds(cond("ForAllValues:StringEquals", "kms:CallerAccount", A), ctx)
    assert not holds(cond("ForAllValues:StringEquals", "kms:CallerAccount", B), ctx)


def test_10_8_multi_valued_key_without_set_operator_is_for_any_value() -> None:
    ctx = Context.of({"kms:GrantOperations": ["Encrypt", "Decrypt"]})
    assert holds(cond("StringEquals", "kms:GrantOperations", "Decrypt"), ctx)
    assert not holds(cond("StringEquals", "kms:GrantOperations", "Sign"), ctx)
    # negated: some value lies outside the policy values
    assert holds(cond("StringNotEquals", "kms:GrantOperations", "Decrypt"), ctx)
    assert not holds(cond("StringNotEquals", "kms:GrantOperations", "Decrypt", "Encrypt"), ctx)
    # an empty set has no value that could match
    empty = Context.of({"kms:GrantOperations": []})
    assert both(cond("StringEquals", "kms:GrantOperations", "Decrypt"), empty) == (False, False)


def test_r6_8_set_operators_with_other_families() -> None:
    ctx = Context.of({"aws:SourceIp": ["10.0.0.1", "192.168.0.1"]})
    assert holds(cond("ForAnyValue:IpAddress", "aws:SourceIp", "10.0.0.0/8"), ctx)
    assert not holds(cond("ForAllValues:IpAddress", "aws:SourceIp", "10.0.0.0/8"), ctx)
    assert holds(cond("ForAllValues:NotIpAddress", "aws:SourceIp", "172.16.0.0/12"), ctx)


# ---------------------------------------------------------------- open keys, per effect


def test_10_22_grant_is_for_aws_resource_per_effect() -> None:
    # direct CreateGrant: the key is either absent or "false" (request.open_states)
    ctx = Context.of({"kms:CallerAccount": A}).with_open(
        "kms:GrantIsForAWSResource", (None, ("false",))
    )
    assert both(cond("Bool", "kms:GrantIsForAWSResource", "true"), ctx) == (False, False)
    assert both(cond("Bool", "kms:GrantIsForAWSResource", "false"), ctx) == (True, False)
    assert both(cond("BoolIfExists", "kms:GrantIsForAWSResource", "false"), ctx) == (True, True)
    assert both(cond("Null", "kms:GrantIsForAWSResource", "true"), ctx) == (True, False)


def test_10_15_called_via_per_effect() -> None:
    ctx = Context.of({"kms:ViaService": "s3.us-east-1.amazonaws.com"}).with_open(
        "aws:CalledVia", (None, ("s3.amazonaws.com",))
    )
    any_s3 = cond("ForAnyValue:StringEquals", "aws:CalledVia", "s3.amazonaws.com")
    assert both(any_s3, ctx) == (True, False)
    any_ec2 = cond("ForAnyValue:StringEquals", "aws:CalledVia", "ec2.amazonaws.com")
    assert both(any_ec2, ctx) == (False, False)
    # ForAllValues: absent is itself open (10.20), present passes: true in an Allow only
    assert both(cond("ForAllValues:StringEquals", "aws:CalledVia", "s3.amazonaws.com"), ctx) == (
        True,
        False,
    )


def test_open_key_states_override_values_and_empty_states_mean_absent() -> None:
    ctx = Context.of({"aws:SourceIp": "10.0.0.1"}).with_open(
        "aws:SourceIp", (("10.0.0.1",), ("52.0.0.1",))
    )
    assert both(cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"), ctx) == (True, False)
    unknown = Context.of({}).with_open("aws:SourceIp", ())
    assert both(cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"), unknown) == (False, False)


def test_per_effect_reason_names_the_open_point() -> None:
    ctx = Context.of({}).with_open("kms:GrantIsForAWSResource", (None, ("false",)))
    held, why = conditions_hold(
        (cond("Bool", "kms:GrantIsForAWSResource", "false"),), ctx, DENY, True
    )
    assert not held
    assert "leaves open" in why
    assert why.startswith("`Bool kms:GrantIsForAWSResource`")


def test_10_23_encryption_context_keys_differing_only_in_case() -> None:
    pairs = {"kms:EncryptionContext:Dept": "IT", "kms:EncryptionContext:dept": "HR"}
    ctx = Context.of(pairs)
    assert both(cond("StringEquals", "kms:EncryptionContext:dept", "IT"), ctx) == (True, False)
    assert both(cond("StringEquals", "kms:EncryptionContext:DEPT", "HR"), ctx) == (True, False)
    assert both(cond("StringEquals", "kms:EncryptionContext:dept", "IT", "HR"), ctx) == (
        True,
        True,
    )
    assert both(cond("StringEquals", "kms:EncryptionContext:dept", "Sales"), ctx) == (
        False,
        False,
    )
    same = Context.of({"kms:EncryptionContext:Dept": "IT", "kms:EncryptionContext:dept": "IT"})
    assert same.open_keys == {}
    assert both(cond("StringEquals", "kms:EncryptionContext:dept", "IT"), same) == (True, True)


# ---------------------------------------------------------------- R6.10 variables

BOB = Context.of({"aws:username": "bob", "aws:PrincipalTag/team": "blue"})


def test_r6_10_variable_in_string_value() -> None:
    c = cond("StringEquals", "kms:EncryptionContext:owner", "${aws:username}")
    assert holds(c, BOB.with_values({"kms:EncryptionContext:owner": "bob"}))
    assert not holds(c, BOB.with_values({"kms:EncryptionContext:owner": "alice"}))
    like = cond("StringLike", "kms:EncryptionContext:path", "home/${aws:username}/*")
    assert holds(like, BOB.with_values({"kms:EncryptionContext:path": "home/bob/x/y"}))
    # variable names are case-insensitive, like key names
    upper = cond("StringEquals", "kms:EncryptionContext:owner", "${AWS:UserName}")
    assert holds(upper, BOB.with_values({"kms:EncryptionContext:owner": "bob"}))


def test_r6_10_version_2008_keeps_variables_literal() -> None:
    c = cond("StringEquals", "kms:EncryptionContext:owner", "${aws:username}")
    ctx = BOB.with_values({"kms:EncryptionContext:owner": "bob"})
    assert not holds(c, ctx, variables=False)
    literal = BOB.with_values({"kms:EncryptionContext:owner": "${aws:username}"})
    assert holds(c, literal, variables=False)


def test_r6_10_defaults() -> None:
    c = cond("StringEquals", "kms:EncryptionContext:team", "${aws:PrincipalTag/team, 'none'}")
    assert holds(c, BOB.with_values({"kms:EncryptionContext:team": "blue"}))
    untagged = Context.of({"kms:EncryptionContext:team": "none"})
    assert holds(c, untagged)
    empty_default = cond("StringEquals", "kms:EncryptionContext:team", "x${aws:PrincipalTag/t,''}")
    assert holds(empty_default, Context.of({"kms:EncryptionContext:team": "x"}))


def test_r6_10_escapes_are_literal_characters() -> None:
    star = cond("StringLike", "kms:EncryptionContext:k", "a${*}b")
    assert holds(star, Context.of({"kms:EncryptionContext:k": "a*b"}))
    assert not holds(star, Context.of({"kms:EncryptionContext:k": "axb"}))
    quest = cond("StringLike", "kms:EncryptionContext:k", "a${?}*")
    assert holds(quest, Context.of({"kms:EncryptionContext:k": "a?zz"}))
    assert not holds(quest, Context.of({"kms:EncryptionContext:k": "abzz"}))
    dollar = cond("StringEquals", "kms:EncryptionContext:k", "${$}{aws:username}")
    assert holds(dollar, BOB.with_values({"kms:EncryptionContext:k": "${aws:username}"}))


def test_r6_10_substituted_text_never_acts_as_wildcard() -> None:
    tagged = Context.of({"aws:PrincipalTag/p": "x*", "kms:EncryptionContext:k": "xyz"})
    c = cond("StringLike", "kms:EncryptionContext:k", "${aws:PrincipalTag/p}")
    assert not holds(c, tagged)
    assert holds(c, tagged.with_values({"kms:EncryptionContext:k": "x*"}))


def test_r6_10_unresolved_positive_fails_negated_matches() -> None:
    ctx = Context.of({"kms:EncryptionContext:team": "blue"})  # no aws:PrincipalTag/team
    for op in ("StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnLike"):
        assert both(cond(op, "kms:EncryptionContext:team", "${aws:PrincipalTag/team}"), ctx) == (
            False,
            False,
        )
    for op in ("StringNotEquals", "StringNotLike", "ArnNotLike"):
        assert both(cond(op, "kms:EncryptionContext:team", "${aws:PrincipalTag/team}"), ctx) == (
            True,
            True,
        )
    # other values still count
    c = cond("StringEquals", "kms:EncryptionContext:team", "${aws:PrincipalTag/team}", "blue")
    assert holds(c, ctx)
    held, why = conditions_hold(
        (cond("StringEquals", "kms:EncryptionContext:team", "${aws:PrincipalTag/team}"),),
        ctx,
        ALLOW,
        True,
    )
    assert not held
    assert "`${aws:PrincipalTag/team}` (unresolved)" in why


def test_r6_10_multi_valued_keys_are_not_variables() -> None:
    ctx = Context.of(
        {"aws:CalledVia": ["s3.amazonaws.com"], "kms:EncryptionContext:k": "s3.amazonaws.com"}
    )
    assert not holds(cond("StringEquals", "kms:EncryptionContext:k", "${aws:CalledVia}"), ctx)
    assert holds(cond("StringNotEquals", "kms:EncryptionContext:k", "${aws:CalledVia}"), ctx)


def test_r6_10_variables_in_arn_values() -> None:
    ctx = Context.of({"aws:PrincipalAccount": A, "aws:PrincipalArn": f"arn:aws:iam::{A}:role/App"})
    c = cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::${aws:PrincipalAccount}:role/*")
    assert holds(c, ctx)
    assert not holds(c, ctx.with_values({"aws:PrincipalAccount": B}))


def test_r6_10_no_variables_in_numeric_date_ip_binary_null() -> None:
    ctx = Context.of({"aws:x": "5", "kms:N": "5", "aws:SourceIp": "10.0.0.1"})
    assert not holds(cond("NumericEquals", "kms:N", "${aws:x}"), ctx)
    assert holds(cond("NumericNotEquals", "kms:N", "${aws:x}"), ctx)
    assert not holds(cond("DateEquals", "kms:N", "${aws:x}"), ctx)
    assert not holds(
        cond("IpAddress", "aws:SourceIp", "${aws:ip}"), ctx.with_values({"aws:ip": "10.0.0.1"})
    )


def test_10_13_variables_in_bool_are_literal() -> None:
    ctx = Context.of({"aws:SecureTransport": "true", "aws:flag": "true"})
    assert not holds(cond("Bool", "aws:SecureTransport", "${aws:flag}"), ctx)


def test_r6_10_open_key_behind_a_variable_is_per_effect() -> None:
    ctx = Context.of({"aws:username": "bob"}).with_open("aws:PrincipalTag/lead", (None, ("bob",)))
    c = cond("StringEquals", "aws:username", "${aws:PrincipalTag/lead}")
    assert both(c, ctx) == (True, False)
