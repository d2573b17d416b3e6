"""The front door's rota: who holds a post, who is on leave or sick, and when in the day they
are away from front-door work.

Per pool and working day (scenario `staff.<pool>` and its `rota`):

* **Filled posts.** establishment x (1 - vacancy) in force that month: the first posts are
  filled, a fraction left over is a part-time post working that share of each day, and the
  highest-numbered posts are vacant (a vacancy is a whole post missing for the month; starters
  and leavers are the monthly settings changing).
* **Annual leave in spells.** Each post takes spells of one or two working weeks, as many as
  its leave rate in each month asks for, starting on a day drawn from its own stream. Posts
  book in turn (post 0 first); a spell that would leave fewer than `min_cover` filled posts off
  leave on one of its days moves to the nearest start that keeps the cover; a spell that fits
  nowhere in the month is not taken (counted as `leave_refused`).
* **Sickness in spells**, unplanned: a post falls sick on a day with the probability that
  gives the stated share of days sick for the stated mean spell length; a spell ends on a day
  with probability 1 / mean length. The chain runs through leave (a day on leave is not
  counted sick), so leave hides none of the stated share. Sickness ignores cover: a day it takes below
  `min_cover` is counted as cover not kept.
* **The day's productive share** is taken within each day: the time away (meetings,
  supervision, training, checks) is `away_blocks` blocks of equal length, block b falling at a
  uniform time in the b-th part of the office day. The weekday weights move productive time
  between weekdays, keeping the week's total.

Every post draws from its own stream ("staffing.<pool>.post<j>"), so one more post adds a
person without reshuffling anyone else's rota, except where leave booking for cover had moved
someone's spell and the new post lets it stand (counted per post in `moved`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model.calendar import WorkCalendar
from sim.model.dated import spell_of_days, timeline
from sim.model.rng import stream
from sim.scenario.schema import POOLS, FrontDoorPool, Scenario

WEEK = 5  # working days in a week of leave


@dataclass
class PoolRota:
    """One pool's rota over the run's working days (rows) and posts (columns)."""

    filled: np.ndarray      # share of the day the post is held (0 vacant, 1 full time, between: part time)
    leave: np.ndarray       # on annual leave (bool)
    sick: np.ndarray        # off sick (bool)
    share: np.ndarray       # share of the office day on front-door work when on duty (0 off)
    min_cover: np.ndarray   # per working day: the cover in force (dated changes)
    moved: np.ndarray       # per post: leave spells moved to keep cover
    leave_refused: np.ndarray  # per post: leave spells that fitted nowhere in their month

    @property
    def on_duty(self) -> np.ndarray:
        return (self.filled > 0) & ~self.leave & ~self.sick

    def count(self) -> np.ndarray:
        """Posts on duty each working day."""
        return self.on_duty.sum(axis=1)

    def cover_kept(self) -> np.ndarray:
        """Posts on duty >= min_cover: a day too few posts are filled to keep it is not kept."""
        return self.count() >= self.min_cover


def _month_runs(months: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) working-day index of each month in turn."""
    edges = np.flatnonzero(np.diff(months)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [len(months)]))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def pool_rota(pools: list[FrontDoorPool], cal: WorkCalendar, spell: np.ndarray, seed: int, rep: int,
              name: str) -> PoolRota:
    """The rota of one pool, each day by the settings in force (pools[spell[d]])."""
    days = [cal.dates[d] for d in cal.working_day_index]
    n = len(days)
    ym = np.array([d.year * 12 + d.month - 1 for d in days], dtype=np.int64)
    weekday = np.array([d.weekday() for d in days], dtype=np.int64)
    per_day = [pools[k] for k in spell.tolist()]
    posts_f = np.array([p.establishment.at(d.year, d.month) * (1 - p.vacancy_rate.at(d.year, d.month))
                        for p, d in zip(per_day, days, strict=True)])
    leave_rate = np.array([p.leave_rate.at(d.year, d.month) for p, d in zip(per_day, days, strict=True)])
    sick_rate = np.array([p.sickness_rate.value for p in per_day])
    sick_len = np.array([p.rota.sickness_spell_days.value for p in per_day])
    prod = np.array([p.productive_share.value for p in per_day])
    w = np.array([p.rota.weekday_weights.value for p in per_day], dtype=float)
    weight = w[np.arange(n), np.minimum(weekday, 4)] / w.mean(axis=1)
    min_cover = np.array([float(p.rota.min_cover.value) for p in per_day])
    two_week = np.array([p.rota.two_week_leave_share.value for p in per_day])
    cap = int(np.ceil(max(max(p.establishment.range[1] for p in pools), posts_f.max(initial=0.0))))
    post = np.arange(cap)[None, :]
    filled = np.clip(posts_f[:, None] - post, 0.0, 1.0)
    leave = np.zeros((n, cap), dtype=bool)
    sick = np.zeros((n, cap), dtype=bool)
    moved = np.zeros(cap, dtype=np.int64)
    refused = np.zeros(cap, dtype=np.int64)
    runs = _month_runs(ym)
    holds = filled > 0
    for j in range(cap):
        g = stream(seed, rep, f"staffing.{name}.post{j}")
        u_leave = g.random((len(runs), 8, 3))  # per month: up to 8 spells (length, start, spare)
        u_sick = g.random((n, 2))
        # leave days owed, carried from month to month. Each post starts (and starts afresh after
        # a vacant month) at its own point, uniform within its first spell, so posts owed the
        # same do not all book in the same months and a month's expected leave is its rate
        carry: float | None = None
        for m, (a, b) in enumerate(runs):
            if not holds[a:b, j].any():
                carry = None
                continue
            if carry is None:
                carry = (u_leave[m, 0, 2] - 0.5) * (2 * WEEK if u_leave[m, 0, 0] < two_week[a] else WEEK)
            carry += float((leave_rate[a:b] * holds[a:b, j]).sum())  # a part-time post's days too
            for s in range(u_leave.shape[1]):
                length = 2 * WEEK if u_leave[m, s, 0] < two_week[a] else WEEK
                if carry < length / 2:  # book a spell while more than half of it is owed
                    break
                span = b - a
                first = a + int(u_leave[m, s, 1] * span)
                start = _book(leave, holds, j, first, length, a, b, min_cover)
                if start is None:
                    refused[j] += 1
                    carry -= length  # the leave is not taken this month
                    continue
                moved[j] += start != first
                leave[start:start + length, j] = True
                carry -= length
        # sickness: a two-state chain over the post's working days
        ill = False
        for d in range(n):
            if ill:
                ill = u_sick[d, 0] >= 1.0 / sick_len[d]
            elif holds[d, j]:  # also on leave (not counted then), so leave hides no share of it
                r = sick_rate[d]
                ill = u_sick[d, 1] < r / (sick_len[d] * (1 - r)) if r < 1 else True
            sick[d, j] = ill and holds[d, j] and not leave[d, j]
    share = np.where(holds & ~leave & ~sick, np.minimum(prod[:, None] * weight[:, None], 1.0) * filled, 0.0)
    return PoolRota(filled, leave, sick, share, min_cover, moved, refused)


