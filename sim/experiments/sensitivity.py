"""Sensitivity: how much the answers move across each judged parameter's plausible range.

One at a time: every number whose provenance is "judgement" is set to the low and then the
high end of its stated range, all else as the scenario, on the same replication seeds as the
scenario itself (common random numbers), so the swing is the parameter's own effect. Monthly
series move as a whole (scaled so their default reaches the range end, each month clipped to
the range); one share of a set of shares moves and the others rescale to keep the sum at 1.
Profiles (weekday and hour weights) are shapes, not levels, and are not varied.

Global: Sobol indices (Saltelli sampling through SALib) over the parameters with the largest
one-at-a-time swings, where the run budget allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.compare import per_rep
from sim.experiments.executors import SerialExecutor
from sim.experiments.runner import replicate
from sim.measures.metrics import MEASURES
from sim.scenario.paths import get, set_values, with_values
from sim.scenario.schema import Scenario, ScenarioError, validate

DEFAULT_MEASURES = ("pct_completed_within_1wd", "pct_contacts_to_referral", "referrals",
                    "util_ps", "abandoned_calls")


@dataclass(frozen=True)
class Judged:
    """One judged number: where it is, its current value and its plausible range."""

    path: tuple[str, ...]
    kind: str  # scalar | monthly | share
    share: str | None
    value: float
    low: float
    high: float

    @property
    def name(self) -> str:
        return ".".join(self.path) + (f".{self.share}" if self.share else "")

    def edits(self, doc: Mapping, end: float) -> dict[tuple[str, ...], Any]:
        """The settings (path -> value) that put this number at `end`, all else as in `doc`."""
        node = get(doc, self.path)
        if self.kind == "scalar":
            return {(*self.path, "value"): end}
        if self.kind == "monthly":
            old, (lo, hi) = node["default"], node["range"]

            def scaled(months: Mapping[str, float]) -> dict[str, float]:
                return {m: (float(np.clip(v * end / old, lo, hi)) if old else end) for m, v in months.items()}
            return {(*self.path, "value"): scaled(node["value"]),
                    (*self.path, "steps"): scaled(node.get("steps") or {}), (*self.path, "default"): end}
        vals = node["value"]
        rest = 1.0 - vals[self.share]
        out = {k: (v * (1.0 - end) / rest if rest > 0 else (1 - end) / (len(vals) - 1))
               for k, v in vals.items()}
        out[self.share] = end
        return {(*self.path, "value"): out,
                (*self.path, "range"): {k: (0.0, 1.0) for k in vals}}  # the others may leave their ranges

    def set(self, doc: Mapping, end: float) -> dict:
        """A new document with this number at `end` (`doc` untouched)."""
        return set_values(doc, self.edits(doc, end))


def judged_parameters(scenario: Scenario) -> list[Judged]:
    """Every judged number in the scenario with a range wider than a point."""
    out: list[Judged] = []

    def walk(node, path):
        if not isinstance(node, dict):
            return
        if node.get("provenance") == "judgement" and "range" in node:
            v, rng = node["value"], node["range"]
            if isinstance(v, dict) and isinstance(rng, dict):
                out.extend(Judged(path, "share", k, float(v[k]), float(rng[k][0]), float(rng[k][1]))
                           for k in v if rng[k][0] < rng[k][1])
            elif isinstance(v, dict) and "default" in node:
                if rng[0] < rng[1]:
                    out.append(Judged(path, "monthly", None, float(node["default"]), float(rng[0]),
                                      float(rng[1])))
            elif isinstance(v, int | float) and not isinstance(v, bool) and rng[0] < rng[1]:
                out.append(Judged(path, "scalar", None, float(v), float(rng[0]), float(rng[1])))
            return
        for k, child in node.items():
            walk(child, (*path, k))

    doc = scenario.model_dump(mode="python")
    for key, child in doc.items():
        if key != "run":  # run settings (warm-up, cool-down) are how we measure, not the service
            walk(child, (key,))
    return out


def unknown_parameters(scenario: Scenario, only: Iterable[str]) -> list[str]:
    """The names in `only` that are not judged parameters of the scenario (in the order given)."""
    names = {p.name for p in judged_parameters(scenario)}
    return [o for o in dict.fromkeys(only) if o not in names]


def _run_all(jobs: list[tuple[Scenario, int, int]], executor: Executor,
             progress: Callable[[Iterable], Iterable] | None) -> list[pd.DataFrame]:
    futures = [executor.submit(replicate, sc, seed, rep) for sc, seed, rep in jobs]
    it = progress(futures) if progress else futures
    return [f.result().monthly for f in it]


def one_at_a_time(scenario: Scenario, reps: int = 3, seed: int | None = None,
                  measures: Sequence[str] = DEFAULT_MEASURES, only: Sequence[str] | None = None,
                  executor: Executor | None = None,
                  progress: Callable[[Iterable], Iterable] | None = None) -> pd.DataFrame:
    """Tornado data: each judged parameter at its range ends, effect on each measure."""
    seed = scenario.run.seed if seed is None else seed
    executor = executor or SerialExecutor()
    if only is not None and (unknown := unknown_parameters(scenario, only)):
        raise ValueError(f"not judged parameters of this scenario: {unknown}")
    params = [p for p in judged_parameters(scenario) if only is None or p.name in only]
    if not params:
        raise ValueError("the scenario has no judged parameter with a range to vary")
    doc = scenario.model_dump(mode="python")
    variants: list[tuple[Judged | None, str, float, Scenario]] = [(None, "base", np.nan, scenario)]
    skipped = []
    for p in params:
        for end_name, end in (("low", p.low), ("high", p.high)):
            try:
                variants.append((p, end_name, end, with_values(doc, p.edits(doc, end), p.name)))
            except ScenarioError as exc:
                skipped.append((p.name, end_name, str(exc)))
    jobs = [(sc, seed, r) for _, _, _, sc in variants for r in range(reps)]
    monthly = _run_all(jobs, executor, progress)
    means = []
    for i, _ in enumerate(variants):
        m = pd.concat(monthly[i * reps:(i + 1) * reps], ignore_index=True)
        means.append(per_rep(m, by_month=False)[list(measures)].mean())
    base = means[0]
    rows = []
    for p in params:
        ends = {e: means[i] for i, (q, e, _, _) in enumerate(variants) if q is p}
        for m in measures:
            lo_v = ends.get("low", pd.Series(dtype=float)).get(m, np.nan)
            hi_v = ends.get("high", pd.Series(dtype=float)).get(m, np.nan)
            rows.append({"parameter": p.name, "value": p.value, "low": p.low, "high": p.high,
                         "measure": m, "label": MEASURES[m][0], "base": base[m], "at_low": lo_v,
                         "at_high": hi_v, "swing": abs(hi_v - lo_v)})
    out = pd.DataFrame(rows)
    out["rank"] = out.groupby("measure")["swing"].rank(ascending=False, method="first")
    out = out.sort_values(["measure", "rank"]).reset_index(drop=True)
    out.attrs["skipped"] = skipped
    return out


def sobol(scenario: Scenario, params: Sequence[Judged], n: int = 32, seed: int | None = None,
          measures: Sequence[str] = DEFAULT_MEASURES, executor: Executor | None = None,
          progress: Callable[[Iterable], Iterable] | None = None) -> pd.DataFrame:
    """First-order and total Sobol indices over `params` (each uniform on its range)."""
    # here, not at the top: SALib brings scipy, seconds of start-up that only Sobol needs
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    seed = scenario.run.seed if seed is None else seed
    executor = executor or SerialExecutor()
    problem = {"num_vars": len(params), "names": [p.name for p in params],
               "bounds": [[p.low, p.high] for p in params]}
    x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed % (2**32))
    doc = scenario.model_dump(mode="python")
    jobs = []
    for row in x:
        d = doc
        for p, v in zip(params, row, strict=True):
            d = p.set(d, float(v))
        jobs.append((validate(d, "sobol sample"), seed, 0))
    monthly = _run_all(jobs, executor, progress)
    y = pd.DataFrame([per_rep(m, by_month=False)[list(measures)].iloc[0] for m in monthly])
    rows = []
    for m in measures:
        res = sobol_analyze.analyze(problem, y[m].to_numpy(dtype=float), calc_second_order=False,
                                    seed=seed % (2**32))
        for i, p in enumerate(params):
            rows.append({"measure": m, "label": MEASURES[m][0], "parameter": p.name,
                         "first_order": res["S1"][i], "first_order_ci": res["S1_conf"][i],
                         "total": res["ST"][i], "total_ci": res["ST_conf"][i]})
    out = pd.DataFrame(rows)
    out.attrs["runs"] = len(jobs)
    return out
