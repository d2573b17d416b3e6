"""Working time on real dates.

Simulated time is minutes since `epoch` (midnight at the start of the warm-up). A working day
is one of the scenario's working weekdays that is not an English bank holiday (from the
`holidays` package); the office is open from `open_hour` to `close_hour` on working days.

"Completed within 1 working day" is defined once, here (`within_one_working_day`): the office
time that elapsed between arrival and decision is at most one working day's office hours.
Equivalently, a contact is in time if decided by the same clock time on the next working day;
a contact that arrives out of hours starts its clock at the next opening, so it is in time if
decided by the close of that working day.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import holidays
import numpy as np

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

MIN_PER_DAY = 1440.0


def bank_holidays(kind: str, first: date, last: date) -> set[date]:
    if kind == "none":
        return set()
    years = list(range(first.year, last.year + 1))
    return set(holidays.country_holidays("GB", subdiv="ENG", years=years).keys())


class WorkCalendar:
    """Office hours over a fixed horizon, with fast scalar and vectorised look-ups."""

    def __init__(self, epoch: date, days: int, open_hour: float, close_hour: float,
                 working_weekdays: tuple[int, ...], bank_holiday_kind: str = "england"):
        self.epoch = epoch
        self.days = int(days)
        self.open_min = open_hour * 60.0
        self.close_min = close_hour * 60.0
        self.day_length = self.close_min - self.open_min
        last = epoch + timedelta(days=self.days)
        self.holidays = bank_holidays(bank_holiday_kind, epoch, last)
        wd = set(working_weekdays)
        self.dates = [epoch + timedelta(days=d) for d in range(self.days)]
        self.is_working = np.array(
            [(d.weekday() in wd) and (d not in self.holidays) for d in self.dates], dtype=bool
        )
        self.working_day_index = np.flatnonzero(self.is_working)  # calendar day of each working day
        opens = self.working_day_index * MIN_PER_DAY + self.open_min
        self.opens_arr = opens.astype(float)
        self.closes_arr = self.opens_arr + self.day_length
        self.opens: list[float] = self.opens_arr.tolist()
        self.closes: list[float] = self.closes_arr.tolist()
        self.horizon = self.days * MIN_PER_DAY

    # -- scalar look-ups used inside the simulation -------------------------------------------
    def working_day_at_or_after(self, t: float) -> int:
        """Index of the first working day whose close is after t (len(opens) if none)."""
        return bisect_right(self.closes, t)

    def is_open(self, t: float) -> bool:
        k = bisect_right(self.closes, t)
        return k < len(self.opens) and self.opens[k] <= t

    def next_open(self, t: float) -> float:
        """Earliest time >= t at which the office is open (inf past the horizon)."""
        k = bisect_right(self.closes, t)
        if k >= len(self.opens):
            return float("inf")
        return max(t, self.opens[k])

    def close_after(self, t: float) -> float:
        """Close of the working day that is open at t, or of the next one."""
        k = bisect_right(self.closes, t)
        return self.closes[k] if k < len(self.closes) else float("inf")

    # -- vectorised helpers used by the measures -----------------------------------------------
    def working_minutes_before(self, t: np.ndarray) -> np.ndarray:
        """Office minutes elapsed from the epoch to each time t."""
        t = np.asarray(t, dtype=float)
        k = np.searchsorted(self.opens_arr, t, side="right") - 1
        inside = np.clip(t - self.opens_arr[np.maximum(k, 0)], 0.0, self.day_length)
        return np.where(k >= 0, k * self.day_length + inside, 0.0)

    def within_one_working_day(self, arrival: np.ndarray, decided: np.ndarray) -> np.ndarray:
        """The service's measure: decided within one working day of office time (NaN = open)."""
        arrival = np.asarray(arrival, dtype=float)
        decided = np.asarray(decided, dtype=float)
        done = np.isfinite(decided)
        safe = np.where(done, decided, arrival)
        elapsed = self.working_minutes_before(safe) - self.working_minutes_before(arrival)
        return done & (elapsed <= self.day_length + 1e-9)

    def close_of_day(self, t: np.ndarray) -> np.ndarray:
        """Close time of the calendar day containing t (the open hour's day), for overtime."""
        t = np.asarray(t, dtype=float)
        return np.floor(t / MIN_PER_DAY) * MIN_PER_DAY + self.close_min

    def to_datetime(self, t: np.ndarray) -> np.ndarray:
        """Sim minutes to datetimes, truncated to the second (so a time keeps its day)."""
        base = np.datetime64(self.epoch, "s")
        t = np.asarray(t, dtype=float)
        out = np.full(t.shape, np.datetime64("NaT"), dtype="datetime64[s]")
        ok = np.isfinite(t)
        out[ok] = base + np.floor(t[ok] * 60.0).astype("int64").astype("timedelta64[s]")
        return out

    def minutes_at(self, when: date | datetime) -> float:
        if not isinstance(when, datetime):
            when = datetime(when.year, when.month, when.day)
        epoch = datetime(self.epoch.year, self.epoch.month, self.epoch.day)
        return (when - epoch).total_seconds() / 60.0

    def month_edges(self, first: date, last: date) -> list[tuple[str, float, float]]:
        """(YYYY-MM, start, end) in sim minutes for each month from first to last day inclusive.

        A period that starts or ends inside a month counts only its own days of that month.
        """
        out = []
        lo, hi = self.minutes_at(first), self.minutes_at(last) + MIN_PER_DAY
        y, m = first.year, first.month
        while (y, m) <= (last.year, last.month):
            ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
            out.append((f"{y:04d}-{m:02d}", max(lo, self.minutes_at(date(y, m, 1))),
                        min(hi, self.minutes_at(date(ny, nm, 1)))))
            y, m = ny, nm
        return out

    def first_working_index_from(self, t: float) -> int:
        return bisect_left(self.opens, t)


def run_calendar(scenario: Scenario) -> WorkCalendar:
    """The calendar a replication runs on: from the start of the warm-up to the end of the
    cool-down, with the scenario's office hours, working weekdays and bank holidays."""
    run, c = scenario.run, scenario.calendar
    epoch = run.start - timedelta(days=int(round(run.warmup_days.value)))
    days = (run.end - epoch).days + 1 + int(round(run.cooldown_days.value))
    return WorkCalendar(epoch, days, c.office_open_hour.value, c.office_close_hour.value,
                        c.working_weekdays, c.bank_holidays)
