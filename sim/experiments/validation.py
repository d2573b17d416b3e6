"""Validation: the calibrated baseline against every reported month, fitted and held out.

For each measure and month the simulated band is the central 95% of replications (where one
real month would fall if the model were right), beside the mean and its 95% interval. A
reported value inside the band is "covered". The held-out months (October to December 2023)
were not used by the calibration.

Coverage rewards a wide band, so each cell also carries the band's width and the CRPS of the
replications against the reported value (sim.measures.scores), and each held-out cell the skill
of that CRPS against a naive forecast: the mean of the reported July-September values carried
forward. The month-to-month change within a replication is set beside the reported one, and
the share completed within 1 working day is differentiated by demand (sim.experiments.elasticity).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.calibrate import CONFIG, CalibrationConfig, load_config
from sim.experiments.elasticity import demand_elasticities
from sim.experiments.runner import RunResults, run_replications
from sim.io.observed import observed_monthly
from sim.measures.metrics import MEASURES
from sim.measures.scores import crps_ensemble, crps_point, mean_abs_change, skill
from sim.scenario.loading import load
from sim.scenario.schema import Scenario

VOLUME_TOLERANCE = 0.03  # contacts and police contacts within 3% of reported (issue threshold)
COVERAGE_THRESHOLD = 0.80  # share of held-out cells whose reported value is inside the band


@dataclass
class Validation:
    cells: pd.DataFrame  # one row per measure x month
    by_measure: pd.DataFrame  # fit table: MAPE and coverage per measure
    results: RunResults
    config: CalibrationConfig
    changes: pd.DataFrame  # mean month-to-month change per measure, simulated and reported
    elasticities: pd.DataFrame | None = None  # the 1-working-day share by demand (None: not run)

    @property
    def holdout(self) -> pd.DataFrame:
        return self.cells[(self.cells["period"] == "held out") & self.cells["validated"]]

    @property
    def coverage(self) -> float:
        return float(self.holdout["inside_band"].mean())

    @property
    def worst_volume_error(self) -> float:
        v = self.cells[self.cells["measure"].isin(["contacts", "police_contacts"])]
        return float(v["abs_pct_error"].max())

    @property
    def scores(self) -> pd.DataFrame:
        """Per measure: mean CRPS over the held-out months, the naive's and the skill; the
        widest band over every reported month."""
        rows = []
        for measure, c in self.cells.groupby("measure", sort=False):
            held = c[c["period"] == "held out"]
            model, naive = float(held["crps"].mean()), float(held["crps_naive"].mean())
            widest = c.loc[c["band_width"].idxmax()]
            rows.append({"measure": measure, "label": c["label"].iloc[0], "crps": model,
                         "crps_naive": naive, "skill": skill(model, naive),
                         "widest_band": float(widest["band_width"]), "widest_month": widest["month"],
                         "validated": bool(c["validated"].iloc[0])})
        return pd.DataFrame(rows)

    @property
    def history(self) -> pd.DataFrame:
        """The figures the history effects must meet (`history_checks`)."""
        return history_checks(self.results.monthly)

    def rise(self, measure: str, first: str, last: str) -> tuple[float, float]:
        """(simulated, reported) change in a measure between two months."""
        c = self.cells[self.cells["measure"] == measure].set_index("month")
        return (float(c.at[last, "mean"] - c.at[first, "mean"]),
                float(c.at[last, "reported"] - c.at[first, "reported"]))


def naive_forecasts(obs: pd.DataFrame, fit_months: tuple[str, ...]) -> pd.Series:
    """Per measure, the mean of its reported values in the fitted months (NaN if none)."""
    return obs.reindex([m for m in fit_months if m in obs.index]).mean(skipna=True)


def cells_table(monthly: pd.DataFrame, cfg: CalibrationConfig, band: float) -> pd.DataFrame:
    obs = observed_monthly()
    measures = [m for m in obs.columns if m in monthly.columns]
    naive = naive_forecasts(obs, cfg.fit_months)
    rows = []
    q = (1 - band) / 2
    for (month, measure), vals in monthly.melt(id_vars=["rep", "month"], value_vars=measures,
                                               var_name="measure").groupby(["month", "measure"]):
        v = vals["value"].dropna().to_numpy(dtype=float)
        if month not in obs.index or pd.isna(obs.at[month, measure]) or len(v) < 2:
            continue
        reported = float(obs.at[month, measure])
        mean = float(v.mean())
        half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
        lo, hi = np.quantile(v, [q, 1 - q])
        period = ("fitted" if month in cfg.fit_months
                  else "held out" if month in cfg.holdout_months else "other")
        crps = crps_ensemble(v, reported)
        # the naive forecast is a forecast only of months it was not computed from
        carried = float(naive.get(measure, np.nan)) if period == "held out" else np.nan
        crps_naive = crps_point(carried, reported) if np.isfinite(carried) else np.nan
        rows.append({
            "measure": measure, "label": MEASURES[measure][0], "month": month, "period": period,
            "validated": measure in cfg.validated_measures, "reported": reported, "mean": mean,
            "ci_low": mean - half, "ci_high": mean + half, "band_low": float(lo),
            "band_high": float(hi), "inside_band": bool(lo <= reported <= hi),
            "abs_pct_error": abs(mean - reported) / abs(reported) * 100 if reported else np.nan,
            "band_width": float(hi - lo), "crps": crps, "naive": carried, "crps_naive": crps_naive,
            "skill": skill(crps, crps_naive) if np.isfinite(crps_naive) else np.nan,
        })
    order = {m: i for i, m in enumerate(MEASURES)}
    return (pd.DataFrame(rows).sort_values(["measure", "month"], key=lambda s: s.map(order)
                                           if s.name == "measure" else s).reset_index(drop=True))


def changes_table(monthly: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Mean month-to-month change, per measure, over the months it is reported: within each
    replication (mean over replications of mean |x_{m+1} - x_m|, with a t interval across
    replications) beside the reported series' own."""
    obs = observed_monthly()
    rows = []
    for measure, c in cells.groupby("measure", sort=False):
        months = sorted(c["month"])
        sim = (monthly[monthly["month"].isin(months)].sort_values("month").groupby("rep")[measure]
               .apply(mean_abs_change).dropna().to_numpy(dtype=float))
        half = (stats.t.ppf(0.975, len(sim) - 1) * sim.std(ddof=1) / np.sqrt(len(sim))
                if len(sim) > 1 else np.nan)
        rows.append({"measure": measure, "label": c["label"].iloc[0],
                     "months": f"{months[0]} to {months[-1]}", "simulated": float(sim.mean()),
                     "ci_low": float(sim.mean() - half), "ci_high": float(sim.mean() + half),
                     "reported": mean_abs_change(obs.loc[months, measure].to_numpy(dtype=float))})
    return pd.DataFrame(rows)


