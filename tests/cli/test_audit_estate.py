"""The shipped example estate (examples/estate/): `kmsprove audit` finds each seed's
pitfall, with a witness the evaluator allows or a proof, through the real CLI."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from click.testing import CliRunner

from kmsprove.cli import main

ESTATE = Path(__file__).resolve().parents[2] / "examples" / "estate"
# each world is named after the seed whose pitfall it holds: the rule that finds it
EXPECTED = {
    "000-inert-cross-account": {"inert-cross-account", "external-decrypt"},
    "001-s3-alias-default-key": {"s3-alias-default-key"},
    "002-grants-not-for-aws-resources": {"grant-not-for-aws-resource"},
    "003-least-privilege": {"least-privilege", "delete-or-disable"},
    "004-public-and-confused-deputy": {"public", "confused-deputy"},
}


def test_audit_finds_each_seeds_pitfall_in_the_example_estate() -> None:
    result = CliRunner().invoke(main, ["audit", str(ESTATE), "--format", "json", "--jobs", "2"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    found: dict[str, set[str]] = {}
    for f in doc["findings"]:
        assert f["status"] == "found", f
        found.setdefault(Path(f["world"]).parent.name, set()).add(f["rule"])
    assert sorted(found) == sorted(EXPECTED)
    for world, rules in EXPECTED.items():
        assert rules <= found[world], (world, found[world])
    # the pitfalls of other seeds do not leak into a world that lacks them
    assert "public" not in found["003-least-privilege"]
    assert "grant-not-for-aws-resource" not in found["000-inert-cross-account"]


def test_every_printed_witness_of_the_estate_reproduces() -> None:
    text = CliRunner().invoke(main, ["audit", str(ESTATE), "--jobs", "1"]).stdout
    lines = [x.partition("reproduce: kmsprove ")[2] for x in text.splitlines()]
    commands = [shlex.split(c) for c in lines if c]
    assert len(commands) >= 5
    for args in commands:  # (tests/conftest.py runs them too, through the same runner)
        again = CliRunner().invoke(main, args)
        assert again.exit_code == 0 and again.stdout.startswith("ALLOW"), again.output
