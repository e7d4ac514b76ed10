"""Whole-estate runs: one spec over many worlds (a directory of world files) or over
the keys of one large world, in parallel workers (`kmsprove.questions.workers`).

Each unit of work is one world file (loaded by the worker that checks it, or by the
client for workers on other hosts: `read_unit`), or a slice of one world's keys (loaded
once by `plan`, each unit carrying its slice). Workers send back the outcomes, and the
files each world was read from; `kmsprove.questions.check.incremental` serves what the
results cache holds and runs the rest; `kmsprove.report.estate` renders them, in unit
order.

A world file of a directory that is bad input is reported in its unit (its errors)
and the others are still checked: the run's exit code is then BAD_INPUT (`exit_code`),
which wins over findings as everywhere else.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kmsprove.answer import CheckStatus, ExitCode, Outcome, exit_status
from kmsprove.ast import Expectation
from kmsprove.errors import Diagnostic, InputError
from kmsprove.inputs import load_world_of_directory, world_files
from kmsprove.inputs.files import Source
from kmsprove.inputs.key_policy_world import WorldInput, load_world_input
from kmsprove.inputs.options import NO_OPTIONS, ReadOptions
from kmsprove.questions.cache import Head, UnitFiles
from kmsprove.questions.check import check_world, read_spec
from kmsprove.world import World


@dataclass(frozen=True)
class Unit:
    world: str  # the world file
    loaded: World | None = None  # the world (or a slice of its keys), when already loaded
    # the expectations it checks: a slice's own (`_own`), or those the cache lacks; None:
    # the job's
    spec: tuple[Expectation, ...] | None = None
    directory: bool = False  # one world file of a directory: its errors say which
    sources: tuple[Source, ...] = ()  # the files `loaded` was read from
    said: tuple[Diagnostic, ...] = ()  # what the reader of `loaded` said (`read_unit`)
    # the run's reading flags (`--account`, `--key-arn`...) read `loaded` again: a single
    # WORLD, or a template or plan of a directory (its world files take none)
    read_with_flags: bool = False

    def files(self, sources: tuple[Source, ...] | None = None) -> UnitFiles:
        """The unit as the results cache sees it: its world file, a slice's keys, and
        the files it was read from (`sources`, else its own)."""
        keys = None if self.loaded is None else tuple(k.arn for k in self.loaded.keys)
        return self.world, keys, self.sources if sources is None else sources


@dataclass(frozen=True)
class UnitReport:
    world: str
    keys: int = 0
    seconds: float = 0.0
    outcomes: tuple[Outcome, ...] = ()
    errors: tuple[Diagnostic, ...] = ()  # why the world was not checked (bad input)
    warnings: tuple[Diagnostic, ...] = ()  # what its reader said (a directory's world)
    sources: tuple[Source, ...] = ()  # the files its world was read from
    read_with_flags: bool = False  # the run's reading flags read it again (`Unit`)

    @property
    def counts(self) -> dict[str, int]:
        return counts(self.outcomes)

    @property
    def head(self) -> Head:
        """What the results cache keeps of the unit beside its entries."""
        return self.keys, self.warnings, self.read_with_flags


@dataclass(frozen=True)
class Job:
    """What every unit of one estate run shares (sent to each worker with its units)."""

    spec: tuple[Expectation, ...]
    timeout: float
    trusted: tuple[str, ...]
    options: ReadOptions = NO_OPTIONS  # how each world file is read (`--account`...)


def counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    out = {s.value: 0 for s in CheckStatus}
    for o in outcomes:
        out[o.status.value] += 1
    return out


def run_unit(job: Job, unit: Unit) -> UnitReport:
    """One unit's outcomes; a bad world is reported in the unit, not raised."""
    start = time.perf_counter()
    try:
        warnings, sources, flagged = unit.said, unit.sources, unit.read_with_flags
        if unit.loaded is not None:
            world = unit.loaded
        else:
            world, said, sources, flagged = load_world_of_directory(unit.world, job.options)
            warnings = tuple(said)
        outcomes = check_world(world, spec_of(unit, job), job.timeout, job.trusted)
    except InputError as exc:
        return failed(unit, exc.diagnostics)
    seconds = time.perf_counter() - start
    return UnitReport(
        unit.world,
        len(world.keys),
        seconds,
        tuple(outcomes),
        warnings=warnings,
        sources=sources,
        read_with_flags=flagged,
    )


def spec_of(unit: Unit, job: Job) -> tuple[Expectation, ...]:
    """The expectations a unit checks."""
    return job.spec if unit.spec is None else unit.spec


def failed(unit: Unit, diagnostics: Sequence[Diagnostic]) -> UnitReport:
    """The report of a unit that is bad input; one world of a directory says which."""
    errors = tuple(diagnostics)
    if unit.directory:
        errors = tuple(_in_world(d, unit.world) for d in errors)
    return UnitReport(unit.world, errors=errors)


