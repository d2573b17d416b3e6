"""Where replications run: in this process, in a process pool, or on a Dask cluster.

Every experiment takes a `concurrent.futures.Executor`; this module is the one place that makes
one. `open_executor` opens the one asked for and closes it afterwards (the command line);
`make_executor` makes a serial executor or a process pool its caller keeps and shuts down (the
app's long-lived pool). What differs between the two faces is an option, not another factory:

- `initializer` (and `initargs`): run in every worker process as it starts; the command line
  passes `ignore_sigint`, so that Ctrl-C is left to the main process;
- `mp_context` ("fork", "forkserver", "spawn" or a context; forkserver falls back to spawn
  where a platform has none) and `preload`, modules a forkserver imports once so that every
  worker forked from it starts with them loaded;
- `worker_main`: the module the workers take as their main one while they start (forkserver and
  spawn workers re-import the parent's main module; the app's is the web app);
- `start_workers`: start every worker now rather than at the first task;
- `on_interrupt_terminate`: a process pool is ended at once (pending tasks cancelled, worker
  processes terminated) when the run ends with Ctrl-C or an error, or with a worker dead,
  instead of waiting for the tasks in hand.

Results do not depend on the choice: each replication's random streams come from
(seed, replication) alone.

Dask runs are bounded in time, so that a cluster that can no longer work ends the run with one
line instead of waiting for ever:

- a scheduler address that does not answer within CONNECT_SECONDS is `SchedulerUnreachable`;
- a run with unfinished tasks and no worker connected for NO_WORKER_SECONDS, or whose
  connection to the scheduler is lost, is stopped: its unfinished tasks fail and the executor
  context raises `ClusterLost` with the reason (never a bare "CancelledError");
- Dask's own loggers are silenced for the duration (their tracebacks say nothing the one line
  does not), unless `quiet_logs=False`;
- a local cluster starts with Ctrl-C ignored and SIGTERM held back (its worker processes
  inherit the ignored Ctrl-C, so none of them prints a KeyboardInterrupt traceback, and no
  half-started cluster is left for Dask's exit hook to fail on); a SIGTERM that arrived
  meanwhile is acted on as soon as the cluster is up.
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, InvalidStateError, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any

KINDS = ("serial", "process", "dask")
CONNECT_SECONDS = 5.0  # a scheduler that has not answered by then is taken to be unreachable
NO_WORKER_SECONDS = 60.0  # unfinished tasks and no worker for this long: the run is stopped
POLL_SECONDS = 1.0  # how often the cluster is looked at during a run
DASK_LOGGERS = ("distributed", "tornado", "asyncio", "bokeh")

_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


class SchedulerUnreachable(ValueError):
    """The Dask scheduler address is malformed or nothing answered there (an input error)."""


class ClusterLost(RuntimeError):
    """The Dask cluster can no longer run the tasks (scheduler gone, or no worker for too long)."""


class SerialExecutor(Executor):
    """Runs each task in the calling process, in order (the reference for parallel runs)."""

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller via the future
            fut.set_exception(exc)
        return fut


def ignore_sigint() -> None:
    """A worker initialiser: the worker leaves Ctrl-C to the main process, which stops it (no
    tracebacks), and ends at once when the main process ends it (SIGTERM's default action, not
    a handler the main process had installed before the worker was forked)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def end_workers(procs: Iterable) -> None:
    """End worker processes: SIGTERM, and SIGKILL for any still alive 5 s later (a worker stuck
    in C code, or one the scheduler of a busy machine has not yet let run)."""
    procs = list(procs)
    for p in procs:
        p.terminate()
    for p in procs:
        p.join(timeout=5)
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join(timeout=5)


