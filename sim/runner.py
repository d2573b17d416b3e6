"""Replications: one function per replication, run through any concurrent.futures.Executor.

A worker receives (scenario, seed, rep) and returns that replication's monthly measures, when
the backlog the scenario declares was cleared, and its event log only when asked, so results
are identical whether replications run serially, in a process pool or on a cluster: each
replication's streams depend on (seed, rep) alone.

A replication that raises is reported with its seed and the others are kept. A worker process
that dies (killed, out of memory) breaks a process pool and every replication still running in
it; those are run again, each in a process of its own, so only a replication that kills its
worker again is reported as failed. Ctrl-C stops the run at once, whatever the executor.
"""

from __future__ import annotations

import calendar
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim.backlog import BacklogClearance, backlog_clearance
from sim.backlog import ranges as _ranges
from sim.executors import SerialExecutor
from sim.scenario import POOLS, Scenario, ScenarioError, StaffPool

if TYPE_CHECKING:  # the model and measures are imported where used: `check` stays quick
    from sim.model import RepResult, Saturation

# What one replication may ask of this machine (about 3.5 kB of memory per simulated contact);
# beyond these a run would take hours or exhaust memory, so it is refused before it starts.
MAX_CONTACTS_PER_REP = 500_000
MAX_POSTS_PER_POOL = 1_000
MAX_SIMULATED_DAYS = 5 * 366
FIRST_YEAR, LAST_YEAR = 1950, 2100

TIME_COLUMNS = (
    "arrival", "decided", "conversation_queue", "conversation_start", "conversation_end",
    "screen_queue", "screen_start", "screen_end", "direction_queue", "direction_start",
    "direction_end", "cotriage_queue", "cotriage_start", "cotriage_end", "dram_release",
    "strategy_meeting", "s47_start",
)


@dataclass
class RepOutput:
    rep: int
    monthly: pd.DataFrame
    warnings: list[Saturation]
    events: pd.DataFrame | None = None
    # when the contacts the scenario declares open at the start (`backlog`) were all decided
    # (sim.metrics.backlog_cleared_at); None if none were declared or some were still open at the end
    backlog_cleared: datetime | None = None


@dataclass
class RunResults:
    scenario: Scenario
    seed: int
    reps: int
    monthly: pd.DataFrame
    summary: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    events: pd.DataFrame | None = None
    failures: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    broken_pool: bool = False  # the executor passed in lost a worker and cannot be used again
    backlog: BacklogClearance | None = None  # when the declared contact backlog was cleared


class AllReplicationsFailed(RuntimeError):
    """No replication finished; `failures` lists each one with its seed."""

    def __init__(self, failures: list[tuple[int, str]]):
        self.failures = sorted(failures)
        super().__init__(f"every replication failed ({len(failures)}); the first: "
                         + (self.failures[0][1] if failures else "none ran"))


def events_table(res: RepResult) -> pd.DataFrame:
    """The event log of one replication as a user reads it: one row per contact, real times.

    Only contacts that arrived in the reported period are listed (warm-up and cool-down
    contacts are simulated but not reported).
    """
    c = res.contacts
    sc, cal = res.scenario, res.cal
    t0 = cal.minutes_at(sc.run.start)
    t1 = cal.minutes_at(sc.run.end) + 1440.0
    keep = (c["arrival"] >= t0) & (c["arrival"] < t1)
    c = c.loc[keep].copy()
    for col in TIME_COLUMNS:
        c[col] = cal.to_datetime(c[col].to_numpy())
    within = cal.within_one_working_day(res.contacts.loc[keep, "arrival"].to_numpy(),
                                        res.contacts.loc[keep, "decided"].to_numpy())
    c["completed_within_1wd"] = within
    pools = np.asarray(POOLS)
    for stage, pool in (("conversation", "csw"), ("direction", "ps"), ("cotriage", "cotriage")):
        s = c.pop(f"{stage}_server").to_numpy()
        c[f"{stage}_by"] = np.where(s >= 0, np.char.add(f"{pool}-", s.astype(str)), "")
    s = c.pop("screen_server").to_numpy()
    sp = c.pop("screen_pool").to_numpy()
    c["screen_by"] = np.where(s >= 0, np.char.add(np.char.add(pools[np.maximum(sp, 0)], "-"),
                                                  s.astype(str)), "")
    c.insert(0, "rep", res.rep)
    return c.reset_index(drop=True)


