"""Running scenarios for the app: one shared process pool, a results cache and time estimates.

Results depend only on (scenario, seed, replications), so they are cached under exactly that
key (a hash of the scenario's JSON) and shared by every session in this server process: a
repeat question is answered at once, and two users never see each other's settings because a
key names the whole scenario. Nothing is written to disk.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from sim.experiments.compare import check_periods, comparison_table
from sim.experiments.executors import make_executor
from sim.experiments.runner import RunResults, run_replications
from sim.scenario.schema import Scenario


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
# First guess of seconds per simulated contact per replication (measured on this 2-core
# machine: about 0.5 s for a 6-month baseline replication); refined by every run.
FIRST_GUESS_SECONDS_PER_CONTACT = 1.8e-5


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
    """Seconds per simulated contact, learnt from finished runs (so estimates fit the machine)."""

    def __init__(self) -> None:
        self.per_contact = FIRST_GUESS_SECONDS_PER_CONTACT
        self._lock = threading.Lock()

    def record(self, seconds: float, contacts: float, workers: int) -> None:
        if contacts <= 0 or seconds <= 0:
            return
        observed = seconds * workers / contacts
        with self._lock:
            self.per_contact = 0.5 * self.per_contact + 0.5 * observed


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
    """About how long `reps` replications will take on this machine."""
    parallel = max(1, min(workers, reps))
    return reps * workload(scenario) * timing.per_contact / parallel + 0.3


def say_seconds(seconds: float) -> str:
    if seconds < 1.5:
        return "about a second"
    if seconds < 90:
        return f"about {seconds:.0f} seconds"
    return f"about {seconds / 60:.0f} minutes"


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
    return Timing()


def _counting(total: int, on_step: Callable[[int, int], None]) -> Callable[[Iterable], Iterator]:
    def progress(finished: Iterable) -> Iterator:
        on_step(0, total)
        for done, fut in enumerate(finished, start=1):
            on_step(done, total)
            yield fut
    return progress


def cached(scenario: Scenario, seed: int, reps: int) -> RunResults | None:
    return shared_store().get(run_key(scenario, seed, reps))


def run(scenario: Scenario, seed: int, reps: int,
        on_step: Callable[[int, int], None] | None = None) -> tuple[RunResults, float, bool]:
    """Results for (scenario, seed, reps): from the cache if there, else run now.

    Returns the results, the seconds taken and whether they came from the cache.
    """
    key = run_key(scenario, seed, reps)
    store, timing = shared_store(), shared_timing()
    hit = store.get(key)
    if hit is not None:
        return hit, 0.0, True
    progress = _counting(reps, on_step) if on_step else None
    t0 = time.perf_counter()
    res = run_replications(scenario, reps=reps, seed=seed, executor=shared_pool(), progress=progress)
    if any("BrokenProcessPool" in f for _, f in res.failures):
        # a worker died (e.g. killed): start a fresh pool and run once more
        shared_pool.clear()
        res = run_replications(scenario, reps=reps, seed=seed, executor=shared_pool(),
                               progress=progress)
    seconds = time.perf_counter() - t0
    if not res.failures:
        store.put(key, res)
        timing.record(seconds, workload(scenario) * reps, max(1, min(WORKERS, reps)))
    return res, seconds, False


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
