"""Whole-estate runs: one spec over many worlds (a directory of world files) or over
the keys of one large world, in parallel worker processes.

Workers send back reports already rendered (text, JSON results, SARIF results): an
answer holds contexts that do not pickle, and rendering where the outcomes are keeps
the parent small. Each unit of work is one world file, or a slice of one world's keys
(the world is loaded once, before the workers fork, and inherited).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kmsprove.errors import InputError, SourcePos
from kmsprove.questions.check import Status, check_world, read_spec
from kmsprove.syntax.query import Expectation
from kmsprove.world import World

WORLD_HINT = re.compile(rb'"keys"\s*:')


@dataclass(frozen=True)
class Unit:
    world: str  # the world file
    keys: tuple[int, ...] | None = None  # indexes into its keys; None: all of them


@dataclass
class UnitReport:
    world: str
    keys: int = 0
    seconds: float = 0.0
    text: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)  # `check --format json`
    sarif_results: list[dict[str, Any]] = field(default_factory=list)
    sarif_notes: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # FILE:LINE:COL: error: lines


def world_files(directory: str) -> list[str]:
    """The world files under a directory: `*.json` files that have a `keys` member
    (policy documents never do), sorted so runs and reports are stable."""
    out = [
        str(path)
        for path in sorted(Path(directory).rglob("*.json"))
        if path.is_file() and WORLD_HINT.search(path.read_bytes()[:1_000_000])
    ]
    if not out:
        raise InputError.at(SourcePos(directory), "no world files (`*.json` with `keys`) here")
    return out


# what a worker process needs; set before the pool forks, or by the initializer
_SPEC: tuple[Expectation, ...] = ()
_OPTIONS: dict[str, Any] = {}
_WORLD: World | None = None


def _init(
    spec_path: str, timeout: float, trusted: tuple[str, ...], formats: tuple[str, ...]
) -> None:
    global _SPEC, _OPTIONS
    _SPEC = read_spec(spec_path)
    _OPTIONS = {"timeout": timeout, "trusted": trusted, "formats": formats}


def _run_unit(unit: Unit) -> UnitReport:
    from kmsprove.inputs.world_file import load_world
    from kmsprove.report.check import check_json, render_check_text, summary
    from kmsprove.report.sarif import sarif_log

    start = time.perf_counter()
    report = UnitReport(unit.world)
    try:
        world = _WORLD if _WORLD is not None and unit.keys is not None else load_world(unit.world)
        if unit.keys is not None:
            world = replace(world, keys=tuple(world.keys[i] for i in unit.keys))
        outcomes = check_world(world, _SPEC, _OPTIONS["timeout"], _OPTIONS["trusted"])
    except InputError as exc:
        report.errors = [str(d) for d in exc.diagnostics]
        return report
    report.keys = len(world.keys)
    report.counts = summary(outcomes)
    formats = _OPTIONS["formats"]
    if "text" in formats:
        report.text = f"{unit.world}:\n" + render_check_text(outcomes, unit.world, totals=False)
    if "json" in formats:
        report.results = [{"world": unit.world, **r} for r in check_json(outcomes)["results"]]
    if "sarif" in formats:
        run = sarif_log(outcomes)["runs"][0]
        report.sarif_results = run["results"]
        report.sarif_notes = run["invocations"][0]["toolExecutionNotifications"]
    report.seconds = time.perf_counter() - start
    return report


def loaded_world() -> World:
    """The world `plan` loaded (a single world file)."""
    assert _WORLD is not None
    return _WORLD


def plan(world: str, jobs: int) -> list[Unit]:
    """A directory: one unit per world file. One world with many keys: slices of its
    keys, so the workers share it (it is loaded here, once)."""
    global _WORLD
    if os.path.isdir(world):
        return [Unit(w) for w in world_files(world)]
    from kmsprove.inputs.world_file import load_world

    _WORLD = load_world(world)
    n = len(_WORLD.keys)
    if jobs <= 1 or n < 2 * jobs:
        return [Unit(world)]
    size = max(1, min(50, n // (jobs * 4)))
    return [Unit(world, tuple(range(i, min(n, i + size)))) for i in range(0, n, size)]


def run_estate(
    units: Sequence[Unit],
    spec_path: str,
    timeout: float,
    trusted: tuple[str, ...],
    formats: tuple[str, ...],
    jobs: int,
    advance: Callable[[int], None] = lambda n: None,
) -> list[UnitReport]:
    """Every unit's report, in the order of `units`."""
    _init(spec_path, timeout, trusted, formats)  # here too: bad specs fail before any fork
    if jobs <= 1 or len(units) <= 1:
        out = []
        for u in units:
            out.append(_run_unit(u))
            advance(1)
        return out
    with ProcessPoolExecutor(
        max_workers=jobs, initializer=_init, initargs=(spec_path, timeout, trusted, formats)
    ) as pool:
        out = []
        for r in pool.map(_run_unit, units, chunksize=max(1, len(units) // (jobs * 8))):
            out.append(r)
            advance(1)
        return out


def totals(reports: Sequence[UnitReport]) -> dict[str, int]:
    out = {s.value: 0 for s in Status}
    for r in reports:
        for k, v in r.counts.items():
            out[k] += v
    return out


def exit_code(reports: Sequence[UnitReport]) -> int:
    t = totals(reports)
    if t["fails"]:
        return 1
    return 3 if t["unknown"] else 0


def summary_table(reports: Sequence[UnitReport]) -> str:
    """Per world (a world's key slices together): keys, holds, fails, unknown, seconds."""
    rows: dict[str, list[float]] = {}
    for r in reports:
        row = rows.setdefault(r.world, [0, 0, 0, 0, 0.0])
        row[0] += r.keys
        for i, k in enumerate(("holds", "fails", "unknown"), 1):
            row[i] += r.counts.get(k, 0)
        row[4] += r.seconds
    width = max([len("world"), *(len(w) for w in rows)])
    lines = [f"{'world':<{width}}  keys  holds  fails  unknown  seconds"]
    for w, (keys, holds, fails, unknown, secs) in rows.items():
        lines.append(f"{w:<{width}}  {keys:4d}  {holds:5d}  {fails:5d}  {unknown:7d}  {secs:7.2f}")
    t = totals(reports)
    lines.append(
        f"{len(rows)} worlds, {sum(r.keys for r in reports)} keys:"
        f" {t['holds']} hold, {t['fails']} fail, {t['unknown']} unknown"
    )
    return "\n".join(lines) + "\n"
