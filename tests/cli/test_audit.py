"""`kmsprove audit (WORLD | DIR)` through the real CLI: exit codes 0/1/2/3 and
--fail-on, the text report grouped by key (every reproduce line it prints is run by
tests/conftest.py), JSON, SARIF validated against the SARIF 2.1.0 schema, suppressions
(expiry) and baselines, directories and sliced worlds, every input format, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import Result

from tests.support.cli import invoke, invoke_json, listing, sarif_validator

A, B = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "audit"

# statement 2 (line 11, column 5) gives account B Decrypt: the external-decrypt finding
POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "EnableRoot",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    }%s
  ]
}
"""
PARTNER = """,
    {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*"}"""
INERT = """,
    {"Sid": "PartnerAdmin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}"""


def write_world(tmp: Path, *extra: str, name: str = "world.json", **top: Any) -> str:
    tmp.mkdir(parents=True, exist_ok=True)
    policy = tmp / f"{Path(name).stem}-policy.json"
    policy.write_text(POLICY % "".join(extra))
    doc = {"version": 1, "keys": [{"arn": KEY, "policy": policy.name}], **top}
    (tmp / name).write_text(json.dumps(doc, indent=2))
    return str(tmp / name)


def audit(*args: str) -> Result:
    return invoke("audit", *args)


def audit_json(*args: str) -> tuple[int, dict[str, Any]]:
    return invoke_json("audit", *args)


def rules_found(doc: dict[str, Any]) -> list[str]:
    return sorted(f["rule"] for f in doc["findings"] if f["status"] == "found")


# --------------------------------------------------------------------------
# exit codes and the text report


