"""Working time on real dates: one working-day calendar.

Simulated time is minutes since `epoch` (midnight at the start of the warm-up). A working day
is one of the scenario's working weekdays that is not an English bank holiday (from the
`holidays` package); `WorkCalendar.working_days` is the one place that decides it. The
calendar answers two kinds of question from it:

* office hours over the run's horizon (warm-up start to cool-down end): the office is open
  from `open_hour` to `close_hour` on working days (`WorkCalendar`);
* working-day time over a wider span of days, reaching back before the start for children's
  histories and forward past the horizon (`WorkCalendar.clock`, a `WorkClock`), for the
  pathway's "within N working days" clocks.

"Completed within 1 working day" is defined once, here (`within_one_working_day`): the office
time that elapsed between arrival and decision is at most one working day's office hours.
Equivalently, a contact is in time if decided by the same clock time on the next working day;
a contact that arrives out of hours starts its clock at the next opening, so it is in time if
decided by the close of that working day.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays
import numpy as np

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

MIN_PER_DAY = 1440.0


@lru_cache(maxsize=32)
def _bank_holidays(kind: str, first_year: int, last_year: int) -> frozenset[date]:
    # cached: a replication asks for the same years for its horizon and again for its clock
    if kind == "none":
        return frozenset()
    years = list(range(first_year, last_year + 1))
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=years).keys())


def bank_holidays(kind: str, first: date, last: date) -> set[date]:
    """The bank holidays of the years from `first` to `last` (none if `kind` is "none")."""
    return set(_bank_holidays(kind, first.year, last.year))


@lru_cache(maxsize=32)
def _working_mask(first: date, n: int, weekdays: tuple[int, ...], kind: str) -> np.ndarray:
    """Working days among the n calendar days from `first` (read-only: it is shared)."""
    hol = _bank_holidays(kind, first.year, (first + timedelta(days=n)).year)
    week = [1 if d in weekdays else 0 for d in range(7)]
    out = np.is_busday(np.datetime64(first, "D") + np.arange(n), weekmask=week,
                       holidays=np.array(sorted(hol), dtype="datetime64[D]"))
    out.setflags(write=False)
    return out


def days_holding(working_days, weekdays: tuple[int, ...]) -> np.ndarray:
    """Calendar days that surely hold `working_days` working days, whatever the bank holidays.

    Twice the whole weeks the working days need on `weekdays` alone, plus two weeks: bank
    holidays take far fewer than half of any span's working days (England's are at most 10 of
    the 250 or so working days of a year, and never more than 2 in 4 weeks on one weekday), so
    the span always holds them. Generous on purpose: a longer clock costs microseconds and
    changes no time it gives (`WorkClock` counts from its first day; only its span grows).
    """
    need = np.ceil(np.maximum(np.asarray(working_days, dtype=float), 0.0) / len(weekdays))
    return (2 * 7 * need + 14).astype(np.int64)


class WorkCalendar:
    """Office hours over a fixed horizon, with fast scalar and vectorised look-ups, and the
    working-day clock over a wider span (`clock`), both from the same working days."""

    def __init__(self, epoch: date, days: int, open_hour: float, close_hour: float,
                 working_weekdays: tuple[int, ...], bank_holiday_kind: str = "england"):
        self.epoch = epoch
        self.days = int(days)
        self.working_weekdays = tuple(working_weekdays)
        self.bank_holiday_kind = bank_holiday_kind
        self.open_min = open_hour * 60.0
        self.close_min = close_hour * 60.0
        self.day_length = self.close_min - self.open_min
        last = epoch + timedelta(days=self.days)
        self.holidays = bank_holidays(bank_holiday_kind, epoch, last)
        self.dates = [epoch + timedelta(days=d) for d in range(self.days)]
        self.is_working = self.working_days(0, self.days)
        self.working_day_index = np.flatnonzero(self.is_working)  # calendar day of each working day
        opens = self.working_day_index * MIN_PER_DAY + self.open_min
        self.opens_arr = opens.astype(float)
        self.closes_arr = self.opens_arr + self.day_length
        self.opens: list[float] = self.opens_arr.tolist()
        self.closes: list[float] = self.closes_arr.tolist()
        self.horizon = self.days * MIN_PER_DAY

    def working_days(self, first_day: int, end_day: int) -> np.ndarray:
        """Which of the calendar days first_day <= d < end_day (counted from the epoch; before
        it is negative) are working days: the one rule, for the office and for the clock."""
        n = max(int(end_day) - int(first_day), 0)
        return _working_mask(self.epoch + timedelta(days=int(first_day)), n,
                             self.working_weekdays, self.bank_holiday_kind)

    def clock(self, first_day: int, end_day: int) -> WorkClock:
        """The working-day clock on calendar days first_day <= d < end_day, widened to hold
        the whole run (first_day at most 0, end_day at least `days`)."""
        return WorkClock(self, first_day, end_day)

    # -- scalar look-ups used inside the simulation -------------------------------------------
    def working_day_at_or_after(self, t: float) -> int:
        """Index of the first working day whose close is after t (len(opens) if none)."""
        return bisect_right(self.closes, t)

    def is_open(self, t: float) -> bool:
        k = bisect_right(self.closes, t)
        return k < len(self.opens) and self.opens[k] <= t

    def office_minutes(self, t: float) -> float:
        """Office minutes elapsed from the epoch to t (scalar; `working_minutes_before` for
        arrays): how long a task has waited in office time."""
        k = bisect_right(self.opens, t) - 1
        if k < 0:
            return 0.0
        inside = t - self.opens[k]
        return k * self.day_length + (inside if inside < self.day_length else self.day_length)

    def after_office_minutes(self, t: float, minutes: float) -> float:
        """The time at which `minutes` of office time have passed since t (inf past the run)."""
        target = self.office_minutes(t) + minutes
        k = int(target // self.day_length)
        inside = target - k * self.day_length
        if inside == 0 and k > 0:
            return self.closes[k - 1]
        return self.opens[k] + inside if k < len(self.opens) else float("inf")

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


class WorkClock:
    """Working-day time on real dates: the calendar's working days over a wider span.

    `clock(t)` counts minutes of working days only (all 24 hours of a working day count;
    weekends and bank holidays do not). `days_between(t0, t1)` counts working days after the
    day of t0 up to and including the day of t1 ("within N working days" is <= N). It is exact
    on the calendar days it holds, `first` <= d < `first + n`, which the caller chooses to hold
    every time it reads (`sim.model.downstream.clock_span`); outside them a time is read as on
    the first or last day held.
    """

    def __init__(self, cal: WorkCalendar, first_day: int, end_day: int):
        self.first = min(int(first_day), 0)
        end = max(int(end_day), cal.days)
        self.n = end - self.first
        # the run's days are the office calendar's own mask; the days before and after it
        # come from the same rule
        self.is_working = np.concatenate((cal.working_days(self.first, 0), cal.is_working,
                                          cal.working_days(cal.days, end)))
        self.before = np.concatenate(([0], np.cumsum(self.is_working)))
        self.working = np.flatnonzero(self.is_working)

    def _day(self, t: np.ndarray) -> np.ndarray:
        return np.clip(np.floor(t / MIN_PER_DAY).astype(np.int64) - self.first, 0, self.n - 1)

    def clock(self, t) -> np.ndarray:
        """Working-day minutes at each time t (NaN stays NaN)."""
        t = np.asarray(t, dtype=float)
        ok = np.isfinite(t)
        tt = np.where(ok, t, 0.0)
        i = self._day(tt)
        w = self.before[i] * MIN_PER_DAY + np.where(
            self.is_working[i], tt - (i + self.first) * MIN_PER_DAY, 0.0)
        return np.where(ok, w, np.nan)

    def at(self, w) -> np.ndarray:
        """The time at each working-day clock reading w (the inverse of `clock`)."""
        w = np.asarray(w, dtype=float)
        ok = np.isfinite(w)
        ww = np.where(ok, w, 0.0)
        k = np.clip(np.floor(ww / MIN_PER_DAY).astype(np.int64), 0, len(self.working) - 1)
        t = (self.working[k] + self.first) * MIN_PER_DAY + (ww - k * MIN_PER_DAY)
        return np.where(ok, t, np.nan)

    def add(self, t, working_days) -> np.ndarray:
        """The time `working_days` working days after t (before it, if negative)."""
        return self.at(self.clock(t) + np.asarray(working_days, dtype=float) * MIN_PER_DAY)

    def days_between(self, t0, t1) -> np.ndarray:
        """Working days after the day of t0 up to and including the day of t1."""
        t0, t1 = np.asarray(t0, dtype=float), np.asarray(t1, dtype=float)
        ok = np.isfinite(t0) & np.isfinite(t1)
        i0 = self._day(np.where(ok, t0, 0.0))
        i1 = self._day(np.where(ok, t1, 0.0))
        return np.where(ok, (self.before[i1 + 1] - self.before[i0 + 1]).astype(float), np.nan)


def run_calendar(scenario: Scenario) -> WorkCalendar:
    """The calendar a replication runs on: from the start of the warm-up to the end of the
    cool-down, with the scenario's office hours, working weekdays and bank holidays."""
    run, c = scenario.run, scenario.calendar
    epoch = run.start - timedelta(days=int(round(run.warmup_days.value)))
    days = (run.end - epoch).days + 1 + int(round(run.cooldown_days.value))
    return WorkCalendar(epoch, days, c.office_open_hour.value, c.office_close_hour.value,
                        c.working_weekdays, c.bank_holidays)
