"""`kmsprove check DIR SPEC --scheduler ADDRESS` on a real Dask cluster: a scheduler and
two workers started here on 127.0.0.1 (`dask scheduler`, `dask worker`), torn down
whatever happens. The verdicts are those of a local `--jobs 1` run, in the same order;
a worker killed in the middle of the run loses no result; the cache is the client's.

Two runs that compute may find different witnesses (Z3's models depend on what the
process solved before), so runs that compute are compared on their verdicts: each
result's world, line, key and status, and each report line that states one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import distributed
import pytest

from kmsprove.errors import InputError
from kmsprove.questions import cluster

A, B = "111122223333", "444455556666"
SPEC = f"""expect no: can any principal outside account {A} kms:Decrypt
expect yes: can principal arn:aws:iam::{A}:root kms:PutKeyPolicy
"""
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")


def key(n: int, partner: bool) -> dict[str, Any]:
    statements = [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*"}
    ]
    if partner:
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                "Action": "kms:Decrypt",
            }
        )
    for st in statements:
        st["Resource"] = "*"
    return {
        "arn": f"arn:aws:kms:us-east-1:{A}:key/{n:08d}-0000-4000-8000-000000000000",
        "policy": {"Version": "2012-10-17", "Statement": statements},
    }


def estate(tmp: Path, worlds: int, keys: int) -> tuple[Path, Path]:
    """`worlds` world files of `keys` keys each; some keys let a partner decrypt."""
    where = tmp / "kms"
    where.mkdir()
    for w in range(worlds):
        ks = [key(w * 100 + k, (w + k) % 5 == 0) for k in range(keys)]
        (where / f"w{w:02d}.json").write_text(json.dumps({"version": 1, "keys": ks}))
    spec = tmp / "kms.spec"
    spec.write_text(SPEC)
    return where, spec


STALL = Path(__file__).with_name("dask_stall.py")


@dataclass
class Cluster:
    address: str
    workers: dict[str, subprocess.Popen[bytes]]
    logs: Path

    def log(self) -> str:
        """Every process's log, for a failing test's message."""
        return "\n".join(f"== {p.name}\n{p.read_text()}" for p in sorted(self.logs.iterdir()))


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 5  # then killed: a worker may wait on a lost scheduler
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.fixture
def dask_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler on a free port of 127.0.0.1 and two one-thread workers; w0 loads
    dask_stall.py when the test is marked `stalled_w0`."""
    stalled = request.node.get_closest_marker("stalled_w0") is not None
    assert DASK is not None, "the `dask` command (the test extra's distributed) is missing"
    info = tmp_path / "scheduler.json"
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        with open(logs / f"{name}.log", "wb") as log:
            p = subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    try:
        start(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(info),
        )
        deadline = time.monotonic() + 120
        while not (info.exists() and info.read_text().strip()):
            assert time.monotonic() < deadline, (logs / "scheduler.log").read_text()
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        workers = {
            name: start(
                name,
                "worker",
                address,
                "--name",
                name,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                *(("--preload", str(STALL)) if stalled and name == "w0" else ()),
            )
            for name in ("w0", "w1")
        }
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield Cluster(address, workers, logs)
    finally:
        _stop(procs)


def kmsprove(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kmsprove.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
    )


def verdicts(out: str) -> Any:
    doc = json.loads(out)
    rows = [(r["world"], r["line"], r["key"], r["status"]) for r in doc["results"]]
    return rows, doc["summary"], [(w["world"], w["keys"]) for w in doc["worlds"]]


def stated(text: str) -> list[str]:
    """The text report's lines that name a world or state a verdict, and its totals."""
    return [
        line
        for line in text.splitlines()
        if line.endswith(".json:") or line.startswith(("holds ", "FAILS ")) or " worlds, " in line
    ]


@pytest.mark.timeout(600)
def test_a_dask_run_gives_the_local_runs_verdicts_in_its_order(
    tmp_path: Path, dask_cluster: Cluster
) -> None:
    worlds, spec = estate(tmp_path, 5, 2)
    on_dask = ("--scheduler", dask_cluster.address)
    for fmt in ("text", "json"):
        local = kmsprove(
            "check", str(worlds), str(spec), "--jobs", "1", "--no-cache", "--format", fmt
        )
        # the JSON run fills a cache: it is the client's, whoever computed its answers
        cache = ("--no-cache",) if fmt == "text" else ("--cache", str(tmp_path / "c.sqlite"))
        remote = kmsprove("check", str(worlds), str(spec), *on_dask, *cache, "--format", fmt)
        assert remote.returncode == local.returncode == 1, remote.stderr
        assert "Traceback" not in remote.stderr
        same = stated if fmt == "text" else verdicts
        assert same(remote.stdout) == same(local.stdout)
    served = kmsprove("check", str(worlds), str(spec), "--jobs", "1", *cache, "--format", fmt)
    assert (served.returncode, served.stdout, served.stderr) == (1, remote.stdout, remote.stderr)
    # a bad world is read by the client, and reported as a local run reports it
    (worlds / "w99.json").write_text('{"version": 1, "keys": [}')
    local = kmsprove("check", str(worlds), str(spec), "--jobs", "1", "--format", "json")
    remote = kmsprove("check", str(worlds), str(spec), *on_dask, "--format", "json")
    assert remote.returncode == local.returncode == 2
    assert remote.stderr == local.stderr == f"{worlds / 'w99.json'}:1:25: error: unexpected `}}`\n"
    assert json.loads(remote.stdout)["errors"] == json.loads(local.stdout)["errors"]


