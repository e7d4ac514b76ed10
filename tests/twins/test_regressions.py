"""Disagreements the differential tests found once, pinned by name."""

from __future__ import annotations

from typing import Any

import pytest

from kmsprove.answer import Verdict
from kmsprove.ast import Query, Who, WhoKind
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.request import Context, Request
from kmsprove.solve.fixed import encoder_allows
from kmsprove.syntax.query import parse_query
from tests.support.strategies import KEY, A, one_key_world


def test_unlisted_user_of_a_complete_account_named_by_the_request() -> None:
    # the evaluator decides a request as given; the encoder must not drop its caller
    doc = one_key_world(
        {"Effect": "Allow", "Principal": "*", "NotAction": "kms:Encrypt", "Resource": "*"},
        accounts={A: {"complete": True}},
    )
    world = load_world_json(doc)
    req = complete_request(world, Request(f"arn:aws:iam::{A}:user/alice", "kms:Decrypt", key=KEY))
    assert evaluate(world, req).allowed and encoder_allows(world, req) is Verdict.YES


def test_unnamed_role_keeps_the_path_a_policy_gave_it() -> None:
    # the counterexample's assumed identity is role/team/app, so aws:PrincipalArn agrees
    doc = one_key_world(
        {
            "Sid": "S1",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{A}:role/team/app"]},
            "NotAction": "kms:CreateGrant",
            "Resource": "*",
        }
    )
    [answer] = ask(load_world_json(doc), Query(Who(WhoKind.ANYONE), ("kms:Decrypt",)))
    assert answer.verdict is Verdict.YES, answer.reason
    assert answer.counterexample is not None
    assert answer.counterexample.context.get("aws:PrincipalArn") == (
        f"arn:aws:iam::{A}:role/team/app",
    )


def test_a_role_named_like_a_service_linked_role_is_still_bound_by_scps() -> None:
    scp = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kms:*", "Resource": "*"},
        ],
    }
    doc = one_key_world(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
        accounts={"444455556666": {"organization": "o-bbbbbbbbbb", "scps": [scp]}},
    )
    [answer] = ask(
        load_world_json(doc), Query(Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A,)), ("kms:Decrypt",))
    )
    assert answer.verdict is Verdict.NO, answer.counterexample


# --------------------------------------------------------------------------
# the four twin disagreements REDESIGN.md P4/P5 measured on 9d1fb00


def _both(
    doc: dict[str, Any], principal: str, action: str, context: dict[str, Any]
) -> tuple[bool, Verdict]:
    world = load_world_json(doc)
    req = complete_request(world, Request(principal, action, key=KEY, context=Context.of(context)))
    return evaluate(world, req).allowed, encoder_allows(world, req)


ORG_PATHS = ["o-a/r/ou1", "o-b/r/ou2"]


def _org_paths_world(set_op: str) -> dict[str, Any]:
    return one_key_world(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {f"{set_op}:StringLike": {"aws:PrincipalOrgPaths": ["o-a/*"]}},
        }
    )


def test_for_all_values_on_org_paths_reads_every_value_in_any_order() -> None:
    # aws:PrincipalOrgPaths is multi-valued: one path outside o-a/ fails ForAllValues
    doc = _org_paths_world("ForAllValues")
    caller = f"arn:aws:iam::{A}:user/alice"  # Principal "*" in its own account
    for paths in (ORG_PATHS, ORG_PATHS[::-1]):
        assert _both(doc, caller, "kms:Decrypt", {"aws:PrincipalOrgPaths": paths}) == (
            False,
            Verdict.NO,
        ), paths


def test_for_any_value_on_org_paths_finds_the_matching_value_in_any_order() -> None:
    doc = _org_paths_world("ForAnyValue")
    caller = f"arn:aws:iam::{A}:user/alice"  # Principal "*" in its own account
    for paths in (ORG_PATHS, ORG_PATHS[::-1]):
        assert _both(doc, caller, "kms:Decrypt", {"aws:PrincipalOrgPaths": paths}) == (
            True,
            Verdict.YES,
        ), paths


def _numeric_world(value: str) -> dict[str, Any]:
    return one_key_world(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": value}},
        }
    )


