"""Running scenarios for the app: one shared process pool, runs watched as they go (ui/progress.py),
a results cache and time estimates.

Results depend only on (scenario, seed, replications), so they are cached under exactly that
key (a hash of the scenario's JSON) and shared by every session in this server process: a
repeat question is answered at once, and two users never see each other's settings because a
key names the whole scenario. Nothing is written to disk.
"""

from __future__ import annotations

import calendar
import hashlib
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from sim.experiments.compare import check_periods, comparison_table
from sim.experiments.executors import make_executor
from sim.experiments.runner import RunResults
from sim.scenario.schema import Scenario
from ui.progress import Job, busy


def _env_int(name: str, default: int, lo: int, hi: int) -> int:
    try:
        return min(hi, max(lo, int(os.environ.get(name, default))))
    except ValueError:
        return default


# Replications on first open (a sound answer in a few seconds); tests set fewer.
DEFAULT_REPS = _env_int("FRONT_DOOR_REPS", 10, 2, 1000)
MAX_REPS = _env_int("FRONT_DOOR_MAX_REPS", 500, 2, 10_000)
WORKERS = _env_int("FRONT_DOOR_WORKERS", 2, 1, 64)
PRELOAD = ("sim.experiments.runner", "sim.model.replication", "sim.measures.metrics")  # in every app worker
LONG_RUN_SECONDS = 60.0
CACHE_ITEMS = 64
# First guess of seconds per simulated contact for one replication in one worker, until this
# process has timed a run of its own: one 6-month baseline replication (about 28,200 contacts
# with warm-up and run-on) took 0.7 to 0.9 s on this 2-core machine, quiet (2026-12).
FIRST_GUESS_SECONDS_PER_CONTACT = 2.8e-5
# Seconds a run takes besides its replications: sending the scenario to the workers, gathering
# and summarising the results.
RUN_OVERHEAD_SECONDS = 0.3
CALIBRATE_CPU_SECONDS = 0.15  # each worker's calibrating computation, before the first estimate


def run_key(scenario: Scenario, seed: int, reps: int) -> str:
    """The cache key: the whole scenario, the seed and the number of replications."""
    digest = hashlib.sha256(scenario.model_dump_json().encode("utf-8")).hexdigest()[:24]
    return f"{digest}:{seed}:{reps}"


class ResultStore:
    """A small least-recently-used store of finished runs, safe to share between sessions."""

    def __init__(self, max_items: int = CACHE_ITEMS) -> None:
        self._items: OrderedDict[str, RunResults] = OrderedDict()
        self._lock = threading.Lock()
        self.max_items = max_items

    def get(self, key: str) -> RunResults | None:
        with self._lock:
            res = self._items.get(key)
            if res is not None:
                self._items.move_to_end(key)
            return res

    def put(self, key: str, res: RunResults) -> None:
        with self._lock:
            self._items[key] = res
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


