"""The bound on multi-valued keys (kmsprove.encode.symbolic): enough elements for
every set test the policies make, and no more than MAX_SET_BOUND."""

from __future__ import annotations

from kmsprove.answer import Verdict
from kmsprove.ast import Query, Who, WhoKind
from kmsprove.encode.static import MAX_SET_BOUND
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.solve.bounds import set_bound_for
from tests.support.strategies import A, one_key_world


def _world(n: int) -> dict:
    # n statements, each demanding a different encryption-context key in the same request
    cond = {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": [f"k{i}" for i in range(n)]}}
    need = [
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"Null": {f"kms:EncryptionContext:k{i}": "true"}},
        }
        for i in range(n)
    ]
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
        "Action": "kms:*",
        "Resource": "*",
        "Condition": cond,
    }
    return one_key_world(root, *need)


def test_bound_grows_with_the_set_tests_and_is_capped() -> None:
    assert set_bound_for(load_world_json(_world(1))) >= 2
    assert set_bound_for(load_world_json(_world(20))) == MAX_SET_BOUND  # 20 EC keys named: capped


def test_a_request_needing_as_many_elements_as_the_bound_is_found() -> None:
    world = load_world_json(_world(2))
    [answer] = ask(world, Query(Who(WhoKind.ANYONE), ("kms:Decrypt",)))
    assert answer.verdict is Verdict.YES, answer.reason
    assert answer.counterexample is not None
    keys = answer.counterexample.context.get("kms:EncryptionContextKeys") or ()
    assert {"k0", "k1"} <= set(keys)


def test_past_the_bound_a_no_becomes_unknown() -> None:
    doc = _world(20)
    doc["keys"][0]["policy"]["Statement"].append(
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    )
    [answer] = ask(load_world_json(doc), Query(Who(WhoKind.ANYONE), ("kms:Decrypt",)))
    assert answer.verdict is Verdict.UNKNOWN and "multi-valued" in answer.reason


def test_a_test_written_twice_needs_one_element() -> None:
    """A diff's union world holds both sides' statements: the same condition in each
    (and a `Null` test, which only asks for presence) needs no element of its own."""
    one = load_world_json(_world(2))
    doc = _world(2)
    statements = doc["keys"][0]["policy"]["Statement"]
    twice = [*statements, *statements[:1]]
    null = {"Null": {"kms:EncryptionContextKeys": "false"}}
    twice.append({**statements[0], "Condition": {**statements[0]["Condition"], **null}})
    doc["keys"][0]["policy"]["Statement"] = twice
    assert set_bound_for(load_world_json(doc)) == set_bound_for(one)
