"""Benchmark `kmsprove explain` on generated worlds: parse+load time and decision time.

    python bench/explain_bench.py [--grants 50000] [--principals 5000] [--statements 20]

Builds the world with bench/make_world.py in a temporary folder, then times
(1) loading the world, (2) one `explain` decision, (3) the whole CLI run in a
fresh process, and reports peak memory of that process.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--grants", type=int, default=50_000)
    ap.add_argument("--principals", type=int, default=5_000)
    ap.add_argument("--statements", type=int, default=20)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_world.py"),
                tmp,
                "--grants",
                str(a.grants),
                "--principals",
                str(a.principals),
                "--statements",
                str(a.statements),
            ],
            check=True,
        )
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        from kmsprove.evaluate import evaluate
        from kmsprove.inputs import load_world
        from kmsprove.questions.explain import request_from_cli

        t0 = time.perf_counter()
        world = load_world(Path(tmp) / "world.json")
        t1 = time.perf_counter()
        last = max(a.principals - 1, 0)
        principal = f"arn:aws:sts::111122223333:assumed-role/app-{last}/s"
        req = request_from_cli(
            world, principal, "kms:Decrypt", None, None, (f"kms:EncryptionContext:app=app-{last}",)
        )
        decision = evaluate(world, req)
        t2 = time.perf_counter()
        cmd = [
            sys.executable,
            "-m",
            "kmsprove.cli",
            "explain",
            str(Path(tmp) / "world.json"),
            "--principal",
            principal,
            "--action",
            "kms:Decrypt",
            "--context",
            f"kms:EncryptionContext:app=app-{last}",
        ]
        t3 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        t4 = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"world: {size / 1e6:.1f} MB, {a.statements} key-policy statements, {a.grants} grants, {a.principals} principals"
        )
        print(
            f"load_world: {t1 - t0:.2f} s; one decision: {(t2 - t1) * 1000:.1f} ms ({decision.decision})"
        )
        print(f"whole CLI run: {t4 - t3:.2f} s, peak memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
