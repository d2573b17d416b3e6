"""How the share completed within 1 working day answers partner and police demand.

The demand settings give all contacts (`demand.contacts_monthly`) and the police's among them
(`demand.police_monthly`); partner contacts are the difference (sim.model.demand.stream_volume).
Scaling partner demand by k keeps the police contacts and sets all contacts to
police + k x (all - police); scaling police demand by k sets police to k x police and adds the
change to all contacts, so the partner contacts stay as they were. Every month is scaled,
including the months before and after the reported ones.

The elasticity is a central difference on common random numbers: each replication is run at
demand x (1 - step) and x (1 + step) with the validation's seed, so it is paired with itself,

    e_r = ((s_r(+step) - s_r(-step)) / s_r(0)) / (2 step)

where s_r is replication r's share over the reported months (contacts completed within 1
working day / contacts); the mean of e_r is given with a t interval across replications.
Each stream has its own random generators, so scaling one group leaves every other stream's
contacts as they were; within a scaled stream the same generator draws more or fewer contacts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiments.runner import RunResults, run_replications
from sim.scenario.params import month_value
from sim.scenario.paths import with_values
from sim.scenario.schema import Scenario

DEMAND_STEP = 0.10  # +-10% of demand (issue 13, item 5); small enough to stay near the baseline
SHARE = "pct_completed_within_1wd"
GROUPS = {"partner": "partner demand (contacts from education, health, other agencies and the public)",
          "police": "police demand (police contacts)"}
CONTACTS, POLICE = ("demand", "contacts_monthly"), ("demand", "police_monthly")


def _monthly_node(node: Mapping, value: dict[str, float], steps: dict[str, float],
                  default: float) -> dict:
    """`node` with new months, steps and default, its range widened to hold them."""
    levels = [default, *value.values(), *steps.values()]
    lo, hi = node["range"]
    return {**node, "value": value, "steps": steps, "default": default,
            "range": (min(lo, *levels), max(hi, *levels))}


def scaled_demand(scenario: Scenario, group: str, factor: float) -> Scenario:
    """The scenario with partner or police contacts multiplied by `factor` in every month."""
    if group not in GROUPS:
        raise ValueError(f"demand group {group!r} is not one of {', '.join(GROUPS)}")
    if not factor > 0:
        raise ValueError(f"demand factor {factor!r} must be above 0")
    doc = scenario.model_dump(mode="python")
    total, police = doc["demand"]["contacts_monthly"], doc["demand"]["police_monthly"]

    def new(all_: float, pol: float) -> tuple[float, float]:
        if group == "partner":
            return pol + factor * (all_ - pol), pol
        return all_ + (factor - 1) * pol, factor * pol

    # a month's value is its own entry, else the last step, else the default (Monthly.at), so
    # the pair is rebuilt at every month either names, each from both as they stand there
    own = sorted({*total["value"], *police["value"]})
    steps = sorted({*total["steps"], *police["steps"]})
    at_own = {m: new(month_value(total, m), month_value(police, m)) for m in own}
    at_step = {m: new(month_value(total, m, own=False), month_value(police, m, own=False)) for m in steps}
    default = new(total["default"], police["default"])
    values = {}
    for i, (path, node) in enumerate(((CONTACTS, total), (POLICE, police))):
        values[path] = _monthly_node(node, {m: v[i] for m, v in at_own.items()},
                                     {m: v[i] for m, v in at_step.items()}, default[i])
    return with_values(doc, values, f"{scenario.name} with {group} demand x {factor:g}")


def period_share(monthly: pd.DataFrame) -> pd.Series:
    """Per replication, the share completed within 1 working day over all its months (%)."""
    done = (monthly[SHARE] * monthly["contacts"]).groupby(monthly["rep"]).sum()
    return done / monthly.groupby("rep")["contacts"].sum()


def paired_elasticity(base: pd.Series, down: pd.Series, up: pd.Series, step: float) -> dict:
    """Central-difference elasticity per replication (indexed by replication), its mean and
    t interval; replications missing from any of the three runs are left out."""
    both = pd.concat({"base": base, "down": down, "up": up}, axis=1).dropna()
    e = ((both["up"] - both["down"]) / both["base"] / (2 * step)).to_numpy(dtype=float)
    n = len(e)
    half = stats.t.ppf(0.975, n - 1) * e.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
    return {"elasticity": float(e.mean()), "ci_low": float(e.mean() - half),
            "ci_high": float(e.mean() + half), "reps": n, "share": float(both["base"].mean()),
            "share_down": float(both["down"].mean()), "share_up": float(both["up"].mean())}


def demand_elasticities(base: RunResults, step: float = DEMAND_STEP, executor: Executor | None = None,
                        progress: Callable[[Iterable], Iterable] | None = None) -> pd.DataFrame:
    """One row per demand group: the elasticity of the 1-working-day share with its interval,
    run on the base run's scenario, replications and seed."""
    rows = []
    s0 = period_share(base.monthly)
    for group, label in GROUPS.items():
        shares = []
        for factor in (1 - step, 1 + step):
            res = run_replications(scaled_demand(base.scenario, group, factor), reps=base.reps,
                                   seed=base.seed, executor=executor, progress=progress)
            shares.append(period_share(res.monthly))
        rows.append({"group": group, "label": label, "step": step,
                     **paired_elasticity(s0, shares[0], shares[1], step)})
    return pd.DataFrame(rows)
