"""Where replications run: in this process, in a process pool, or on a Dask cluster.

Every experiment takes a `concurrent.futures.Executor`; this module opens the one asked for
and closes it afterwards. Results do not depend on the choice: each replication's random
streams come from (seed, replication) alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager

KINDS = ("serial", "process", "dask")


class SerialExecutor(Executor):
    """Runs each task in the calling process, in order (the reference for parallel runs)."""

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller via the future
            fut.set_exception(exc)
        return fut


@contextmanager
def open_executor(kind: str = "process", workers: int | None = None,
                  scheduler: str | None = None) -> Iterator[Executor]:
    """The executor for `kind`; `workers` None means all cores; Dask with no scheduler address
    starts a local cluster of that many single-threaded worker processes."""
    if kind not in KINDS:
        raise ValueError(f"executor {kind!r} is not one of {list(KINDS)}")
    workers = workers or os.cpu_count() or 1
    if kind == "serial" or (kind == "process" and workers == 1):
        yield SerialExecutor()
    elif kind == "process":
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool
    else:
        from distributed import Client, LocalCluster

        if scheduler:
            client = Client(scheduler)
            cluster = None
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        try:
            yield client.get_executor()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