def saturation_summary(found: list[Saturation], reps: int, days: float) -> list[str]:
    """One line per saturated queue across replications: which, how large, from when."""
    from sim.metrics import POOL_LABELS

    lines = []
    for pool in sorted({s.pool for s in found}):
        hits = [s for s in found if s.pool == pool]
        waiting = sorted(s.waiting for s in hits)
        size = f"{waiting[0]:,}" if waiting[0] == waiting[-1] else f"{waiting[0]:,} to {waiting[-1]:,}"
        label = f"{POOL_LABELS[pool]} ({pool})" if pool in POOL_LABELS else pool
        lines.append(
            f"saturated: the {label} queue held {size} items at the end of the period, more than"
            f" {days:g} days of its own demand (about {hits[0].limit:,.0f}), in {len(hits)} of"
            f" {reps} replications, and stayed above that level from {min(s.since for s in hits)}"
            f" at the earliest; measures from then on reflect a growing backlog")
    return lines


def _walk_pools(node: object, path: str) -> Iterator[tuple[str, StaffPool]]:
    if isinstance(node, StaffPool):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _walk_pools(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, dict):
        for key, val in node.items():
            yield from _walk_pools(val, f"{path}.{key}")


def check_workload(scenario: Scenario, origin: str | None = None) -> None:
    """Refuse, before anything runs, a scenario this machine cannot simulate in bounded time
    and memory: one line naming the setting, like any invalid scenario (ScenarioError)."""
    try:
        _check_workload(scenario)
    except ScenarioError as exc:
        raise ScenarioError(f"{origin or scenario.name}: {exc}") from None


def _check_workload(scenario: Scenario) -> None:
    run = scenario.run
    warm, cool = int(round(run.warmup_days.value)), int(round(run.cooldown_days.value))
    length = (run.end - run.start).days + 1
    span = warm + length + cool
    if span > MAX_SIMULATED_DAYS:
        biggest = max((warm, "run.warmup_days"), (cool, "run.cooldown_days"), (length, "run"))[1]
        raise ScenarioError(
            f"{biggest}: warm-up {warm:,} + run {length:,} + cool-down {cool:,} days make a simulated"
            f" span of {span:,} days; the simulator handles at most {MAX_SIMULATED_DAYS:,}")
    try:
        first, last = run.start - timedelta(days=warm), run.end + timedelta(days=cool)
    except OverflowError:
        first, last = date.min, date.max
    if first.year < FIRST_YEAR or last.year > LAST_YEAR:
        raise ScenarioError(
            f"run: the simulated span {first} to {last} (with warm-up and cool-down) must lie within"
            f" {FIRST_YEAR} to {LAST_YEAR}, the years the calendar covers")
    for path, pool in _walk_pools(scenario, ""):
        est = pool.establishment
        most = max([est.default, est.range[1], *est.value.values()])
        if most > MAX_POSTS_PER_POOL:
            raise ScenarioError(
                f"{path}.establishment: up to {most:,.0f} posts (value, default or range); the"
                f" simulator handles at most {MAX_POSTS_PER_POOL:,} posts in a pool")
    demand = scenario.demand.contacts_monthly
    expected, day = 0.0, first
    while day <= last:
        expected += demand.at(day.year, day.month) / calendar.monthrange(day.year, day.month)[1]
        day += timedelta(days=1)
    if expected > MAX_CONTACTS_PER_REP:
        raise ScenarioError(
            f"demand.contacts_monthly: about {expected:,.0f} contacts in one replication ({span:,}"
            f" simulated days); the simulator handles at most {MAX_CONTACTS_PER_REP:,} (fewer"
            " contacts a month or a shorter run)")


