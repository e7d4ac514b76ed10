"""`kmsprove check WORLD SPEC` through the real CLI: exit codes 0/1/2/3, the statements
a failing `expect no` names (file:line:col in text, JSON and SARIF), the layer a failing
`expect yes` names, `ever` traces, one outcome per key, and the repository's examples.
Every SARIF log is validated against the SARIF 2.1.0 schema (tests/support/data/README.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.support.cli import invoke, invoke_json, sarif_validator

A, B = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY2 = f"arn:aws:kms:us-east-1:{A}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
ROOT = f"arn:aws:iam::{A}:root"
ADMIN = f"arn:aws:iam::{A}:role/KeyAdmin"
APP = f"arn:aws:iam::{A}:role/App"
OUTSIDE = f"can any principal outside account {A} kms:Decrypt"
REPO = Path(__file__).resolve().parents[2]

# Line 11 lets the key administrator rewrite the policy; line 12 (when `partner`)
# gives account B Decrypt. Both statements start at column 5.
POLICY_HEAD = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "EnableRoot",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    },
    {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"}, "Action": ["kms:Describe*", "kms:Put*", "kms:Create*"], "Resource": "*"}"""
PARTNER = """,
    {"Sid": "PartnerDecrypt", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*"}"""
# A policy variable in Resource is not modelled: every query on the key is unknown.
VARIABLE = """,
    {"Sid": "ByAccount", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:${aws:PrincipalAccount}:key/*"}"""
# roles whose trust policy is not given count as assumable by anyone: these are not
IN_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}],
}


def write_world(
    tmp: Path, *extra: str, keys: tuple[str, ...] = (KEY,), key2: tuple[str, ...] | None = None
) -> str:
    """A world in `tmp` whose keys share `key-policy.json` (the head plus `extra`), except
    that KEY2 gets `key2-policy.json` when `key2` gives its extra statements; account A is
    complete with KeyAdmin and App."""
    (tmp / "key-policy.json").write_text(POLICY_HEAD + "".join(extra) + "\n  ]\n}\n")
    if key2 is not None:
        (tmp / "key2-policy.json").write_text(POLICY_HEAD + "".join(key2) + "\n  ]\n}\n")
    role = {"trust_policy": IN_ACCOUNT}
    doc = {
        "version": 1,
        "keys": [
            {"arn": k, "policy": "key2-policy.json" if k == KEY2 and key2 else "key-policy.json"}
            for k in keys
        ],
        "accounts": {A: {"complete": True, "principals": {ADMIN: role, APP: role}}},
    }
    (tmp / "world.json").write_text(json.dumps(doc, indent=2))
    return str(tmp / "world.json")


def write_spec(tmp: Path, *lines: str, name: str = "spec.txt") -> str:
    (tmp / name).write_text("\n".join(lines) + "\n")
    return str(tmp / name)


def run(*args: str) -> Result:
    return invoke("check", *args)


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    return invoke_json("check", *args)


def run_sarif(*args: str) -> tuple[int, dict[str, Any]]:
    """The SARIF log of a run, validated against the SARIF 2.1.0 schema."""
    result = run(*args, "--format", "sarif")
    doc = json.loads(result.stdout)
    sarif_validator().validate(doc)
    return result.exit_code, doc


def region(location: dict[str, Any]) -> tuple[str, int, int]:
    phys = location["physicalLocation"]
    r = phys["region"]
    return phys["artifactLocation"]["uri"], r["startLine"], r["startColumn"]


# --------------------------------------------------------------------------
# exit codes 0 and 1, and where a failing `expect no` points


def test_all_hold_exits_0(tmp_path: Path) -> None:
    w = write_world(tmp_path)
    spec = write_spec(
        tmp_path,
        "# the partner may not decrypt yet",
        f"expect no: {OUTSIDE}",
        f"expect yes: can principal {ADMIN} kms:PutKeyPolicy",
    )
    result = run(w, spec)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"holds    {spec}:2  expect no: {OUTSIDE}"
    assert lines[1].startswith(f"holds    {spec}:3  expect yes: can principal {ADMIN}")
    assert lines[-1] == "2 checked: 2 hold, 0 fail, 0 unknown"
    assert "[key " not in result.stdout  # one key: no need to name it
    code, doc = run_sarif(w, spec)
    assert code == 0 and doc["runs"][0]["results"] == []
    assert doc["runs"][0]["invocations"][0]["toolExecutionNotifications"] == []


