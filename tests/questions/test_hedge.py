"""What the inputs could not settle (`unknowns`: a refused key policy, a template value
known only at deploy time) makes every answer it may change unknown, with its reason:
never a "no", never a "yes" the real value might deny."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kmsprove.cli import main
from tests.support.builders import KEY, ROOT_A, ROOT_B, A, policy, stmt

OTHER = f"arn:aws:kms:us-east-1:{A}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
OPEN = policy(stmt(principal=ROOT_A), stmt(principal=ROOT_B, action="kms:Decrypt"))
SHUT = policy(stmt(principal=ROOT_A))


def _world(tmp: Path, unknowns: list[dict[str, Any]], kp: dict[str, Any] = SHUT) -> str:
    doc = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": kp}, {"arn": OTHER, "policy": SHUT}],
        "unknowns": unknowns,
    }
    path = tmp / "world.json"
    path.write_text(json.dumps(doc, indent=2))
    return str(path)


def _answers(world: str, query: str) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(main, ["query", world, query, "--format", "json"])
    assert result.exit_code in (0, 3), result.output
    out = json.loads(result.stdout)
    return {a["key"]: a for a in out.get("keys", [out])}


Q = f"can any principal outside account {A} kms:Decrypt"


def test_without_unknowns_the_answers_stand(tmp_path: Path) -> None:
    answers = _answers(_world(tmp_path, []), Q)
    assert {k: a["answer"] for k, a in answers.items()} == {KEY: "no", OTHER: "no"}


def test_an_unreadable_key_policy_makes_that_keys_no_unknown(tmp_path: Path) -> None:
    reason = "GetKeyPolicy: AccessDeniedException (the collector was refused)"
    world = _world(tmp_path, [{"key": KEY, "reason": reason}])
    answers = _answers(world, Q)
    assert answers[KEY]["answer"] == "unknown" and reason in answers[KEY]["reason"]
    assert "would be no" in answers[KEY]["reason"]
    assert answers[OTHER]["answer"] == "no"  # the other key is read in full


def test_an_unsettled_value_makes_a_yes_unknown_too(tmp_path: Path) -> None:
    world = _world(tmp_path, [{"key": KEY, "reason": "Fn::ImportValue SharedRole"}], OPEN)
    answers = _answers(world, Q)
    assert answers[KEY]["answer"] == "unknown" and "would be yes" in answers[KEY]["reason"]


def test_an_unknown_about_no_key_hedges_every_key(tmp_path: Path) -> None:
    world = _world(tmp_path, [{"reason": "an SCP the collector was refused"}])
    answers = _answers(world, Q)
    assert {a["answer"] for a in answers.values()} == {"unknown"}
    result = CliRunner().invoke(main, ["query", world, Q])
    assert result.exit_code == 3


def test_the_loader_warns_at_each_unknown(tmp_path: Path) -> None:
    world = _world(tmp_path, [{"key": KEY, "reason": "refused"}])
    result = CliRunner().invoke(main, ["validate", world])
    assert result.exit_code == 0
    assert re.search(
        rf"world\.json:\d+:5: warning: unsettled: refused; answers about key {KEY} are unknown",
        result.output,
    ), result.output


def test_a_bad_unknowns_entry_is_an_input_error(tmp_path: Path) -> None:
    world = _world(tmp_path, [{"key": "alias/x", "reason": "r"}, {"key": KEY}])
    result = CliRunner().invoke(main, ["query", world, Q])
    assert result.exit_code == 2
    assert "`key` must be a key ARN" in result.output and "needs its `reason`" in result.output


def test_diff_of_worlds_with_an_unknown_is_not_equivalent(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    old = _world(a, [])
    new = _world(b, [{"key": KEY, "reason": "Fn::ImportValue SharedRole"}])
    result = CliRunner().invoke(main, ["diff", old, new, "--format", "json"])
    assert result.exit_code == 3, result.output
    assert "Fn::ImportValue SharedRole" in result.output
