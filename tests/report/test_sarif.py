"""SARIF 2.1.0 logs of `check` outcomes, through the library API (`check_world`,
`sarif_log`): every log validates against the schema of tests/support/data/README.md, URIs
are what GitHub code scanning resolves, and fingerprints survive moved lines."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kmsprove.answer import CheckStatus
from kmsprove.questions.check import check_world, exit_code, load_inputs
from kmsprove.report.sarif import EXPECT_NO, EXPECT_YES, sarif_log
from tests.cli.test_check import (
    ADMIN,
    KEY,
    OUTSIDE,
    PARTNER,
    VARIABLE,
    write_spec,
    write_world,
)
from tests.support.cli import SARIF_SCHEMA as SCHEMA


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def log(world: str, spec: str, base: Path) -> tuple[int, dict[str, Any]]:
    outcomes = check_world(*load_inputs(world, spec))
    # what the CLI writes: the log must survive a JSON round trip unchanged
    doc = json.loads(json.dumps(sarif_log(outcomes, base)))
    return exit_code(outcomes), doc


def uri(location: dict[str, Any]) -> str:
    return location["physicalLocation"]["artifactLocation"]["uri"]


def test_the_validator_rejects_what_the_schema_forbids(
    validator: jsonschema.Draft202012Validator, tmp_path: Path
) -> None:
    _, doc = log(
        write_world(tmp_path, PARTNER), write_spec(tmp_path, f"expect no: {OUTSIDE}"), tmp_path
    )
    validator.validate(doc)
    res = doc["runs"][0]["results"][0]
    res["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(doc)
    del doc["runs"][0]["invocations"][0]["executionSuccessful"]
    assert len(list(validator.iter_errors(doc))) == 2


def test_passing_failing_and_unknown_runs_validate(
    validator: jsonschema.Draft202012Validator, tmp_path: Path
) -> None:
    spec = write_spec(
        tmp_path, f"expect no: {OUTSIDE}", f"expect yes: can principal {ADMIN} kms:PutKeyPolicy"
    )
    statuses = []
    for extra in ((), (PARTNER,), (VARIABLE,)):
        code, doc = log(write_world(tmp_path, *extra), spec, tmp_path)
        validator.validate(doc)
        run = doc["runs"][0]
        statuses.append(
            (
                code,
                [r["ruleId"] for r in run["results"]],
                len(run["invocations"][0]["toolExecutionNotifications"]),
            )
        )
    # the policy variable is in a Decrypt statement: the outside-Decrypt line is unknown
    # (not modelled), the PutKeyPolicy line no longer (that statement cannot reach it,
    # so the key is cut before it is encoded: one notification)
    assert statuses == [(0, [], 0), (1, [EXPECT_NO], 0), (3, [], 1)]


def test_driver_and_rules(tmp_path: Path) -> None:
    _, doc = log(write_world(tmp_path), write_spec(tmp_path, f"expect no: {OUTSIDE}"), tmp_path)
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert doc["version"] == "2.1.0"
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "kmsprove"
    assert driver["version"] == importlib.metadata.version("kmsprove")
    assert [r["id"] for r in driver["rules"]] == [EXPECT_NO, EXPECT_YES]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["defaultConfiguration"] == {"level": "error"}


def test_uris_are_relative_with_forward_slashes_and_percent_encoded(tmp_path: Path) -> None:
    sub = tmp_path / "key policies"
    sub.mkdir()
    w = write_world(sub, PARTNER)
    spec = write_spec(tmp_path, f"expect no: {OUTSIDE}", name="spec #1.txt")
    _, doc = log(w, spec, tmp_path)
    res = doc["runs"][0]["results"][0]
    assert uri(res["locations"][0]) == "key%20policies/key-policy.json"
    assert uri(res["relatedLocations"][0]) == "spec%20%231.txt"
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    root = doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == tmp_path.as_uri() + "/"
    # relative to a deeper base: the spec is outside it, so its URI is an absolute file URI
    _, doc = log(w, spec, sub)
    res = doc["runs"][0]["results"][0]
    assert uri(res["locations"][0]) == "key-policy.json"
    assert uri(res["relatedLocations"][0]) == Path(spec).resolve().as_uri()
    assert "uriBaseId" not in res["relatedLocations"][0]["physicalLocation"]["artifactLocation"]


def test_a_file_reached_through_a_symlink_keeps_the_linked_path(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "repo").mkdir()
    w = write_world(tmp_path / "elsewhere", PARTNER)
    (tmp_path / "repo" / "policies").symlink_to(tmp_path / "elsewhere")
    spec = write_spec(tmp_path / "repo", f"expect no: {OUTSIDE}")
    linked = str(tmp_path / "repo" / "policies" / Path(w).name)
    _, doc = log(linked, spec, tmp_path / "repo")
    res = doc["runs"][0]["results"][0]
    assert uri(res["locations"][0]) == "policies/key-policy.json"


def test_fingerprints_are_stable_across_runs_and_moved_lines(tmp_path: Path) -> None:
    w = write_world(tmp_path, PARTNER)
    other = f"expect no: can principal arn:aws:iam::444455556666:root kms:Decrypt on key {KEY}"

    def prints(*lines: str) -> dict[int, str]:
        _, doc = log(w, write_spec(tmp_path, *lines), tmp_path)
        return {
            r["relatedLocations"][0]["physicalLocation"]["region"]["startLine"]: r[
                "partialFingerprints"
            ]["kmsprove/v1"]
            for r in doc["runs"][0]["results"]
        }

    first = prints(f"expect no: {OUTSIDE}", other)
    assert prints(f"expect no: {OUTSIDE}", other) == first
    moved = prints("# a comment moves every line down", "", f"  expect no: {OUTSIDE}", other)
    assert list(moved) == [3, 4] and list(moved.values()) == list(first.values())
    assert first[1] != first[2]


def test_an_inline_key_policy_points_into_the_world_file(tmp_path: Path) -> None:
    statement = json.loads(PARTNER.lstrip(",\n "))
    doc = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": {"Version": "2012-10-17", "Statement": [statement]}}],
    }
    text = json.dumps(doc, indent=2)
    (tmp_path / "world.json").write_text(text)
    outcomes = check_world(
        *load_inputs(str(tmp_path / "world.json"), write_spec(tmp_path, f"expect no: {OUTSIDE}"))
    )
    (o,) = outcomes
    assert o.status is CheckStatus.FAILS
    line = text[: text.index('"Sid": "PartnerDecrypt"')].count("\n")  # the `{` line, 1-based
    assert [(r.file, r.line, r.sid) for r in o.locations] == [
        (str(tmp_path / "world.json"), line, "PartnerDecrypt")
    ]
    loc = sarif_log(outcomes, tmp_path)["runs"][0]["results"][0]["locations"][0]
    assert uri(loc) == "world.json" and loc["physicalLocation"]["region"]["startLine"] == line


def test_a_key_without_a_policy_file_falls_back_to_the_key_entry(tmp_path: Path) -> None:
    # an AWS managed key's policy is built in: the world file's key entry is the place
    text = '{\n  "version": 1,\n  "keys": [\n    {"arn": "%s", "manager": "AWS", "aliases": ["alias/aws/s3"]}\n  ]\n}\n'
    (tmp_path / "world.json").write_text(text % KEY)
    spec = write_spec(tmp_path, "expect no: can any principal in account 111122223333 kms:Decrypt")
    code, doc = log(str(tmp_path / "world.json"), spec, tmp_path)
    assert code == 1
    loc = doc["runs"][0]["results"][0]["locations"][0]
    assert (uri(loc), loc["physicalLocation"]["region"]) == (
        "world.json",
        {"startLine": 4, "startColumn": 5},
    )
