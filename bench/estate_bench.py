"""Benchmark a whole-estate check: N real-world-shaped key policies (bench/make_estate.py)
against a spec of five expectations, through the real CLI, with 1 and 2 worker processes,
every answer computed (`--no-cache`; bench/cache_bench.py times the cache).

    python bench/estate_bench.py [N]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        worlds = Path(tmp) / "worlds"
        subprocess.run(
            [sys.executable, str(HERE / "make_estate.py"), str(worlds), str(n)], check=True
        )
        spec = Path(tmp) / "estate.spec"
        for jobs in (2, 1):
            t = time.perf_counter()
            out = subprocess.run(
                [
                    "kmsprove",
                    "check",
                    str(worlds),
                    str(spec),
                    "--format",
                    "json",
                    "--jobs",
                    str(jobs),
                    "--no-cache",  # the results cache would serve the second run
                ],
                capture_output=True,
                text=True,
            )
            secs = time.perf_counter() - t
            doc = json.loads(out.stdout)
            print(
                f"{n} worlds x 5 expectations, {jobs} worker(s): {secs:.1f} s, exit {out.returncode},"
                f" summary {doc['summary']}"
            )


if __name__ == "__main__":
    main()
