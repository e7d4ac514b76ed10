"""Every witness reproduces (README, "What a witness guarantees"): on generated worlds,
each `reproduce:` line `query` prints, run as printed, gives ALLOW; every "yes"
prints one, pointing at the saved world when it rests on an assumption; and the saved
request is one AWS could receive (`validate --kind request` accepts it)."""

from __future__ import annotations

import json
import shlex
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.cli import main
from tests.support.strategies import ACTIONS, KEY, ROLES, B, worlds

A = KEY.split(":")[4]
QUESTIONS = (
    "can anyone {action}",
    f"can any principal outside account {A} {{action}}",
    f"can any principal in account {B} {{action}}",
    f"can principal {ROLES[-1]} {{action}}",
    "can principal arn:aws:sts::*:assumed-role/* {action}",
    "can anyone ever {action}",
)


def _reproduce(output: str) -> list[list[str]]:
    return [
        shlex.split(line.partition("reproduce: kmsprove ")[2])
        for line in output.splitlines()
        if "reproduce: kmsprove " in line
    ]


def _allows(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and result.output.startswith("ALLOW"), (
        f"`kmsprove {shlex.join(args)}` gives:\n{result.output}"
    )


@settings(max_examples=40, deadline=None)
@given(worlds(), st.sampled_from(QUESTIONS), st.sampled_from(ACTIONS))
def test_every_reproduce_line_reproduces(doc: dict[str, Any], question: str, action: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp) / "world.json"
        world.write_text(json.dumps(doc))
        q = question.format(action=action)
        plain = CliRunner().invoke(main, ["query", str(world), q, "--format", "json"])
        if plain.exit_code == 2:  # a generated world AWS would refuse
            assert plain.output.count(": error: ") >= 1
            return
        answers = json.loads(plain.stdout)
        answers = answers if isinstance(answers, list) else [answers]
        yes = sum(a["answer"] == "yes" for a in answers)

        text = CliRunner().invoke(main, ["query", str(world), q])
        for args in _reproduce(text.stdout):
            _allows(args)

        saved = Path(tmp) / "witness"
        result = CliRunner().invoke(main, ["query", str(world), q, "--save-witness", str(saved)])
        lines = _reproduce(result.stdout)
        assert len(lines) == yes, result.output
        for args in lines:
            _allows(args)
            request = args[args.index("--request") + 1]
            check = CliRunner().invoke(main, ["validate", "--kind", "request", request])
            assert check.exit_code == 0 and ": error: " not in check.output, check.output


def test_an_ever_revoke_grant_witness_names_a_grant(tmp_path: Path) -> None:
    # found by the property above: an SCP that lets only Put* through, so the way in
    # is a key-policy write for an open account's caller; the final RevokeGrant it
    # shows must carry the grant id no RevokeGrant is sent without
    doc = {
        "version": 1,
        "keys": [
            {
                "arn": KEY,
                "policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": A},
                            "NotAction": "kms:?ecrypt",
                            "Resource": "*",
                        }
                    ],
                },
            }
        ],
        "accounts": {
            A: {
                "organization": "o-aaaaaaaaaa",
                "scps": [
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "kms:Put*", "Resource": "*"}],
                    }
                ],
            },
            B: {"complete": False},
        },
    }
    world = tmp_path / "world.json"
    world.write_text(json.dumps(doc))
    saved = tmp_path / "witness"
    q = "can anyone ever kms:RevokeGrant"
    result = CliRunner().invoke(main, ["query", str(world), q, "--save-witness", str(saved)])
    assert result.exit_code == 0 and "yes" in result.output.lower(), result.output
    request = json.loads((saved / "request.json").read_text())
    assert request["action"] == "kms:RevokeGrant" and request.get("grant_id"), request
    check = CliRunner().invoke(main, ["validate", "--kind", "request", str(saved / "request.json")])
    assert check.exit_code == 0, check.output