# Figures the history effects must meet that are not monthly reported measures:
# (what, how it is read from the monthly table, reported or national range, where from)
HISTORY_CHECKS = (
    ("Children starting a plan who had been on one before (%)",
     "pct_cp_plans_repeat", (19.0, 29.0),
     "24% (169 of 700) in the six months to April 2023 (seed 003 line 1624), give or take 5 points"),
    ("Children starting a plan, a month", "cp_plans", (117.0, 117.0),
     "700 in the six months to April 2023, 117 a month (seed 003 line 1624); a different period"),
    ("S47 enquiries per referral", ("s47_enquiries", "referrals"), (0.30, 0.37),
     "England 2017/18 to 2024/25 (docs/national_statistics.md section 2)"),
    ("Conferences per S47 enquiry", ("icpcs", "s47_enquiries"), (0.30, 0.40),
     "England 2017/18 to 2024/25 (docs/national_statistics.md section 2)"),
)


def history_checks(monthly: pd.DataFrame) -> pd.DataFrame:
    """The history figures beside what they are checked against: per month and over the run for
    the repeat-plan share, otherwise over the run per replication; mean and 95% interval across
    replications."""
    rows = []
    for what, read, (lo, hi), source in HISTORY_CHECKS:
        if isinstance(read, tuple):
            per_rep = monthly.groupby("rep")[list(read)].sum()
            groups = {"run": per_rep[read[0]] / per_rep[read[1]]}
        elif read == "cp_plans":
            groups = {"run": monthly.groupby("rep")[read].mean()}
        else:  # a share: each month, and over the run (the months weighted by their plans)
            groups = {m: g[read] for m, g in monthly.groupby("month")}
            repeats = (monthly[read] * monthly["cp_plans"] / 100).groupby(monthly["rep"]).sum()
            groups["run"] = 100 * repeats / monthly.groupby("rep")["cp_plans"].sum()
        for period, v in groups.items():
            v = v.dropna().to_numpy(dtype=float)
            mean = float(v.mean()) if len(v) else np.nan
            half = (stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
                    if len(v) > 1 else np.nan)
            rows.append({"check": what, "period": period, "mean": mean, "ci_low": mean - half,
                         "ci_high": mean + half, "low": lo, "high": hi,
                         "inside": bool(lo <= mean <= hi), "against": source})
    return pd.DataFrame(rows)


def fit_table(cells: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for measure, c in cells.groupby("measure", sort=False):
        fit, held = c[c["period"] == "fitted"], c[c["period"] == "held out"]
        rows.append({"measure": measure, "label": c["label"].iloc[0],
                     "mape_fitted": fit["abs_pct_error"].mean(),
                     "mape_held_out": held["abs_pct_error"].mean(),
                     "covered_fitted": f"{int(fit['inside_band'].sum())}/{len(fit)}",
                     "covered_held_out": f"{int(held['inside_band'].sum())}/{len(held)}",
                     "validated": bool(c["validated"].iloc[0])})
    return pd.DataFrame(rows)


def run_validation(config_path: Path = CONFIG, scenario: Scenario | None = None,
                   reps: int | None = None, executor: Executor | None = None,
                   progress: Callable[[Iterable], Iterable] | None = None,
                   elasticities: bool = True) -> Validation:
    """The validation run; with `elasticities` also the four demand-scaled runs (same seed)."""
    cfg = load_config(config_path)
    sc = scenario or load(cfg.scenario_path(config_path))
    res = run_replications(sc, reps=reps or cfg.validation.reps, seed=cfg.validation.seed,
                           executor=executor, progress=progress)
    cells = cells_table(res.monthly, cfg, cfg.validation.band)
    el = demand_elasticities(res, executor=executor, progress=progress) if elasticities else None
    return Validation(cells, fit_table(cells), res, cfg, changes_table(res.monthly, cells), el)
