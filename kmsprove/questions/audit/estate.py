"""Audits of whole estates: every world file of a directory, or the keys of one large
world cut into slices, in parallel workers (the units of
`kmsprove.questions.check.estate.plan`, run by an executor of
`kmsprove.questions.workers`), then the suppressions and the baseline applied to every
finding at once, and the exit code.

With the results cache, a unit's report is one entry, keyed by the unit's files and the
audit's options (zone, trusted principals, administrators, timeout); the suppressions
and the baseline apply afterwards, so changing them costs no solving. A report with an
unknown finding, or a world that was bad input, is never stored.

A world file of a directory that is bad input is reported in its unit (its errors) and
the others are still audited; the run's exit code is then BAD_INPUT.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

from kmsprove.answer import ExitCode, exit_status
from kmsprove.errors import Diagnostic, InputError
from kmsprove.inputs import load_world_of_directory
from kmsprove.inputs.files import Source
from kmsprove.inputs.key_policy_world import WorldInput
from kmsprove.inputs.options import NO_OPTIONS, ReadOptions
from kmsprove.questions.audit import AuditOptions, AuditResult, audit_options, audit_world
from kmsprove.questions.audit.findings import AuditFinding, Status, Suppression
from kmsprove.questions.audit.rules import Severity
from kmsprove.questions.audit.suppress import apply, read_baseline, read_suppressions
from kmsprove.questions.cache import ResultsCache, key_of
from kmsprove.questions.check.estate import Unit, plan, read_unit
from kmsprove.questions.workers import Executor, executor_for


@dataclass(frozen=True)
class AuditJob:
    """What every unit of one run shares (sent to each worker with its units)."""

    options: AuditOptions
    read: ReadOptions = NO_OPTIONS  # how each world file of a directory is read


@dataclass(frozen=True)
class AuditReport:
    world: str
    keys: int = 0
    seconds: float = 0.0
    findings: tuple[AuditFinding, ...] = ()
    not_asked: tuple[str, ...] = ()
    errors: tuple[Diagnostic, ...] = ()  # why the world was not audited (bad input)
    sources: tuple[Source, ...] = ()  # the files its world was read from
    read_with_flags: bool = False  # the run's reading flags read it again (`Unit`)


@dataclass(frozen=True)
class Shown:
    """How reports print what they found: the flags that read WORLD again (in reproduce
    lines), and whether a baseline was given (SARIF's baselineState)."""

    flags: tuple[str, ...] = ()
    baseline: bool = False


@dataclass(frozen=True)
class Prepared:
    """A run, read and checked before any solving: its units, the job they share, and
    what applies to their findings afterwards."""

    world: str
    units: list[tuple[Unit, bool]]  # (unit, whether it asks the keyless buckets)
    job: AuditJob
    workers: int
    fail_on: Severity
    shown: Shown
    warnings: tuple[Diagnostic, ...] = ()  # what reading WORLD assumed (a key policy's)
    suppressions: tuple[Suppression, ...] = ()
    baseline: frozenset[str] = frozenset()


T = TypeVar("T")


def _gather(diags: list[Diagnostic], read: Callable[[], T], default: T) -> T:
    """What `read` gives, or `default` with its problems added to `diags`."""
    try:
        return read()
    except InputError as exc:
        diags += exc.diagnostics
        return default


def prepare(
    world: str,
    read: ReadOptions = NO_OPTIONS,
    *,
    zone: str = "account",
    trust: tuple[str, ...] = (),
    admin: tuple[str, ...] = (),
    fail_on: str = "medium",
    suppressions: str | None = None,
    baseline: str | None = None,
    timeout: float = 30.0,
    jobs: int | None = None,
    **_report: object,  # `fmt`, `sarif_output`: the command's, not the run's
) -> Prepared:
    """The run of `kmsprove audit WORLD` with these flags: the options checked, the
    units planned (`plan`: a single world is loaded here, once), the suppressions and the
    baseline read, every problem of every input reported at once."""
    diags: list[Diagnostic] = []
    workers = jobs or os.cpu_count() or 1
    options = _gather(diags, lambda: audit_options(zone, trust, admin, timeout), AuditOptions())
    planned: tuple[list[Unit], WorldInput | None] = ([], None)
    units, given = _gather(diags, lambda: plan(world, workers, read), planned)
    none: tuple[Suppression, ...] = ()
    supps = _gather(diags, lambda: read_suppressions(suppressions) if suppressions else none, none)
    empty: frozenset[str] = frozenset()
    base = _gather(diags, lambda: read_baseline(baseline) if baseline else empty, empty)
    if diags:
        raise InputError(diags)
    # a world cut into slices asks the buckets whose key it lacks in its first slice
    tagged = [(u, u.loaded is None or n == 0) for n, u in enumerate(units)]
    flags = given.options.flags() if given is not None else read.flags()
    return Prepared(
        world,
        tagged,
        AuditJob(options, read),
        workers,
        Severity.named(fail_on),
        Shown(flags, baseline is not None),
        given.warnings if given is not None else (),
        supps,
        base,
    )


def run_unit(job: AuditJob, tagged: tuple[Unit, bool]) -> AuditReport:
    """One unit's findings; a bad world is reported in the unit, not raised."""
    unit, keyless = tagged
    start = time.perf_counter()
    try:
        world, sources, flagged = unit.loaded, unit.sources, unit.read_with_flags
        if world is None:
            world, _, sources, flagged = load_world_of_directory(unit.world, job.read)
        result: AuditResult = audit_world(world, job.options, keyless)
    except InputError as exc:
        return AuditReport(unit.world, errors=tuple(exc.diagnostics))
    findings = tuple(replace(f, world=unit.world) for f in result.findings)
    seconds = time.perf_counter() - start
    return AuditReport(
        unit.world, result.keys, seconds, findings, result.not_asked, (), sources, flagged
    )


def run_audit(
    ready: Prepared,
    advance: Callable[[int], None] = lambda n: None,
    executor: Executor | None = None,
    cache: ResultsCache | None = None,
) -> list[AuditReport]:
    """Every unit's report, in the order of the units: from the cache where it holds
    one, else computed by `executor` (default: `ready.workers` local processes)."""
    executor = executor or executor_for(ready.workers)
    run = partial(run_unit, ready.job)
    if cache is None and not executor.remote:
        return executor.map(run, ready.units, advance)
    units = [u for u, _ in ready.units]
    found = cache.units([u.files() for u in units], ready.job.read) if cache else []
    names = [_entry_name(ready.job, keyless) for _, keyless in ready.units]
    served = {
        n: r
        for n, (f, name) in enumerate(zip(found, names, strict=False))
        if f is not None and isinstance(r := f.entries.get(name), AuditReport)
    }
    todo = [n for n in range(len(units)) if n not in served]
    advance(len(served))
    computed = dict(
        zip(todo, _compute(ready, [ready.units[n] for n in todo], executor, advance), strict=True)
    )
    if cache is not None:
        for n, r in computed.items():
            _store(cache, ready, n, r, names[n])
        cache.flush()
    return [served[n] if n in served else computed[n] for n in range(len(units))]


def _compute(
    ready: Prepared,
    tagged: list[tuple[Unit, bool]],
    executor: Executor,
    advance: Callable[[int], None],
) -> list[AuditReport]:
    """The reports of these units; for workers elsewhere, each world is read here."""
    run = partial(run_unit, ready.job)
    if not executor.remote:
        return executor.map(run, tagged, advance)
    read = [(read_unit(u, ready.job.read), keyless) for u, keyless in tagged]
    ready_units = [(u, k) for u, k in read if isinstance(u, Unit)]
    advance(len(read) - len(ready_units))  # bad input: reported here
    done = iter(executor.map(run, ready_units, advance))
    return [
        next(done) if isinstance(u, Unit) else AuditReport(w.world, errors=u)
        for (u, _), (w, _) in zip(read, tagged, strict=True)
    ]


def _entry_name(job: AuditJob, keyless: bool) -> str:
    return key_of("audit", repr(job.options), str(keyless))


def _store(cache: ResultsCache, ready: Prepared, n: int, report: AuditReport, name: str) -> None:
    """Remember a computed report under the files it was read from; never one that is
    bad input or holds an unknown finding."""
    unit, _ = ready.units[n]
    if report.errors or any(f.status is Status.UNKNOWN for f in report.findings):
        return
    if not report.sources or report.sources[0][0] != unit.world:
        return
    head = (report.keys, (), report.read_with_flags)
    cache.store_unit(unit.files(report.sources), ready.job.read, head, {name: report})


def settle(
    reports: Sequence[AuditReport], ready: Prepared, today: datetime.date | None = None
) -> tuple[list[AuditReport], list[Diagnostic], ExitCode]:
    """The reports with the suppressions and the baseline applied to their findings; what
    goes to stderr (the errors of a directory's bad worlds, then warnings about
    suppressions: expired, or matching nothing); the exit code. One bad WORLD file that
    is not a directory is bad input of the whole run (raised)."""
    errors = [e for r in reports for e in r.errors]
    if errors and not os.path.isdir(ready.world):
        raise InputError(errors)
    every = [f for r in reports for f in r.findings]
    marked, warnings = apply(every, ready.suppressions, ready.baseline, today)
    out, i = [], 0
    for r in reports:
        n = len(r.findings)
        out.append(replace(r, findings=tuple(marked[i : i + n])))
        i += n
    return out, [*errors, *warnings], exit_code(out, ready.fail_on)


def exit_code(reports: Sequence[AuditReport], fail_on: Severity) -> ExitCode:
    """BAD_INPUT when a world was not audited; else FINDING when a finding that counts
    (not suppressed, not in the baseline) is at or above `fail_on`; else UNKNOWN when
    such a finding is unknown; else OK."""
    if any(r.errors for r in reports):
        return ExitCode.BAD_INPUT
    counting = [f for r in reports for f in r.findings if f.counts and f.severity >= fail_on]
    return exit_status(
        failed=any(f.status is Status.FOUND for f in counting),
        unknown=any(f.status is Status.UNKNOWN for f in counting),
    )


__all__ = [
    "AuditJob",
    "AuditReport",
    "Prepared",
    "Shown",
    "exit_code",
    "prepare",
    "run_audit",
    "settle",
]