def terminate_pool(pool: Executor) -> None:
    """Stop a process pool now: cancel what has not started and end its worker processes."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    end_workers(procs)


def _context(mp_context, preload: Iterable[str]):
    """The multiprocessing context asked for; forkserver (with `preload`) or else spawn."""
    if mp_context is None or not isinstance(mp_context, str):
        return mp_context
    if mp_context == "forkserver":
        try:
            ctx = multiprocessing.get_context("forkserver")
        except ValueError:  # platforms without forkserver
            return multiprocessing.get_context("spawn")
        if preload:
            ctx.set_forkserver_preload(list(preload))
        return ctx
    return multiprocessing.get_context(mp_context)


@contextmanager
def _as_main(module: str | None) -> Iterator[None]:
    """While workers start, name `module` as the main one they re-import (not the caller's)."""
    main = sys.modules.get("__main__")
    spec = importlib.util.find_spec(module) if module else None
    if main is None or spec is None:
        yield
        return
    old = getattr(main, "__spec__", None)
    main.__spec__ = spec
    try:
        yield
    finally:
        main.__spec__ = old


def process_pool(workers: int, *, initializer: Callable[..., Any] | None = None, initargs: tuple = (),
                 mp_context=None, preload: Iterable[str] = (), worker_main: str | None = None,
                 start_workers: bool = False) -> ProcessPoolExecutor:
    """The one place a process pool is made (the options: see the module docstring)."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(mp_context, preload),
                               initializer=initializer, initargs=initargs)
    if start_workers:
        with _as_main(worker_main):
            for _ in range(workers):  # start every worker now, before the first task
                pool.submit(os.getpid)
    return pool


def make_executor(workers: int | None = None, **pool_options) -> Executor:
    """Serial for one worker, else a process pool (None = all cores) that the caller keeps and
    shuts down; `pool_options` are those of `process_pool`."""
    workers = workers or os.cpu_count() or 1
    if workers <= 1:
        return SerialExecutor()
    return process_pool(workers, **pool_options)


@contextmanager
def _closing_pool(pool: ProcessPoolExecutor, on_interrupt_terminate: bool) -> Iterator[ProcessPoolExecutor]:
    if not on_interrupt_terminate:
        with pool:
            yield pool
        return
    try:
        yield pool
    except BaseException:
        terminate_pool(pool)
        raise
    if getattr(pool, "_broken", False):  # a worker died: nothing left to wait for
        terminate_pool(pool)
    else:
        pool.shutdown()


def check_scheduler_address(address: str) -> None:
    """Refuse an address Dask could never connect to, before anything is loaded or run."""
    m = _ADDRESS.match(address.strip())
    if m is None or not 1 <= int(m.group(1)) <= 65535:
        raise SchedulerUnreachable(
            f"{address!r} is not a Dask scheduler address; give host:port or tcp://host:port"
            " (e.g. tcp://127.0.0.1:8786), the address the scheduler prints when it starts")


def _raiser(exc: BaseException) -> Callable[[], Any]:
    def outcome() -> Any:
        raise exc
    return outcome


def _settle(cf: Future, outcome: Callable[[], Any]) -> None:
    """Give `cf` the result of outcome() or its exception, unless it is already settled."""
    if cf.done():
        return
    try:
        value = outcome()
    except BaseException as exc:  # noqa: BLE001 - handed back to the caller via the future
        with suppress(InvalidStateError):
            cf.set_exception(exc)
        return
    with suppress(InvalidStateError):
        cf.set_result(value)


class DaskExecutor(Executor):
    """A Dask client as a `concurrent.futures.Executor`, watched so that a run cannot hang.

    A watchdog thread looks at the cluster every POLL_SECONDS; when the scheduler connection
    is lost, or no worker has been connected for NO_WORKER_SECONDS while tasks are unfinished,
    it records the reason in `lost` and fails every unfinished task with `ClusterLost`."""

    def __init__(self, client, address: str, no_worker_seconds: float | None = None) -> None:
        self._client = client
        self.address = address
        self.no_worker_seconds = NO_WORKER_SECONDS if no_worker_seconds is None else no_worker_seconds
        self.lost: str | None = None
        self.submitted = 0
        self._pending: dict[Future, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="sim dask watchdog", daemon=True)
        self._watchdog.start()

    def submit(self, fn: Callable, /, *args, **kwargs) -> Future:
        if self.lost is not None:
            raise ClusterLost(self.lost)
        cf: Future = Future()
        task = self._client.submit(fn, *args, pure=False, **kwargs)
        with self._lock:
            self._pending[cf] = task
            self.submitted += 1
        cf.add_done_callback(self._forget)
        task.add_done_callback(lambda t: self._finished(t, cf))
        return cf

    def _forget(self, cf: Future) -> None:
        with self._lock:
            task = self._pending.pop(cf, None)
        if cf.cancelled() and task is not None:  # the caller gave up on it: so does the cluster
            task.cancel()

    def _finished(self, task, cf: Future) -> None:
        """A Dask task ended: pass on its result or error; a cancelled one was lost."""
        if task.status != "cancelled":
            _settle(cf, task.result)
            return
        problem = self._connection_problem()
        if problem is not None:  # Dask cancels every task when the scheduler connection drops
            self._fail(problem)
        _settle(cf, _raiser(ClusterLost(self.lost or "the Dask task was cancelled")))

    def _connection_problem(self) -> str | None:
        status = getattr(self._client, "status", "running")
        if status == "running":
            return None
        return (f"the connection to the Dask scheduler at {self.address} was lost (it stopped, or"
                f" the network failed)")

    def _unfinished(self) -> int:
        with self._lock:
            return len(self._pending)

    def _workers(self) -> int | None:
        try:
            return int(self._client.scheduler_info(n_workers=0).get("n_workers", 0))
        except Exception:  # noqa: BLE001 - an unanswered question is judged by the connection
            return None

    def _watch(self) -> None:
        last_worker = time.monotonic()
        while not self._stop.wait(POLL_SECONDS):
            problem = self._connection_problem()
            if problem is None:
                n = self._workers()
                if n or not self._unfinished():
                    last_worker = time.monotonic()
                elif time.monotonic() - last_worker >= self.no_worker_seconds:
                    problem = (f"no Dask worker was connected to the scheduler at {self.address}"
                               f" for {self.no_worker_seconds:g} s")
            if problem is not None and self._unfinished():
                self._fail(problem)

    def _fail(self, problem: str) -> None:
        """Record why the cluster is lost and fail every unfinished task with that reason."""
        with self._lock:
            pending = dict(self._pending)
            done = self.submitted - len(pending)
            if self.lost is None:
                self.lost = (f"{problem}; {len(pending)} of {self.submitted} tasks were unfinished"
                             f" ({done} done) and the run was stopped")
        for cf, task in pending.items():
            _settle(cf, _raiser(ClusterLost(self.lost)))
            with suppress(Exception):  # the scheduler may be gone: nothing left to cancel
                task.cancel()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._stop.set()
        if cancel_futures or not wait:
            with self._lock:
                pending = list(self._pending)
            for cf in pending:
                cf.cancel()
        if threading.current_thread() is not self._watchdog:
            self._watchdog.join(timeout=2 * POLL_SECONDS)


def silence_dask_logs() -> Callable[[], None]:
    """Silence Dask's (and its network layer's) loggers; returns what restores them.

    A command-line process calls it and never restores: Dask's event loop goes on logging
    for a moment after a client is closed (a reconnection it gives up, a heartbeat), and
    those records would otherwise reach the terminal as tracebacks after the one-line error."""
    import distributed  # noqa: F401 - its import sets its loggers' levels, which this overrides

    manager = logging.Logger.manager
    names = [n for n in list(manager.loggerDict) if n.split(".")[0] in DASK_LOGGERS]
    loggers = [logging.getLogger(n) for n in {*DASK_LOGGERS, *names}]
    before = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
        lg.disabled = True

    def restore() -> None:
        for lg, level, disabled in before:
            lg.setLevel(level)
            lg.disabled = disabled
    return restore


@contextmanager
def dask_logs_quiet(quiet: bool = True) -> Iterator[None]:
    """Dask's loggers silenced for the duration, then restored (see silence_dask_logs)."""
    if not quiet:
        yield
        return
    restore = silence_dask_logs()
    try:
        yield
    finally:
        restore()


