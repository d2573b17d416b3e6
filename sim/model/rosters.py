"""Who is on duty: each pool's roster of posts over the working days."""

from __future__ import annotations

import numpy as np

from sim.model.calendar import WorkCalendar
from sim.scenario.schema import POOLS, Scenario, StaffPool


def pool_roster(pool: StaffPool, cal: WorkCalendar, g: np.random.Generator) -> np.ndarray:
    """Staff of one pool on duty on this work for each working day.

    Filled posts = establishment x (1 - vacancy), rounded at random to a whole number each day;
    each filled post is on duty with probability (1 - leave)(1 - sickness) x productive share.
    Post j of a pool has its own uniform each day, so one more post adds a person without
    reshuffling anyone else's days (common random numbers across staffing scenarios).
    """
    days = [cal.dates[d] for d in cal.working_day_index]
    months = sorted({(d.year, d.month) for d in days})
    by_month = {ym: (pool.establishment.at(*ym) * (1 - pool.vacancy_rate.at(*ym)),
                     (1 - pool.leave_rate.at(*ym)) * (1 - pool.sickness_rate.value)
                     * pool.productive_share.value) for ym in months}
    filled = np.array([by_month[(d.year, d.month)][0] for d in days])
    p_on = np.array([by_month[(d.year, d.month)][1] for d in days])
    cap = int(np.ceil(max(pool.establishment.range[1], filled.max(initial=0.0))))
    u_round, u_post = g.random(len(days)), g.random((cap, len(days))).T  # post-major
    whole = np.floor(filled)
    posts = (whole + (u_round < filled - whole)).astype(np.int64)
    has_post = np.arange(cap)[None, :] < posts[:, None]
    return (has_post & (u_post < p_on[:, None])).sum(axis=1)


def duty_rosters(sc: Scenario, cal: WorkCalendar,
                 streams: dict[str, np.random.Generator]) -> dict[str, np.ndarray]:
    """Staff on duty on this work for each working day and front-door pool (see pool_roster)."""
    days = [cal.dates[d] for d in cal.working_day_index]
    out = {name: pool_roster(sc.staff[name], cal, streams[f"staffing.{name}"]) for name in POOLS}
    ct = sc.cotriage
    active = np.array([ct.enabled and d >= ct.start.value for d in days], dtype=bool)
    out["cotriage"] = np.where(active, out["cotriage"], 0)  # officers; pairs: sim/model/cotriage.py
    return out
