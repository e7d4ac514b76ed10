"""Properties of `ever`: more permission never turns a yes into a no, and every yes
carries a trace whose final request the evaluator allows on the changed world."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings

from kmsprove.answer import Verdict
from kmsprove.ast import Query, Who, WhoKind
from kmsprove.errors import InputError
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from tests.support.strategies import KP_RESOURCES, A, statements, worlds

EVER = Query(Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A,)), ("kms:Decrypt",), ever=True)


def _ever(doc: dict[str, Any]) -> Verdict | None:
    try:
        world = load_world_json(doc)
    except InputError:
        return None
    [answer] = ask(world, EVER, timeout=20)
    if answer.verdict is Verdict.YES:
        assert (answer.counterexample is not None and answer.decision is not None) or answer.trace
    assert answer.verdict is not Verdict.UNKNOWN or "disagree" not in answer.reason, answer.reason
    return answer.verdict


@settings(max_examples=25, deadline=None)
@given(worlds(), statements(True, KP_RESOURCES))
def test_adding_an_allow_never_turns_ever_yes_into_no(
    doc: dict[str, Any], extra: dict[str, Any]
) -> None:
    if extra["Effect"] != "Allow" or "NotPrincipal" in extra:
        return
    before = _ever(doc)
    wider = copy.deepcopy(doc)
    wider["keys"][0]["policy"]["Statement"].append(extra)
    after = _ever(wider)
    if before is Verdict.YES and after is not None:
        assert after is not Verdict.NO
