"""Benchmark `kmsprove audit` through the real CLI: every rule on typical keys (the
repository's example worlds and real-world key policies, each run a few times, the
median shown), then an estate of N real-world-shaped keys (bench/make_estate.py) with
1 and 2 worker processes.

    python bench/audit_bench.py [N]      # N = 0 skips the estate

Run from the repository root; the CLI is `python -m kmsprove.cli` of this checkout.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TYPICAL = (
    "tests/data/audit/aws-default-key-policy.json",
    "tests/cases/realworld/console-default.json",
    "tests/cases/realworld/cloudtrail.json",
    "tests/data/audit/cdk-viaservice-key.template.json",
    "examples/cross-account/world.json",
    "examples/least-privilege/world.json",
    "examples/complete-account/world.json",
    "examples/s3-sse-kms-cross-account/world.json",
    "examples/grants-encryption-context/world.json",
)
RUNS = 5


def cli(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "kmsprove.cli", "audit", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return time.perf_counter() - t, out


def typical() -> None:
    print(f"| key | findings | median of {RUNS} | max |")
    print("| --- | --- | --- | --- |")
    for path in TYPICAL:
        times, doc = [], {}
        for _ in range(RUNS):
            secs, out = cli(path, "--format", "json")
            times.append(secs)
            doc = json.loads(out.stdout)
        summary = doc["summary"]
        found = summary["total"] - summary["unknown"] - summary["suppressed"]
        print(f"| {path} | {found} | {statistics.median(times):.2f} s | {max(times):.2f} s |")


def estate(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        worlds = Path(tmp) / "worlds"
        subprocess.run(
            [sys.executable, str(HERE / "make_estate.py"), str(worlds), str(n)], check=True
        )
        for jobs in (2, 1):
            secs, out = cli(str(worlds), "--format", "json", "--jobs", str(jobs))
            doc = json.loads(out.stdout)
            print(
                f"{n} keys, {jobs} worker(s): {secs:.1f} s, exit {out.returncode},"
                f" summary {doc['summary']}"
            )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    typical()
    if n:
        estate(n)


if __name__ == "__main__":
    main()