def test_failing_expect_no_names_the_statement_that_lets_it_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths: the SARIF URIs are relative too
    w = write_world(Path("."), PARTNER)
    spec = write_spec(Path("."), "", f"expect no: {OUTSIDE}  # nobody outside")
    result = run(w, spec)
    assert result.exit_code == 1
    out = result.stdout
    assert out.startswith(f"FAILS    spec.txt:2  expect no: {OUTSIDE}\n")
    assert re.search(rf"\n  arn:aws:(iam|sts)::{B}:\S+ may call kms:Decrypt on {KEY}\n", out)
    assert "  let in by:\n    key-policy.json:12:5 (`PartnerDecrypt`)\n" in out
    # the witness is B's root user (the key policy names its account: it reproduces as
    # printed) or a principal of the open account B with an assumed identity policy
    # (only a saved witness reproduces it); which one Z3 gives depends on what the
    # process asked it before (an earlier test's query flips it)
    if f"\n  arn:aws:iam::{B}:root may call" in out:
        assert f"  reproduce: kmsprove explain {w} " in out
    else:
        assert "  witness: it rests on what is assumed above" in out
    assert out.endswith("1 checked: 0 hold, 1 fail, 0 unknown\n")
    saved = run(w, spec, "--save-witness", "w").stdout
    assert "  reproduce: kmsprove explain w/world.json --request w/request.json\n" in saved
    assert sorted(p.name for p in Path("w").iterdir()) == ["request.json", "world.json"]

    code, doc = run_json(w, spec)
    (r,) = doc["results"]
    assert code == 1 and doc["summary"] == {"holds": 0, "fails": 1, "unknown": 0}
    assert (r["spec"], r["line"], r["expect"], r["status"], r["key"]) == (
        "spec.txt",
        2,
        "no",
        "fails",
        KEY,
    )
    assert r["query"] == OUTSIDE and r["answer"]["answer"] == "yes"
    assert r["locations"] == [
        {"file": "key-policy.json", "line": 12, "col": 5, "sid": "PartnerDecrypt"}
    ]
    assert r["blocked_by"] is None

    _, doc = run_sarif(w, spec)
    (res,) = doc["runs"][0]["results"]
    assert code == 1 and res["ruleId"] == "kmsprove/expect-no" and res["level"] == "error"
    assert region(res["locations"][0]) == ("key-policy.json", 12, 5)
    spec_loc = res["relatedLocations"][0]
    assert region(spec_loc) == ("spec.txt", 2, 1) and spec_loc["message"]["text"] == "expectation"
    text = res["message"]["text"]
    assert OUTSIDE in text and re.search(rf"arn:aws:(iam|sts)::{B}:\S+ may call kms:Decrypt", text)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[res["ruleIndex"]]["id"] == res["ruleId"]


def test_counterexample_context_is_shown(tmp_path: Path) -> None:
    cond = ', "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "Finance"}}}'
    w = write_world(tmp_path, PARTNER[:-1] + cond)
    out = run(w, write_spec(tmp_path, f"expect no: {OUTSIDE}")).stdout
    [line] = [x for x in out.split("\n") if x.startswith("  with context ")]
    # the solver may add other context keys, in any order
    assert re.search(r"[ ,]kms:EncryptionContext:Dept=Finance(,|$)", line), out


# --------------------------------------------------------------------------
# a failing `expect yes` names the blocking layer


def test_failing_expect_yes_names_the_blocking_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    w = write_world(Path("."), PARTNER)
    spec = write_spec(
        Path("."),
        f"expect yes: can principal {APP} kms:Decrypt",
        f"expect yes: can any principal in account {B} kms:Encrypt",
    )
    result = run(w, spec)
    assert result.exit_code == 1
    app, partner = (x for x in result.stdout.splitlines() if x.startswith("  blocked by"))
    # App's account is delegated to, but App has no identity policy
    assert app.startswith("  blocked by identity-policy: the key policy delegates to the account")
    assert f"(example request: arn:aws:sts::{A}:assumed-role/App/example calling kms:Decrypt" in app
    assert partner.startswith(
        "  blocked by key-policy: the key policy does not allow this external caller"
    )
    assert f"example request: arn:aws:iam::{B}:root calling kms:Encrypt on {KEY}" in partner

    _, doc = run_json(w, spec)
    assert [r["blocked_by"] for r in doc["results"]] == [
        app.removeprefix("  blocked by "),
        partner.removeprefix("  blocked by "),
    ]
    assert all(r["locations"] == [] for r in doc["results"])

    _, doc = run_sarif(w, spec)
    res = doc["runs"][0]["results"]
    assert [r["ruleId"] for r in res] == ["kmsprove/expect-yes"] * 2
    assert [region(r["locations"][0]) for r in res] == [("spec.txt", 1, 1), ("spec.txt", 2, 1)]
    assert region(res[0]["relatedLocations"][0]) == ("key-policy.json", 1, 1)
    assert "identity-policy" in res[0]["message"]["text"]


# --------------------------------------------------------------------------
# `ever`: the trace, and the real statement behind the step