@pytest.mark.stalled_w0
@pytest.mark.timeout(600)
def test_a_worker_killed_in_the_middle_of_a_run_loses_no_result(
    tmp_path: Path, dask_cluster: Cluster
) -> None:
    worlds, spec = estate(tmp_path, 10, 8)
    local = kmsprove(
        "check", str(worlds), str(spec), "--jobs", "1", "--no-cache", "--format", "json"
    )
    # files, not pipes: a report bigger than a pipe's buffer would stall the run
    out_file, err_file = tmp_path / "run.out", tmp_path / "run.err"
    with open(out_file, "w") as out, open(err_file, "w") as err:
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kmsprove.cli",
                "check",
                str(worlds),
                str(spec),
                "--scheduler",
                dask_cluster.address,
                "--no-cache",
                "--format",
                "json",
            ],
            stdout=out,
            stderr=err,
        )

    def progress(dask_scheduler: Any) -> tuple[int, dict[str, int]]:
        """On the scheduler (sent by value: a nested function): tasks finished so far,
        and how many tasks each worker (by name) is running."""
        done = sum(1 for t in dask_scheduler.transition_log if t[2] == "memory")
        return done, {ws.name: len(ws.processing) for ws in dask_scheduler.workers.values()}

    seen: tuple[int, dict[str, int]] = (0, {})
    try:
        with distributed.Client(dask_cluster.address, timeout=60) as watch:
            # w0 never finishes a task (dask_stall.py), so the run is in its middle
            # until w0 is killed: once w1 has a result in and w0 holds a task
            deadline = time.monotonic() + 300
            while not (seen[0] >= 1 and seen[1].get("w0", 0) >= 1):
                assert run.poll() is None, (err_file.read_text(), dask_cluster.log())
                assert time.monotonic() < deadline, (seen, dask_cluster.log())
                time.sleep(0.1)
                seen = watch.run_on_scheduler(progress)
            dask_cluster.workers["w0"].send_signal(signal.SIGKILL)
            dask_cluster.workers["w0"].wait()
            run.wait(timeout=500)
            left = watch.scheduler_info()["workers"]
        assert [w["name"] for w in left.values()] == ["w1"]  # w0 is gone for good
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    err_text = err_file.read_text()
    assert run.returncode == local.returncode == 1, err_text
    assert "Traceback" not in err_text
    out_text = out_file.read_text()
    assert verdicts(out_text) == verdicts(local.stdout)
    assert len(json.loads(out_text)["results"]) == 10 * 8 * 2


class _Stub:
    """A client whose workers are misconfigured: one runs two threads, one other code."""

    def wait_for_workers(self, n: int, timeout: float) -> None:
        pass

    def scheduler_info(self, n_workers: int) -> dict[str, Any]:
        return {"workers": {"tcp://h:1": {"nthreads": 2}, "tcp://h:2": {"nthreads": 1}}}

    def run(self, f: Any) -> dict[str, str]:
        return {"tcp://h:1": f(), "tcp://h:2": "0" * 64}


def test_workers_with_threads_or_other_code_are_refused_before_any_task() -> None:
    with pytest.raises(InputError) as caught:
        cluster._check_workers(_Stub(), "tcp://h:8786")
    assert [str(d) for d in caught.value.diagnostics] == [
        "<cli>:1:1: error: --scheduler: worker `tcp://h:1` runs 2 threads; Z3 is not"
        " thread-safe: start workers with `dask worker --nthreads 1` (`--nworkers N` for"
        " more processes)",
        "<cli>:1:1: error: --scheduler: worker `tcp://h:2` runs other kmsprove code than this"
        " client (install the same kmsprove, and its dependencies, on every worker)",
    ]


def test_a_scheduler_nobody_answers_at_is_bad_input() -> None:
    code = subprocess.run(
        [
            sys.executable,
            "-c",
            "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0));"
            " print(s.getsockname()[1])",
        ],
        capture_output=True,
        text=True,
    )
    port = int(code.stdout)  # free a moment ago, and nobody listens there now
    with pytest.raises(InputError, match="no Dask scheduler answers at"):
        cluster.in_dask(f"tcp://127.0.0.1:{port}", str, [1], connect_seconds=2)
