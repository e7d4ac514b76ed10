"""Check estates run incrementally: the outcomes the results cache holds are served
from it, only the rest is computed, by any executor (`kmsprove.questions.workers`).

The cache holds one entry per (unit, expectation): the expectation's outcomes on the
unit's keys and its share of the unit's time. A unit whose entries are all there is
not sent to any worker; a unit with some missing is sent with those expectations only;
a new or changed world is sent whole. The report of every unit is then put together in
spec order, so a served outcome stands where a computed one would (each takes the
expectation of this run's spec: its line may have moved). An entry with an unknown
outcome is never stored (a timeout must not be served for ever), nor is a unit that
was bad input (it is cheap to say again).

A unit's time is kept in whole microseconds, split evenly between the expectations
computed together, so a fully served run reports the seconds of the run that
computed it, to the digit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import partial
from typing import Any, TypeGuard

from kmsprove.answer import CheckStatus, Outcome
from kmsprove.ast import Expectation
from kmsprove.questions.cache import Head, ResultsCache, key_of
from kmsprove.questions.check.estate import (
    Job,
    Unit,
    UnitReport,
    failed,
    read_unit,
    run_unit,
    spec_of,
)
from kmsprove.questions.workers import Executor
from kmsprove.world import World

Entry = tuple[tuple[Outcome, ...], int]  # an expectation's outcomes, its microseconds


def entry_name(job: Job, exp: Expectation) -> str:
    """What an entry is about besides the unit: the expectation's text, the timeout, and
    the trusted principals where they count (an `ever` question)."""
    trusted = "\n".join(job.trusted) if exp.query.ever else ""
    return key_of(
        "check", "yes" if exp.expect else "no", exp.query.text, repr(job.timeout), trusted
    )


@dataclass
class _Plan:
    """One unit: its key, what the cache served, what is left to compute."""

    unit: Unit
    spec: tuple[Expectation, ...]
    key: str | None = None
    head: Head | None = None  # its keys, its reader's warnings, whether flags read it
    served: dict[int, Entry] = field(default_factory=dict)  # spec index -> entry

    @property
    def missing(self) -> tuple[Expectation, ...]:
        return tuple(e for n, e in enumerate(self.spec) if n not in self.served)


def run_estate(
    units: Sequence[Unit],
    job: Job,
    executor: Executor,
    advance: Callable[[int], None] = lambda n: None,
    cache: ResultsCache | None = None,
) -> list[UnitReport]:
    """Every unit's report, in the order of `units`: from the cache where it holds every
    outcome, else computed by `executor` (then stored in the cache)."""
    run = partial(run_unit, job)
    if cache is None and not executor.remote:
        return executor.map(run, units, advance)
    plans = [_Plan(u, spec_of(u, job)) for u in units]
    if cache is not None:
        _serve(plans, job, cache)
    todo = [p for p in plans if p.missing or p.head is None]  # no head: not in the cache
    advance(len(plans) - len(todo))
    sent = [replace(p.unit, spec=p.missing if p.served else p.unit.spec) for p in todo]
    if executor.remote:  # workers elsewhere: each unit carries its world, read here
        read = [read_unit(u, job.options) for u in sent]
        ready = [u for u in read if isinstance(u, Unit)]
        advance(len(read) - len(ready))  # bad input: reported here
        done = iter(executor.map(run, ready, advance))
        results = [
            next(done) if isinstance(u, Unit) else failed(s, u)
            for u, s in zip(read, sent, strict=True)
        ]
    else:
        results = executor.map(run, sent, advance)
    computed = dict(zip(map(id, todo), results, strict=True))
    reports = [_report(p, computed.get(id(p)), job, cache) for p in plans]
    if cache is not None:
        cache.flush()
    return reports


def _serve(plans: Sequence[_Plan], job: Job, cache: ResultsCache) -> None:
    """Each unit's key, and the entries the cache holds for it (one batch of look-ups,
    then one for the witness worlds of failing outcomes)."""
    found = cache.units([p.unit.files() for p in plans], job.options)
    heavy: list[tuple[_Plan, int, str]] = []  # entries whose witness worlds a report may need
    for p, f in zip(plans, found, strict=True):
        if f is None:
            continue
        p.key, p.head = f.key, (f.keys, f.warnings, f.read_with_flags)
        for n, e in enumerate(p.spec):
            name = entry_name(job, e)
            light = f.entries.get(name)
            if not _is_light(light):
                continue
            p.served[n] = _restored(light, e)
            if light[2] and any(o.status is CheckStatus.FAILS for o in p.served[n][0]):
                heavy.append((p, n, key_of("worlds", f.key, name)))
    worlds = cache.lookup(k for _, _, k in heavy)
    for p, n, k in heavy:
        ws = worlds.get(k)
        if isinstance(ws, tuple) and len(ws) == len(p.served[n][0]):
            p.served[n] = _with_worlds(p.served[n], ws)
        else:
            del p.served[n]  # its witness worlds are gone: compute it again


# How an entry is stored: each outcome's fields but its expectation (the spec's, when
# served) and its answer's witness world; the microseconds; whether worlds were stored
# apart (`worlds` rows, read only for failing outcomes: the only ones whose witness a
# report writes, `--save-witness`). A served outcome that holds carries no witness
# world: no report reads one. Decoding is most of a served run's time; this halves it.
_FIELDS = tuple(f.name for f in fields(Outcome) if f.name != "expectation")
Light = tuple[tuple[tuple[Any, ...], ...], int, bool]


def _light(entry: Entry) -> tuple[Light, tuple[World | None, ...]]:
    rows, worlds = [], []
    for o in entry[0]:
        worlds.append(o.answer.checked_world)
        o = replace(o, answer=replace(o.answer, checked_world=None))
        rows.append(tuple(getattr(o, f) for f in _FIELDS))
    return (tuple(rows), entry[1], any(w is not None for w in worlds)), tuple(worlds)


def _restored(light: Light, exp: Expectation) -> Entry:
    return tuple(Outcome(exp, **dict(zip(_FIELDS, r, strict=True))) for r in light[0]), light[1]


def _with_worlds(entry: Entry, worlds: tuple[Any, ...]) -> Entry:
    outcomes = tuple(
        replace(o, answer=replace(o.answer, checked_world=w))
        for o, w in zip(entry[0], worlds, strict=True)
    )
    return outcomes, entry[1]


def _is_light(value: object) -> TypeGuard[Light]:
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[0], tuple)
        and all(isinstance(r, tuple) and len(r) == len(_FIELDS) for r in value[0])
        and isinstance(value[1], int)
        and isinstance(value[2], bool)
    )


def _report(
    p: _Plan, computed: UnitReport | None, job: Job, cache: ResultsCache | None
) -> UnitReport:
    """The unit's report: served entries and computed outcomes in spec order."""
    if computed is not None and (computed.errors or cache is None):
        return computed
    if computed is None:  # all served
        assert p.head is not None
        return _assembled(p, dict(p.served), p.head, computed)
    missing = [n for n in range(len(p.spec)) if n not in p.served]
    groups = _grouped(computed.outcomes, [p.spec[n] for n in missing])
    if groups is None:  # outcomes not of the expectations asked: report them as they are
        return computed
    total = round(computed.seconds * 1_000_000)
    shares = [total // len(missing)] * len(missing)
    shares[0] += total - sum(shares)
    entries = dict(p.served)
    entries.update({n: (g, s) for n, g, s in zip(missing, groups, shares, strict=True)})
    _store(p, computed, job, cache, {n: entries[n] for n in missing})
    return _assembled(p, entries, computed.head, computed)


def _assembled(
    p: _Plan,
    entries: dict[int, Entry],
    head: Head,
    computed: UnitReport | None,
) -> UnitReport:
    outcomes = tuple(o for n in range(len(p.spec)) for o in entries[n][0])
    micros = sum(entries[n][1] for n in range(len(p.spec)))
    sources = computed.sources if computed is not None else p.unit.sources
    keys, warnings, flagged = head
    seconds = micros / 1_000_000
    return UnitReport(p.unit.world, keys, seconds, outcomes, (), warnings, sources, flagged)


def _grouped(
    outcomes: Sequence[Outcome], asked: Sequence[Expectation]
) -> list[tuple[Outcome, ...]] | None:
    """The outcomes of each expectation asked, in order; None when some outcome is of
    none of them (equal expectations are on different lines, so never confused)."""
    groups: list[list[Outcome]] = [[] for _ in asked]
    for o in outcomes:
        n = next((n for n, e in enumerate(asked) if o.expectation == e), None)
        if n is None:
            return None
        groups[n].append(o)
    return [tuple(g) for g in groups]


def _store(
    p: _Plan, computed: UnitReport, job: Job, cache: ResultsCache | None, new: dict[int, Entry]
) -> None:
    """Remember the unit's new entries under the files it was read from (which may have
    changed since it was looked up: the row keeps the entries of the same files only);
    never an unknown outcome."""
    if cache is None or not computed.sources or computed.sources[0][0] != p.unit.world:
        return
    entries: dict[str, object] = {}
    heavy: dict[str, tuple[World | None, ...]] = {}
    for n, entry in new.items():
        if all(o.status is not CheckStatus.UNKNOWN for o in entry[0]):
            name = entry_name(job, p.spec[n])
            light, worlds = _light(entry)
            entries[name] = light
            if light[2]:  # some witness world, stored apart
                heavy[name] = worlds
    files = p.unit.files(computed.sources)
    key = cache.store_unit(files, job.options, computed.head, entries)
    for name, worlds in heavy.items():
        cache.remember(key_of("worlds", key, name), worlds)