def test_ever_failure_shows_the_trace_and_the_statement_that_allows_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    w = write_world(Path("."))
    spec = write_spec(
        Path("."), f"expect no: can any principal outside account {A} ever kms:Decrypt"
    )
    result = run(w, spec, "--trust", ROOT)
    assert result.exit_code == 1
    out = result.stdout
    assert f"  step 1: arn:aws:sts::{A}:assumed-role/KeyAdmin/example calls kms:PutKeyPolicy" in out
    assert "  step 2: the request below\n" in out
    # the final decision rests on the policy the step wrote; the file's statement is line 11
    assert "  let in by:\n    key-policy.json:11:5 (`Admins`)\n" in out
    assert "<" not in out.split("let in by:")[1]

    _, doc = run_sarif(w, spec, "--trust", ROOT)
    (res,) = doc["runs"][0]["results"]
    assert region(res["locations"][0]) == ("key-policy.json", 11, 5)
    assert "step 1: " in res["message"]["text"]
    _, doc = run_json(w, spec, "--trust", ROOT)
    (r,) = doc["results"]
    assert [s["action"] for s in r["answer"]["counterexample"]["trace"]] == [
        "kms:PutKeyPolicy",
        "kms:Decrypt",
    ]
    assert r["answer"]["assumptions"]["trusted"] == [ROOT]


def test_trusting_the_writers_makes_ever_hold(tmp_path: Path) -> None:
    w = write_world(tmp_path)
    spec = write_spec(
        tmp_path, f"expect no: can any principal outside account {A} ever kms:Decrypt"
    )
    assert run(w, spec, "--trust", ROOT, "--trust", ADMIN).exit_code == 0


# --------------------------------------------------------------------------
# several keys


def test_a_query_without_on_key_gives_one_outcome_per_key(tmp_path: Path) -> None:
    w = write_world(tmp_path, PARTNER, keys=(KEY, KEY2))
    spec = write_spec(
        tmp_path,
        f"expect no: {OUTSIDE}",
        f"expect yes: can principal {ADMIN} kms:DescribeKey on key {KEY2}",
    )
    code, doc = run_json(w, spec)
    assert code == 1
    assert [(r["line"], r["key"], r["status"]) for r in doc["results"]] == [
        (1, KEY, "fails"),
        (1, KEY2, "fails"),
        (2, KEY2, "holds"),
    ]
    assert doc["summary"] == {"holds": 1, "fails": 2, "unknown": 0}
    out = run(w, spec).stdout
    assert f"  [key {KEY}]" in out and f"  [key {KEY2}]" in out
    code, sarif = run_sarif(w, spec)
    prints = [r["partialFingerprints"]["kmsprove/v1"] for r in sarif["runs"][0]["results"]]
    assert len(prints) == 2 and prints[0] != prints[1]  # same line, other key


# --------------------------------------------------------------------------
# unknown: exit 3 unless something fails


def test_unmodelled_policy_gives_unknown_and_exit_3(tmp_path: Path) -> None:
    w = write_world(tmp_path, VARIABLE)
    spec = write_spec(tmp_path, f"expect no: {OUTSIDE}")
    result = run(w, spec)
    assert result.exit_code == 3
    assert result.stdout.startswith(f"unknown  {spec}:1  expect no: {OUTSIDE}\n")
    assert "  not modelled: policy variables in `Resource`\n" in result.stdout
    code, doc = run_sarif(w, spec)
    run0 = doc["runs"][0]
    assert code == 3 and run0["results"] == []
    (note,) = run0["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "warning" and "policy variables" in note["message"]["text"]
    assert region(note["locations"][0])[1:] == (1, 1)


def test_a_failure_outranks_an_unknown(tmp_path: Path) -> None:
    w = write_world(tmp_path, VARIABLE, keys=(KEY, KEY2), key2=(PARTNER,))
    spec = write_spec(tmp_path, f"expect no: {OUTSIDE}")
    code, doc = run_json(w, spec)
    assert [(r["key"], r["status"]) for r in doc["results"]] == [
        (KEY, "unknown"),
        (KEY2, "fails"),
    ]
    assert code == 1 and doc["summary"] == {"holds": 0, "fails": 1, "unknown": 1}
    assert region(run_sarif(w, spec)[1]["runs"][0]["results"][0]["locations"][0])[1:] == (12, 5)


# --------------------------------------------------------------------------
# bad input: exit 2, positioned errors on stderr, nothing on stdout


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_malformed_spec_line_is_positioned_in_the_spec(tmp_path: Path, fmt: str) -> None:
    w = write_world(tmp_path)
    spec = write_spec(tmp_path, f"expect no: {OUTSIDE}", "expect maybe: can anyone kms:Decrypt")
    result = run(w, spec, "--format", fmt)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"{spec}:2:8: error: expected `yes` or `no` after `expect`, found `maybe`\n"
    )


