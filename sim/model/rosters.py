"""Who is on duty: each pool's roster of posts over the working days."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.model.calendar import WorkCalendar
from sim.model.dated import spell_of_days, timeline
from sim.scenario.schema import POOLS, Scenario, StaffPool


def pool_roster(pool: StaffPool | Sequence[StaffPool], cal: WorkCalendar, g: np.random.Generator,
                spell: np.ndarray | None = None) -> np.ndarray:
    """Staff of one pool on duty on this work for each working day.

    Filled posts = establishment x (1 - vacancy), rounded at random to a whole number each day;
    each filled post is on duty with probability (1 - leave)(1 - sickness) x productive share.
    Post j of a pool has its own uniform each day, so one more post adds a person without
    reshuffling anyone else's days (common random numbers across staffing scenarios). With
    dated changes `pool` is the pool as each spell of the run has it and `spell` the spell of
    each working day (sim.model.dated), so a change acts from its day.
    """
    days = [cal.dates[d] for d in cal.working_day_index]
    pools = [pool] if isinstance(pool, StaffPool) else list(pool)
    spell = np.zeros(len(days), dtype=np.int64) if spell is None else spell
    by_month = {(k, ym): (p.establishment.at(*ym) * (1 - p.vacancy_rate.at(*ym)),
                          (1 - p.leave_rate.at(*ym)) * (1 - p.sickness_rate.value)
                          * p.productive_share.value)
                for k, p in enumerate(pools) for ym in sorted({(d.year, d.month) for d in days})}
    each_day = [by_month[(k, (d.year, d.month))] for k, d in zip(spell.tolist(), days, strict=True)]
    filled = np.array([f for f, _ in each_day])
    p_on = np.array([p for _, p in each_day])
    top = max(p.establishment.range[1] for p in pools)
    cap = int(np.ceil(max(top, filled.max(initial=0.0))))
    u_round, u_post = g.random(len(days)), g.random((cap, len(days))).T  # post-major
    whole = np.floor(filled)
    posts = (whole + (u_round < filled - whole)).astype(np.int64)
    has_post = np.arange(cap)[None, :] < posts[:, None]
    return (has_post & (u_post < p_on[:, None])).sum(axis=1)


def duty_rosters(sc: Scenario, cal: WorkCalendar,
                 streams: dict[str, np.random.Generator]) -> dict[str, np.ndarray]:
    """Staff on duty on this work for each working day and front-door pool (see pool_roster),
    each day by the settings in force that day."""
    days = [cal.dates[d] for d in cal.working_day_index]
    tl = timeline(sc)
    spell = spell_of_days(tl, days)
    out = {name: pool_roster([s.staff[name] for s in tl.scenarios], cal, streams[f"staffing.{name}"], spell)
           for name in POOLS}
    ct = sc.cotriage
    active = np.array([ct.enabled and d >= ct.start.value for d in days], dtype=bool)
    out["cotriage"] = np.where(active, out["cotriage"], 0)  # officers; pairs: sim/model/cotriage.py
    return out
