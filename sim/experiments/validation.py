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

The same run's rotas give the staff on duty and the days the rota's cover was not kept; its
monthly rows the share within 1 working day by channel. The run is repeated once with every
management response switched off (same seed: common random numbers) for what the response buys.
Issue 13's four figures are read from these tables against their thresholds (`issue13`).
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
from sim.experiments.compare import PERIOD, paired_differences
from sim.experiments.elasticity import demand_elasticities
from sim.experiments.runner import RunResults, run_replications
from sim.io.observed import observed_monthly
from sim.measures.metrics import MEASURES
from sim.measures.scores import crps_ensemble, crps_point, mean_abs_change, skill
from sim.scenario.loading import load
from sim.scenario.paths import with_values
from sim.scenario.schema import POOL_SHORT_NAMES, Scenario

VOLUME_TOLERANCE = 0.03  # contacts and police contacts within 3% of reported (issue threshold)
COVERAGE_THRESHOLD = 0.80  # share of held-out cells whose reported value is inside the band

# Issue 13's figures for the share completed within 1 working day and the front door's cover
SHARE_1WD = "pct_completed_within_1wd"
MAX_BAND_WIDTH_1WD = 15.0  # points: the 95% band no wider than this in any reported month
CHANGE_1WD_RANGE = (2.5, 7.5)  # points: mean month-to-month change within a replication (5.0 reported)
FIT_TOLERANCE_1WD = 3.0  # points: the simulated mean within this of the reported value, July-September
ZERO_DUTY_POOLS = ("csw", "ps")  # no working day with none of these on duty (unless posts cannot cover it)

# The share within 1 working day by channel, then over all contacts
CHANNEL_MEASURES = ("pct_within_1wd_phone", "pct_within_1wd_email", "pct_within_1wd_ppn_domestic",
                    "pct_within_1wd_ppn_nondomestic", SHARE_1WD)
# What the management response is judged on, run with it and without it
RESPONSE_MEASURES = (SHARE_1WD, "queue_ps", "overtime_hours_ps", "pct_calls_abandoned")
RESPONSES = ("overtime", "lent_csws", "manager_screening", "morning_triage")  # scenario `response`


@dataclass
class Validation:
    cells: pd.DataFrame  # one row per measure x month
    by_measure: pd.DataFrame  # fit table: MAPE and coverage per measure
    results: RunResults
    config: CalibrationConfig
    changes: pd.DataFrame  # mean month-to-month change per measure, simulated and reported
    elasticities: pd.DataFrame | None = None  # the 1-working-day share by demand (None: not run)
    response: pd.DataFrame | None = None  # with the response against without it (None: not run)
    no_response: RunResults | None = None  # the run without it (same seed and replications)

    @property
    def months(self) -> list[str]:
        """The reported months the validation covers."""
        return sorted(self.cells["month"].unique())

    @property
    def rota(self) -> pd.DataFrame:
        """Every replication's rota rows on the working days of the reported months."""
        r = self.results.rota
        if r is None:
            raise ValueError("validation: the run kept no rota rows (RunResults.rota is None)")
        return r[pd.to_datetime(r["day"]).dt.strftime("%Y-%m").isin(self.months)]

    @property
    def cover(self) -> pd.DataFrame:
        return cover_table(self.rota)

    @property
    def zero_duty(self) -> pd.DataFrame:
        return zero_duty_days(self.rota)

    @property
    def channels(self) -> pd.DataFrame:
        return channel_table(self.results.monthly, self.months, self.config.validation.band)

    @property
    def issue13(self) -> pd.DataFrame:
        return issue13_figures(self)

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


def band_of(values: np.ndarray, band: float) -> tuple[float, float]:
    """The central `band` of the replications' values: where one real month should fall."""
    q = (1 - band) / 2
    lo, hi = np.quantile(values, [q, 1 - q])
    return float(lo), float(hi)


