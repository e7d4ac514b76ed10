"""A `dask worker --preload` for tests/cli/test_dask.py: the worker that loads it takes
tasks and never finishes one, so a test can kill it in the middle of a run however fast
the other worker and the machine are (a run that outpaced the test once ended before a
worker could be killed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class StalledThreadPoolExecutor(ThreadPoolExecutor):
    """Runs each task after an hour: the worker holds its tasks until it is killed.
    ("ThreadPoolExecutor" in the name: distributed runs tasks in such pools as in its own.)"""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def stalled() -> Any:
            time.sleep(3600)
            return fn(*args, **kwargs)

        return super().submit(stalled)


def dask_setup(worker: Any) -> None:
    worker.executors["default"] = StalledThreadPoolExecutor(1, "stalled")
