"""Experiments on scenarios: paired comparison on common random numbers.

Every scenario is run with the same seed, so replication k of each scenario sees the same
random streams. The difference between two scenarios is then taken replication by
replication (a paired difference), which removes the noise they share and gives a much
narrower interval than comparing two independent sets of runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from datetime import date

import numpy as np
import pandas as pd

from sim.experiments.runner import RepOutput, RunResults, check_workload, run_replications
from sim.measures.intervals import t_critical
from sim.measures.metrics import COMPARISON_MEASURES, MEASURES, SUMMABLE, month_fractions, savings
from sim.scenario.schema import Scenario, ScenarioError

PERIOD = "all months"  # each measure's monthly average over the period
TOTAL = "period total"  # the sum of the months (counts and hours only), per replication
SUMMARY_ROWS = (PERIOD, TOTAL)
LABELS = {**MEASURES, **COMPARISON_MEASURES}


class PeriodMismatch(ScenarioError):
    """Scenarios whose reported periods differ, compared without asking to align them."""


def period(sc: Scenario) -> tuple[date, date]:
    """The first and last reported day."""
    return sc.run.start, sc.run.end


def period_text(sc: Scenario) -> str:
    return f"{sc.run.start} to {sc.run.end}"


def months_words(months: Sequence[str]) -> str:
    """'July to December 2023 (6 months)'."""
    if not months:
        return "no months"
    first, last = pd.Timestamp(f"{months[0]}-01"), pd.Timestamp(f"{months[-1]}-01")
    n = len(months)
    count = f"{n} month{'s' if n != 1 else ''}"
    if n == 1:
        return f"{first:%B %Y} (1 month)"
    if first.year == last.year:
        return f"{first:%B} to {last:%B %Y} ({count})"
    return f"{first:%B %Y} to {last:%B %Y} ({count})"


def per_rep(monthly: pd.DataFrame, by_month: bool, total: bool = False) -> pd.DataFrame:
    """Each replication's value per measure: per month, the monthly average over the run, or
    (`total`) the sum over the run's months of the measures that add up (`SUMMABLE`)."""
    cols = [c for c in MEASURES if c in monthly.columns]
    if by_month:
        return monthly.set_index(["rep", "month"])[cols]
    if total:
        summed = [c for c in cols if c in SUMMABLE]
        agg = monthly.groupby("rep")[summed].sum(min_count=1)
        agg["month"] = TOTAL
    else:
        agg = monthly.groupby("rep")[cols].mean()
        agg["month"] = PERIOD
    return agg.reset_index().set_index(["rep", "month"])


def _months(res: RunResults, index: pd.Index) -> pd.Series:
    """Each row's length in months (a part month by its days; the period by all of them)."""
    frac = month_fractions(res.scenario.run.start, res.scenario.run.end)
    whole = sum(frac.values())
    n = len(frac)
    month = index.get_level_values("month")
    return pd.Series([frac.get(m, whole if m == TOTAL else whole / n) for m in month], index=index)


def _values(res: RunResults, ref: RunResults, by_month: bool, total: bool) -> pd.Series:
    """(month, measure, rep) -> value: the scenario's measures and its savings against `ref`."""
    keys = ["month", "measure", "rep"]
    own = per_rep(res.monthly, by_month, total)
    base = per_rep(ref.monthly, by_month, total)
    if {"ps_task_hours", "referrals"} <= set(own.columns):
        saved = savings(base, own, _months(res, own.index))
        own = own.join(saved)
    return own.melt(ignore_index=False, var_name="measure").reset_index().set_index(keys)["value"]


