"""Answers that say why (issue 11, section 4): a "no" the key type forces says so; a
"yes" through an AWS service says which pin is missing; `any iam principal` leaves
services out, as a reviewer asking about people needs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.answer import Answer, Verdict
from kmsprove.arn import parse_caller
from kmsprove.errors import InputError
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.syntax.query import parse_query
from tests.support.strategies import ACTIONS, KEY, one_key_world, worlds

A = KEY.split(":")[4]
B = "444455556666"
ROOT = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
COMPLETE = {A: {"complete": True}}


def _one(doc: dict[str, Any], text: str) -> Answer:
    [answer] = ask(load_world_json(doc), parse_query(text), timeout=30)
    return answer


def _trail(condition: dict[str, Any] | None = None) -> dict[str, Any]:
    st_: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:GenerateDataKey*",
        "Resource": "*",
    }
    if condition:
        st_["Condition"] = condition
    return one_key_world(ROOT, st_, accounts=COMPLETE)


def test_an_operation_the_key_type_never_does_is_a_no_that_says_so() -> None:
    a = _one(one_key_world(ROOT), "can anyone kms:Sign")
    assert a.verdict is Verdict.NO
    assert a.reason == (
        "no request can succeed: key type SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT does not support"
        " Sign (R3.5)"
    )
    # with another action the key can do, the type is only part of the story
    a = _one(
        one_key_world(accounts=COMPLETE),
        f"can any principal outside account {A} kms:Sign,kms:Decrypt",
    )
    assert a.verdict is Verdict.NO
    assert "does not support Sign (R3.5)" in a.reason and a.reason.startswith("no request matching")


def test_a_service_no_condition_ties_to_the_account_is_let_in_and_the_answer_says_so() -> None:
    a = _one(_trail(), f"can any principal outside account {A} kms:GenerateDataKey")
    assert a.verdict is Verdict.YES
    assert a.counterexample is not None
    assert a.counterexample.principal == "cloudtrail.amazonaws.com"
    assert a.notes[0].startswith(
        f"no aws:SourceAccount or aws:SourceArn condition ties cloudtrail.amazonaws.com to {A}:"
        " it may act for any account"
    )


def test_a_service_pinned_to_another_account_says_which() -> None:
    a = _one(
        _trail({"StringEquals": {"aws:SourceAccount": B}}),
        f"can any principal outside account {A} kms:GenerateDataKey",
    )
    assert a.verdict is Verdict.YES
    assert a.notes and a.notes[0].endswith(f"(here it acts for account {B})")


def test_a_service_pinned_to_the_key_account_is_inside_it() -> None:
    for cond in (
        {"StringEquals": {"aws:SourceAccount": A}},
        {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{A}:trail/*"}},
    ):
        a = _one(_trail(cond), f"can any principal outside account {A} kms:GenerateDataKey")
        assert a.verdict is Verdict.NO, (cond, a.reason, a.counterexample)


def test_any_iam_principal_leaves_services_out() -> None:
    q = f"can any iam principal outside account {A} kms:GenerateDataKey"
    assert _one(_trail(), q).verdict is Verdict.NO
    a = _one(_trail(), "can any iam principal kms:GenerateDataKey")
    assert a.verdict is Verdict.YES and a.counterexample is not None
    assert parse_caller(a.counterexample.principal).kind != "service"


def test_a_grant_to_a_service_principal_says_it_counts_for_anyone() -> None:
    doc = one_key_world(ROOT, accounts=COMPLETE)
    doc["keys"][0]["grants"] = [
        {
            "GrantId": "g1",
            "KeyId": KEY,
            "GranteePrincipal": "logs.amazonaws.com",
            "Operations": ["Decrypt"],
            "IssuingAccount": f"arn:aws:iam::{A}:root",
        }
    ]
    a = _one(doc, f"can any principal outside account {A} kms:Decrypt")
    assert a.verdict is Verdict.YES
    assert any(
        n.startswith("grant g1 is to the service principal logs.amazonaws.com") for n in a.notes
    )


@settings(max_examples=25, deadline=None)
@given(
    worlds(),
    st.sampled_from(ACTIONS),
    st.sampled_from(["", f" outside account {A}", f" in account {B}"]),
)
def test_iam_principals_are_principals_minus_services(
    doc: dict[str, Any], action: str, scope: str
) -> None:
    try:
        world = load_world_json(doc)
    except InputError:  # a generated world AWS would refuse
        return
    [every] = ask(world, parse_query(f"can any principal{scope} {action}"), timeout=20)
    [iam] = ask(world, parse_query(f"can any iam principal{scope} {action}"), timeout=20)
    if every.verdict is Verdict.NO:
        assert iam.verdict is not Verdict.YES
    if iam.verdict is Verdict.YES:
        assert iam.counterexample is not None
        assert parse_caller(iam.counterexample.principal).kind != "service"
        assert every.verdict is not Verdict.NO
