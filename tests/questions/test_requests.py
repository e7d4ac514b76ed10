"""The concrete requests the questions try (`kmsprove.questions.requests.final_request`,
used by today's concrete "yes" and by `ever`'s replayed routes) carry the question's
`where` pins only where a caller can send them: a key AWS alone sets (R5.2, R5.3) is
never the caller's to choose, and aws:Source* is a service's."""

from __future__ import annotations

from typing import Any

from kmsprove.answer import Verdict
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.questions.requests import final_request
from kmsprove.syntax.query import parse_query
from tests.support.strategies import A, B, one_key_world

ROOT_B = f"arn:aws:iam::{B}:root"


def _world() -> Any:
    root_a = {"AWS": f"arn:aws:iam::{A}:root"}
    return load_world_json(
        one_key_world(
            {"Effect": "Allow", "Principal": root_a, "Action": "kms:*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROOT_B},
                "Action": "kms:Decrypt",
                "Resource": "*",
            },
        )
    )


def test_a_pin_on_a_key_aws_sets_is_left_out_and_one_the_caller_sends_is_kept() -> None:
    key = _world().keys[0]
    query = parse_query(
        'can anyone kms:Decrypt where aws:username == "bob"'
        ' and aws:PrincipalIsAWSService == "true" and aws:PrincipalTag/team == "x"'
        ' and aws:SourceArn == "arn:aws:s3:::b" and kms:EncryptionContext:app == "a"'
        ' and aws:SourceIp == "10.0.0.1"'
    )
    sent = final_request(query, ROOT_B, "kms:Decrypt", key, {}).context.as_json()
    assert sent == {"kms:EncryptionContext:app": "a", "aws:SourceIp": "10.0.0.1"}
    # a service acting for a resource sends that resource's aws:SourceArn
    by_service = final_request(query, "s3.amazonaws.com", "kms:Decrypt", key, {})
    assert by_service.context.get("aws:SourceArn") == ("arn:aws:s3:::b",)
    assert by_service.context.get("aws:username") is None


def test_ever_never_answers_yes_with_a_root_user_that_claims_to_be_a_service() -> None:
    """aws:PrincipalIsAWSService is "false" for every IAM caller (R5.3), and no principal
    of an account is a service: no route meets the `where`, so the answer is not yes
    (`ever` found one with B's root user carrying "true" before the pins were checked)."""
    query = parse_query(
        f"can any principal in account {B} ever kms:Decrypt"
        ' where aws:PrincipalIsAWSService == "true"'
    )
    (answer,) = ask(_world(), query, timeout=30)
    assert answer.verdict is not Verdict.YES, answer.counterexample
