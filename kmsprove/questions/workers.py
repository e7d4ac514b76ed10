"""Where the units of an estate run: the table of executors (`EXECUTORS`) that `check`
and `audit` estates share. Each `Executor.map(run, units, advance)` gives `run` of every
unit, in the order of `units`, whichever worker ran it and whenever it finished.

- `processes`: worker processes on this machine (`--jobs N`), a forkserver pool;
- `dask`: the workers of a Dask distributed cluster (`--scheduler ADDRESS`,
  `kmsprove.questions.cluster`); they may be on other hosts, so the units they are
  sent carry their worlds, not paths (`Executor.remote`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any, TypeVar

from kmsprove.questions.cluster import in_dask, require_distributed

T = TypeVar("T")
R = TypeVar("R")


def in_workers(
    run: partial[R] | Callable[[T], R],
    units: Sequence[T],
    jobs: int,
    advance: Callable[[int], None] = lambda n: None,
) -> list[R]:
    """`run` of every unit, in the order of `units`; in this process for one job or unit."""
    out: list[R] = []
    if jobs <= 1 or len(units) <= 1:
        for u in units:
            out.append(run(u))
            advance(1)
        return out
    # forkserver, not fork: a worker forked from a process with threads (a caller's
    # server, z3's timer) can inherit a lock held mid-operation and hang for ever
    context = multiprocessing.get_context("forkserver")
    func: Any = run.func if isinstance(run, partial) else run
    context.set_forkserver_preload([func.__module__])
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for r in pool.map(run, units, chunksize=max(1, len(units) // (jobs * 8))):
            out.append(r)
            advance(1)
    return out


# (run, units, advance) -> every unit's result, in unit order
Map = Callable[[Callable[[Any], Any], Sequence[Any], Callable[[int], None]], list[Any]]


@dataclass(frozen=True)
class Executor:
    name: str  # the row of `EXECUTORS`
    map: Map
    remote: bool = False  # its workers may not see this machine's files


def _processes(jobs: int, scheduler: str | None) -> Executor:
    def run(r: Callable[[Any], Any], units: Sequence[Any], advance: Callable[[int], None]) -> Any:
        return in_workers(r, units, jobs, advance)

    return Executor("processes", run)


def _dask(jobs: int, scheduler: str | None) -> Executor:
    assert scheduler is not None
    require_distributed()  # the extra is installed: else bad input now, before any work

    def run(r: Callable[[Any], Any], units: Sequence[Any], advance: Callable[[int], None]) -> Any:
        return in_dask(scheduler, r, units, advance)

    return Executor("dask", run, remote=True)


# name -> (jobs, scheduler address) -> executor
EXECUTORS: Mapping[str, Callable[[int, str | None], Executor]] = MappingProxyType(
    {"processes": _processes, "dask": _dask}
)


def executor_for(jobs: int, scheduler: str | None = None) -> Executor:
    """A Dask cluster's workers when a scheduler is given, else `jobs` local processes."""
    return EXECUTORS["dask" if scheduler else "processes"](jobs, scheduler)


__all__ = ["EXECUTORS", "Executor", "executor_for", "in_workers"]
