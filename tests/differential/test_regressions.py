"""Disagreements the differential tests found once, pinned by name."""

from __future__ import annotations

from kmsprove.answer import Verdict
from kmsprove.ast import Query, Who, WhoKind
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.request import Request
from kmsprove.solve.fixed import encoder_allows
from tests.strategies import KEY, A, one_key_world


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
