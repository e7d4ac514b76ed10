"""`who` on generated worlds (tests/support/strategies.py `worlds()`), against the brute
force of `brute.py` (the evaluator alone):

- every listed principal's witness is allowed by the evaluator, in the world it was
  checked in, and its caller belongs to the class it is listed under (a service's
  aws:SourceAccount or aws:SourceArn names the account it is listed as acting for);
- when the list is complete ("nobody else", proved), every caller the brute force finds
  allowed is listed, or belongs to a listed class;
- the list costs at most one solver question per finding, plus the last (the proof).

Not vacuous: the test counts the worlds where the brute force finds callers and the
list is complete, and wants enough of them.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kmsprove.answer import WhoStatus
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.who import ask_who, parse_actions
from tests.questions.who.brute import brute_force, descriptor_of_found, descriptors, names_of
from tests.support.strategies import KEY, A, worlds

ACTION_SETS = (
    ("kms:Decrypt",),
    ("kms:Encrypt",),
    ("kms:DescribeKey",),
    ("kms:GenerateDataKey",),
    ("kms:Decrypt", "kms:ReEncryptFrom"),
)
# the solver and the brute force take about half a second an example: 40 in CI
EXAMPLES = 40 if settings().max_examples <= 200 else settings().max_examples // 10
STATS: Counter[str] = Counter()
ADMIN = f"arn:aws:iam::{A}:role/admin"
ROOT_ALLOW = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def _check(doc: dict[str, Any], actions: tuple[str, ...]) -> None:
    try:
        world = load_world_json(doc)
    except InputError:
        STATS["invalid worlds"] += 1
        return
    STATS["worlds"] += 1
    [result] = ask_who(world, parse_actions(",".join(actions)), timeout=60)
    names = names_of(doc)
    shown = json.dumps(doc)
    for f in result.found:
        a = f.answer
        assert f.confirmed, f"unconfirmed {f}: {a.reason}\nworld: {shown}"
        assert a.checked_world is not None and a.shown is not None
        full = complete_request(a.checked_world, a.shown)
        decision = evaluate(a.checked_world, full)
        assert decision.allowed, f"witness denied: {full}\n{decision.reason}\nworld: {shown}"
        ctx = full.context.as_json()
        assert descriptor_of_found(f) in descriptors(full.principal, ctx, names), (
            f"{full.principal} {ctx} is not in its class {descriptor_of_found(f)}\nworld: {shown}"
        )
    if result.status is not WhoStatus.COMPLETE:
        STATS["unknown"] += 1
        return
    assert result.queries <= len(result.found) + 1
    listed = {descriptor_of_found(f) for f in result.found}
    brute = brute_force(doc, list(actions), KEY)
    for hit in brute:
        assert hit.descriptors & listed, (
            f"the brute force finds {hit.caller.principal} {hit.action} {hit.context} allowed,"
            f" in {sorted(hit.descriptors, key=str)}, which `who` does not list:"
            f" {sorted(listed, key=str)}\nworld: {shown}"
        )
    if brute:
        STATS["complete, brute force finds callers"] += 1
    if any(not d[0] for hit in brute for d in hit.descriptors):
        STATS["complete, brute force finds an unnamed class"] += 1


def _deny_unless(key: str, value: str) -> dict[str, Any]:
    """A role whose identity policy denies every KMS call unless `key` is `value`, and a
    grant to it: found by the brute force sending what the caller cannot send (a
    principal tag of a role whose tags the world gives, an organization path of no
    organization's shape, kms:GrantOperations on an Encrypt), which the solver rightly
    never does."""
    deny = {
        "Effect": "Deny",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {key: value}},
    }
    return {
        "version": 1,
        "keys": [
            {
                "arn": KEY,
                "policy": {"Version": "2012-10-17", "Statement": [ROOT_ALLOW]},
                "grants": [{"GrantId": "g0", "GranteePrincipal": ADMIN, "Operations": ["Encrypt"]}],
            }
        ],
        "accounts": {
            A: {
                "principals": {
                    ADMIN: {"policies": [{"Version": "2012-10-17", "Statement": [deny]}]}
                }
            }
        },
    }


@settings(max_examples=EXAMPLES, deadline=None)
@example(_deny_unless("aws:PrincipalTag/team", "IT"), ("kms:Encrypt",))
@example(_deny_unless("aws:PrincipalOrgPaths", "IT"), ("kms:Encrypt",))
@example(_deny_unless("kms:GrantOperations", "Decrypt"), ("kms:Encrypt",))
@given(worlds(), st.sampled_from(ACTION_SETS))
def _who_agrees(doc: dict[str, Any], actions: tuple[str, ...]) -> None:
    _check(doc, actions)


def test_who_lists_everyone_the_brute_force_finds_and_every_witness_is_allowed() -> None:
    STATS.clear()
    _who_agrees()
    # not vacuous: many worlds let somebody in, classes of unnamed principals too
    assert STATS["complete, brute force finds callers"] >= EXAMPLES // 3, dict(STATS)
    assert STATS["complete, brute force finds an unnamed class"] >= EXAMPLES // 10, dict(STATS)