def test_errors_in_queries_of_the_spec_are_positioned_in_the_spec(tmp_path: Path) -> None:
    w = write_world(tmp_path)
    spec = write_spec(
        tmp_path,
        "  expect no: can anyone kms:Decrpyt",
        "expect no: can anyone kms:Decrypt on key alias/none",
    )
    result = run(w, spec)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[0].startswith(f"{spec}:1:25: error: `kms:Decrpyt`")
    spec = write_spec(tmp_path, "expect no: can anyone kms:Decrypt on key alias/none")
    result = run(w, spec)
    assert result.exit_code == 2
    assert result.stderr == f"{spec}:1:35: error: no key `alias/none` in the world\n"


def test_missing_files_bad_world_and_empty_spec_exit_2(tmp_path: Path) -> None:
    w = write_world(tmp_path)
    spec = write_spec(tmp_path, f"expect no: {OUTSIDE}")
    missing = str(tmp_path / "nope.txt")
    result = run(w, missing)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"{missing}:1:1: error: no such file\n"
    result = run(str(tmp_path / "none.json"), spec)
    assert result.exit_code == 2 and result.stderr.startswith(f"{tmp_path / 'none.json'}:1:1:")
    (tmp_path / "bad.json").write_text('{"version": 1, "keys": [{"arn": "nope"}]}')
    result = run(str(tmp_path / "bad.json"), spec, "--format", "sarif")
    assert result.exit_code == 2 and result.stdout == ""
    assert all(x.startswith(f"{tmp_path / 'bad.json'}:1:") for x in result.stderr.splitlines())
    # both files bad: both reported
    result = run(str(tmp_path / "bad.json"), missing)
    assert {x.split(":")[0] for x in result.stderr.splitlines()} == {
        str(tmp_path / "bad.json"),
        missing,
    }
    empty = write_spec(tmp_path, "# nothing yet", name="empty.txt")
    result = run(w, empty)
    assert result.exit_code == 2 and result.stderr.startswith(
        f"{empty}:1:1: error: no expectations"
    )


# --------------------------------------------------------------------------
# the repository's examples


def test_cross_account_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    w = "examples/cross-account/world.json"
    spec = write_spec(
        tmp_path,
        f"expect no: {OUTSIDE}",
        f"expect yes: can principal arn:aws:iam::{B}:role/Reader kms:Decrypt",
        f"expect no: can principal arn:aws:iam::{B}:role/Auditor kms:Decrypt",
    )
    result = run(w, spec)
    assert result.exit_code == 1
    assert [x.split()[0] for x in result.stdout.splitlines() if not x.startswith(" ")][:3] == [
        "FAILS",
        "holds",
        "holds",
    ]
    # the key policy grants account B; when the solver picks the Reader role (it may
    # pick an unnamed principal of the open account instead), Reader's own policy too
    first = "    examples/cross-account/key-policy.json:14:5 (`Allow use of the key`)"
    assert f"  let in by:\n{first}\n" in result.stdout
    code, doc = run_sarif(w, spec)
    assert code == 1
    (res,) = doc["runs"][0]["results"]
    assert region(res["locations"][0]) == ("examples/cross-account/key-policy.json", 14, 5)
    spec_loc, *others = res["relatedLocations"]
    # the spec is outside the working directory: an absolute file URI
    assert region(spec_loc) == (Path(spec).resolve().as_uri(), 1, 1)
    assert all(region(x) == ("examples/cross-account/reader-policy.json", 4, 5) for x in others)
    assert bool(others) == ("Reader" in res["message"]["text"].split("\n")[1])


def test_s3_example_bucket_questions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    w = "examples/s3-sse-kms-cross-account/world.json"
    bucket = "arn:aws:s3:::DOC-EXAMPLE-BUCKET"
    spec = write_spec(
        tmp_path,
        f"expect no: can any principal outside account {A} s3:GetObject on bucket {bucket}",
        f"expect yes: can principal arn:aws:iam::{B}:role/NoKms s3:GetObject on bucket {bucket}",
    )
    code, doc = run_json(w, spec)
    assert code == 1
    read, nokms = doc["results"]
    # the composed read: the bucket policy lets the S3 request in, the key policy the Decrypt
    files = [(x["file"].rsplit("/", 1)[1], x["line"]) for x in read["locations"]]
    assert files[0] == ("bucket-policy.json", 5)
    assert ("key-policy.json", 13) in files
    assert nokms["blocked_by"].startswith("key-policy: KMS denies the kms:Decrypt S3 makes")
    assert f"calling s3:GetObject on {bucket}/example)" in nokms["blocked_by"]
    run_sarif(w, spec)