def cells_table(monthly: pd.DataFrame, cfg: CalibrationConfig, band: float) -> pd.DataFrame:
    obs = observed_monthly()
    measures = [m for m in obs.columns if m in monthly.columns]
    naive = naive_forecasts(obs, cfg.fit_months)
    rows = []
    for (month, measure), vals in monthly.melt(id_vars=["rep", "month"], value_vars=measures,
                                               var_name="measure").groupby(["month", "measure"]):
        v = vals["value"].dropna().to_numpy(dtype=float)
        if month not in obs.index or pd.isna(obs.at[month, measure]) or len(v) < 2:
            continue
        reported = float(obs.at[month, measure])
        mean = float(v.mean())
        half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
        lo, hi = band_of(v, band)
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


def _staffed(rota: pd.DataFrame) -> list[str]:
    """The pools that hold a post on some reported day (a pool switched off has none)."""
    held = rota.groupby("pool", observed=True, sort=False)["posts_filled"].max()
    return [str(p) for p, n in held.items() if n > 0]


def cover_table(rota: pd.DataFrame) -> pd.DataFrame:
    """Per staffed pool, over every replication's working days (rota rows): the posts filled,
    the least and mean on duty, the days with none on duty, and the days below the minimum
    cover, counted and as a share of the working days."""
    rows = []
    for pool in _staffed(rota):
        r = rota[rota["pool"] == pool]
        below = int((~r["cover_kept"]).sum())  # the rota's own record: on duty < min_cover
        rows.append({"pool": pool, "name": POOL_SHORT_NAMES.get(pool, pool),
                     "replications": int(r["rep"].nunique()), "working_days": len(r),
                     "posts_filled_min": float(r["posts_filled"].min()),
                     "posts_filled_mean": float(r["posts_filled"].mean()),
                     "posts_filled_max": float(r["posts_filled"].max()),
                     "min_cover": float(r["min_cover"].max()),
                     "least_on_duty": int(r["on_duty"].min()), "mean_on_duty": float(r["on_duty"].mean()),
                     "days_none_on_duty": int((r["on_duty"] == 0).sum()),
                     "days_below_cover": below, "share_below_cover": below / len(r) if len(r) else np.nan})
    return pd.DataFrame(rows)


def zero_duty_days(rota: pd.DataFrame) -> pd.DataFrame:
    """Every working day (with its replication) a staffed pool had nobody on duty, and whether
    its filled posts could have covered it: they cannot when fewer posts are filled than the
    rota's minimum cover (or than one post)."""
    r = rota[rota["pool"].isin(_staffed(rota)) & (rota["on_duty"] == 0)]
    out = r[["rep", "day", "pool", "posts_filled", "on_leave", "sick", "min_cover"]].copy()
    out["pool"] = out["pool"].astype(str)
    out["cannot_cover"] = (out["posts_filled"] < np.maximum(out["min_cover"], 1.0)).to_numpy()
    return out.sort_values(["pool", "rep", "day"]).reset_index(drop=True)


def channel_table(monthly: pd.DataFrame, months: Iterable[str], band: float) -> pd.DataFrame:
    """Per reported month and channel (CHANNEL_MEASURES), the share within 1 working day: mean
    over replications and the central `band` of them."""
    rows = []
    keep = monthly[monthly["month"].isin(list(months))]
    for month, g in keep.groupby("month"):
        for measure in CHANNEL_MEASURES:
            if measure not in g:
                continue
            v = g[measure].dropna().to_numpy(dtype=float)
            lo, hi = band_of(v, band) if len(v) else (np.nan, np.nan)
            rows.append({"month": month, "measure": measure, "label": MEASURES[measure][0],
                         "mean": float(v.mean()) if len(v) else np.nan, "band_low": lo,
                         "band_high": hi, "reps": len(v)})
    return pd.DataFrame(rows)


