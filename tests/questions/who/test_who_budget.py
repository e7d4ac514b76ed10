"""`who`'s budget: `--timeout` is the budget of the whole run. When it is spent (or the
solver gives up) the list found so far is the answer, each finding with its witness,
and the answer is unknown: "nobody else" is never claimed."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kmsprove.answer import WhoStatus
from kmsprove.inputs.key_policy_world import load_world_input
from kmsprove.questions import who
from kmsprove.questions.who import ask_who, parse_actions, who_key
from kmsprove.solve.session import Session, Unknown
from kmsprove.world import World

CROSS = Path(__file__).resolve().parents[3] / "examples" / "cross-account" / "world.json"


def _world() -> World:
    return load_world_input(str(CROSS)).world


def test_a_budget_spent_mid_way_keeps_what_was_found(monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world()
    deadline = time.monotonic() + 5.0
    real = who.witness_answer

    def slow(*args: Any, **kw: Any) -> Any:
        """The first witness takes the rest of the budget."""
        out = real(*args, **kw)
        while time.monotonic() < deadline:
            time.sleep(0.02)
        return out

    monkeypatch.setattr(who, "witness_answer", slow)
    r = who_key(world, parse_actions("kms:Decrypt"), world.keys[0], deadline)
    assert r.status is WhoStatus.UNKNOWN and r.queries == 1
    # the first answer, and what the evaluator's probe found with its request
    n = len(r.found)
    assert 1 <= n < 9 and r.reason == f"timeout after {n} found: whether anyone else can is unknown"
    assert all(f.confirmed and f.answer.counterexample is not None for f in r.found)


def test_the_solver_giving_up_is_unknown_too(monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world()
    real = Session.ask
    calls = []

    def gives_up(self: Session, *args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(self, *args, **kw) if len(calls) < 3 else Unknown("canceled")

    monkeypatch.setattr(Session, "ask", gives_up)
    [r] = ask_who(world, parse_actions("kms:Decrypt"), timeout=60)
    n = len(r.found)
    assert r.status is WhoStatus.UNKNOWN and r.queries == 3 and 2 <= n < 9
    assert r.reason == f"solver: canceled after {n} found: whether anyone else can is unknown"


def test_the_budget_is_for_every_key_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first key's first witness spends it all: the second key asks nothing."""
    one = _world()
    other = replace(one.keys[0], arn=one.keys[0].arn.replace("1234abcd", "5678abcd"))
    world = replace(one, keys=(one.keys[0], other))
    start = time.monotonic()
    real = who.witness_answer

    def slow(*args: Any, **kw: Any) -> Any:
        out = real(*args, **kw)
        while time.monotonic() < start + 3.0:
            time.sleep(0.02)
        return out

    monkeypatch.setattr(who, "witness_answer", slow)
    first, second = ask_who(world, parse_actions("kms:Decrypt"), timeout=3.0)
    assert first.status is second.status is WhoStatus.UNKNOWN
    assert first.found and second.found == () and second.queries == 0
    assert second.reason == "timeout after 0 found: whether anyone else can is unknown"
