"""Experiments on scenarios: paired comparison on common random numbers.

Every scenario is run with the same seed, so replication k of each scenario sees the same
random streams. The difference between two scenarios is then taken replication by
replication (a paired difference), which removes the noise they share and gives a much
narrower interval than comparing two independent sets of runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.metrics import MEASURES
from sim.runner import RunResults, run_replications
from sim.scenario import Scenario

PERIOD = "all months"


def _t_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if len(x) < 2:
        return m, np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return m, m - half, m + half


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
    base = per_rep(results[0].monthly, by_month)
    rows = []
    for res in results:
        cur = per_rep(res.monthly, by_month)
        common = base.index.intersection(cur.index)
        for month in common.get_level_values("month").unique():
            idx = common[common.get_level_values("month") == month]
            for m in cur.columns:
                a = base.loc[idx, m].to_numpy(dtype=float)
                b = cur.loc[idx, m].to_numpy(dtype=float)
                mean, lo, hi = _t_interval(b, level)
                d, dlo, dhi = _t_interval(b - a, level)
                rows.append({"scenario": res.scenario.name, "measure": m, "month": month,
                             "label": MEASURES[m][0], "unit": MEASURES[m][1], "mean": mean,
                             "ci_low": lo, "ci_high": hi, "diff_from_first": d,
                             "diff_ci_low": dlo, "diff_ci_high": dhi, "reps": len(idx)})
    return pd.DataFrame(rows)


def aligned(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """Every scenario on the first one's reported period, so months pair up."""
    first = scenarios[0].run
    return [s if (s.run.start, s.run.end) == (first.start, first.end)
            else s.with_run(start=first.start, end=first.end) for s in scenarios]


def compare(scenarios: Sequence[Scenario], reps: int, seed: int,
            executor: Executor | None = None,
            progress: Callable[[Iterable], Iterable] | None = None,
            by_month: bool = True) -> tuple[pd.DataFrame, list[RunResults]]:
    """Run every scenario on the same replication seeds and compare each with the first."""
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be compared, got {names}")
    scenarios = aligned(scenarios)
    results = [run_replications(s, reps=reps, seed=seed, executor=executor, progress=progress)
               for s in scenarios]
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
        half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
        rows[n] = (half / x.mean().abs()).replace([np.inf], np.nan)
    return pd.DataFrame(rows).T.rename_axis("reps")


def choose_reps(scenario: Scenario, seed: int | None = None, precision: float = 0.05,
                measures: Sequence[str] = AUTO_MEASURES, min_reps: int = 5, max_reps: int = 100,
                look_ahead: int = 5, batch: int = 2, executor: Executor | None = None,
                progress: Callable[[Iterable], Iterable] | None = None) -> RepsChoice:
    """Hoad, Robinson and Davies (2010): add replications until the relative half-width of
    every chosen measure is within `precision` and stays there for `look_ahead` more."""
    seed = scenario.run.seed if seed is None else seed
    monthly = pd.DataFrame()
    n = 0
    while n < max_reps:
        more = list(range(n, min(n + batch, max_reps)))
        res = [run_replications_range(scenario, seed, more, executor)]
        monthly = pd.concat([monthly, *res], ignore_index=True)
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
    return RepsChoice(chosen, n, precision, trace, results)


def run_replications_range(scenario: Scenario, seed: int, reps: Sequence[int],
                           executor: Executor | None) -> pd.DataFrame:
    """Monthly measures of the given replication numbers (same streams as in any full run)."""
    from sim.runner import replicate

    if executor is None:
        outs = [replicate(scenario, seed, r) for r in reps]
    else:
        outs = [f.result() for f in [executor.submit(replicate, scenario, seed, r) for r in reps]]
    return pd.concat([o.monthly for o in outs], ignore_index=True)