def test_full_width_digits_are_not_a_number_for_validate() -> None:
    # AWS parses ASCII numbers (docs/choices.md): `１０` is an input error, not 10
    with pytest.raises(InputError) as exc:
        load_world_json(_numeric_world("\uff11\uff10"))
    assert "is not a number" in exc.value.diagnostics[0].message


def test_an_exponent_is_a_number_for_validate_and_both_twins() -> None:
    doc = _numeric_world("1e2")
    caller = f"arn:aws:iam::{A}:user/alice"  # Principal "*" in its own account
    assert _both(doc, caller, "kms:Decrypt", {"aws:MultiFactorAuthAge": "7"}) == (True, Verdict.YES)
    assert _both(doc, caller, "kms:Decrypt", {"aws:MultiFactorAuthAge": "150"}) == (
        False,
        Verdict.NO,
    )


def _epoch_world(operator: str) -> dict[str, Any]:
    return one_key_world(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {operator: {"aws:EpochTime": "100"}},
        }
    )


def test_epoch_seconds_with_a_fraction_or_a_sign_agree() -> None:
    caller = f"arn:aws:iam::{A}:user/alice"  # Principal "*" in its own account
    later = _both(
        _epoch_world("DateGreaterThan"), caller, "kms:Decrypt", {"aws:EpochTime": "1700000000.5"}
    )
    earlier = _both(_epoch_world("DateLessThan"), caller, "kms:Decrypt", {"aws:EpochTime": "-5"})
    assert later == (True, Verdict.YES)
    assert earlier == (True, Verdict.YES)


def test_a_question_pinning_a_number_as_text_meets_a_numeric_deny() -> None:
    # the question's `==` and the policy's NumericLessThan read one key: they are tied
    role = f"arn:aws:iam::{A}:role/R"
    doc = one_key_world(
        {
            "Effect": "Allow",
            "Principal": {"AWS": role},
            "Action": "kms:ScheduleKeyDeletion",
            "Resource": "*",
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:ScheduleKeyDeletion",
            "Resource": "*",
            "Condition": {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "10"}},
        },
    )
    world = load_world_json(doc)
    window = "kms:ScheduleKeyDeletionPendingWindowInDays"
    short = parse_query(f'can principal {role} kms:ScheduleKeyDeletion where {window} == "7"')
    long = parse_query(f'can principal {role} kms:ScheduleKeyDeletion where {window} == "30"')
    [no] = ask(world, short)
    [yes] = ask(world, long)
    assert no.verdict is Verdict.NO, no.reason
    assert yes.verdict is Verdict.YES, yes.reason
    assert yes.counterexample is not None
    assert yes.counterexample.context.get(window) == ("30",)


@pytest.mark.parametrize(
    ("literal", "sent", "allowed"),
    [
        ("\\u{41}", "A", False),  # Z3 would read the literal's escape as "A"
        ("\\u{41}", "\\u{41}", True),
        ("a\\b", "a\\b", True),
        ("\\\\", "\\", False),
    ],
)
def test_a_backslash_in_a_policy_is_a_backslash(literal: str, sent: str, allowed: bool) -> None:
    doc = one_key_world(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": literal}},
        },
        accounts={A: {"principals": {f"arn:aws:iam::{A}:user/u": {"policies": []}}}},
    )
    world = load_world_json(doc)
    ctx = Context.of({"kms:EncryptionContext:Dept": sent})
    req = complete_request(
        world, Request(f"arn:aws:iam::{A}:root", "kms:Decrypt", key=KEY, context=ctx)
    )
    assert evaluate(world, req).allowed is allowed
    assert encoder_allows(world, req) is (Verdict.YES if allowed else Verdict.NO)


def test_a_witness_value_is_its_characters_not_z3s_escapes() -> None:
    # a NUL-free value past ASCII comes back as itself, not as `\u{...}`
    doc = one_key_world(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "caf\u00e9\U0001f600"}},
        }
    )
    [answer] = ask(load_world_json(doc), Query(Who(WhoKind.ANYONE), ("kms:Decrypt",)))
    assert answer.verdict is Verdict.YES, answer.reason
    assert answer.counterexample is not None
    assert answer.counterexample.context.get("kms:EncryptionContext:Dept") == (
        "caf\u00e9\U0001f600",
    )
