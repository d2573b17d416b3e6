"""How many replications: add them until every chosen measure's 95% interval is narrow enough
(Hoad, Robinson and Davies 2010), and keep the ones run so a command can reuse them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.experiments.compare import per_rep
from sim.experiments.runner import RepOutput, RunResults, check_workload, keeps_events, replicate
from sim.measures.intervals import t_critical
from sim.measures.metrics import summarise
from sim.scenario.schema import Scenario

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

    results = RunResults(scenario, seed, n, monthly, summarise(monthly))
    if chosen >= max_reps:
        results.warnings.append(f"precision {precision:.1%} not reached within {max_reps} replications")
    return RepsChoice(chosen, n, precision, trace, results, outputs)


def run_replications_range(scenario: Scenario, seed: int, reps: Sequence[int],
                           executor: Executor | None, keep_events: bool | str = False) -> list[RepOutput]:
    """The given replication numbers (same streams as in any full run), in that order."""
    if executor is None:
        return [replicate(scenario, seed, r, keeps_events(keep_events, r)) for r in reps]
    return [f.result() for f in [executor.submit(replicate, scenario, seed, r, keeps_events(keep_events, r))
                                 for r in reps]]
