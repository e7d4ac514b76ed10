"""Benchmark the questions of issue 14 on a key many teams share (bench/make_shared_world.py),
through the real CLI, each time against a bare `json.load` of the same files in the same run.

    python bench/shared_bench.py [--quick] [--timeout 120]

For the full-size world (153 partner statements in a 32 KB key policy, 50,000 grants of
which 30 % to roles of 15,000 other accounts, 5,000 roles) and its leaking variant (one
partner grant carries Decrypt), it prints one row per question: seconds, the ratio to
`json.load`, the answer and the peak memory of the run; then the growth table (time of
the outside-account question against grants, principals and external accounts).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
A = "111122223333"
QUESTIONS = (
    ("outside-account Decrypt", f"can any principal outside account {A} kms:Decrypt"),
    ("anyone Decrypt", "can anyone kms:Decrypt"),
    ("outside-org CreateGrant", "can any principal outside org o-shared0000 kms:CreateGrant"),
    (
        "outside-account Decrypt where EC",
        f'can any principal outside account {A} kms:Decrypt where kms:EncryptionContext:partner == "p14700"',
    ),
    ("ever outside-account Decrypt", f"can any principal outside account {A} ever kms:Decrypt"),
)


def make(out: Path, *flags: str) -> Path:
    subprocess.run(
        [sys.executable, str(HERE / "make_shared_world.py"), str(out), *flags], check=True
    )
    return out / "world.json"


def json_load_seconds(world: Path) -> float:
    """A bare `json.load` of every file the world reads (median of three)."""
    times = []
    for _ in range(3):
        t = time.perf_counter()
        for name in ("world.json", "key-policy.json", "grants.json"):
            with open(world.parent / name) as f:
                json.load(f)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(world: Path, question: str, timeout: float) -> tuple[float, str, int]:
    """(seconds, first word of the answer or the exit code, peak RSS in MB) of one CLI run."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        ["kmsprove", "query", str(world), question, "--timeout", str(timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    words = out.split()
    answer = words[0] if words and code in (0, 3) else f"exit {code}"
    return secs, answer, usage.ru_maxrss // 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a tenth of the size")
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args()
    scale = 10 if a.quick else 1
    with tempfile.TemporaryDirectory() as tmp:
        size = ["--grants", str(50_000 // scale), "--principals", str(5_000 // scale)]
        print("| world | question | answer | seconds | × json.load | peak memory |")
        print("| --- | --- | --- | --- | --- | --- |")
        for label, flags in (("no leak", []), ("leak", ["--leak"])):
            world = make(Path(tmp) / label.replace(" ", "-"), *size, *flags)
            base = json_load_seconds(world)
            for name, q in QUESTIONS:
                secs, answer, mb = run(world, q, a.timeout)
                print(f"| {label} | {name} | {answer} | {secs:.1f} | {secs / base:.0f} | {mb} MB |")
            print(f"| {label} | (bare json.load) | | {base:.2f} | 1 | |")
        print()
        print(
            "| grants | principals | external accounts | json.load | outside-account Decrypt (no) | with the leak (yes) | anyone Decrypt |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for grants, principals, share in (
            (5_000, 500, 0.3),
            (20_000, 2_000, 0.3),
            (50_000, 5_000, 0.0),
            (50_000, 5_000, 0.3),
            (50_000, 5_000, 0.6),
        ):
            grants //= scale
            principals //= scale
            flags = [
                "--grants",
                str(grants),
                "--principals",
                str(principals),
                "--external",
                str(share),
            ]
            no = make(Path(tmp) / f"g{grants}-{share}", *flags)
            base = json_load_seconds(no)
            t_no, ans_no, _ = run(no, QUESTIONS[0][1], a.timeout)
            t_any, ans_any, _ = run(no, QUESTIONS[1][1], a.timeout)
            leaked = "no external grant to leak"
            if share:  # the leak is one of the external grants
                leak = make(Path(tmp) / f"g{grants}-{share}-leak", *flags, "--leak")
                t_leak, ans_leak, _ = run(leak, QUESTIONS[0][1], a.timeout)
                leaked = f"{t_leak:.1f} s ({ans_leak})"
            print(
                f"| {grants:,} | {principals:,} | {int(grants * share):,} | {base:.2f} s |"
                f" {t_no:.1f} s ({ans_no}) | {leaked} | {t_any:.1f} s ({ans_any}) |"
            )


if __name__ == "__main__":
    main()