def _book(leave: np.ndarray, holds: np.ndarray, j: int, first: int, length: int, a: int, b: int,
          min_cover: np.ndarray) -> int | None:
    """The start nearest `first` (within the month a..b, the spell may run on past its end)
    at which post j's spell keeps `min_cover` filled posts off leave on every day, or None."""
    n = leave.shape[0]
    present = (holds & ~leave).sum(axis=1)  # filled posts off leave, this one included
    for off in range(b - a):
        for start in ((first - off, first + off) if off else (first,)):
            if not a <= start < b:
                continue
            end = min(start + length, n)
            if leave[start:end, j].any():
                continue
            need = np.minimum(min_cover[start:end], holds[start:end].sum(axis=1))
            if np.all(present[start:end] - holds[start:end, j] >= need):
                return start
    return None


def away_blocks(rota: PoolRota, pools: list[FrontDoorPool], spell: np.ndarray, cal: WorkCalendar,
                seed: int, rep: int, name: str, meeting: list[tuple[float, float]] | None = None
                ) -> list[list[tuple[tuple[float, float], ...]]]:
    """Per working day and post: the blocks away from front-door work, as (due, minutes).

    The time away is (1 - share) of the office day. A daily meeting the whole pool attends
    (`meeting`: per day, its start in minutes after the opening and its length; the domestic
    abuse hub's DRAM) is one block, at its time; the rest is split into `away_blocks` blocks of
    equal length, block b due at a uniform time in the b-th part of the day."""
    n, cap = rota.share.shape
    opens, L = np.asarray(cal.opens), cal.day_length
    nb = np.array([int(pools[k].rota.away_blocks.value) for k in spell.tolist()])
    out: list[list[tuple[tuple[float, float], ...]]] = [[()] * cap for _ in range(n)]
    for j in range(cap):
        u = stream(seed, rep, f"staffing.{name}.post{j}.blocks").random((n, 8))
        for d in np.flatnonzero(rota.share[:, j] > 0).tolist():
            k = nb[d]
            total = (1.0 - rota.share[d, j]) * L
            fixed: list[tuple[float, float]] = []
            if meeting is not None:
                at, length = meeting[d]
                length = min(length, total)
                fixed = [(opens[d] + at, length)] if length > 0 else []
                total -= length
            away, part = total / k, L / k
            spread = [(opens[d] + b * part + u[d, b] * max(part - away, 0.0), away) for b in range(k)]
            out[d][j] = tuple(sorted(fixed + [b for b in spread if b[1] > 0]))
    return out


