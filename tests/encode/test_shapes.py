"""The value shapes (specs/value-shapes.json) read two ways agree: what Python's `re`
accepts Z3 accepts and the reverse; and a witness carries only values AWS could send
(the solver finds a shaped value, or proves none fits)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.ast import Query, Who, WhoKind
from kmsprove.catalog import grant_operations, shape_examples, shape_values, value_shapes
from kmsprove.encode.shapes import shape_re
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from tests.support.strategies import one_key_world

SHAPES = sorted(value_shapes().items())


def _z3_accepts(pattern: str, text: str) -> bool:
    s = z3.Solver()
    s.add(z3.InRe(z3.StringVal(text), shape_re(pattern)))
    return s.check() == z3.sat


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_what_python_accepts_z3_accepts(data: st.DataObject) -> None:
    key, pattern = data.draw(st.sampled_from(SHAPES))
    text = data.draw(st.from_regex(pattern, fullmatch=True).filter(lambda t: t.isascii()))
    assert _z3_accepts(pattern, text), (key, text)


@pytest.mark.parametrize(("key", "pattern"), SHAPES)
def test_what_z3_builds_python_accepts(key: str, pattern: str) -> None:
    v = z3.String("v")
    s = z3.Solver()
    s.add(z3.InRe(v, shape_re(pattern)))
    seen = []
    while len(seen) < 3 and s.check() == z3.sat:  # a few different members
        text = s.model()[v].as_string()
        assert re.fullmatch(pattern, text), (key, text)
        seen.append(text)
        s.add(v != z3.StringVal(text))
    assert seen


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [
        (
            "kms:GranteePrincipal",
            "arn:aws:iam::444455556666:role/ops/deploy",
            "arn:aws:iam::999999999999:",
        ),
        ("kms:GranteePrincipal", "logs.amazonaws.com", "logs.us-east-1"),
        ("kms:RetiringPrincipal", "arn:aws:sts::444455556666:assumed-role/R/s", "R"),
        ("aws:SourceArn", "arn:aws:s3:::bucket", "bucket"),
        ("aws:SourceArn", "arn:aws:logs:us-east-1:111122223333:log-group:x", "arn:aws:logs"),
        ("aws:SourceArn", "arn:aws:iam::111122223333:role/R", "arn:aws:logs:us-east-1::x"),
        ("aws:SourceAccount", "111122223333", "11112222333"),
        ("kms:ViaService", "ec2.eu-west-1.amazonaws.com", "-.a.amazonaws.com"),
        ("kms:ViaService", "s3.us-east-1.amazonaws.com", "s3.amazonaws.com"),
        ("aws:SourceVpce", "vpce-1a2b3c4d", "vpc-1a2b3c4d"),
        ("kms:GrantOperations", "Decrypt", ""),
        ("aws:PrincipalOrgPaths", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/", "o-a1b2c3d4e5"),
    ],
)
def test_shapes_take_what_aws_sends_and_refuse_what_it_never_does(
    key: str, good: str, bad: str
) -> None:
    pattern = value_shapes()[key.lower()]
    assert re.fullmatch(pattern, good) and _z3_accepts(pattern, good)
    assert not re.fullmatch(pattern, bad) and not _z3_accepts(pattern, bad)


def test_the_grant_operations_listed_are_the_catalogues() -> None:
    assert shape_values("kms:GrantOperations") == grant_operations()


# --------------------------------------------------------------------------
# witnesses


def _ask(doc: dict[str, Any], action: str) -> Any:
    [answer] = ask(load_world_json(doc), Query(Who(WhoKind.ANYONE), (action,)), timeout=30)
    return answer


def _allow(condition: dict[str, Any], action: str = "kms:CreateGrant") -> dict[str, Any]:
    return one_key_world(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": action,
            "Resource": "*",
            "Condition": condition,
        }
    )


def test_a_create_grant_witness_names_a_grantee_and_operations() -> None:
    answer = _ask(_allow({"Bool": {"kms:GrantIsForAWSResource": "false"}}), "kms:CreateGrant")
    ctx = answer.counterexample.context.as_json()
    assert answer.verdict.value == "yes"
    grantee = ctx["kms:GranteePrincipal"]
    ops = ctx["kms:GrantOperations"]
    assert re.fullmatch(value_shapes()["kms:granteeprincipal"], grantee), grantee
    ops = [ops] if isinstance(ops, str) else ops
    assert ops and set(ops) <= set(grant_operations()), ops


def test_a_grantee_pattern_gets_a_grantee_aws_could_send() -> None:
    cond = {"StringLike": {"kms:GranteePrincipal": "arn:aws:iam::999999999999:*"}}
    answer = _ask(_allow(cond), "kms:CreateGrant")
    grantee = answer.counterexample.context.as_json()["kms:GranteePrincipal"]
    assert grantee.startswith("arn:aws:iam::999999999999:")
    assert re.fullmatch(value_shapes()["kms:granteeprincipal"], grantee), grantee


def test_a_condition_only_a_malformed_value_meets_is_never_met() -> None:
    # no caller sends kms:ViaService without a Region, or a SourceAccount of 3 digits
    assert (
        _ask(
            _allow({"StringEquals": {"kms:ViaService": "s3.amazonaws.com"}}, "kms:Decrypt"),
            "kms:Decrypt",
        ).verdict.value
        == "no"
    )
    cond = {"StringLike": {"kms:GranteePrincipal": "arn:aws:iam::999999999999"}}
    assert _ask(_allow(cond), "kms:CreateGrant").verdict.value == "no"


def test_a_service_source_arn_names_the_source_account() -> None:
    doc = one_key_world(
        {
            "Effect": "Allow",
            "Principal": {"Service": "logs.amazonaws.com"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringLike": {"aws:SourceArn": "arn:aws:logs:*", "aws:SourceAccount": "*"},
                "StringNotEquals": {"aws:SourceAccount": "111122223333"},
            },
        }
    )
    answer = _ask(doc, "kms:Decrypt")
    ctx = answer.counterexample.context.as_json()
    arn, acct = ctx["aws:SourceArn"], ctx["aws:SourceAccount"]
    assert re.fullmatch(r"[0-9]{12}", acct) and acct != "111122223333"
    assert arn.split(":")[4] == acct, (arn, acct)


@pytest.mark.parametrize(("key", "pattern"), SHAPES)
def test_every_shape_has_examples_of_it(key: str, pattern: str) -> None:
    """The examples the solver pins first are values of the shape (else a pinned
    witness would carry a value AWS could not send)."""
    examples = shape_examples(key)
    assert examples, key
    for text in examples:
        assert re.fullmatch(pattern, text), (key, text)


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@pytest.mark.parametrize("action", ["kms:Decrypt", "kms:CreateGrant"])
def test_a_value_with_no_shape_holds_no_control_character(action: str) -> None:
    """An encryption-context value (and, for CreateGrant, the constraint key a grant
    derives kms:EncryptionContextKeys from) has no shape of its own; a condition that
    leaves only one-character values other than printable ASCII gets a witness AWS
    could receive, not the control character a solver reaches first."""
    printable = [chr(c) for c in range(0x20, 0x7F)]
    cond = {
        "StringLike": {"kms:EncryptionContext:Dept": "?"},
        "StringNotEquals": {"kms:EncryptionContext:Dept": printable},
    }
    if action == "kms:CreateGrant":
        cond["ForAnyValue:StringLike"] = {"kms:EncryptionContextKeys": "?"}
        cond["ForAllValues:StringNotEquals"] = {"kms:EncryptionContextKeys": printable}
    answer = _ask(_allow(cond, action), action)
    assert answer.verdict.value == "yes", answer.reason
    ctx = answer.counterexample.context
    values = [v for vals in ctx.values.values() for v in vals]
    assert [v for v in values if len(v) == 1 and not v.isascii()], values
    assert not [v for v in values if CONTROL.search(v)], values
