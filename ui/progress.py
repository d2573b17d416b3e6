"""A run that can be watched while it goes: replications finish one by one in the background and
the figures so far can be read at any moment.

Why: a board member asking "what if?" should see a first answer, with its interval, after the
first few replications rather than wait for all of them. The figures so far are gathered exactly
as the finished run's are (sim.experiments.runner.gather), and the finished run is
`run_replications` itself, given the replications already done, so the last figures shown are
identical to a run made at once with the same seed: each replication's random streams come
from (seed, replication) alone.

No Streamlit here: the thread only runs replications and keeps their outputs; pages read them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, wait

from sim.experiments.runner import RepOutput, RunResults, gather, replicate, run_replications
from sim.scenario.schema import Scenario

# Replications before the first figures are shown: with fewer the 95% interval is too wide to
# say anything (Student's t for 1 degree of freedom is 12.7, for 2 it is 4.3).
FIRST_FIGURES_AFTER = 3


def wide_note(done: int, total: int) -> str:
    """The plain words shown beside figures from part of a run."""
    return (f"Based on {done} of {total} replications so far; the intervals will narrow as the rest"
            " finish.")


def busy(cpu_seconds: float) -> tuple[float, float]:
    """Pure computing for about `cpu_seconds` of CPU time: (wall seconds, CPU seconds) taken.

    Their ratio is how much slower than its own CPU time a worker runs now (1 on a quiet
    machine, 2 when it gets half a core), measured where replications run (ui/runs.py)."""
    w0, c0 = time.perf_counter(), time.process_time()
    x = 0
    while time.process_time() - c0 < cpu_seconds:
        for i in range(10_000):
            x += i * i
    return time.perf_counter() - w0, time.process_time() - c0


class Job:
    """`reps` replications of one scenario running in a thread of this process on `executor`.

    `on_done(job)` is called once, in the thread, when the run has finished (the results or the
    error are set by then)."""

    def __init__(self, scenario: Scenario, seed: int, reps: int, executor: Executor,
                 on_done: Callable[[Job], None] | None = None) -> None:
        self.scenario, self.seed, self.reps = scenario, seed, reps
        self.executor = executor
        self.on_done = on_done
        self.outputs: dict[int, RepOutput] = {}
        self.finish_times: list[float] = []   # seconds after the start at which each one finished
        self.results: RunResults | None = None
        self.error: BaseException | None = None
        self.started = time.perf_counter()
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._partial: RunResults | None = None
        self._thread = threading.Thread(target=self._run, name=f"run:{scenario.name}", daemon=True)

    def start(self) -> Job:
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def _collect(self, fut: Future) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return  # run again (and reported with its seed) by run_replications below
        out = fut.result()
        with self._lock:
            self.outputs[out.rep] = out
            self.finish_times.append(time.perf_counter() - self.started)

    def _run(self) -> None:
        try:
            futures = []
            for r in range(self.reps):  # a serial executor runs each one here, as it is submitted
                fut = self.executor.submit(replicate, self.scenario, self.seed, r)
                fut.add_done_callback(self._collect)
                futures.append(fut)
            wait(futures)
            # the finished run: the replications above as they are, any that failed run (and
            # reported) by the runner itself, gathered as a run made at once is
            self.results = run_replications(self.scenario, reps=self.reps, seed=self.seed,
                                            executor=self.executor, done=list(self.outputs.values()))
        except BaseException as exc:  # noqa: BLE001 - handed to the page that watches the run
            self.error = exc
        finally:
            self.seconds = time.perf_counter() - self.started
            self._done.set()
            if self.on_done is not None:
                self.on_done(self)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def finished(self) -> int:
        """Replications finished so far."""
        with self._lock:
            return len(self.outputs)

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def partial(self) -> RunResults | None:
        """The figures of the replications finished so far (None before FIRST_FIGURES_AFTER),
        gathered as the finished run's are; `reps` is the number finished."""
        with self._lock:
            outs = list(self.outputs.values())
        n = len(outs)
        if n < min(FIRST_FIGURES_AFTER, self.reps):
            return None
        if self._partial is None or self._partial.reps != n:
            self._partial = gather(self.scenario, self.seed, n, outs)
        return self._partial

    def seconds_left(self, workers: int) -> float | None:
        """The time still to wait, from the pace of the replications finished so far."""
        with self._lock:
            times = list(self.finish_times)
        if not times:
            return None
        elapsed = time.perf_counter() - self.started
        rounds_done = len(times) / max(1, workers)
        per_round = elapsed / max(rounds_done, 1e-9)
        left = math.ceil((self.reps - len(times)) / max(1, workers)) * per_round
        return max(0.0, left)
