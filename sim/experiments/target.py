"""The target finder: the smallest change to one lever that meets a target with confidence.

The lever is stepped from its current value towards the end of its plausible range on a
coarse grid, then a finer one inside the first bracket that meets the target. Every point
runs the same replication seeds (common random numbers), so the curve is smooth and the
points compare fairly. A target is met "with confidence" when the one-sided bound of the
95% interval of the mean is past it; the report gives that value, the value where the mean
alone reaches it, and says so when the target is out of reach within the range.

Posts (and co-triage pairs) move in whole posts from the scenario's establishment, as in the
search over several levers (sim.experiments.frontier): the coarse grid is whole steps, the
finer one halves the bracket in whole steps, and the answer is the first whole step tried that
meets the target, never a value between two tried. Other levers are continuous and the answer
is interpolated between the values tried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.experiments.compare import per_rep
from sim.experiments.levers import LEVERS, STEPS, Lever, whole_steps
from sim.experiments.runner import run_replications
from sim.measures.intervals import half_width
from sim.measures.metrics import MEASURES
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    measure: str
    goal: float
    at_least: bool  # True: the measure must reach goal or more; False: goal or less
    relative_to: str | None = None  # a scenario whose paired value the measure is divided by


TARGETS = {
    "within_1wd_95": Target("within_1wd_95", "95% of contacts completed within 1 working day",
                            "pct_completed_within_1wd", 95.0, True),
    "referrals_30pct": Target("referrals_30pct",
                              "30% fewer referrals than before the conversations approach",
                              "referrals", 0.70, False, relative_to="pre_conversations"),
}


@dataclass
class TargetResult:
    lever: Lever
    target: Target
    start: float
    met: bool
    value_confident: float | None  # where the confidence bound crosses the goal
    value_mean: float | None  # where the mean crosses it
    grid: pd.DataFrame
    gap: float | None = None  # whole levers: the distance to the nearest value tried that misses

    def message(self) -> str:
        lv, t = self.lever, self.target
        steps = f"; in steps of {STEPS[lv.key][1]}" if lv.whole else ""
        head = f"{t.label}, by changing {lv.label} (now {self.start:g} {lv.unit}{steps}):"
        shown = "g" if lv.whole else ".3g"  # whole posts keep their establishment's decimals
        if not self.met:
            best = self.grid.iloc[-1]
            mean = ("" if self.value_mean is None else
                    f"; the mean reaches it at {self.value_mean:{shown}}, but not with 95% confidence")
            return (f"{head} not met with 95% confidence within the plausible range ({lv.low:g} to"
                    f" {lv.high:g}, {lv.why_range}); at {best['value']:{shown}} the measure is"
                    f" {best['mean']:.3g} (95% interval {best['ci_low']:.3g} to {best['ci_high']:.3g})"
                    f" against a goal of {t.goal:g}{mean}")
        vm = "" if self.value_mean is None else f"; the mean alone reaches it at {self.value_mean:.3g}"
        if lv.whole:
            return self._whole_message(head)
        return (f"{head} met with 95% confidence at {self.value_confident:.3g} {lv.unit}"
                f" (a change of {self.value_confident - self.start:+.3g}){vm}. Between those"
                f" values the answer is uncertain; the grid is in target.csv.")


    def _whole_message(self, head: str) -> str:
        lv, conf = self.lever, self.value_confident
        assert conf is not None
        n = round(abs(conf - self.start))
        unit = STEPS[lv.key][1].split()[-1]
        change = (f"{n} whole {unit}{'s' if n != 1 else ''} {'added to' if lv.improves > 0 else 'taken off'}"
                  f" {self.start:g}" if n else "as the scenario stands")
        vm = "" if self.value_mean is None else f"; the mean alone reaches it at {self.value_mean:g}"
        if self.gap is None:
            near = " It is met at the scenario's own value."
        elif self.gap <= 1:
            near = f" At {conf - lv.improves:g}, one {unit} fewer, it is not met with 95% confidence."
        else:
            near = (f" At {conf - lv.improves * self.gap:g} it is not; the {self.gap - 1:g} whole values"
                    " between were not tried, so fewer may do.")
        return (f"{head} met with 95% confidence at {conf:g} {lv.unit} ({change}){vm}.{near}"
                " Every value tried is in target.csv.")


def _values(monthly: pd.DataFrame, target: Target, reference: pd.DataFrame | None) -> np.ndarray:
    v = per_rep(monthly, by_month=False)[target.measure].droplevel("month")
    if reference is not None:
        ref = per_rep(reference, by_month=False)[target.measure].droplevel("month")
        v = v / ref.reindex(v.index)
    return v.to_numpy(dtype=float)


def measure_point(changed: Scenario, target: Target, reps: int, seed: int,
                  reference: pd.DataFrame | None, executor: Executor | None) -> dict:
    """The target's measure for one changed scenario: its mean over the replications, the 95%
    interval, the bound (the interval's end on the far side from the goal: its low end for a goal
    to reach, its high end for one to stay under) and whether the mean, and the bound, meet it."""
    res = run_replications(changed, reps=reps, seed=seed, executor=executor)
    x = _values(res.monthly, target, reference)
    m = float(np.mean(x))
    half = half_width(x)
    bound = m - half if target.at_least else m + half
    return {"mean": m, "ci_low": m - half, "ci_high": m + half, "bound": bound,
            "meets_mean": (m >= target.goal) if target.at_least else (m <= target.goal),
            "meets_confident": (bound >= target.goal) if target.at_least else (bound <= target.goal)}


def reference_monthly(scenario: Scenario, target: Target, reference: Scenario | None, reps: int,
                      seed: int, executor: Executor | None) -> pd.DataFrame | None:
    """The reference scenario's replications on the scenario's period and seeds (a relative target's
    denominator), or None for a target that needs none."""
    if not target.relative_to:
        return None
    if reference is None:
        raise ValueError(f"target {target.key!r} needs the scenario {target.relative_to!r}")
    ref = reference.with_run(start=scenario.run.start, end=scenario.run.end)
    return run_replications(ref, reps=reps, seed=seed, executor=executor).monthly


def _point(scenario: Scenario, lever: Lever, value: float, target: Target, reps: int, seed: int,
           reference: pd.DataFrame | None, executor: Executor | None) -> dict:
    return {"value": value, **measure_point(lever.apply(scenario, value), target, reps, seed,
                                            reference, executor)}


def _crossing(a: dict, b: dict, key: str, goal: float) -> float:
    """Linear interpolation of where `key` crosses the goal between grid points a and b."""
    ya, yb = a[key], b[key]
    if ya == yb:
        return b["value"]
    w = float(np.clip((goal - ya) / (yb - ya), 0, 1))
    return a["value"] + w * (b["value"] - a["value"])


def find_target(scenario: Scenario, lever_key: str, target_key: str, reps: int = 10,
                seed: int | None = None, coarse: int = 5, fine: int = 4,
                reference: Scenario | None = None, executor: Executor | None = None,
                progress: Callable[[Iterable], Iterable] | None = None) -> TargetResult:
    """The smallest change to one lever that meets the target: `coarse` values across the range,
    then up to `fine` more inside the first bracket that meets it (whole steps for posts)."""
    lever, target = LEVERS[lever_key], TARGETS[target_key]
    seed = scenario.run.seed if seed is None else seed
    ref_monthly = reference_monthly(scenario, target, reference, reps, seed, executor)
    start = lever.current(scenario)
    end = lever.high if lever.improves > 0 else lever.low
    if lever.whole:
        steps = whole_steps(lever, start, coarse, STEPS[lever.key][0])
        grid_values = [_whole(start, lever, k) for k in steps]
    else:
        grid_values = list(np.linspace(start, end, coarse))
    points: list[dict] = []
    ticker = iter(progress(range(len(grid_values) + fine))) if progress else None

    def run(v: float) -> dict:
        p = _point(scenario, lever, v, target, reps, seed, ref_monthly, executor)
        points.append(p)
        if ticker is not None:
            next(ticker, None)
        return p

    prev = None
    bracket = None
    for v in grid_values:
        p = run(v)
        if p["meets_confident"]:
            bracket = (prev, p)
            break
        prev = p
    if bracket is not None and bracket[0] is not None and fine > 0:
        lo, hi = bracket
        if lever.whole:  # halve the bracket in whole steps: the first whole step that meets it
            for _ in range(fine):
                k_lo, k_hi = (round(abs(x["value"] - start)) for x in (lo, hi))
                if k_hi - k_lo <= 1:
                    break
                p = run(_whole(start, lever, (k_lo + k_hi) // 2))
                lo, hi = (lo, p) if p["meets_confident"] else (p, hi)
            bracket = (lo, hi)
        else:
            for v in np.linspace(lo["value"], hi["value"], fine + 2)[1:-1]:
                p = run(float(v))
                if p["meets_confident"]:
                    bracket = (lo, p)
                    break
                lo = p
            bracket = (lo, bracket[1])
    if ticker is not None:  # the progress reaches its end even when the search stops early
        for _ in ticker:
            pass
    grid = pd.DataFrame(points).sort_values("value", ascending=lever.improves > 0).reset_index(drop=True)
    grid.insert(0, "lever", lever.label)
    grid.insert(1, "measure", MEASURES[target.measure][0] + (" / before the approach"
                                                            if target.relative_to else ""))
    rows = grid.to_dict("records")
    mean_value = None
    for r0, r1 in zip([None, *rows[:-1]], rows, strict=True):
        if r1["meets_mean"]:
            mean_value = (r1["value"] if r0 is None or lever.whole
                          else _crossing(r0, r1, "mean", target.goal))
            break
    if bracket is None:
        return TargetResult(lever, target, start, False, None, mean_value, grid)
    a, b = bracket
    if lever.whole:
        gap = None if a is None else round(abs(b["value"] - a["value"]))
        return TargetResult(lever, target, start, True, b["value"], mean_value, grid, gap)
    conf = b["value"] if a is None else _crossing(a, b, "bound", target.goal)
    return TargetResult(lever, target, start, True, conf, mean_value, grid)


def _whole(start: float, lever: Lever, k: int) -> float:
    """The lever's value k whole steps (posts) from the scenario's, towards the end of its range."""
    return round(start + lever.improves * k * STEPS[lever.key][0], 10)
