"""Benchmark the CLI's start-up: whole `kmsprove` runs on a small example, against `--help`.

    python bench/startup_bench.py [--runs 15] [--imports]

Runs each command in a fresh process (the `kmsprove` console script beside this Python,
else `python -m kmsprove.cli` from the checkout) once to warm the file cache and write
the `.pyc` files, then `--runs` times (round by round, every command in each round),
and prints the median and the fastest wall-clock time of each, its CPU time (user and
system: less swayed by other processes on a shared machine), and the ratios of the
medians to those of `kmsprove --help`. `PYTHONDONTWRITEBYTECODE` is
dropped from the children's environment: a user's install has its `.pyc` files, and
compiling would otherwise be timed on every run.

With `--imports`, also prints for each command the packages whose import took longest
(`python -X importtime`, each module's own time, summed per kmsprove subpackage, per
other package and for the standard library); with `--phases`, the yes query's steps
timed inside one process (each group of imports, z3's context, parsing, reading the
world, the question, and the part of the imports spent creating dataclasses): where
the time goes.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORLD = str(ROOT / "examples" / "cross-account" / "world.json")
YES = "can any principal outside account 111122223333 kms:Decrypt"
NO = "can any principal outside account 111122223333,444455556666 kms:Decrypt"
READER = "arn:aws:sts::444455556666:assumed-role/Reader/s1"

COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("--help", ("--help",)),
    ("query (yes)", ("query", WORLD, YES)),
    ("query (no)", ("query", WORLD, NO)),
    ("validate", ("validate", WORLD)),
    ("explain", ("explain", WORLD, "--principal", READER, "--action", "kms:Decrypt")),
)


def kmsprove_command() -> tuple[list[str], dict[str, str]]:
    """How to start `kmsprove`, and the environment to start it in."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    script = Path(sys.executable).with_name("kmsprove")
    if script.exists():
        return [str(script)], env
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    return [sys.executable, "-m", "kmsprove.cli"], env


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run of `argv`; a run that fails
    stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # yes, no, allow and deny exit 0 or 1
        sys.exit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode()}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, cpu


def time_commands(
    base: list[str], env: dict[str, str], runs: int
) -> dict[str, list[tuple[float, float]]]:
    """Each command's (wall, CPU) times over `runs` rounds, after one untimed round; a
    round runs every command once, so a busy spell on a shared machine slows all alike."""
    times: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in COMMANDS}
    for i in range(runs + 1):
        for label, args in COMMANDS:
            measured = run_once([*base, *args], env)
            if i:
                times[label].append(measured)
    return times


def slowest_imports(
    args: tuple[str, ...], env: dict[str, str], top: int = 8
) -> list[tuple[str, int]]:
    """The groups of modules whose imports took longest (`-X importtime` self times, in
    microseconds): each of kmsprove's subpackages, each other package, the standard library."""
    entry = "import sys; from kmsprove.cli import main; sys.argv[0] = 'kmsprove'; main()"
    cmd = [sys.executable, "-X", "importtime", "-c", entry, *args]
    err = subprocess.run(cmd, env=env, capture_output=True, check=False).stderr.decode()
    totals: dict[str, int] = {}
    for line in err.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, _, name = line.removeprefix("import time:").split("|")
        if not own.strip().isdigit():
            continue  # the header line
        parts = name.strip().split(".")
        if parts[0] == "kmsprove":
            group = ".".join(parts[:2])
        elif parts[0] in sys.stdlib_module_names or parts[0].startswith("_"):
            group = "(standard library)"
        else:
            group = parts[0]
        totals[group] = totals.get(group, 0) + int(own)
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


# The yes query's run, step by step in one process, as `kmsprove query` does it
# (kmsprove/cli/query.py): what each import and each stage costs. argv: WORLD QUERY.
_PHASES = """
import sys, time
marks = [("", time.perf_counter())]
def mark(what):
    marks.append((what, time.perf_counter()))
import dataclasses
made = [0.0]  # seconds spent creating dataclasses, inside the imports below
_process_class = dataclasses._process_class
def timed(*args, **kwargs):
    t0 = time.perf_counter()
    try:
        return _process_class(*args, **kwargs)
    finally:
        made[0] += time.perf_counter() - t0
dataclasses._process_class = timed
mark("import dataclasses (and inspect)")
import click; mark("import click")
import kmsprove.cli; mark("import kmsprove.cli (every command's options)")
import kmsprove.answer, kmsprove.world, kmsprove.request; mark("import the vocabulary (ast, world, ...)")
from kmsprove.inputs.key_policy_world import load_world_input
from kmsprove.inputs.options import read_options
from kmsprove.syntax.query import parse_query; mark("import inputs and syntax (the parsers)")
from kmsprove.questions.ask import ask
from kmsprove.report.answer import render_answers, shortened; mark("import evaluate, questions, report (no z3)")
query = parse_query(sys.argv[2]); mark("parse the query")
given = load_world_input(sys.argv[1], read_options(None, None, (), (), key_arn=None)); mark("read the world")
answers = shortened(ask(given.world, query, 30.0, ()), None)
mark("ask (the solver, z3 and the encoder only when a formula is needed)")
render_answers(answers, sys.argv[1], [], given.options.flags()); mark("render")
for (_, t0), (what, t1) in zip(marks, marks[1:]):
    print(f"{what}\t{(t1 - t0) * 1000:.2f}")
print(f"of which creating dataclasses\t{made[0] * 1000:.2f}")
print(f"z3 imported\t{'yes' if 'z3' in sys.modules else 'no'}")
"""


def phases(env: dict[str, str], runs: int) -> list[tuple[str, float]]:
    """Median milliseconds of each step of the yes query in one process (`_PHASES`), and
    of starting an interpreter that does nothing (`python -c pass`)."""
    steps: dict[str, list[float]] = {"start and end `python -c pass`": []}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _PHASES, WORLD, YES],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in out.splitlines():
            what, ms = line.split("\t")
            if what == "z3 imported":  # a fact, not a time: asserted, not averaged
                assert ms == "no", "the yes query imported z3"
                continue
            steps.setdefault(what, []).append(float(ms))
        steps["start and end `python -c pass`"].append(
            1000 * run_once([sys.executable, "-c", "pass"], env)[0]
        )
    return [(what, statistics.median(ms)) for what, ms in steps.items()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--imports", action="store_true", help="also show the slowest imports")
    ap.add_argument("--phases", action="store_true", help="also time the yes query's steps")
    a = ap.parse_args()
    base, env = kmsprove_command()
    print(f"{' '.join(base)}, medians of {a.runs} runs: wall clock (fastest), CPU time")
    times = time_commands(base, env, a.runs)
    help_wall = statistics.median(w for w, _ in times["--help"])
    help_cpu = statistics.median(c for _, c in times["--help"])
    for label, args in COMMANDS:
        wall = statistics.median(w for w, _ in times[label])
        fastest = min(w for w, _ in times[label])
        cpu = statistics.median(c for _, c in times[label])
        print(
            f"  {label:<12} {wall:.3f} s ({fastest:.3f} s) {wall / help_wall:.1f}x --help,"
            f"  CPU {cpu:.3f} s {cpu / help_cpu:.1f}x"
        )
        if a.imports:
            for name, us in slowest_imports(args, env):
                print(f"      import {name:<24} {us / 1000:6.1f} ms")
    if a.phases:
        print(f"query (yes), step by step in one process (median of {a.runs} runs):")
        for what, ms in phases(env, a.runs):
            print(f"  {ms:6.1f} ms  {what}")


if __name__ == "__main__":
    main()
