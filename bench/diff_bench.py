"""Benchmark `kmsprove diff` through the CLI on real policy pairs (bench/data/diff).

    python bench/diff_bench.py [--runs N] [--timeout S] [NAME ...]

Each pair of `bench/data/diff/pairs.json` is one documented key policy or identity
policy and a realistic edit of it (README.md there gives the provenance). Every pair
is run as a user runs it, `kmsprove diff OLD NEW --format json`, in a fresh process,
N times (default 3); the table shows the median wall-clock time of the whole run, the
solver time the command reports, the relation and whether it is the expected one.
Prints the median and the maximum; exits 1 if some relation is not the expected one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "diff"
TARGET = 0.5  # seconds, issue 14


def run_pair(pair: dict, timeout: float) -> tuple[float, float, str]:
    """(wall seconds, reported solver seconds, relation) of one CLI run."""
    d = DATA / pair["name"]
    cli = [sys.executable, "-m", "kmsprove.cli", "diff", str(d / "old.json"), str(d / "new.json")]
    cli += ["--format", "json", "--timeout", str(timeout)]
    t = time.perf_counter()
    done = subprocess.run(cli, capture_output=True, text=True, cwd=HERE.parent)
    wall = time.perf_counter() - t
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"{pair['name']}: exit {done.returncode}\n{done.stderr}")
    out = json.loads(done.stdout)
    return wall, out["seconds"], out["relation"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    pairs = json.loads((DATA / "pairs.json").read_text())
    if args.names:
        pairs = [p for p in pairs if p["name"] in args.names]
    walls: list[float] = []
    wrong = 0
    print(f"{'pair':40} {'kind':15} {'stmts':>6} {'CLI s':>6} {'solve s':>7}  relation")
    for p in pairs:
        runs = [run_pair(p, args.timeout) for _ in range(args.runs)]
        wall = statistics.median(r[0] for r in runs)
        solve = statistics.median(r[1] for r in runs)
        relations = sorted({r[2] for r in runs})
        ok = relations == [p["expected"]]
        wrong += not ok
        walls.append(wall)
        stmts = "/".join(str(n) for n in p["statements"])
        mark = "" if ok else f"  EXPECTED {p['expected']}"
        slow = " >" if wall > TARGET else "  "
        print(
            f"{p['name']:40} {p['kind']:15} {stmts:>6} {wall:6.2f}{slow}{solve:6.2f}  "
            f"{','.join(relations)}{mark}"
        )
    print(
        f"{len(pairs)} pairs, {args.runs} runs each: median {statistics.median(walls):.2f} s, "
        f"max {max(walls):.2f} s, {sum(w > TARGET for w in walls)} over {TARGET} s, "
        f"{wrong} not as expected"
    )
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