def preload() -> None:
    """Import the model and the measures now, not inside the first replication.

    A forked worker then starts with them loaded, and an interrupt cannot land inside their
    (compiled) imports, which would leave them half-initialised for the next replication.
    """
    import sim.metrics  # noqa: F401
    import sim.model  # noqa: F401


def replicate(scenario: Scenario, seed: int, rep: int, keep_events: bool = False) -> RepOutput:
    """One replication, returning only what was asked for (top level so it pickles)."""
    from sim.metrics import backlog_cleared_at, monthly
    from sim.model import simulate

    check_workload(scenario)
    res = simulate(scenario, seed, rep)
    ev = events_table(res) if keep_events else None
    return RepOutput(rep, monthly(res), res.warnings, ev, backlog_cleared_at(res))


def make_executor(workers: int | None) -> Executor:
    """Serial for 1 worker, else a process pool (None = all cores); the caller shuts it down."""
    if workers == 1:
        return SerialExecutor()
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _failure(rep: int, seed: int, why: str) -> tuple[int, str]:
    return rep, _one_line(f"replication {rep} (seed {seed}, spawn key ({rep},)) failed: {why}")


def _raise_if_interrupted(fut: Future) -> None:
    """Ctrl-C inside a replication that ran in this process (a serial executor) stops the run."""
    if fut.done() and not fut.cancelled():
        exc = fut.exception()
        if exc is not None and not isinstance(exc, Exception):
            raise exc


class _Isolated:
    """Runs replications each in a process of its own (at most `workers` at a time), so a
    replication that kills its process loses nothing else. Ctrl-C stops every one of them."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self.workers = max(1, getattr(pool, "_max_workers", None) or os.cpu_count() or 1)
        ctx = getattr(pool, "_mp_context", None) or multiprocessing.get_context()
        if ctx.get_start_method() == "fork":  # forking from this (threaded) process can deadlock
            ctx = multiprocessing.get_context("spawn")
        self.options = {"mp_context": ctx,
                        "initializer": getattr(pool, "_initializer", None),
                        "initargs": getattr(pool, "_initargs", ())}
        self.running: set[ProcessPoolExecutor] = set()
        self.lock = threading.Lock()

    def _one(self, *args) -> RepOutput:
        with ProcessPoolExecutor(max_workers=1, **self.options) as single:
            with self.lock:
                self.running.add(single)
            try:
                return single.submit(replicate, *args).result()
            finally:
                with self.lock:
                    self.running.discard(single)

    def run(self, scenario: Scenario, seed: int, reps: list[int], keep_events: bool
            ) -> tuple[list[RepOutput], list[tuple[int, str]]]:
        outputs, failures = [], []
        threads = ThreadPoolExecutor(max_workers=min(self.workers, len(reps)))
        try:
            futures = {threads.submit(self._one, scenario, seed, r, keep_events): r for r in reps}
            for fut in as_completed(futures):
                rep = futures[fut]
                try:
                    outputs.append(fut.result())
                except BrokenProcessPool:
                    failures.append(_failure(rep, seed, "its worker process died (BrokenProcessPool),"
                                             " also when run again in a process of its own"))
                except Exception as exc:  # noqa: BLE001 - reported with its seed, the rest kept
                    failures.append(_failure(rep, seed, f"{type(exc).__name__}: {exc}"))
        except BaseException:
            with self.lock:
                for single in list(self.running):
                    terminate_pool(single)
            threads.shutdown(wait=False, cancel_futures=True)
            raise
        threads.shutdown()
        return outputs, failures


def _end_workers(pool: Executor, procs: list | None = None) -> None:
    """End a process pool's worker processes (SIGTERM) and wait a moment for each."""
    procs = list((getattr(pool, "_processes", None) or {}).values()) if procs is None else procs
    for p in procs:
        p.terminate()
    for p in procs:
        p.join(timeout=5)


