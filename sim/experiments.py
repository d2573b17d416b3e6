"""Experiments on scenarios: paired comparison on common random numbers.

Every scenario is run with the same seed, so replication k of each scenario sees the same
random streams. The difference between two scenarios is then taken replication by
replication (a paired difference), which removes the noise they share and gives a much
narrower interval than comparing two independent sets of runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.intervals import t_critical
from sim.metrics import MEASURES
from sim.runner import RepOutput, RunResults, check_workload, run_replications
from sim.scenario import Scenario

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


# ---------------------------------------------------------------------------------------------
# how many replications


AUTO_MEASURES = ("pct_completed_within_1wd", "pct_contacts_to_referral", "contacts")


@dataclass
class RepsChoice:
    chosen: int  # first count at which every measure met the precision, and kept meeting it
    ran: int  # replications run (chosen + look-ahead), all kept in `results`
    precision: float
    trace: pd.DataFrame  # relative half-width per measure after each replication
    results: RunResults
    outputs: list[RepOutput] = field(default_factory=list)  # each replication run, to reuse

    def message(self) -> str:
        return (f"replications: {self.chosen} bring the 95% half-width of"
                f" {', '.join(self.trace.columns)} within {self.precision:.1%} of the mean"
                f" (checked over {self.ran - self.chosen} more); {self.ran} run and used")


def relative_half_widths(monthly: pd.DataFrame, measures: Sequence[str],
                         level: float = 0.95) -> pd.DataFrame:
    """After n = 2, 3, ... replications: t half-width / |mean| of each measure's period average."""
    per = per_rep(monthly, by_month=False).reset_index(level="month", drop=True)
    per = per.sort_index()[list(measures)]
    rows = {}
    for n in range(2, len(per) + 1):
        x = per.iloc[:n]
        half = t_critical(level, n - 1) * x.std(ddof=1) / np.sqrt(n)
        rows[n] = (half / x.mean().abs()).replace([np.inf], np.nan)
    return pd.DataFrame(rows).T.rename_axis("reps")


def choose_reps(scenario: Scenario, seed: int | None = None, precision: float = 0.05,
                measures: Sequence[str] = AUTO_MEASURES, min_reps: int = 5, max_reps: int = 100,
                look_ahead: int = 5, batch: int = 2, executor: Executor | None = None,
                progress: Callable[[Iterable], Iterable] | None = None,
                keep_events: bool | str = False) -> RepsChoice:
    """Hoad, Robinson and Davies (2010): add replications until the relative half-width of
    every chosen measure is within `precision` and stays there for `look_ahead` more.

    `keep_events`: keep each replication's event log too (True), or replication 0's only
    ("first"), so a run that writes them can reuse these replications (`outputs`) instead of
    running them again."""
    seed = scenario.run.seed if seed is None else seed
    check_workload(scenario, reps=max_reps)
    monthly = pd.DataFrame()
    outputs: list[RepOutput] = []
    n = 0
    while n < max_reps:
        more = list(range(n, min(n + batch, max_reps)))
        outs = run_replications_range(scenario, seed, more, executor, keep_events)
        outputs += outs
        monthly = pd.concat([monthly, *(o.monthly for o in outs)], ignore_index=True)
        n = more[-1] + 1
        if progress is not None:
            progress(n)
        trace = relative_half_widths(monthly, measures)
        ok = (trace <= precision).all(axis=1)
        met = [k for k in ok.index if k >= min_reps and ok.loc[k:].all()]
        if met and n - met[0] >= look_ahead:
            chosen = met[0]
            break
    else:
        trace = relative_half_widths(monthly, measures)
        chosen = n
    from sim.metrics import summarise

    results = RunResults(scenario, seed, n, monthly, summarise(monthly))
    if chosen >= max_reps:
        results.warnings.append(f"precision {precision:.1%} not reached within {max_reps} replications")
    return RepsChoice(chosen, n, precision, trace, results, outputs)


def run_replications_range(scenario: Scenario, seed: int, reps: Sequence[int],
                           executor: Executor | None, keep_events: bool | str = False) -> list[RepOutput]:
    """The given replication numbers (same streams as in any full run), in that order."""
    from sim.runner import keeps_events, replicate

    if executor is None:
        return [replicate(scenario, seed, r, keeps_events(keep_events, r)) for r in reps]
    return [f.result() for f in [executor.submit(replicate, scenario, seed, r, keeps_events(keep_events, r))
                                 for r in reps]]
