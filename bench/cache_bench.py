"""Benchmark the results cache: an estate of N real-world-shaped key policies
(bench/make_estate.py, five expectations), checked through the real CLI three times
on one cache: first (everything computed), again with nothing changed, and again with
one key policy changed (only that world checked).

    python bench/cache_bench.py [N] [--expectations K] [--keep DIR]

(`--expectations K`: the spec's first K expectations only, for a cheaper first run.)

Each run is timed end to end (process start to exit). The unchanged re-run must print
exactly what the first run printed; the re-run after the change must differ only in
the changed world's results. A fourth run, after a second change, times the default
text report. Then, in this process, the parts of a fully served run:
hashing the world files and fetching and decoding their rows, and of that the decoding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True)
    return time.perf_counter() - start, out


def by_world(doc: dict) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in doc["results"]:
        out.setdefault(r["world"], []).append(r)
    return out


def parts(worlds: Path, spec: Path, cache: Path) -> None:
    """The served run's parts, in this process."""
    from kmsprove.inputs import world_files
    from kmsprove.inputs.options import ReadOptions
    from kmsprove.questions.cache import ResultsCache, decode

    t = time.perf_counter()
    files = world_files(str(worlds))
    scan = time.perf_counter() - t
    t = time.perf_counter()
    cache_ = ResultsCache.open(str(cache))
    opened = time.perf_counter() - t
    t = time.perf_counter()
    found = cache_.units([(f, None, ()) for f in files], ReadOptions())
    served = time.perf_counter() - t
    raw = list(cache_.store.get(list(cache_._rows_found)).values())
    t = time.perf_counter()
    for v in raw:
        decode(v)
    decoded = time.perf_counter() - t
    entries = sum(len(f.entries) for f in found if f is not None)
    print(
        f"  served run's parts: scan the directory {scan:.2f} s, open the cache {opened:.2f} s,"
        f" hash {len(files)} world files, fetch and decode their rows ({entries} entries)"
        f" {served:.2f} s, of which decoding {decoded:.2f} s"
    )


def main() -> None:
    args = sys.argv[1:]
    keep, k = None, 5
    if "--keep" in args:
        keep = Path(args[args.index("--keep") + 1])
        del args[args.index("--keep") : args.index("--keep") + 2]
    if "--expectations" in args:
        k = int(args[args.index("--expectations") + 1])
        del args[args.index("--expectations") : args.index("--expectations") + 2]
    n = int(args[0]) if args else 1000
    with tempfile.TemporaryDirectory() as tmp:
        base = keep or Path(tmp)
        worlds = base / "worlds"
        spec = base / "estate.spec"
        cache = base / "results.sqlite"
        if not worlds.exists():
            subprocess.run(
                [sys.executable, str(HERE / "make_estate.py"), str(worlds), str(n)], check=True
            )
        lines = spec.read_text().splitlines(keepends=True)
        expect = [i for i, line in enumerate(lines) if line.startswith("expect")]
        spec.write_text("".join(lines[: expect[k - 1] + 1]))
        check = ["kmsprove", "check", str(worlds), str(spec), "--format", "json"]
        check += ["--cache", str(cache)]
        first_s, first = timed(check)
        print(f"{n} worlds x {k} expectations, first run: {first_s:.1f} s, exit {first.returncode}")
        again_s, again = timed(check)
        same = again.stdout == first.stdout and again.stderr == first.stderr
        print(f"  re-run, nothing changed: {again_s:.2f} s, output identical: {same}")
        changed = worlds / f"key-{n // 2:04d}.json"
        doc = json.loads(changed.read_text())
        doc["keys"][0]["policy"]["Statement"].append(
            {
                "Sid": "A new partner",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        )
        changed.write_text(json.dumps(doc, indent=1))
        one_s, one = timed(check)
        before, after = by_world(json.loads(again.stdout)), by_world(json.loads(one.stdout))
        moved = [w for w in after if after[w] != before.get(w)]
        print(
            f"  re-run, one key policy changed: {one_s:.2f} s, worlds whose results differ:"
            f" {moved}, summary {json.loads(one.stdout)['summary']}"
        )
        # the default report (text: the failing outcomes, the summary) after another change
        other = worlds / f"key-{n // 3:04d}.json"
        doc = json.loads(other.read_text())
        doc["keys"][0]["policy"]["Statement"][0]["Sid"] = "Renamed by the benchmark"
        other.write_text(json.dumps(doc, indent=1))
        text = [a for a in check if a not in ("--format", "json")]
        text_s, text_out = timed(text)
        print(
            f"  re-run, another key policy changed, text report: {text_s:.2f} s,"
            f" exit {text_out.returncode}, {len(text_out.stdout) / 1e6:.1f} MB of report"
            f" (the JSON report: {len(one.stdout) / 1e6:.1f} MB)"
        )
        print(f"  cache file: {os.path.getsize(cache) / 1e6:.1f} MB")
        parts(worlds, spec, cache)


if __name__ == "__main__":
    main()
