"""Units of work in worker processes, in order: the one pool `check` and `audit` estates
share."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any, TypeVar

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
