"""Benchmark estate runs on a Dask cluster: an estate of N real-world-shaped key
policies (bench/make_estate.py, five expectations) checked through the real CLI with
`--scheduler` on a local scheduler with 1, 2 and 4 one-thread workers, beside local
`--jobs 1` and `--jobs 2`; then the cost Dask adds per task (a round trip of tasks
that do nothing) and the client's cost per unit (reading each world to send it).

    python bench/dask_bench.py [N]

Every run is `--no-cache` (the cache would serve the second run) and must give the
same summary.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
DASK = str(Path(sys.executable).parent / "dask")


def start_cluster(tmp: Path, workers: int) -> tuple[str, list[subprocess.Popen[bytes]]]:
    info = tmp / f"scheduler-{workers}.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
    procs = [subprocess.Popen([*scheduler, "--scheduler-file", str(info)], **quiet)]
    while not (info.exists() and info.read_text().strip()):
        time.sleep(0.2)
    address = json.loads(info.read_text())["address"]
    worker = [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
    procs += [
        subprocess.Popen([*worker, "--host", "127.0.0.1", "--name", f"w{n}"], **quiet)
        for n in range(workers)
    ]
    import distributed

    with distributed.Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def timed_check(worlds: Path, spec: Path, *extra: str) -> tuple[float, dict]:
    start = time.perf_counter()
    out = subprocess.run(
        ["kmsprove", "check", str(worlds), str(spec), "--format", "json", "--no-cache", *extra],
        capture_output=True,
        text=True,
    )
    secs = time.perf_counter() - start
    assert out.returncode in (0, 1), out.stderr
    return secs, json.loads(out.stdout)["summary"]


def noop(x: int) -> int:
    return x


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        worlds = tmp / "worlds"
        subprocess.run(
            [sys.executable, str(HERE / "make_estate.py"), str(worlds), str(n)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        spec = tmp / "estate.spec"
        summaries = []
        for jobs in (1, 2):
            secs, summary = timed_check(worlds, spec, "--jobs", str(jobs))
            summaries.append(summary)
            print(f"{n} worlds x 5, local --jobs {jobs}: {secs:.1f} s ({n / secs:.2f} worlds/s)")
        for workers in (1, 2, 4):
            address, procs = start_cluster(tmp, workers)
            try:
                secs, summary = timed_check(worlds, spec, "--scheduler", address)
                summaries.append(summary)
                print(
                    f"{n} worlds x 5, Dask, {workers} worker(s): {secs:.1f} s"
                    f" ({n / secs:.2f} worlds/s)"
                )
                if workers == 1:
                    overhead(address, worlds)
            finally:
                stop(procs)
        assert all(s == summaries[0] for s in summaries), summaries
        print(f"every run: {summaries[0]}")


def overhead(address: str, worlds: Path) -> None:
    """What Dask adds per task, and what the client spends per unit before sending it."""
    from kmsprove.inputs import world_files
    from kmsprove.inputs.options import ReadOptions
    from kmsprove.questions.check.estate import Unit, read_unit
    from kmsprove.questions.cluster import in_dask

    tasks = 2000
    in_dask(address, noop, list(range(50)))  # connected and warm
    start = time.perf_counter()
    in_dask(address, noop, list(range(tasks)))
    per_task = (time.perf_counter() - start) / tasks
    files = world_files(str(worlds))
    start = time.perf_counter()
    for f in files:
        read_unit(Unit(f, directory=True), ReadOptions())
    per_read = (time.perf_counter() - start) / len(files)
    print(
        f"  per task, Dask's round trip (client, scheduler, one worker): {per_task * 1000:.2f} ms;"
        f" per unit, the client reading its world to send it: {per_read * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
