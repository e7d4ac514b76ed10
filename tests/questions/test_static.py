"""What today's question decides before any formula (`kmsprove.encode.static`): the cut
of a key by the question's actions agrees with the encoder's own action formula, the
z3-free syntactic "no" is never stricter than the encoder's class-by-class one, and a
concrete "yes" never carries a key only AWS sets where AWS leaves it out."""

from __future__ import annotations

from typing import Any

import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.answer import Verdict
from kmsprove.ast import Policy, PolicyKind
from kmsprove.catalog import action_info
from kmsprove.encode.layers import action_part
from kmsprove.encode.prune import may_allow
from kmsprove.encode.static import keeps, maybe_covered, reaches, world_for
from kmsprove.encode.symbolic import new_sym
from kmsprove.encode.universe import build_universe, restrict
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.inputs.documents import policy_from_value
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.questions.today import query_actions
from kmsprove.solve.requests import caller_exists
from kmsprove.syntax.query import parse_query
from tests.support.strategies import ACTIONS, KP_RESOURCES, A, B, one_key_world, policies, worlds


def _symbolic(names: list[str]) -> Any:
    infos = [action_info(n) for n in names]
    return new_sym([i for i in infos if i is not None], set_bound=2)


@settings(max_examples=150, deadline=None)
@given(
    policies(resource_policy=True, resources=KP_RESOURCES),
    st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=4, unique=True),
)
def test_the_cut_keeps_a_statement_exactly_when_its_action_formula_can_hold(
    doc: dict[str, Any], names: list[str]
) -> None:
    try:
        policy: Policy = policy_from_value(doc, PolicyKind.KEY_POLICY, "<t>", "<t>")
    except InputError:
        return
    sym = _symbolic(names)
    for statement in policy.statements:
        assert reaches(statement, names) == (not z3.is_false(action_part(statement, sym)))


QUESTIONS = (
    "can anyone kms:Decrypt",
    "can any principal outside account 111122223333 kms:Decrypt",
    "can any principal in account 444455556666 kms:CreateGrant",
    "can principal arn:aws:iam::444455556666:user/bob kms:Encrypt",
    "can any principal outside org o-aaaaaaaaaa kms:ReEncryptFrom",
    "can service cloudtrail.amazonaws.com kms:GenerateDataKey",
    'can anyone kms:Sign where aws:PrincipalAccount == "111122223333"',
)


@settings(max_examples=80, deadline=None)
@given(worlds(), st.sampled_from(QUESTIONS))
def test_the_coarse_syntactic_no_never_rules_out_what_the_encoder_allows(
    doc: dict[str, Any], text: str
) -> None:
    """Where the encoder's `may_allow` finds a class a statement or grant covers, the
    z3-free `maybe_covered` does too (it is asked first, and its "no" is final)."""
    try:
        world = load_world_json(doc)
    except InputError:
        return
    query = parse_query(text)
    names = query_actions(query)
    for key in world.keys:
        seen, cut = world_for(world, key, names, query)
        u = build_universe(seen, cut, query)
        restrict(u, keeps(seen, query, u))
        if may_allow(cut, u, _symbolic(names)):
            assert maybe_covered(cut, u, names)


def _cross_account() -> Any:
    """The key policy of the Developer Guide's cross-account example: account B's root
    may use the key; B is open (its administrators may write any IAM policy)."""
    root = {"AWS": f"arn:aws:iam::{A}:root"}
    use = {"AWS": f"arn:aws:iam::{B}:root"}
    return load_world_json(
        one_key_world(
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": root,
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Use",
                "Effect": "Allow",
                "Principal": use,
                "Action": ["kms:Decrypt", "kms:Encrypt"],
                "Resource": "*",
            },
        )
    )


def test_a_where_on_a_key_aws_sets_is_not_pinned_onto_a_root_user() -> None:
    """aws:username is the IAM user's name and absent for a root user (R5.3): the
    question's `where aws:username == "bob"` is met by a user bob of account B (an IAM
    policy there is its administrators' to write), never by B's root user carrying it."""
    world = _cross_account()
    query = parse_query(f'can any principal in account {B} kms:Decrypt where aws:username == "bob"')
    (answer,) = ask(world, query, timeout=30)
    assert answer.verdict is Verdict.YES, answer.reason
    req = answer.counterexample
    assert req is not None
    assert req.principal == f"arn:aws:iam::{B}:user/bob"
    assert req.context.get("aws:username") == ("bob",)
    assert caller_exists(world, req)


def test_a_pin_the_caller_sends_is_kept_and_the_yes_needs_no_solver() -> None:
    """An encryption-context pin is the caller's to send: B's root user decrypts with it."""
    world = _cross_account()
    query = parse_query(
        f'can any principal outside account {A} kms:Decrypt where kms:EncryptionContext:app == "x"'
    )
    (answer,) = ask(world, query, timeout=30)
    assert answer.verdict is Verdict.YES, answer.reason
    req = answer.counterexample
    assert req is not None and req.principal == f"arn:aws:iam::{B}:root"
    assert req.context.get("kms:EncryptionContext:app") == ("x",)
    assert evaluate(world, req).allowed


def test_a_session_name_of_one_character_is_no_session_aws_creates() -> None:
    """RoleSessionName is 2 to 64 characters (STS AssumeRole): a key policy naming
    `assumed-role/R/s` names no session that can call, so only a two-character session
    of another statement is a witness (docs/choices.md, "Session names")."""
    one = f"arn:aws:sts::{B}:assumed-role/R/s"
    two = f"arn:aws:sts::{B}:assumed-role/R/s2"

    def world(*sessions: str) -> Any:
        return load_world_json(
            one_key_world(
                *(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": s},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                    }
                    for s in sessions
                )
            )
        )

    query = parse_query(f"can any principal in account {B} kms:Decrypt")
    (answer,) = ask(world(one), query, timeout=30)
    assert answer.verdict is Verdict.NO, answer.reason
    (answer,) = ask(world(one, two), query, timeout=30)
    assert answer.verdict is Verdict.YES, answer.reason
    assert answer.counterexample is not None and answer.counterexample.principal == two