class Timing:
    """Seconds per simulated contact in one worker, learnt from the runs finished in this process
    (so an estimate fits this machine and how busy it is now)."""

    def __init__(self) -> None:
        self.per_contact = FIRST_GUESS_SECONDS_PER_CONTACT
        self.measured = 0   # runs the figure is learnt from (0: still the first guess)
        self.slowdown = 1.0  # how much slower than quiet the workers run now (calibrate)
        self._lock = threading.Lock()

    def calibrate(self, pool: Executor, workers: int) -> None:
        """Measure, before any run, how busy the machine is where replications run: every worker
        computes for CALIBRATE_CPU_SECONDS at once, and its wall time over its CPU time is how much
        slower than the quiet first guess a replication will run now."""
        try:
            futs = [pool.submit(busy, CALIBRATE_CPU_SECONDS) for _ in range(max(1, workers))]
            ratios = sorted(wall / max(cpu, 1e-6) for wall, cpu in (f.result(timeout=30) for f in futs))
        except Exception:  # noqa: BLE001 - no calibration: the first guess stands
            return
        with self._lock:
            self.slowdown = max(1.0, ratios[len(ratios) // 2])

    def seconds_per_contact(self) -> float:
        """The pace to estimate with: measured, or the quiet first guess times the slowdown now."""
        return self.per_contact if self.measured else self.per_contact * self.slowdown

    def record(self, seconds: float, contacts: float, workers: int, reps: int = 0) -> None:
        """Learn from a run of `reps` replications of `contacts` each that took `seconds`.

        Replications run `workers` at a time, so a run takes ceil(reps / workers) rounds of one
        replication each (a run given as total contacts, reps 0, is taken as evenly shared)."""
        if contacts <= 0 or seconds <= 0:
            return
        if reps > 0:
            observed = max(seconds - RUN_OVERHEAD_SECONDS, 0.05) / (rounds(reps, workers) * contacts)
        else:
            observed = seconds * workers / contacts
        with self._lock:
            weight = 1.0 if self.measured == 0 else 0.5  # the first measurement replaces the guess
            self.per_contact = (1 - weight) * self.per_contact + weight * observed
            self.measured += 1


def rounds(reps: int, workers: int) -> int:
    """How many replications one worker runs in turn when `reps` are shared among `workers`."""
    return math.ceil(reps / max(1, min(workers, reps)))


def workload(scenario: Scenario) -> float:
    """Contacts one replication simulates, warm-up and run-on included."""
    run, demand = scenario.run, scenario.demand.contacts_monthly
    day = run.start - timedelta(days=int(run.warmup_days.value))
    last = run.end + timedelta(days=int(run.cooldown_days.value))
    total = 0.0
    while day <= last:
        days_in_month = calendar.monthrange(day.year, day.month)[1]
        month_end = min(last, date(day.year, day.month, days_in_month))
        n = (month_end - day).days + 1
        total += demand.at(day.year, day.month) * n / days_in_month
        day = month_end + timedelta(days=1)
    return total


def estimate_seconds(scenario: Scenario, reps: int, timing: Timing, workers: int = WORKERS) -> float:
    """About how long `reps` replications will take on this machine: the rounds of replications
    the workers run in turn, each as long as this scenario's contacts take at the pace measured."""
    return rounds(reps, workers) * workload(scenario) * timing.seconds_per_contact() + RUN_OVERHEAD_SECONDS


def say_seconds(seconds: float) -> str:
    if seconds < 1.5:
        return "about a second"
    if seconds < 90:
        return f"about {seconds:.0f} seconds"
    return f"about {seconds / 60:.0f} minutes"


def long_run_confirmed(secs: float, warning: str, where: str) -> bool:
    """True unless the work takes over LONG_RUN_SECONDS: then the page warns (`warning`, after
    the time it will take) and it is True only once the user ticks "Yes, run it anyway"."""
    if secs <= LONG_RUN_SECONDS:
        return True
    st.warning(f"This will take {say_seconds(secs)}. {warning}")
    return st.checkbox("Yes, run it anyway", key=f"confirm_long:{where}")


def make_pool(workers: int) -> Executor:
    """Serial for one worker; otherwise a process pool started from a clean server process.

    The pool's workers are forked from a small server process that has already imported the
    simulator, model and measures (so the first task starts at once, not after a second of
    imports), never from the web server itself, which runs threads that a plain fork could
    copy in a locked state; they take ui/worker_main.py as their main module, not the app, and
    all start now, before the first question.
    """
    return make_executor(workers, mp_context="forkserver", preload=PRELOAD,
                         worker_main="ui.worker_main", start_workers=True)


@st.cache_resource(show_spinner=False)
def shared_pool() -> Executor:
    return make_pool(WORKERS)


@st.cache_resource(show_spinner=False)
def shared_store() -> ResultStore:
    return ResultStore()


@st.cache_resource(show_spinner=False)
def shared_timing() -> Timing:
    timing = Timing()
    timing.calibrate(shared_pool(), WORKERS)
    return timing


@st.cache_resource(show_spinner=False)
def shared_jobs() -> Jobs:
    return Jobs()


class Jobs:
    """The runs going on now, by cache key: a second page or session asking for the same run
    watches the one already going instead of starting another."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def start(self, key: str, make: Callable[[], Job]) -> Job:
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                job = self._jobs[key] = make()
                job.start()
            return job

    def drop(self, key: str, job: Job) -> None:
        with self._lock:
            if self._jobs.get(key) is job:
                del self._jobs[key]


def cached(scenario: Scenario, seed: int, reps: int) -> RunResults | None:
    return shared_store().get(run_key(scenario, seed, reps))


def running(scenario: Scenario, seed: int, reps: int) -> Job | None:
    """The run of exactly this scenario, seed and replications going on now, if any."""
    job = shared_jobs().get(run_key(scenario, seed, reps))
    return job if job is not None and not job.done else None


def start(scenario: Scenario, seed: int, reps: int) -> Job:
    """Start (or join) the run of (scenario, seed, reps) in the background; when it finishes
    its results go into the shared cache and its time into the estimates."""
    key = run_key(scenario, seed, reps)
    store, timing, jobs = shared_store(), shared_timing(), shared_jobs()
    pool = shared_pool()

    def finished(job: Job) -> None:
        res = job.results
        if res is not None and not res.failures:
            store.put(key, res)
            timing.record(job.seconds, workload(scenario), WORKERS, reps)
        jobs.drop(key, job)

    return jobs.start(key, lambda: Job(scenario, seed, reps, pool, on_done=finished))


def broken(job: Job) -> bool:
    return isinstance(job.error, BrokenProcessPool) or (
        job.results is not None and any("BrokenProcessPool" in f for _, f in job.results.failures))


def outcome(job: Job) -> RunResults:
    """The results of a finished run; RuntimeError (one line) if none came back."""
    if job.error is not None and not isinstance(job.error, BrokenProcessPool):
        raise RuntimeError(str(job.error)) if not isinstance(job.error, RuntimeError) else job.error
    if job.results is None:
        raise RuntimeError(f"the run of '{job.scenario.name}' ended without results")
    return job.results


def run(scenario: Scenario, seed: int, reps: int,
        on_step: Callable[[int, int], None] | None = None) -> tuple[RunResults, float, bool]:
    """Results for (scenario, seed, reps): from the cache if there, else run now and wait.

    Returns the results, the seconds taken and whether they came from the cache.
    """
    hit = cached(scenario, seed, reps)
    if hit is not None:
        return hit, 0.0, True
    job = start(scenario, seed, reps)
    seen = -1
    while not job.wait(0.2):
        if on_step is not None and job.finished != seen:
            seen = job.finished
            on_step(seen, reps)
    if broken(job):
        # a worker died (e.g. killed): start a fresh pool and run once more
        shared_pool.clear()
        job = start(scenario, seed, reps)
        job.wait()
    res = outcome(job)
    if on_step is not None:
        on_step(reps, reps)
    return res, job.seconds, False


def compare(scenarios: list[Scenario], seed: int, reps: int,
            on_step: Callable[[int, int, int, int], None] | None = None, align: bool = False
            ) -> tuple[pd.DataFrame, list[RunResults]]:
    """Paired comparison on common random numbers, each scenario's run taken from the cache.

    The same as `sim.experiments.compare` (periods that differ refused unless `align` puts every
    scenario on the first one's; the same seed; differences taken replication by replication from
    the first), but a scenario already run with this seed and number of replications is not run again.
    """
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be compared, got {names}")
    scenarios, _ = check_periods(scenarios, align)
    results = []
    for i, sc in enumerate(scenarios):
        step = (lambda d, n, i=i: on_step(i, len(scenarios), d, n)) if on_step else None
        res, _, _ = run(sc, seed, reps, step)
        results.append(res)
    return comparison_table(results), results
