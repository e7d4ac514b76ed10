"""The results cache of `kmsprove check` and `kmsprove audit` (`--cache`, `--no-cache`):
a re-run prints byte for byte what the run that filled the cache printed, and checks
only what changed (a world file, a document it names, a spec line); an unknown is never
served; a garbage, damaged or locked cache file is a warning and answers computed as
without it; two runs at once on one cache both answer right.

Runs with `--jobs 1` check in this process, so a test sees every world checked by
wrapping `check_world` where the estate calls it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kmsprove.answer import CheckStatus
from kmsprove.cli import main
from kmsprove.questions.audit import estate as audit_estate
from kmsprove.questions.check import estate as check_estate
from tests.support.templates import template

A, B = "111122223333", "444455556666"
SPEC = f"""# two invariants
expect no: can any principal outside account {A} kms:Decrypt
expect yes: can principal arn:aws:iam::{A}:root kms:PutKeyPolicy
"""


def policy(partner: bool) -> dict[str, Any]:
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
    return {"Version": "2012-10-17", "Statement": statements}


def world(i: int, doc: Any) -> str:
    arn = f"arn:aws:kms:us-east-1:{A}:key/{i:08d}-0000-4000-8000-000000000000"
    return json.dumps({"version": 1, "keys": [{"arn": arn, "policy": doc}]}, indent=1)


def estate(tmp: Path, n: int = 4) -> tuple[Path, Path]:
    """`n` worlds; the last names its key policy as a file beside it (`policy.json`)."""
    worlds = tmp / "kms"
    worlds.mkdir()
    for i in range(n - 1):
        (worlds / f"w{i}.json").write_text(world(i, policy(i == 0)))
    (worlds / "policy.json").write_text(json.dumps(policy(False), indent=1))
    (worlds / f"w{n - 1}.json").write_text(world(n - 1, "policy.json"))
    spec = tmp / "kms.spec"
    spec.write_text(SPEC)
    return worlds, spec


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, list[int]]]]:
    """(world file, spec lines) of every `check_world` call, in order."""
    calls: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(check_estate, "check_world", _recording(check_estate.check_world, calls))
    yield calls


def test_a_cached_run_prints_what_the_run_that_filled_it_printed(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path)
    cache = str(tmp_path / "c.sqlite")
    for fmt in ("text", "json", "sarif"):
        first = cli(
            "check", str(worlds), str(spec), "--jobs", "1", "--cache", cache, "--format", fmt
        )
        assert first[0] == 1
        filled = len(checked)
        again = cli(
            "check", str(worlds), str(spec), "--jobs", "1", "--cache", cache, "--format", fmt
        )
        assert again == first  # exit code, stdout and stderr, byte for byte
        assert len(checked) == filled  # nothing checked the second time
        cache = str(tmp_path / f"c-{fmt}.sqlite")  # each format from an empty cache
    assert len(checked) == 3 * 4


def test_a_cached_run_saves_the_witnesses_the_run_that_filled_it_saved(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path)
    runs = []
    for n in (1, 2):
        where = tmp_path / f"witness-{n}"
        out = cli("check", str(worlds), str(spec), "--jobs", "1", "--save-witness", str(where))
        files = {str(f.relative_to(where)): f.read_text() for f in where.rglob("*") if f.is_file()}
        runs.append((out[0], out[1].replace(str(where), "WITNESS"), files))
    assert len(checked) == 4  # the second run checked nothing
    assert runs[0] == runs[1] and runs[0][2]  # the same report, the same witness files


def test_only_the_changed_world_is_checked_again(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path)
    cli("check", str(worlds), str(spec), "--jobs", "1")
    checked.clear()
    (worlds / "w1.json").write_text(world(1, policy(True)))  # a partner added to one key
    code, out, _ = cli("check", str(worlds), str(spec), "--jobs", "1", "--format", "json")
    assert checked == [(str(worlds / "w1.json"), [2, 3])]
    assert code == 1 and json.loads(out)["summary"] == {"holds": 6, "fails": 2, "unknown": 0}
    fresh = cli("check", str(worlds), str(spec), "--jobs", "1", "--no-cache", "--format", "json")
    assert verdicts(out) == verdicts(fresh[1])


def test_a_changed_document_a_world_names_checks_that_world_again(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path)
    cli("check", str(worlds), str(spec), "--jobs", "1")
    checked.clear()
    (worlds / "policy.json").write_text(json.dumps(policy(True), indent=1))
    code, out, _ = cli("check", str(worlds), str(spec), "--jobs", "1")
    assert checked == [(str(worlds / "w3.json"), [2, 3])]  # the world file itself unchanged
    assert code == 1 and "4 worlds, 4 keys: 6 hold, 2 fail, 0 unknown" in out
    checked.clear()
    (worlds / "policy.json").write_text(json.dumps(policy(False), indent=1))  # back again
    cli("check", str(worlds), str(spec), "--jobs", "1")
    assert checked == []  # served: those bytes were checked before


def test_a_new_spec_line_is_the_only_question_asked_and_moved_lines_are_served(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path, 2)
    cli("check", str(worlds), str(spec), "--jobs", "1")
    checked.clear()
    spec.write_text(
        "# a comment moves every line down\n"
        + SPEC
        + f'expect no: can anyone kms:ScheduleKeyDeletion where aws:PrincipalAccount != "{A}"\n'
    )
    code, out, _ = cli("check", str(worlds), str(spec), "--jobs", "1", "--format", "json")
    assert checked == [(str(worlds / "w0.json"), [5]), (str(worlds / "w1.json"), [5])]
    fresh = cli("check", str(worlds), str(spec), "--jobs", "1", "--format", "json", "--no-cache")
    assert code == fresh[0] == 1
    assert verdicts(out) == verdicts(fresh[1])
    assert [r["line"] for r in json.loads(out)["results"]] == [3, 4, 5, 3, 4, 5]


def test_an_unknown_is_never_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path, 2)
    real = check_estate.check_world

    def unsure(world: Any, spec: Any, *args: Any) -> Any:  # as a timeout would answer
        return [replace(o, status=CheckStatus.UNKNOWN) for o in real(world, spec, *args)]

    monkeypatch.setattr(check_estate, "check_world", unsure)
    assert cli("check", str(worlds), str(spec), "--jobs", "1")[0] == 3
    monkeypatch.setattr(check_estate, "check_world", real)
    checked.clear()
    code, out, _ = cli("check", str(worlds), str(spec), "--jobs", "1")
    assert code == 1 and "2 worlds, 2 keys: 3 hold, 1 fail, 0 unknown" in out
    assert len(checked) == 2


def _recording(real: Any, calls: list[tuple[str, list[int]]]) -> Any:
    def recording(world: Any, spec: Any, *args: Any) -> Any:
        calls.append((world.file, [e.line for e in spec]))
        return real(world, spec, *args)

    return recording


def test_the_timeout_and_the_template_flags_are_part_of_the_key(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds = tmp_path / "stacks"
    worlds.mkdir()
    (worlds / "key.template.json").write_text(json.dumps(template()))  # a CloudFormation key
    spec = tmp_path / "kms.spec"
    spec.write_text(SPEC)
    args = ("check", str(worlds), str(spec), "--jobs", "1")
    outs = [cli(*args), cli(*args, "--timeout", "20"), cli(*args, "--account", B)]
    # in account B, the key lets B's root decrypt: the expectation fails
    assert [o[0] for o in outs] == [0, 0, 1] and len(checked) == 3
    assert cli(*args, "--timeout", "20") == outs[1] and len(checked) == 3


def test_no_cache_neither_reads_nor_writes_and_cache_places_the_file(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path, 2)
    default = Path(os.environ["XDG_CACHE_HOME"]) / "kmsprove" / "results.sqlite"
    placed = tmp_path / "here" / "results.sqlite"
    placed.parent.mkdir()
    cli("check", str(worlds), str(spec), "--jobs", "1", "--cache", str(placed))
    assert placed.is_file()
    before = default.stat().st_mtime_ns if default.exists() else None
    cli("check", str(worlds), str(spec), "--jobs", "1", "--no-cache")
    cli("check", str(worlds), str(spec), "--jobs", "1", "--no-cache")
    assert len(checked) == 3 * 2
    assert (default.stat().st_mtime_ns if default.exists() else None) == before
    code, out, err = cli("check", str(worlds), str(spec), "--cache", str(placed), "--no-cache")
    assert (code, out) == (2, "")
    assert err == "<cli>:1:1: error: give --cache PATH or --no-cache, not both\n"


def test_a_garbage_cache_given_is_left_alone_and_answers_are_right(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path, 2)
    fresh = cli("check", str(worlds), str(spec), "--jobs", "1", "--no-cache", "--format", "json")
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"not a database, someone's notes\n" * 100)
    code, out, err = cli(
        "check", str(worlds), str(spec), "--jobs", "1", "--cache", str(garbage), "--format", "json"
    )
    assert code == fresh[0] == 1
    assert verdicts(out) == verdicts(fresh[1])
    assert err == (
        f"{garbage}:1:1: warning: results cache: not a SQLite database: not used (give"
        " another --cache, or remove the file)\n"
    )
    assert garbage.read_bytes() == b"not a database, someone's notes\n" * 100


def test_a_garbage_or_damaged_cache_of_kmsprove_is_made_anew(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path, 2)
    default = Path(os.environ["XDG_CACHE_HOME"]) / "kmsprove" / "results.sqlite"
    args = ("check", str(worlds), str(spec), "--jobs", "1", "--format", "json")
    first = cli(*args)
    default.write_bytes(os.urandom(20000))  # garbage where kmsprove keeps its cache
    code, out, err = cli(*args)
    assert (code, verdicts(out)) == (first[0], verdicts(first[1]))
    assert err == f"{default}:1:1: warning: results cache: not a SQLite database: made anew\n"
    assert len(checked) == 2 * 2
    assert cli(*args)[2] == ""  # the new one serves
    assert len(checked) == 2 * 2
    # a cache given with --cache, its pages overwritten past the header: still kmsprove's
    given = tmp_path / "c.sqlite"
    cli(*args, "--cache", str(given))
    with sqlite3.connect(given) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(given.read_bytes())
    data[100:] = b"\x55" * (len(data) - 100)
    given.write_bytes(bytes(data))
    code, out, err = cli(*args, "--cache", str(given))
    assert (code, verdicts(out)) == (first[0], verdicts(first[1]))
    assert err.startswith(f"{given}:1:1: warning: results cache: damaged (")
    assert err.endswith("): made anew\n") and err.count("\n") == 1


def test_a_locked_cache_is_bypassed_without_waiting_long(
    tmp_path: Path, checked: list[tuple[str, list[int]]]
) -> None:
    worlds, spec = estate(tmp_path, 2)
    cache = tmp_path / "c.sqlite"
    args = ("check", str(worlds), str(spec), "--jobs", "1", "--format", "json")
    first = cli(*args, "--cache", str(cache))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(cache)!r}, isolation_level=None)\n"
            "c.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "c.execute('DELETE FROM results')\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        start = time.monotonic()
        code, out, err = cli(*args, "--cache", str(cache))
        waited = time.monotonic() - start
    finally:
        holder.kill()
        holder.wait()
    assert (code, verdicts(out)) == (first[0], verdicts(first[1]))
    assert err == (
        f"{cache}:1:1: warning: results cache: locked by another process for over 2 s:"
        " answers computed without it\n"
    )
    assert len(checked) == 2 * 2  # computed again, not served from a cache it cannot read
    assert waited < 30


def test_two_runs_at_once_on_one_cache_both_answer_right(tmp_path: Path) -> None:
    worlds, spec = estate(tmp_path, 6)
    cache = tmp_path / "c.sqlite"
    args = ["check", str(worlds), str(spec), "--format", "json", "--jobs", "1"]
    reference = cli(*args, "--no-cache")
    env = dict(os.environ)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "kmsprove.cli", *args, "--cache", str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outs = [r.communicate(timeout=600) for r in runs]
    for r, (out, err) in zip(runs, outs, strict=True):
        assert r.returncode == reference[0] == 1, err
        assert verdicts(out) == verdicts(reference[1])
        assert "Traceback" not in err
    # whichever stored its answers last, the cache now serves them all
    code, out, err = cli(*args, "--cache", str(cache))
    assert (code, err) == (1, "")
    assert json.loads(out) in [json.loads(o) for o, _ in outs]


def test_an_audit_is_served_from_the_cache_and_suppressions_cost_no_solving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worlds, _ = estate(tmp_path, 2)
    first = cli("audit", str(worlds), "--jobs", "1", "--format", "json")
    assert first[0] == 1

    def not_again(*args: Any) -> Any:
        raise AssertionError("audited again")

    monkeypatch.setattr(audit_estate, "audit_world", not_again)
    assert cli("audit", str(worlds), "--jobs", "1", "--format", "json") == first
    findings = json.loads(first[1])["findings"]
    suppressions = tmp_path / "suppressions.json"
    suppressions.write_text(
        json.dumps([{"rule": findings[0]["rule"], "key": findings[0]["key"], "reason": "known"}])
    )
    _, out, _ = cli(
        "audit", str(worlds), "--jobs", "1", "--format", "json", "--suppressions", str(suppressions)
    )
    assert sum(f["suppressed"] is not None for f in json.loads(out)["findings"]) >= 1


def test_check_and_audit_on_one_cache_each_serve_their_own(tmp_path: Path) -> None:
    """In processes of their own: a check run has not imported the audit's result types,
    so each command keeps its own rows (a shared row was "damaged" to the other)."""
    worlds, spec = estate(tmp_path, 2)
    cache = str(tmp_path / "c.sqlite")
    runs = {
        "check": ["check", str(worlds), str(spec), "--jobs", "1", "--cache", cache],
        "audit": ["audit", str(worlds), "--jobs", "1", "--cache", cache],
    }

    def run(name: str) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, "-m", "kmsprove.cli", *runs[name]], capture_output=True, text=True
        )
        return done.returncode, done.stdout, done.stderr

    first = {name: run(name) for name in runs}
    assert first["check"][0] == first["audit"][0] == 1
    assert {name: run(name) for name in runs} == first  # served, byte for byte, no warning
    assert first["check"][2] == first["audit"][2] == ""


def test_scheduler_without_the_dask_extra_is_bad_input_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worlds, spec = estate(tmp_path, 2)
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    for args in (["check", str(worlds), str(spec)], ["audit", str(worlds)]):
        code, out, err = cli(*args, "--scheduler", "tcp://127.0.0.1:8786")
        assert (code, out) == (2, "")
        assert err == (
            "<cli>:1:1: error: --scheduler runs on a Dask cluster, which needs the `dask`"
            " extra: pip install 'kmsprove[dask]'\n"
        )


def verdicts(out: str) -> tuple[Any, ...]:
    """What a JSON report says, not how long it took or which witness the solver found
    (two runs that compute may find different ones): each result's world, line, key and
    status, and the summary."""
    doc = json.loads(out)
    rows = [(r["world"], r["line"], r["key"], r["status"]) for r in doc["results"]]
    return rows, doc["summary"]
