"""Experiments on scenarios: paired comparison on common random numbers.

Every scenario is run with the same seed, so replication k of each scenario sees the same
random streams. The difference between two scenarios is then taken replication by
replication (a paired difference), which removes the noise they share and gives a much
narrower interval than comparing two independent sets of runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor

import numpy as np
import pandas as pd

from sim.experiments.runner import RepOutput, RunResults, check_workload, run_replications
from sim.measures.intervals import t_critical
from sim.measures.metrics import MEASURES
from sim.scenario.schema import Scenario

PERIOD = "all months"


def _stack(monthly: pd.DataFrame, by_month: bool) -> pd.DataFrame:
    """Long table rep, month, measure, value (per month, or the period average)."""
    return per_rep(monthly, by_month).melt(ignore_index=False, var_name="measure").reset_index()


def per_rep(monthly: pd.DataFrame, by_month: bool) -> pd.DataFrame:
    """Each replication's value per measure: per month, or the monthly average over the run."""
    cols = [c for c in MEASURES if c in monthly.columns]
    if by_month:
        return monthly.set_index(["rep", "month"])[cols]
    avg = monthly.groupby("rep")[cols].mean()
    avg["month"] = PERIOD
    return avg.reset_index().set_index(["rep", "month"])


def paired_differences(results: Sequence[RunResults], by_month: bool = True,
                       level: float = 0.95) -> pd.DataFrame:
    """Each scenario's mean and its paired difference from the first, with intervals."""
    keys = ["month", "measure", "rep"]
    base = _stack(results[0].monthly, by_month).set_index(keys)["value"]
    tables = []
    for res in results:
        cur = _stack(res.monthly, by_month).set_index(keys)["value"]
        both = pd.DataFrame({"b": cur, "d": cur - base.reindex(cur.index)}).dropna(subset=["b"])
        g = both.groupby(level=["month", "measure"], sort=False)
        stats_ = g.agg(mean=("b", "mean"), sd=("b", "std"), reps=("b", "count"),
                       diff_from_first=("d", "mean"), dsd=("d", "std"), dn=("d", "count"))
        tb = t_critical(level, stats_["reps"] - 1) / np.sqrt(stats_["reps"])
        td = t_critical(level, stats_["dn"] - 1) / np.sqrt(stats_["dn"])
        stats_["ci_low"] = stats_["mean"] - tb * stats_["sd"]
        stats_["ci_high"] = stats_["mean"] + tb * stats_["sd"]
        stats_["diff_ci_low"] = stats_["diff_from_first"] - td * stats_["dsd"]
        stats_["diff_ci_high"] = stats_["diff_from_first"] + td * stats_["dsd"]
        stats_ = stats_.reset_index()
        stats_.insert(0, "scenario", res.scenario.name)
        tables.append(stats_)
    out = pd.concat(tables, ignore_index=True)
    out["label"] = out["measure"].map(lambda m: MEASURES[m][0])
    out["unit"] = out["measure"].map(lambda m: MEASURES[m][1])
    return out[["scenario", "measure", "month", "label", "unit", "mean", "ci_low", "ci_high",
                "diff_from_first", "diff_ci_low", "diff_ci_high", "reps"]]


def aligned(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """Every scenario on the first one's reported period, so months pair up."""
    first = scenarios[0].run
    return [s if (s.run.start, s.run.end) == (first.start, first.end)
            else s.with_run(start=first.start, end=first.end) for s in scenarios]


def compare(scenarios: Sequence[Scenario], reps: int, seed: int,
            executor: Executor | None = None,
            progress: Callable[[Iterable], Iterable] | None = None,
            by_month: bool = True, done: Iterable[RepOutput] = ()) -> tuple[pd.DataFrame, list[RunResults]]:
    """Run every scenario on the same replication seeds and compare each with the first.

    `done`: replications of the first scenario already run on this seed (not run again)."""
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be compared, got {names}")
    scenarios = aligned(scenarios)
    for s in scenarios:  # every one before any runs: a refusal never follows an hour of runs
        check_workload(s, reps=reps)
    results = [run_replications(s, reps=reps, seed=seed, executor=executor, progress=progress,
                                done=done if k == 0 else ())
               for k, s in enumerate(scenarios)]
    table = paired_differences(results, by_month=False)
    if by_month:
        table = pd.concat([table, paired_differences(results, by_month=True)], ignore_index=True)
    return table, results