def read_unit(unit: Unit, options: ReadOptions) -> Unit | tuple[Diagnostic, ...]:
    """A directory's unit with its world read here, by the client (for workers that do
    not see this machine's files), or why it is bad input."""
    if unit.loaded is not None:
        return unit
    try:
        world, said, sources, flagged = load_world_of_directory(unit.world, options)
    except InputError as exc:
        return tuple(exc.diagnostics)
    return replace(unit, loaded=world, sources=sources, said=tuple(said), read_with_flags=flagged)


def _in_world(d: Diagnostic, world: str) -> Diagnostic:
    """An error found elsewhere (a spec line about a key this world lacks, a document
    the world names) says which world of a directory it came from."""
    if d.pos.file == world:
        return d
    return Diagnostic(d.pos, d.severity, f"{d.message} (checking `{world}`)")


def plan(
    world: str, jobs: int, options: ReadOptions = NO_OPTIONS
) -> tuple[list[Unit], WorldInput | None]:
    """A directory: one unit per world file (templates and plans in it read with
    `options`, which world files ignore). One world file (or template, or key policy,
    read with `options`: `load_world_input`): loaded here, once, and returned; with many
    keys it is cut into slices of its keys, one unit each. Bad input raises here only
    for what the whole run needs (a directory without worlds, a bad WORLD file); a
    directory's bad world is its unit's report (`run_unit`)."""
    if os.path.isdir(world):
        if options.parameters or options.physical_ids:
            raise InputError.at_cli(
                "--parameter and --physical-id read one CloudFormation template; a"
                " directory's templates each have their own (give WORLD as the template)"
            )
        if options.key_arn is not None:
            raise InputError.at_cli(
                "--key-arn names the key of a key policy given as WORLD, not of a directory"
            )
        return [Unit(w, directory=True) for w in world_files(world)], None
    given = load_world_input(world, options)
    loaded = given.world
    n = len(loaded.keys)
    if jobs <= 1 or n < 2 * jobs:
        return [Unit(world, loaded, sources=given.sources, read_with_flags=True)], given
    size = max(1, min(50, n // (jobs * 4)))
    units = [
        Unit(
            world,
            replace(loaded, keys=loaded.keys[i : i + size]),
            sources=given.sources,
            read_with_flags=True,
        )
        for i in range(0, n, size)
    ]
    return units, given


def _own(
    whole: World, part: World, first: bool, spec: Sequence[Expectation]
) -> tuple[Expectation, ...]:
    """A slice checks the expectations about its keys: one `on key K` only where K is
    (found in the whole world), one `on bucket B` only in the first slice; a key the
    whole world lacks stays, so the slice reports the bad line."""
    out = []
    for exp in spec:
        t = exp.query.target
        if t is None:
            out.append(exp)
        elif t.kind == "key":
            found = whole.find_key(t.ref)
            if found is None or part.find_key(found.arn) is not None:
                out.append(exp)
        elif first:
            out.append(exp)
    return tuple(out)


def prepare(
    world: str, spec: str, jobs: int, options: ReadOptions = NO_OPTIONS
) -> tuple[tuple[Expectation, ...], list[Unit], WorldInput | None]:
    """A run's spec and units (`plan`), reporting the problems of both files at once;
    a single world is loaded once, here."""
    diags: list[Diagnostic] = []
    expectations: tuple[Expectation, ...] = ()
    units: list[Unit] = []
    given = None
    try:
        expectations = read_spec(spec)
    except InputError as exc:
        diags += exc.diagnostics
    try:
        units, given = plan(world, jobs, options)
    except InputError as exc:
        diags += exc.diagnostics
    if diags:
        raise InputError(diags)
    if given is not None and len(units) > 1:
        units = [
            replace(u, spec=_own(given.world, u.loaded, n == 0, expectations))
            for n, u in enumerate(units)
            if u.loaded is not None
        ]
    return expectations, units, given


def totals(reports: Sequence[UnitReport]) -> dict[str, int]:
    out = {s.value: 0 for s in CheckStatus}
    for r in reports:
        for k, v in r.counts.items():
            out[k] += v
    return out


def exit_code(reports: Sequence[UnitReport]) -> ExitCode:
    """BAD_INPUT when some world was not checked (bad input wins over findings), else
    as for one world."""
    if any(r.errors for r in reports):
        return ExitCode.BAD_INPUT
    t = totals(reports)
    return exit_status(failed=bool(t["fails"]), unknown=bool(t["unknown"]))


def not_checked(reports: Sequence[UnitReport]) -> list[str]:
    """The world files that were bad input, in report order."""
    return [r.world for r in reports if r.errors]