def front_door_rotas(sc: Scenario, cal: WorkCalendar, seed: int, rep: int) -> dict[str, PoolRota]:
    """Each front-door pool's rota, each day by the settings in force that day (dated changes).
    Co-triage officers are on duty only from the co-triage start (sim/model/cotriage.py pairs
    them with supervisors)."""
    days = [cal.dates[d] for d in cal.working_day_index]
    tl = timeline(sc)
    spell = spell_of_days(tl, days)
    out = {name: pool_rota([s.staff[name] for s in tl.scenarios], cal, spell, seed, rep, name)
           for name in POOLS}
    ct = sc.cotriage
    active = np.array([ct.enabled and d >= ct.start.value for d in days], dtype=bool)
    r = out["cotriage"]
    r.share[~active] = 0.0
    r.filled[~active] = 0.0
    return out


def rota_table(rotas: dict[str, PoolRota], days: np.ndarray, day_length: float,
               on_duty: dict[str, np.ndarray], response: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per working day and pool: posts filled (part-time posts as their share), on
    leave, off sick, on duty, whether the minimum cover was kept, and the hours on duty free
    for front-door work (the day's blocks away taken out). `on_duty` is the members on duty
    each day as the front door works them (co-triage: the pairs in the room); `response` the
    management response's hours (consultant social workers lent to screening count on their
    own pool, overtime, the team manager's screening and triage on the supervisors')."""
    parts = []
    for name, r in rotas.items():
        holds = r.filled > 0
        minutes = r.share.sum(axis=1) * day_length
        hours = np.zeros(len(days))
        if response is not None and len(response):
            mine = response[response["pool"] == name]
            np.add.at(hours, mine["working_day"].to_numpy(dtype=int), mine["hours"].to_numpy())
        if name == "cotriage":  # officers in the room on the days a pair forms
            per = np.divide(minutes, r.count(), out=np.zeros(len(minutes)), where=r.count() > 0)
            minutes = per * on_duty[name]
        parts.append(pd.DataFrame({
            "day": days, "pool": name, "posts_filled": r.filled.sum(axis=1),
            "on_leave": (r.leave & holds).sum(axis=1), "sick": (r.sick & holds).sum(axis=1),
            "on_duty": on_duty[name], "min_cover": r.min_cover, "cover_kept": r.cover_kept(),
            "frontdoor_hours": minutes / 60.0, "response_hours": hours}))
    return pd.concat(parts, ignore_index=True)