def issue13_figures(v: Validation) -> pd.DataFrame:
    """Issue 13's four figures on this run, each against its threshold: the working days with no
    consultant social worker or practice supervisor on duty that the filled posts could have
    covered, the widest 95% band of the share within 1 working day, its mean month-to-month
    change within a replication, and its worst error in the fitted months (read from the
    validation's own tables, not computed again)."""
    rows = []
    zero = v.zero_duty
    zero = zero[zero["pool"].isin(ZERO_DUTY_POOLS)]
    coverable = int((~zero["cannot_cover"]).sum())
    rows.append({"figure": "zero_on_duty", "value": float(len(zero)), "coverable": coverable,
                 "met": coverable == 0})
    c = v.cells[v.cells["measure"] == SHARE_1WD]
    if len(c):
        w = c.loc[c["band_width"].idxmax()]
        rows.append({"figure": "band_width", "value": float(w["band_width"]), "month": w["month"],
                     "met": bool(c["band_width"].max() <= MAX_BAND_WIDTH_1WD)})
    ch = v.changes.set_index("measure")
    if SHARE_1WD in ch.index:
        r = ch.loc[SHARE_1WD]
        lo, hi = CHANGE_1WD_RANGE
        rows.append({"figure": "month_to_month", "value": float(r["simulated"]),
                     "met": bool(lo <= r["simulated"] <= hi)})
    fit = c[c["period"] == "fitted"]
    if len(fit):
        err = (fit["mean"] - fit["reported"]).abs()
        worst = fit.loc[err.idxmax()]
        rows.append({"figure": "fit", "value": float(err.max()), "month": worst["month"],
                     "met": bool(err.max() <= FIT_TOLERANCE_1WD)})
    return pd.DataFrame(rows).set_index("figure")


def without_response(sc: Scenario) -> Scenario:
    """The scenario with every management response switched off (RESPONSES), renamed."""
    name = f"{sc.name} without response"[:80]
    return with_values(sc, {("name",): name,
                            **{("response", r, "enabled"): False for r in RESPONSES}},
                       origin=f"{sc.name} with every response switched off")


def response_effect(res: RunResults, executor: Executor | None = None,
                    progress: Callable[[Iterable], Iterable] | None = None
                    ) -> tuple[RunResults, pd.DataFrame]:
    """The run again without the management response, same seed and replications (common random
    numbers), and the paired differences (with minus without) of RESPONSE_MEASURES per month
    and over the period (sim.experiments.compare)."""
    off = run_replications(without_response(res.scenario), reps=res.reps, seed=res.seed,
                           executor=executor, progress=progress)
    d = pd.concat([paired_differences([off, res], by_month=True),
                   paired_differences([off, res], by_month=False)], ignore_index=True)
    d = d[d["measure"].isin(RESPONSE_MEASURES)]
    without = d[d["scenario"] == off.scenario.name].set_index(["month", "measure"])
    out = d[d["scenario"] == res.scenario.name].copy()
    key = pd.MultiIndex.from_frame(out[["month", "measure"]])
    out["mean_without"] = without["mean"].reindex(key).to_numpy()
    out = out.rename(columns={"mean": "mean_with", "diff_from_first": "diff"})
    order = {m: i for i, m in enumerate(RESPONSE_MEASURES)}
    out["_m"], out["_p"] = out["measure"].map(order), out["month"].eq(PERIOD)
    out = out.sort_values(["_m", "_p", "month"]).drop(columns=["_m", "_p", "scenario", "ci_low", "ci_high"])
    return off, out[["measure", "label", "unit", "month", "mean_without", "mean_with", "diff",
                     "diff_ci_low", "diff_ci_high", "reps"]].reset_index(drop=True)


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
                   elasticities: bool = True, response: bool = True) -> Validation:
    """The validation run; with `elasticities` also the four demand-scaled runs, with
    `response` the run without the management response (each on the same seed)."""
    cfg = load_config(config_path)
    sc = scenario or load(cfg.scenario_path(config_path))
    res = run_replications(sc, reps=reps or cfg.validation.reps, seed=cfg.validation.seed,
                           executor=executor, progress=progress)
    cells = cells_table(res.monthly, cfg, cfg.validation.band)
    el = demand_elasticities(res, executor=executor, progress=progress) if elasticities else None
    off, effect = response_effect(res, executor, progress) if response else (None, None)
    return Validation(cells, fit_table(cells), res, cfg, changes_table(res.monthly, cells), el,
                      effect, off)
