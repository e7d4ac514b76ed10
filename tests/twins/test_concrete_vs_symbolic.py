"""The evaluator and the encoder are two implementations of the same rules: on
generated worlds and concrete requests they must agree (STYLE.md)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from kmsprove.answer import Verdict
from kmsprove.encode.derive import match_entry
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.universe import build_universe, restrict
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.solve.fixed import encoder_allows
from kmsprove.solve.unresolved import unresolved_grant
from tests.support.strategies import (
    UNIQUE_IDS,
    UNRESOLVED_IDS,
    request_specs,
    spec_request,
    worlds,
)


def _pair(doc: dict[str, Any], spec: dict[str, Any]) -> tuple[Verdict, Verdict] | None:
    try:
        world = load_world_json(doc)
        req = complete_request(world, spec_request(spec, naming=True))
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


@st.composite
def _id_grant_worlds(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A generated world whose first grant names a unique id, and requests for one of
    its operations (the generator alone rarely lines the two up)."""
    doc = draw(worlds())
    specs = draw(st.lists(request_specs(), min_size=1, max_size=3))
    grants = doc["keys"][0]["grants"]
    if grants:
        g = grants[0]
        g["GranteePrincipal"] = draw(st.sampled_from((*UNRESOLVED_IDS, *UNIQUE_IDS.values())))
        for spec in specs:
            spec["action"] = "kms:" + draw(st.sampled_from(g["Operations"]))
            spec["grant_id"] = g["GrantId"]
    return doc, specs


@settings(max_examples=300)
@given(_id_grant_worlds())
def test_an_undecided_deny_is_never_a_questions_no(
    drawn: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    """When the evaluator says a deny may be wrong (a grant to a unique id the world did
    not resolve may be the caller, `evaluate.principals.may_be_unresolved`), the
    questions' guard (`solve.unresolved`, with `encode.static.may_be_unresolved`)
    fires for the caller's class too, so no question answers "no" for that request."""
    doc, specs = drawn
    undecided = 0
    for spec in specs:
        try:
            world = load_world_json(doc)
            req = complete_request(world, spec_request(spec))
        except InputError:
            continue
        decision = evaluate(world, req)
        if decision.unknown is None:
            continue
        undecided += 1
        assert not decision.allowed
        key = world.find_key(req.key or "")
        u = build_universe(world, key, None, [req.principal])
        entry = match_entry(u, req)
        assert entry is not None
        restrict(u, lambda e, entry=entry: e.index == entry.index)  # type: ignore[misc]
        assert unresolved_grant(key, u, [req.action]) is not None, (spec, decision.unknown)
    event(f"undecided denies: {min(undecided, 1)}")