def test_a_clean_key_exits_0(tmp_path: Path) -> None:
    result = audit(write_world(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "1 world, 1 key: 0 findings (0 critical, 0 high, 0 medium, 0 low, 0 info),"
        " 0 unknown, 0 suppressed, 0 in the baseline"
    )


def test_findings_are_grouped_by_key_severity_first(tmp_path: Path) -> None:
    w = write_world(tmp_path, INERT, PARTNER)
    result = audit(w)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"key {KEY}"
    heads = [
        line.split(":")[0].split()
        for line in lines
        if line.startswith("  ") and not line.startswith("    ")
    ]
    assert heads == [["HIGH", "external-decrypt"], ["LOW", "inert-cross-account"]]
    policy = f"{tmp_path}/world-policy.json"
    assert f"      {policy}:12:5 (`Partner`)" in lines
    assert f"      {policy}:11:5 (`PartnerAdmin`)" in lines
    assert any(
        line.startswith("    asked: can any iam principal outside account") for line in lines
    )
    assert any(line.startswith("    see: https://docs.aws.amazon.com/") for line in lines)


def test_fail_on_sets_the_severity_that_fails(tmp_path: Path) -> None:
    w = write_world(tmp_path, INERT)
    assert audit(w).exit_code == 0  # the inert finding is low: below the default, medium
    assert audit(w, "--fail-on", "low").exit_code == 1
    w2 = write_world(tmp_path / "p", PARTNER)
    assert audit(w2, "--fail-on", "critical").exit_code == 0
    assert audit(w2, "--fail-on", "high").exit_code == 1


def test_the_zone_of_trust_takes_partners_and_the_organization(tmp_path: Path) -> None:
    w = write_world(tmp_path, PARTNER)
    assert audit(w, "--zone", f"{A},{B}").exit_code == 0
    org = {
        "accounts": {A: {"organization": "o-exampleorgid"}, B: {"organization": "o-exampleorgid"}}
    }
    w_org = write_world(tmp_path / "org", PARTNER, **org)
    assert audit(w_org, "--zone", "org").exit_code == 0
    assert audit(w_org).exit_code == 1


def test_an_unknown_answer_is_a_finding_and_exit_3(tmp_path: Path) -> None:
    w = write_world(tmp_path, unknowns=[{"reason": "kms:GetKeyPolicy was refused", "key": KEY}])
    code, doc = audit_json(w)
    assert code == 3
    assert doc["findings"] and all(f["status"] == "unknown" for f in doc["findings"])
    assert doc["summary"]["unknown"] == len(doc["findings"])
    assert all("refused" in f["message"] for f in doc["findings"])


# --------------------------------------------------------------------------
# JSON and SARIF


def test_json_carries_the_witness_the_question_and_the_fingerprint(tmp_path: Path) -> None:
    code, doc = audit_json(write_world(tmp_path, PARTNER))
    assert code == 1 and rules_found(doc) == ["external-decrypt"]
    (f,) = [f for f in doc["findings"] if f["rule"] == "external-decrypt"]
    assert f["severity"] == "high" and f["key"] == KEY and f["counts"]
    assert f["answer"]["answer"] == "yes"
    assert f["answer"]["counterexample"]["principal"].split(":")[4] == B
    assert f["locations"] == [
        {"file": f"{tmp_path}/world-policy.json", "line": 11, "col": 5, "sid": "Partner"}
    ]
    assert f["question"].startswith(f"can any iam principal outside account {A} kms:Decrypt")
    assert len(f["fingerprint"]) == 32
    assert {r["id"] for r in doc["rules"]} >= {"public", "lockout", "confused-deputy"}
    assert doc["worlds"][0]["keys"] == 1 and doc["errors"] == []


def test_sarif_is_schema_valid_with_a_rule_per_kind_and_the_statement_as_location(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    w = write_world(tmp_path / "kms", INERT, PARTNER)
    out = tmp_path / "audit.sarif"
    result = audit(w, "--format", "sarif", "--sarif-output", str(out))
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    sarif_validator().validate(doc)
    assert json.loads(out.read_text()) == doc
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    assert all(r["helpUri"].startswith("https://") and r["help"]["text"] for r in rules)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    decrypt = by_rule["kmsprove/audit/external-decrypt"]
    assert decrypt["level"] == "error"
    loc = decrypt["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "kms/world-policy.json", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 12, "startColumn": 5}
    assert "may call kms:Decrypt" in decrypt["message"]["text"]
    assert rules[decrypt["ruleIndex"]]["id"] == decrypt["ruleId"]
    assert by_rule["kmsprove/audit/inert-cross-account"]["level"] == "note"


def test_sarif_keeps_unknowns_open_and_suppressed_findings_suppressed(tmp_path: Path) -> None:
    w = write_world(tmp_path / "u", unknowns=[{"reason": "refused", "key": KEY}])
    doc = json.loads(audit(w, "--format", "sarif").stdout)
    sarif_validator().validate(doc)
    results = doc["runs"][0]["results"]
    assert results and all(r["kind"] == "open" and r["level"] == "none" for r in results)
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == len(results)
    w2 = write_world(tmp_path / "s", PARTNER)
    supp = tmp_path / "s.json"
    supp.write_text(json.dumps([{"rule": "external-decrypt", "sid": "Partner", "reason": "ok"}]))
    doc = json.loads(audit(w2, "--format", "sarif", "--suppressions", str(supp)).stdout)
    sarif_validator().validate(doc)
    (r,) = [r for r in doc["runs"][0]["results"] if r["ruleId"].endswith("external-decrypt")]
    assert r["suppressions"] == [{"kind": "external", "justification": "ok"}]


# --------------------------------------------------------------------------
# suppressions and baselines


def test_suppressions_silence_until_they_expire(tmp_path: Path) -> None:
    w = write_world(tmp_path, PARTNER)
    live = tmp_path / "live.yaml"
    live.write_text(
        "suppressions:\n  - rule: external-decrypt\n    sid: Partner\n    reason: partner\n"
        "    expires: '2999-12-31'\n  - rule: external-encrypt\n    key: " + KEY + "\n"
        "    reason: partner\n"
    )
    result = audit(w, "--suppressions", str(live))
    assert result.exit_code == 0, result.output
    assert "    suppressed until 2999-12-31: partner" in result.stdout.splitlines()
    assert "matches no finding" in result.stderr  # nothing lets account B encrypt
    old = tmp_path / "old.json"
    old.write_text(
        json.dumps(
            [
                {
                    "rule": "external-decrypt",
                    "sid": "Partner",
                    "reason": "migration",
                    "expires": "2001-01-01",
                }
            ]
        )
    )
    result = audit(w, "--suppressions", str(old))
    assert result.exit_code == 1
    assert (
        f"{old}:1:2: warning: suppression of `external-decrypt` expired on 2001-01-01"
        in result.stderr
    )


def test_a_baseline_fails_only_on_new_findings(tmp_path: Path) -> None:
    w = write_world(tmp_path, PARTNER)
    first = audit(w, "--format", "json")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(first.stdout)
    again = audit(w, "--baseline", str(baseline))
    assert again.exit_code == 0, again.output
    assert "in the baseline" in again.stdout
    worse = write_world(
        tmp_path,
        PARTNER,
        ',\n    {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}',
    )
    code, doc = audit_json(worse, "--baseline", str(baseline))
    assert code == 1
    counting = {f["rule"] for f in doc["findings"] if f["counts"]}
    assert "public" in counting and "external-encrypt" not in counting


# --------------------------------------------------------------------------
# estates, input formats, bad input


def test_a_directory_audits_every_world_and_reports_a_bad_one(tmp_path: Path) -> None:
    estate = tmp_path / "kms"
    write_world(estate / "a", PARTNER)
    write_world(estate / "b")
    (estate / "c").mkdir()
    (estate / "c" / "world.json").write_text('{"version": 1, "keys": [{"arn": "x", "policy": {}}]}')
    result = audit(str(estate), "--jobs", "2")
    assert result.exit_code == 2
    assert f"{estate}/a/world.json:" in result.stdout
    assert "not audited: bad input" in result.stdout
    assert f"{estate}/c/world.json:1:" in result.stderr
    code, doc = audit_json(str(estate), "--jobs", "1")
    assert code == 2 and [bool(w["errors"]) for w in doc["worlds"]] == [False, False, True]


def test_workers_find_what_one_process_finds(tmp_path: Path) -> None:
    keys = [
        {
            "arn": f"arn:aws:kms:us-east-1:{A}:key/{i:08d}-0000-4000-8000-000000000000",
            "policy": json.loads(POLICY % (PARTNER if i == 5 else "")),
        }
        for i in range(8)
    ]
    world = tmp_path / "world.json"
    world.write_text(json.dumps({"version": 1, "keys": keys}))

    def findings(jobs: str) -> list[tuple[str, str]]:
        code, doc = audit_json(str(world), "--jobs", jobs)
        assert code == 1
        return sorted((f["key"], f["rule"]) for f in doc["findings"])

    assert findings("2") == findings("1")


def test_every_input_format_is_audited() -> None:
    for path, args in (
        (DATA / "cdk-viaservice-key.template.json", ()),
        (REPO / "tests" / "data" / "cloudformation" / "userguide-key.yaml", ()),
        (REPO / "tests" / "data" / "terraform" / "kms-grant" / "plan.json", ()),
        (REPO / "tests" / "cases" / "realworld" / "console-default.json", ("--key-arn", KEY)),
    ):
        result = audit(str(path), *args)
        assert result.exit_code in (0, 1), result.output
        assert result.stdout.splitlines()[-1].startswith("1 world, 1 key: ")
    cfn = audit(
        str(REPO / "tests" / "data" / "cloudformation" / "userguide-key.yaml"), "--format", "json"
    )
    inert = [f for f in json.loads(cfn.stdout)["findings"] if f["rule"] == "inert-cross-account"]
    assert inert and inert[0]["locations"][0]["file"].endswith("userguide-key.yaml")


def test_bad_input_is_positioned_and_writes_nothing(tmp_path: Path) -> None:
    w = write_world(tmp_path, PARTNER)
    supp = tmp_path / "s.json"
    supp.write_text('[{"rule": "nope", "reason": "x"}]')
    before = listing(tmp_path)
    out = tmp_path / "out.sarif"
    result = audit(
        w,
        "--zone",
        "everyone",
        "--admin",
        "KeyAdmin",
        "--suppressions",
        str(supp),
        "--sarif-output",
        str(out),
    )
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert (
        "<cli>:1:1: error: --zone takes `account`, `org` or account ids `A,B`, not `everyone`"
        in lines
    )
    assert "<cli>:1:1: error: --admin takes an IAM user or role ARN, not `KeyAdmin`" in lines
    assert f"{supp}:1:11: error: no rule `nope`" in lines
    assert listing(tmp_path) == before
    org = audit(w, "--zone", "org")
    assert (
        org.exit_code == 2 and "--zone org: the world does not say which organization" in org.stderr
    )


def test_escalation_is_asked_with_trust_and_shows_its_trace(tmp_path: Path) -> None:
    app = f"arn:aws:iam::{A}:role/App"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    extra = (
        ',\n    {"Sid": "AppPolicies", "Effect": "Allow", "Principal": {"AWS": "'
        + app
        + '"}, "Action": "kms:PutKeyPolicy", "Resource": "*"}'
    )
    w = write_world(
        tmp_path,
        extra,
        accounts={A: {"complete": True, "principals": {app: {"trust_policy": trust}}}},
    )
    code, doc = audit_json(w)
    assert code == 1  # App, no administrator yet, can re-police the key
    assert "escalation" not in rules_found(doc)
    assert any("escalation: give --trust" in n for n in doc["not_asked"])
    result = audit(w, "--trust", f"arn:aws:iam::{A}:root", "--admin", app)
    assert result.exit_code == 1
    out = result.stdout
    assert "  HIGH     escalation: " in out
    assert f"    step 1: arn:aws:sts::{A}:assumed-role/App/" in out
    assert "delete-or-disable" not in out  # App is an administrator now
