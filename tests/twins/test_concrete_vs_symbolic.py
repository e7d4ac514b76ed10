"""The evaluator and the encoder are two implementations of the same rules: on
generated worlds and concrete requests they must agree (STYLE.md)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.answer import Verdict
from kmsprove.encode.errors import Unmodelled
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.request import Context, Request
from kmsprove.solve.fixed import encoder_allows
from tests.support.strategies import request_specs, worlds


def _pair(doc: dict[str, Any], spec: dict[str, Any]) -> tuple[Verdict, Verdict] | None:
    try:
        world = load_world_json(doc)
        req = complete_request(
            world,
            Request(
                spec["principal"],
                spec["action"],
                key=spec["key"],
                context=Context.of(spec["context"]),
                grant_id=spec.get("grant_id"),
                key_id_as_sent=spec.get("key_id_as_sent"),
            ),
        )
    except InputError:
        return None
    try:
        symbolic = encoder_allows(world, req)
    except Unmodelled:
        return None
    # the encoder's own unknown (a solver timeout) is a disagreement too
    return (Verdict.YES if evaluate(world, req).allowed else Verdict.NO), symbolic


@settings(max_examples=1000)
@given(worlds(), st.lists(request_specs(), min_size=1, max_size=3))
def test_encoder_with_the_request_fixed_agrees_with_the_evaluator(
    doc: dict[str, Any], specs: list[dict[str, Any]]
) -> None:
    for spec in specs:
        got = _pair(doc, spec)
        if got is not None:
            concrete, symbolic = got
            assert concrete == symbolic, (spec, doc)


@pytest.mark.slow
@settings(max_examples=10000)
@given(worlds(), st.lists(request_specs(), min_size=1, max_size=3))
def test_encoder_agrees_slow(doc: dict[str, Any], specs: list[dict[str, Any]]) -> None:
    test_encoder_with_the_request_fixed_agrees_with_the_evaluator.hypothesis.inner_test(doc, specs)  # type: ignore[attr-defined]