@contextmanager
def _starting() -> Iterator[None]:
    """Ctrl-C ignored (inherited by the worker processes started meanwhile) and SIGTERM held
    back while a local cluster starts; a held SIGTERM is delivered at the end."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
                signal.SIGTERM: signal.signal(signal.SIGTERM, lambda signum, _f: caught.append(signum))}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


def _connect(address: str):
    from distributed import Client  # Dask loads only when a run asks for it (a second of start-up)

    check_scheduler_address(address)
    try:
        return Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        why = "" if "timed out" in why.lower() else f" ({why})"
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {address} within {CONNECT_SECONDS:g} s{why}; is it"
            " running, and is that the address it printed when it started?") from None


@contextmanager
def open_executor(kind: str = "process", workers: int | None = None,
                  scheduler: str | None = None, quiet_logs: bool = True, *,
                  on_interrupt_terminate: bool = False, **pool_options) -> Iterator[Executor]:
    """The executor for `kind`; `workers` None means all cores; Dask with no scheduler address
    starts a local cluster of that many single-threaded worker processes.

    A process pool is made by `process_pool` with `pool_options` (initializer, initargs,
    mp_context, preload, worker_main, start_workers); with `on_interrupt_terminate` it is ended
    at once on Ctrl-C, an error or a dead worker. Serial and Dask take no pool options.

    Dask: raises SchedulerUnreachable if the scheduler does not answer, and ClusterLost when
    the run ends (normally or not) after the cluster was lost (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"executor {kind!r} is not one of {list(KINDS)}")
    workers = workers or os.cpu_count() or 1
    if kind == "serial" or (kind == "process" and workers == 1):
        yield SerialExecutor()
    elif kind == "process":
        with _closing_pool(process_pool(workers, **pool_options), on_interrupt_terminate) as pool:
            yield pool
    else:
        with dask_logs_quiet(quiet_logs):
            client = cluster = ex = None
            try:
                if scheduler:
                    client = _connect(scheduler)
                    where = scheduler
                else:
                    from distributed import Client, LocalCluster  # only when asked for, as above

                    with _starting():
                        cluster = LocalCluster(
                            n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None,
                            silence_logs=logging.CRITICAL + 1 if quiet_logs else logging.WARN)
                        client = Client(cluster, timeout=CONNECT_SECONDS)
                    where = "the local cluster"
                ex = DaskExecutor(client, where)
                try:
                    yield ex
                except Exception:
                    if ex.lost is not None:
                        raise ClusterLost(ex.lost) from None
                    raise
                if ex.lost is not None:
                    raise ClusterLost(ex.lost)
            finally:
                if ex is not None:
                    ex.shutdown(wait=False)
                with _starting():  # closing is not interrupted half-way (Dask's exit hook would fail)
                    for part in (client, cluster):
                        with suppress(Exception):  # a lost scheduler cannot be closed politely
                            if part is not None:
                                part.close(timeout=2 * CONNECT_SECONDS)
