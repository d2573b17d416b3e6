"""Replications: one function per replication, run through any concurrent.futures.Executor.

A worker receives (scenario, seed, rep) and returns that replication's monthly measures (and
its event log only when asked), so results are identical whether replications run serially,
in a process pool or on a cluster: each replication's streams depend on (seed, rep) alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.executors import SerialExecutor
from sim.metrics import monthly, summarise
from sim.model import RepResult, Saturation, simulate
from sim.scenario import POOLS, Scenario

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
    """One line per saturated queue across replications: how often, how large, from when."""
    lines = []
    for pool in sorted({s.pool for s in found}):
        hits = [s for s in found if s.pool == pool]
        waiting = [s.waiting for s in hits]
        lines.append(
            f"saturated: the {pool} queue ended the period above {days:g} days of its own demand"
            f" in {len(hits)} of {reps} replications, with {min(waiting)} to {max(waiting)}"
            f" items waiting (limit about {hits[0].limit:.0f}), from {min(s.since for s in hits)}"
            f" at the earliest; measures from then on reflect a growing backlog")
    return lines


def replicate(scenario: Scenario, seed: int, rep: int, keep_events: bool = False) -> RepOutput:
    """One replication, returning only what was asked for (top level so it pickles)."""
    res = simulate(scenario, seed, rep)
    ev = events_table(res) if keep_events else None
    return RepOutput(rep, monthly(res), res.warnings, ev)


def make_executor(workers: int | None) -> Executor:
    """Serial for 1 worker, else a process pool (None = all cores); the caller shuts it down."""
    if workers == 1:
        return SerialExecutor()
    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1)


def run_replications(scenario: Scenario, reps: int | None = None, seed: int | None = None,
                     executor: Executor | None = None, keep_events: bool = False,
                     progress: Callable[[Iterable], Iterable] | None = None) -> RunResults:
    """Run `reps` replications of one scenario and gather their measures in rep order."""
    reps = scenario.run.reps if reps is None else reps
    seed = scenario.run.seed if seed is None else seed
    own = executor is None
    executor = executor or SerialExecutor()
    try:
        futures = {executor.submit(replicate, scenario, seed, r, keep_events): r
                   for r in range(reps)}
        outputs: list[RepOutput] = []
        failures: list[tuple[int, str]] = []
        finished = as_completed(futures)
        for fut in finished if progress is None else progress(finished):
            rep = futures[fut]
            try:
                outputs.append(fut.result())
            except Exception as exc:  # noqa: BLE001 - one failed replication must not lose the rest
                failures.append((rep, f"replication {rep} (seed {seed}, spawn key ({rep},))"
                                      f" failed: {type(exc).__name__}: {exc}"))
    finally:
        if own:
            executor.shutdown()
    outputs.sort(key=lambda o: o.rep)
    if not outputs:
        raise RuntimeError("every replication failed: " + "; ".join(f for _, f in failures))
    monthly_all = pd.concat([o.monthly for o in outputs], ignore_index=True)
    events = (pd.concat([o.events for o in outputs], ignore_index=True)
              if keep_events else None)
    warnings = saturation_summary([w for o in outputs for w in o.warnings], len(outputs),
                                  scenario.run.saturation_queue_days.value)
    return RunResults(scenario, seed, reps, monthly_all, summarise(monthly_all), warnings,
                      events, sorted(failures))