def terminate_pool(pool: Executor) -> None:
    """Stop a process pool now: cancel what has not started and end its worker processes."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    _end_workers(pool, procs)


def run_replications(scenario: Scenario, reps: int | None = None, seed: int | None = None,
                     executor: Executor | None = None, keep_events: bool = False,
                     progress: Callable[[Iterable], Iterable] | None = None,
                     done: Iterable[RepOutput] = ()) -> RunResults:
    """Run `reps` replications of one scenario and gather their measures in rep order.

    `done` holds replications of this scenario and seed already run (e.g. while choosing the
    replication count): they are used as they are, not run again. Their event logs are
    needed when `keep_events` is asked for.

    Raises ScenarioError if the scenario is beyond what can be simulated (check_workload) and
    AllReplicationsFailed if no replication finished; otherwise failed replications are listed
    in `failures` with their seeds and the results of the others are returned.
    """
    check_workload(scenario)
    preload()
    reps = scenario.run.reps if reps is None else reps
    seed = scenario.run.seed if seed is None else seed
    own = executor is None
    executor = executor or SerialExecutor()
    reusable = {o.rep: o for o in done if o.rep < reps and (o.events is not None or not keep_events)}
    outputs: list[RepOutput] = list(reusable.values())
    todo = sorted(set(range(reps)) - {o.rep for o in outputs})
    failures: list[tuple[int, str]] = []
    lost: list[int] = []
    try:
        futures: dict[Future, int] = {}
        for k, r in enumerate(todo):
            try:
                fut = executor.submit(replicate, scenario, seed, r, keep_events)
            except BrokenProcessPool:
                lost.extend(todo[k:])
                break
            _raise_if_interrupted(fut)
            futures[fut] = r
        finished = _Sized(as_completed(futures), len(futures))
        for fut in finished if progress is None else progress(finished):
            rep = futures[fut]
            try:
                outputs.append(fut.result())
            except BrokenProcessPool:
                lost.append(rep)
            except Exception as exc:  # noqa: BLE001 - one failed replication must not lose the rest
                failures.append(_failure(rep, seed, f"{type(exc).__name__}: {exc}"))
    finally:
        if own:
            executor.shutdown()
    notes = []
    if lost:
        lost.sort()
        if isinstance(executor, ProcessPoolExecutor):
            # a broken pool's surviving workers would otherwise keep its shutdown waiting forever
            _end_workers(executor)
            notes.append(_one_line(
                f"a worker process died during the run (BrokenProcessPool); replications"
                f" {_ranges(lost)} were run again, each in a process of its own"))
            again, failed = _Isolated(executor).run(scenario, seed, lost, keep_events)
            outputs += again
            failures += failed
        else:
            failures += [_failure(r, seed, "its worker process died (BrokenProcessPool)") for r in lost]
    outputs.sort(key=lambda o: o.rep)
    if not outputs:
        raise AllReplicationsFailed(failures)
    from sim.metrics import summarise

    monthly_all = pd.concat([o.monthly for o in outputs], ignore_index=True)
    events = (pd.concat([o.events for o in outputs], ignore_index=True)
              if keep_events else None)
    warnings = saturation_summary([w for o in outputs for w in o.warnings], len(outputs),
                                  scenario.run.saturation_queue_days.value)
    return RunResults(scenario, seed, reps, monthly_all, summarise(monthly_all), warnings,
                      events, sorted(failures), notes, bool(lost), backlog_clearance(scenario, outputs))


class _Sized:
    """An iterator that knows its length (replications still to run), for progress bars."""

    def __init__(self, it: Iterator, n: int) -> None:
        self.it, self.n = it, n

    def __iter__(self) -> Iterator:
        return self.it

    def __len__(self) -> int:
        return self.n
