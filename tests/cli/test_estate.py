"""`kmsprove check` over an estate: a directory of worlds, or one world with many keys,
in worker processes; the same outcomes as one process; a summary table; bad input
anywhere is exit 2 with nothing on stdout."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kmsprove.cli import main

A, B = "111122223333", "444455556666"


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
        }
    ]


def test_sarif_merges_every_world_and_can_go_to_a_file(tmp_path: Path) -> None:
    worlds, spec = estate(tmp_path)
    sarif = tmp_path / "out.sarif"
    code, out, _ = check(str(worlds), str(spec), "--jobs", "2", "--sarif-output", str(sarif))
    assert code == 1 and "2 fail" in out
    doc = json.loads(sarif.read_text())
    results = doc["runs"][0]["results"]
    assert len(results) == 2 and {r["ruleId"] for r in results} == {"kmsprove/expect-no"}


def test_a_bad_world_anywhere_is_bad_input_and_nothing_is_written(tmp_path: Path) -> None:
    worlds, spec = estate(tmp_path)
    bad = worlds / "k2" / "world.json"
    bad.write_text('{"version": 1, "keys": [{"arn": "not an arn", "policy": {}}]}')
    sarif = tmp_path / "out.sarif"
    code, out, err = check(str(worlds), str(spec), "--jobs", "2", "--sarif-output", str(sarif))
    assert code == 2 and out == "" and not sarif.exists()
    assert err.startswith(f"{bad}:1:") and ": error: " in err


def test_a_directory_without_worlds_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    spec = tmp_path / "kms.spec"
    spec.write_text(SPEC)
    code, out, err = check(str(tmp_path / "empty"), str(spec))
    assert code == 2 and out == "" and "no world files" in err
