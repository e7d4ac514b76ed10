"""Property tests of the concrete evaluator on generated worlds and requests.

- totality: any world the loader accepts and any request get a decision, never
  an exception (bad input is an `InputError`, never anything else);
- an all-covering Deny in the key policy denies every request it governs (R1.3);
- adding an Allow statement to the key policy never takes access away (the
  policy language is monotone in Allow statements).
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kmsprove.catalog import action_info
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.request import Decision
from kmsprove.world import World
from tests.support.strategies import KP_RESOURCES, request_specs, spec_request, statements, worlds


def _world(doc: dict[str, Any]) -> World | None:
    try:
        return load_world_json(doc)
    except InputError:
        return None  # generated documents may be invalid; the loader said so without crashing


def _decide(world: World, spec: dict[str, Any]) -> Decision | None:
    req = spec_request(spec)
    try:
        req = complete_request(world, req)
    except InputError:
        return None  # a contradictory explicit context is bad input, reported as such
    return evaluate(world, req)


@given(worlds(), st.lists(request_specs(), min_size=1, max_size=6))
def test_evaluator_is_total(doc: dict[str, Any], specs: list[dict[str, Any]]) -> None:
    world = _world(doc)
    if world is None:
        return
    for spec in specs:
        d = _decide(world, spec)
        if d is None:
            continue
        # "unknown": a deny a grant to an unresolved unique id may change, which says so
        assert d.decision in ("allow", "deny", "unknown")
        assert (d.decision == "unknown") == (d.unknown is not None) and not (
            d.allowed and d.unknown
        )
        assert d.reason
        for layer in d.layers:
            for s in layer.statements:
                assert s.line >= 1 and s.col >= 1


@given(worlds(), st.lists(request_specs(), min_size=1, max_size=6))
def test_total_deny_in_key_policy_denies_everything_it_governs(
    doc: dict[str, Any], specs: list[dict[str, Any]]
) -> None:
    doc = copy.deepcopy(doc)
    doc["keys"][0]["policy"]["Statement"].append(
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
    )
    world = _world(doc)
    if world is None:
        return
    for spec in specs:
        if spec["action"] == "kms:RetireGrant":
            continue  # decided by the grant; the key policy has no say (R4.7)
        info = action_info(spec["action"])
        if info is not None and not info.on_key:
            continue  # ListKeys, CreateKey: no key resource, so no key policy governs it (R3.2)
        d = _decide(world, spec)
        assert d is None or not d.allowed, d


@given(worlds(), statements(True, KP_RESOURCES), st.lists(request_specs(), min_size=1, max_size=6))
def test_adding_an_allow_to_the_key_policy_never_removes_access(
    doc: dict[str, Any], extra: dict[str, Any], specs: list[dict[str, Any]]
) -> None:
    if extra["Effect"] != "Allow" or "NotPrincipal" in extra:
        return
    before = _world(doc)
    wider = copy.deepcopy(doc)
    wider["keys"][0]["policy"]["Statement"].append(extra)
    after = _world(wider)
    if before is None or after is None:
        return
    for spec in specs:
        d1, d2 = _decide(before, spec), _decide(after, spec)
        if d1 is not None and d2 is not None and d1.allowed:
            assert d2.allowed, (spec, d2.reason)
