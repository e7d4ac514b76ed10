"""Units of work on a Dask distributed cluster (`--scheduler tcp://HOST:8786`), the
`dask` row of `kmsprove.questions.workers.EXECUTORS`.

dask.distributed keeps the worker protocol out of kmsprove: the client submits one task
per unit, the scheduler places them, and a task whose worker dies (killed, out of
memory, its host gone) is run again on another worker, so no result is lost; results
are put back in unit order. The workers need kmsprove installed (the same code as the
client: checked before any task is sent) and nothing else: a unit carries its world,
read by the client, so no worker needs the client's files. Workers must run one thread
each (`dask worker --nthreads 1`; `--nworkers N` for more processes): Z3's Python API
is not thread-safe.

`distributed` is an optional extra (`pip install 'kmsprove[dask]'`); without it,
`--scheduler` is bad input naming the extra.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from kmsprove.errors import InputError, SourcePos, error
from kmsprove.resources import code_digest

CONNECT_SECONDS = 10  # to reach the scheduler
WORKERS_SECONDS = 60  # for a first worker to join it


def require_distributed() -> ModuleType:
    """`distributed`, or bad input saying which extra brings it."""
    try:
        import distributed  # an optional extra: imported only when a scheduler is given
    except ImportError:
        raise InputError.at_cli(
            "--scheduler runs on a Dask cluster, which needs the `dask` extra:"
            " pip install 'kmsprove[dask]'"
        ) from None
    return distributed


def in_dask(
    scheduler: str,
    run: Callable[[Any], Any],
    units: Sequence[Any],
    advance: Callable[[int], None] = lambda n: None,
    connect_seconds: float = CONNECT_SECONDS,
) -> list[Any]:
    """`run` of every unit on the cluster's workers, in the order of `units`."""
    distributed = require_distributed()
    try:
        client = distributed.Client(scheduler, timeout=connect_seconds, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError.at_cli(
            f"--scheduler: no Dask scheduler answers at `{scheduler}` ({exc})"
        ) from None
    with client:
        _check_workers(client, scheduler)
        futures = client.map(run, units, pure=False)
        where = {f.key: n for n, f in enumerate(futures)}
        out: list[Any] = [None] * len(units)
        try:
            for done in distributed.as_completed(futures, loop=client.loop):
                out[where[done.key]] = done.result()
                done.release()  # the result is here: the cluster may forget it
                advance(1)
        except distributed.KilledWorker as exc:
            raise InputError.at_cli(
                f"--scheduler: a unit's task was running on every worker that died ({exc})"
            ) from None
        return out


def _check_workers(client: Any, scheduler: str) -> None:
    """Some worker has joined; each runs one thread and the client's code."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except TimeoutError:
        raise InputError.at_cli(
            f"--scheduler: no Dask worker joined `{scheduler}` in {WORKERS_SECONDS} s"
        ) from None
    problems = []
    for address, info in client.scheduler_info(n_workers=-1)["workers"].items():
        if info.get("nthreads", 1) > 1:
            problems.append(
                f"--scheduler: worker `{address}` runs {info['nthreads']} threads; Z3 is not"
                " thread-safe: start workers with `dask worker --nthreads 1`"
                " (`--nworkers N` for more processes)"
            )
    mine = code_digest()
    for address, theirs in client.run(code_digest).items():
        if theirs != mine:
            problems.append(
                f"--scheduler: worker `{address}` runs other kmsprove code than this client"
                " (install the same kmsprove, and its dependencies, on every worker)"
            )
    if problems:
        raise InputError([error(SourcePos("<cli>"), p) for p in problems])
