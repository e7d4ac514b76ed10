"""`kmsprove check` over an estate: a directory of worlds, or one world with many keys,
in worker processes; the same outcomes as one process; a summary table; a bad world in
a directory is reported (its errors positioned, on stderr) while every other world is
still checked, and the run exits 2; a bad spec or a directory without worlds is exit 2
with nothing on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from kmsprove.cli import main

A, B = "111122223333", "444455556666"
SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "support" / "data" / "sarif-schema-2.1.0.json"


def key(i: int, partner: bool) -> dict:
    statements = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if partner:
        statements.append(
            {
                "Sid": "Partner",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        )
    return {
        "arn": f"arn:aws:kms:us-east-1:{A}:key/{i:08d}-0000-4000-8000-000000000000",
        "policy": {"Version": "2012-10-17", "Statement": statements},
    }


SPEC = f"""# two invariants
expect no: can any principal outside account {A} kms:Decrypt
expect yes: can principal arn:aws:iam::{A}:root kms:PutKeyPolicy
"""


def estate(tmp: Path, n: int = 6) -> tuple[Path, Path]:
    worlds = tmp / "kms"
    for i in range(n):
        d = worlds / f"k{i}"
        d.mkdir(parents=True)
        (d / "world.json").write_text(json.dumps({"version": 1, "keys": [key(i, i % 3 == 0)]}))
        (d / "notes.json").write_text(json.dumps({"owner": "team"}))  # not a world: skipped
    spec = tmp / "kms.spec"
    spec.write_text(SPEC)
    return worlds, spec


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout, result.stderr


def test_a_directory_is_checked_world_by_world_with_a_summary_table(tmp_path: Path) -> None:
    worlds, spec = estate(tmp_path)
    code, out, _ = check(str(worlds), str(spec), "--jobs", "2")
    assert code == 1
    assert out.count("FAILS") == 2  # k0 and k3 let the partner decrypt
    assert f"{worlds}/k0/world.json:\n" in out and f"{worlds}/k3/world.json:\n" in out
    table = out[out.index("world ") :]
    assert f"{worlds}/k1/world.json" in table
    assert out.rstrip().endswith("6 worlds, 6 keys: 10 hold, 2 fail, 0 unknown")


def test_workers_give_the_outcomes_one_process_gives(tmp_path: Path) -> None:
    worlds, spec = estate(tmp_path)

    def results(jobs: str) -> list[tuple]:
        code, out, _ = check(str(worlds), str(spec), "--format", "json", "--jobs", jobs)
        doc = json.loads(out)
        assert code == 1 and doc["summary"] == {"holds": 10, "fails": 2, "unknown": 0}
        assert len(doc["worlds"]) == 6
        return [(r["world"], r["line"], r["key"], r["status"]) for r in doc["results"]]

    assert results("2") == results("1")


def test_one_world_with_many_keys_is_split_across_workers(tmp_path: Path) -> None:
    world = tmp_path / "world.json"
    world.write_text(json.dumps({"version": 1, "keys": [key(i, i == 7) for i in range(12)]}))
    spec = tmp_path / "kms.spec"
    spec.write_text(SPEC)
    code, out, _ = check(str(world), str(spec), "--format", "json", "--jobs", "2")
    doc = json.loads(out)
    assert code == 1 and doc["summary"] == {"holds": 23, "fails": 1, "unknown": 0}
    [failed] = [r for r in doc["results"] if r["status"] == "fails"]
    assert failed["key"].startswith(f"arn:aws:kms:us-east-1:{A}:key/00000007-")
    assert doc["worlds"] == [
        {
            "world": str(world),
            "keys": 12,
            "holds": 23,
            "fails": 1,
            "unknown": 0,
            "seconds": doc["worlds"][0]["seconds"],
            "errors": 0,
        }
    ]
    assert doc["errors"] == []


def test_sarif_merges_every_world_and_can_go_to_a_file(tmp_path: Path) -> None:
    worlds, spec = estate(tmp_path)
    sarif = tmp_path / "out.sarif"
    code, out, _ = check(str(worlds), str(spec), "--jobs", "2", "--sarif-output", str(sarif))
    assert code == 1 and "2 fail" in out
    doc = json.loads(sarif.read_text())
    results = doc["runs"][0]["results"]
    assert len(results) == 2 and {r["ruleId"] for r in results} == {"kmsprove/expect-no"}


# A world file whose JSON is cut short (the closing brace of the key is missing) and
# one whose key policy has a misspelt Effect, beside a good world.
MALFORMED = """{
  "version": 1,
  "keys": [
    {"arn": "arn:aws:kms:us-east-1:111122223333:key/00000009-0000-4000-8000-000000000000",
     "policy": {"Version": "2012-10-17", "Statement": []}
  ]
}
"""
INVALID = """{
  "version": 1,
  "keys": [{
    "arn": "arn:aws:kms:us-east-1:111122223333:key/00000008-0000-4000-8000-000000000000",
    "policy": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Alow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
       "Action": "kms:*", "Resource": "*"}
    ]}
  }]
}
"""


def mixed_estate(tmp: Path) -> tuple[Path, Path, Path, Path]:
    worlds = tmp / "kms"
    worlds.mkdir()
    (worlds / "a-good.json").write_text(json.dumps({"version": 1, "keys": [key(0, True)]}))
    (worlds / "b-malformed.json").write_text(MALFORMED)
    (worlds / "c-invalid.json").write_text(INVALID)
    spec = tmp / "kms.spec"
    spec.write_text(SPEC)
    return worlds, worlds / "b-malformed.json", worlds / "c-invalid.json", spec


def test_a_bad_world_is_reported_and_every_other_world_still_checked(tmp_path: Path) -> None:
    worlds, malformed, invalid, spec = mixed_estate(tmp_path)
    sarif = tmp_path / "out.sarif"
    code, out, err = check(str(worlds), str(spec), "--jobs", "2", "--sarif-output", str(sarif))
    assert code == 2  # bad input wins over the good world's failure
    # the good world's verdicts, in full
    good = out[out.index(f"{worlds}/a-good.json:\n") : out.index(f"{malformed}:\n")]
    assert "FAILS    " in good and "holds    " in good and "let in by:" in good
    assert f"{malformed}:\nnot checked: bad input (1 error, on stderr)\n" in out
    assert f"{invalid}:\nnot checked: bad input (1 error, on stderr)\n" in out
    assert out.rstrip().endswith(
        "3 worlds, 1 keys: 1 hold, 1 fail, 0 unknown; 2 not checked (bad input)"
    )
    table = out[out.index("\nworld ") + 1 :].splitlines()
    assert table[1].split() == [f"{worlds}/a-good.json", "1", "1", "1", "0", table[1].split()[5]]
    assert table[2].split() == [str(malformed), "-", "-", "-", "-", "-", "bad", "input"]
    assert table[3].split() == [str(invalid), "-", "-", "-", "-", "-", "bad", "input"]
    # each error where it is: the `]` that should have been a `}`, the misspelt Effect
    assert err.splitlines() == [
        f"{malformed}:6:3: error: unexpected `]`",
        f"{invalid}:6:18: error: `Effect` must be `Allow` or `Deny`, not `Alow`"
        " (did you mean `Allow`?)",
    ]
    # the SARIF log is written: the good world's alert, the bad worlds' errors
    log = json.loads(sarif.read_text())
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema).validate(log)
    run = log["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["kmsprove/expect-no"]
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [(n["level"], n["locations"][0]["physicalLocation"]["region"]) for n in notes] == [
        ("error", {"startLine": 6, "startColumn": 3}),
        ("error", {"startLine": 6, "startColumn": 18}),
    ]


def test_a_bad_world_is_an_error_entry_in_json(tmp_path: Path) -> None:
    worlds, malformed, invalid, spec = mixed_estate(tmp_path)
    code, out, err = check(str(worlds), str(spec), "--format", "json", "--jobs", "1")
    doc = json.loads(out)
    assert code == 2 and len(err.splitlines()) == 2
    assert doc["summary"] == {"holds": 1, "fails": 1, "unknown": 0}
    assert {r["world"] for r in doc["results"]} == {f"{worlds}/a-good.json"}
    assert [(w["world"], w["keys"], w["errors"]) for w in doc["worlds"]] == [
        (f"{worlds}/a-good.json", 1, 0),
        (str(malformed), 0, 1),
        (str(invalid), 0, 1),
    ]
    assert [(e["world"], e["file"], e["line"], e["col"], e["severity"]) for e in doc["errors"]] == [
        (str(malformed), str(malformed), 6, 3, "error"),
        (str(invalid), str(invalid), 6, 18, "error"),
    ]


def test_a_spec_line_about_a_key_one_world_lacks_names_that_world(tmp_path: Path) -> None:
    worlds, spec = estate(tmp_path, 2)
    k0 = key(0, True)["arn"]
    spec.write_text(f"expect no: can any principal outside account {A} kms:Decrypt on key {k0}\n")
    code, out, err = check(str(worlds), str(spec), "--jobs", "1")
    assert code == 2
    assert f"{worlds}/k0/world.json:\nFAILS    " in out
    assert f"{worlds}/k1/world.json:\nnot checked: bad input (1 error, on stderr)" in out
    col = spec.read_text().index("on key") + 1
    assert err == (
        f"{spec}:1:{col}: error: no key `{k0}` in the world (checking `{worlds}/k1/world.json`)\n"
    )


def test_a_bad_single_world_is_bad_input_and_nothing_is_written(tmp_path: Path) -> None:
    _, _, invalid, spec = mixed_estate(tmp_path)
    sarif = tmp_path / "out.sarif"
    code, out, err = check(str(invalid), str(spec), "--sarif-output", str(sarif))
    assert code == 2 and out == "" and not sarif.exists()
    assert err.startswith(f"{invalid}:6:18: error: ")


def test_a_bad_spec_checks_no_world(tmp_path: Path) -> None:
    worlds, spec = estate(tmp_path, 2)
    spec.write_text("expect maybe: can anyone kms:Decrypt\n")
    sarif = tmp_path / "out.sarif"
    code, out, err = check(str(worlds), str(spec), "--sarif-output", str(sarif))
    assert code == 2 and out == "" and not sarif.exists()
    assert err.startswith(f"{spec}:1:")


def test_a_directory_without_worlds_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    spec = tmp_path / "kms.spec"
    spec.write_text(SPEC)
    code, out, err = check(str(tmp_path / "empty"), str(spec))
    assert code == 2 and out == "" and "no world files" in err


def test_one_world_cut_into_slices_checks_a_key_line_where_the_key_is(tmp_path: Path) -> None:
    # 12 keys with --jobs 2: the world is cut into slices of its keys; a line about one
    # key is asked in the slice holding it, and a line about no key on every key
    keys = [key(i, i == 11) for i in range(12)]
    world = tmp_path / "world.json"
    world.write_text(json.dumps({"version": 1, "keys": keys}))
    last = keys[-1]["arn"]
    spec = tmp_path / "kms.spec"
    spec.write_text(
        f"expect no: can any principal outside account {A} kms:Decrypt on key {last}\n"
        f"expect yes: can principal arn:aws:iam::{A}:root kms:PutKeyPolicy\n"
    )
    sliced = check(str(world), str(spec), "--jobs", "2", "--format", "json")
    whole = check(str(world), str(spec), "--jobs", "1", "--format", "json")
    assert sliced[0] == whole[0] == 1, sliced  # the partner key fails its line
    assert json.loads(sliced[1])["summary"] == json.loads(whole[1])["summary"]
    assert json.loads(whole[1])["summary"] == {"holds": 12, "fails": 1, "unknown": 0}


CFN = Path(__file__).resolve().parents[1] / "data" / "cloudformation"
TEMPLATES = ("userguide-key.yaml", "cdk-key-alias.template.json", "userguide-bucket.yaml")


def test_a_directory_of_templates_and_worlds_checks_each_as_checking_it_alone_does(
    tmp_path: Path,
) -> None:
    # an IaC repository: YAML and `cdk synth` templates beside a world file, a workflow
    # and a README that are neither (skipped)
    repo = tmp_path / "repo"
    (repo / "infra").mkdir(parents=True)
    for name in TEMPLATES:
        (repo / "infra" / name).write_bytes((CFN / name).read_bytes())
    (repo / "world.json").write_text(json.dumps({"version": 1, "keys": [key(0, True)]}))
    (repo / ".github").mkdir()
    (repo / ".github" / "ci.yml").write_text("on:\n  push:\njobs:\n  a:\n    runs-on: x\n")
    (repo / "README.md").write_text("# infra\nResources: none\n")
    spec = tmp_path / "kms.spec"
    spec.write_text(f"expect no: can any principal outside account {A} kms:Decrypt\n")

    code, out, err = check(str(repo), str(spec), "--format", "json", "--jobs", "2")
    doc = json.loads(out)
    worlds = [*sorted(str(repo / "infra" / n) for n in TEMPLATES), str(repo / "world.json")]
    assert sorted(w["world"] for w in doc["worlds"]) == sorted(worlds)
    # each template's reader says what it assumed (the default account), at the template
    assert all(f"{w}:" in err for w in worlds[:3]) and "kmsprove's default" in err
    for w in worlds:
        alone = json.loads(check(w, str(spec), "--format", "json", "--jobs", "1")[1])
        mine = [(r["key"], r["status"]) for r in doc["results"] if r.get("world") == w]
        theirs = [(r["key"], r["status"]) for r in alone["results"]]
        assert mine == theirs, w
    assert code == (1 if any(r["status"] == "fails" for r in doc["results"]) else 0)


def test_a_directory_takes_the_account_for_its_templates_not_their_parameters(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "key.yaml").write_bytes((CFN / "userguide-key.yaml").read_bytes())
    spec = tmp_path / "kms.spec"
    # the template's policy names account 111122223333's root, not the key account's
    spec.write_text(f"expect no: can principal arn:aws:iam::{B}:root kms:PutKeyPolicy\n")
    code, out, _ = check(str(repo), str(spec), "--format", "json", "--account", B)
    assert code == 0, out
    assert {r["key"].split(":")[4] for r in json.loads(out)["results"]} == {B}
    code, out, err = check(str(repo), str(spec), "--parameter", "X=1")
    assert code == 2 and out == "" and "--parameter and --physical-id read one" in err


def test_a_directorys_reproduce_lines_carry_the_template_flags_for_its_templates_only(
    tmp_path: Path,
) -> None:
    """`--account` reads a directory's templates; its world files take no such flag, and
    `explain` refuses one: each reproduce line passes the flags that read its own world
    (the conftest runs every line printed and wants ALLOW), in a computed run and in one
    the results cache serves whole; `audit` alike."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "key.yaml").write_bytes((CFN / "userguide-key.yaml").read_bytes())
    (repo / "world.json").write_text(json.dumps({"version": 1, "keys": [key(0, True)]}))
    spec = tmp_path / "kms.spec"
    # the template's key, placed in B, lets A's root in; the world's key lets B's root in
    spec.write_text(f"expect no: can any principal outside account {B} kms:Decrypt\n")
    cache = str(tmp_path / "c.sqlite")
    for run in ("computed", "served"):
        code, out, err = check(str(repo), str(spec), "--account", B, "--cache", cache)
        lines = [x.strip() for x in out.splitlines() if "reproduce: " in x]
        assert code == 1 and len(lines) == 2, (run, out, err)
        by_world = {x.split()[3]: x for x in lines}
        assert f"--account {B}" in by_world[str(repo / "key.yaml")], run
        assert "--account" not in by_world[str(repo / "world.json")], run
    audit = CliRunner().invoke(main, ["audit", str(repo), "--account", B])
    lines = [x.strip() for x in audit.stdout.splitlines() if "reproduce: " in x]
    assert {x.split()[3] for x in lines} == {str(repo / "key.yaml"), str(repo / "world.json")}
    for x in lines:
        assert ("--account" in x) == (x.split()[3] == str(repo / "key.yaml")), x
