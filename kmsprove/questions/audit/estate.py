"""Audits of whole estates: every world file of a directory, or the keys of one large
world cut into slices, in parallel worker processes (the units of
`kmsprove.questions.check.estate.plan`), then the suppressions and the baseline applied
to every finding at once, and the exit code.

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
from kmsprove.inputs import load_world
from kmsprove.inputs.key_policy_world import WorldInput
from kmsprove.inputs.options import NO_OPTIONS, ReadOptions
from kmsprove.questions.audit import AuditOptions, AuditResult, audit_options, audit_world
from kmsprove.questions.audit.findings import AuditFinding, Status, Suppression
from kmsprove.questions.audit.rules import Severity
from kmsprove.questions.audit.suppress import apply, read_baseline, read_suppressions
from kmsprove.questions.check.estate import Unit, plan
from kmsprove.questions.workers import in_workers


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
        world = unit.loaded if unit.loaded is not None else load_world(unit.world, job.read)
        result: AuditResult = audit_world(world, job.options, keyless)
    except InputError as exc:
        return AuditReport(unit.world, errors=tuple(exc.diagnostics))
    findings = tuple(replace(f, world=unit.world) for f in result.findings)
    return AuditReport(
        unit.world, result.keys, time.perf_counter() - start, findings, result.not_asked
    )


def run_audit(
    ready: Prepared, advance: Callable[[int], None] = lambda n: None
) -> list[AuditReport]:
    """Every unit's report, in the order of the units."""
    return in_workers(partial(run_unit, ready.job), ready.units, ready.workers, advance)


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