def paired_differences(results: Sequence[RunResults], by_month: bool = True,
                       level: float = 0.95, total: bool = False) -> pd.DataFrame:
    """Each scenario's mean and its paired difference from the first, with intervals.

    Per month (`by_month`), else the monthly average over the period, or with `total` the
    period's total (each replication's months summed first, then the interval across
    replications). The savings against the first scenario (`COMPARISON_MEASURES`) are already
    differences: their mean and difference are the same number."""
    ref = results[0]
    base = _values(ref, ref, by_month, total)
    tables = []
    for res in results:
        cur = _values(res, ref, by_month, total)
        both = pd.DataFrame({"b": cur, "d": cur - base.reindex(cur.index)}).dropna(subset=["b"])
        saved = both.index.get_level_values("measure").isin(list(COMPARISON_MEASURES))
        both.loc[saved, "d"] = both.loc[saved, "b"]
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
        stats_["first_day"] = str(res.scenario.run.start)
        stats_["last_day"] = str(res.scenario.run.end)
        tables.append(stats_)
    out = pd.concat(tables, ignore_index=True)
    out["label"] = out["measure"].map(lambda m: LABELS[m][0])
    out["unit"] = out["measure"].map(lambda m: LABELS[m][1])
    return out[["scenario", "measure", "month", "label", "unit", "mean", "ci_low", "ci_high",
                "diff_from_first", "diff_ci_low", "diff_ci_high", "reps", "first_day", "last_day"]]


def comparison_table(results: Sequence[RunResults], by_month: bool = True) -> pd.DataFrame:
    """The whole comparison: the period average, the period total, then each month."""
    parts = [paired_differences(results, by_month=False),
             paired_differences(results, by_month=False, total=True)]
    if by_month:
        parts.append(paired_differences(results, by_month=True))
    return pd.concat(parts, ignore_index=True)


def moved(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """The scenarios after the first whose reported period is not the first one's."""
    first = period(scenarios[0])
    return [s for s in scenarios[1:] if period(s) != first]


def aligned(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """Every scenario on the first one's reported period, so months pair up."""
    first = scenarios[0].run
    return [s if (s.run.start, s.run.end) == (first.start, first.end)
            else s.with_run(start=first.start, end=first.end) for s in scenarios]


def check_periods(scenarios: Sequence[Scenario], align: bool = False) -> tuple[list[Scenario], list[str]]:
    """The scenarios to run and what was moved, one sentence each; scenarios whose periods differ
    are refused (`PeriodMismatch`, one line naming both periods) unless `align` puts each on the
    first one's period. One rule for the command line and the app."""
    shifted = moved(scenarios)
    if not shifted:
        return list(scenarios), []
    ref = scenarios[0]
    if not align:
        s = shifted[0]
        more = f" (and {len(shifted) - 1} more)" if len(shifted) > 1 else ""
        raise PeriodMismatch(
            f"compare: '{s.name}' reports {period_text(s)} but the reference '{ref.name}' reports"
            f" {period_text(ref)}{more}; months must pair up: give scenarios with the same period,"
            " set it for all with --start and --end, or add --align to run every one on the"
            " reference's period")
    said = [f"'{s.name}' moved from {period_text(s)} (its file) to {period_text(ref)} (the reference's)"
            for s in shifted]
    return aligned(scenarios), said


def compare(scenarios: Sequence[Scenario], reps: int, seed: int,
            executor: Executor | None = None,
            progress: Callable[[Iterable], Iterable] | None = None,
            by_month: bool = True, done: Iterable[RepOutput] = (),
            align: bool = False) -> tuple[pd.DataFrame, list[RunResults]]:
    """Run every scenario on the same replication seeds and compare each with the first.

    Scenarios whose periods differ are refused unless `align` (`check_periods`).
    `done`: replications of the first scenario already run on this seed (not run again)."""
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be compared, got {names}")
    scenarios, _ = check_periods(scenarios, align)
    for s in scenarios:  # every one before any runs: a refusal never follows an hour of runs
        check_workload(s, reps=reps)
    results = [run_replications(s, reps=reps, seed=seed, executor=executor, progress=progress,
                                done=done if k == 0 else ())
               for k, s in enumerate(scenarios)]
    return comparison_table(results, by_month), results
