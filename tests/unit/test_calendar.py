"""The working calendar: weekends, English bank holidays, the year end, the 1-working-day rule,
and the working-day clock on the same working days, before, during and after the run."""

from __future__ import annotations

from datetime import date, datetime

import holidays
import numpy as np
import pytest

from sim.model.calendar import WorkCalendar


@pytest.fixture(scope="module")
def cal():
    # 08:30-17:00 Monday to Friday, English bank holidays, from 1 Dec 2023 for 60 days
    return WorkCalendar(date(2023, 12, 1), 60, 8.5, 17.0, (0, 1, 2, 3, 4), "england")


def t(cal, *args):
    return cal.minutes_at(datetime(*args))


def test_calendar_weekends_and_bank_holidays_are_not_working_days(cal):
    working = {cal.dates[d] for d in cal.working_day_index}
    assert date(2023, 12, 22) in working  # Friday
    assert date(2023, 12, 23) not in working  # Saturday
    assert date(2023, 12, 25) not in working and date(2023, 12, 26) not in working
    assert date(2024, 1, 1) not in working  # New Year's Day, across the year end
    assert date(2024, 1, 2) in working
    assert len([d for d in working if d.month == 12]) == 19  # 21 weekdays less 2 bank holidays


def test_calendar_next_open_jumps_weekend_christmas_and_new_year(cal):
    assert cal.next_open(t(cal, 2023, 12, 22, 17, 0)) == t(cal, 2023, 12, 27, 8, 30)
    assert cal.next_open(t(cal, 2023, 12, 29, 18, 0)) == t(cal, 2024, 1, 2, 8, 30)
    assert cal.next_open(t(cal, 2024, 1, 2, 10, 0)) == t(cal, 2024, 1, 2, 10, 0)
    assert cal.is_open(t(cal, 2024, 1, 2, 8, 30)) and not cal.is_open(t(cal, 2024, 1, 2, 17, 0))


@pytest.mark.parametrize("arrive, decide, expected", [
    ((2023, 12, 4, 10, 0), (2023, 12, 5, 10, 0), True),    # same clock time next working day
    ((2023, 12, 4, 10, 0), (2023, 12, 5, 10, 1), False),   # one minute late
    ((2023, 12, 8, 16, 0), (2023, 12, 11, 15, 59), True),  # Friday -> Monday
    ((2023, 12, 9, 12, 0), (2023, 12, 11, 17, 0), True),   # Saturday arrival: clock starts Monday
    ((2023, 12, 9, 12, 0), (2023, 12, 12, 8, 45), False),  # ...and runs out at Monday's close
    ((2023, 12, 22, 16, 0), (2023, 12, 27, 16, 0), True),  # Christmas and Boxing Day skipped
    ((2023, 12, 22, 16, 0), (2023, 12, 27, 16, 1), False),
    ((2023, 12, 29, 12, 0), (2024, 1, 2, 12, 0), True),    # year end and New Year's Day
    ((2023, 12, 4, 20, 0), (2023, 12, 5, 17, 0), True),    # evening arrival, decided by next close
])
def test_calendar_within_one_working_day(cal, arrive, decide, expected):
    got = cal.within_one_working_day(np.array([t(cal, *arrive)]), np.array([t(cal, *decide)]))
    assert bool(got[0]) is expected


def test_calendar_open_contact_is_not_within_one_working_day(cal):
    assert not cal.within_one_working_day(np.array([t(cal, 2023, 12, 4, 10)]), np.array([np.nan]))[0]


# --- one calendar: the pathway's working-day clock is the office calendar's working days ------

START = date(2023, 12, 1)  # the run: Christmas 2023, New Year, Easter 2024, the May bank holidays
RUN_DAYS = 200
ENGLAND = np.array(sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2021, 2027))),
                   dtype="datetime64[D]")


def at(*when) -> float:
    """Minutes from the start of the run's first day to a date and time."""
    s = datetime(START.year, START.month, START.day)
    return (datetime(*when) - s).total_seconds() / 60.0


def day_of(when: date) -> int:
    return (when - START).days


@pytest.fixture(scope="module")
def run():
    cal = WorkCalendar(START, RUN_DAYS, 8.5, 17.0, (0, 1, 2, 3, 4), "england")
    return cal, cal.clock(-500, RUN_DAYS + 400)  # a history before the start, and after the run


@pytest.mark.parametrize("weekdays, kind", [((0, 1, 2, 3, 4), "england"), ((0, 1, 2, 3, 4), "none"),
                                            ((0, 1, 2, 3, 4, 5), "england"), ((1, 3), "england")])
def test_clock_and_office_agree_on_every_day_of_the_run_and_with_weekdays_less_bank_holidays(
        weekdays, kind):
    cal = WorkCalendar(START, RUN_DAYS, 8.5, 17.0, weekdays, kind)
    clock = cal.clock(-400, RUN_DAYS + 100)
    week = [1 if d in weekdays else 0 for d in range(7)]
    hol = ENGLAND if kind == "england" else np.array([], dtype="datetime64[D]")
    days = np.datetime64(START) + np.arange(RUN_DAYS)
    expected = np.is_busday(days, weekmask=week, holidays=hol)
    office = np.zeros(RUN_DAYS, dtype=bool)
    office[cal.working_day_index] = True
    assert np.array_equal(office, expected)
    # on the clock, a working day's noon is one working day after the day before's noon, and the
    # clock runs through a working day's 24 hours and stands still on any other day
    noon = (np.arange(RUN_DAYS) + 0.5) * 1440
    assert np.array_equal(clock.days_between(noon - 1440, noon), expected.astype(float))
    ran = clock.clock(np.arange(1, RUN_DAYS + 1) * 1440.0) - clock.clock(np.arange(RUN_DAYS) * 1440.0)
    assert np.array_equal(ran, np.where(expected, 1440.0, 0.0))


@pytest.mark.parametrize("first, last, working_days", [
    (date(2023, 12, 22), date(2024, 1, 2), 4),   # Christmas, Boxing Day, New Year's Day
    (date(2024, 3, 28), date(2024, 4, 2), 1),    # Good Friday and Easter Monday
    (date(2024, 5, 24), date(2024, 5, 28), 1),   # a bank-holiday weekend (27 May)
    (date(2023, 8, 25), date(2023, 8, 29), 1),   # the August bank holiday, before the run
    (date(2022, 12, 23), date(2023, 1, 3), 4),   # the Christmas before, in the history
    (date(2024, 12, 20), date(2025, 1, 2), 6),   # the Christmas after the run
])
def test_working_days_between_dates_across_bank_holidays(run, first, last, working_days):
    _, clock = run
    assert np.busday_count(np.datetime64(first) + 1, np.datetime64(last) + 1, holidays=ENGLAND) \
        == working_days  # the count itself, independently
    for h0, h1 in ((10, 10), (0, 23), (17, 9)):
        got = clock.days_between(at(first.year, first.month, first.day, h0),
                                 at(last.year, last.month, last.day, h1))
        assert got == working_days


def test_days_between_counts_the_days_after_the_first_up_to_and_including_the_last(run):
    _, clock = run
    assert clock.days_between(at(2024, 1, 2, 9), at(2024, 1, 2, 16)) == 0  # same day
    assert clock.days_between(at(2023, 12, 23, 12), at(2023, 12, 27, 8)) == 1  # Saturday -> Wednesday
    assert np.isnan(clock.days_between(at(2024, 1, 2, 9), np.nan))


def test_add_then_clock_round_trip_before_during_and_after_the_run(run):
    cal, clock = run
    # working-day times from the history, the run and after it (weekdays, not bank holidays)
    days = np.datetime64(START) + np.arange(-450, RUN_DAYS + 300)
    days = days[np.is_busday(days, holidays=ENGLAND)]
    rng = np.random.default_rng(5)
    t = (days - np.datetime64(START)).astype(np.int64) * 1440.0 + rng.uniform(0, 1440, len(days))
    assert t.min() < -400 * 1440 and t.max() > cal.horizon
    np.testing.assert_allclose(clock.at(clock.clock(t)), t, rtol=0, atol=1e-6)
    k = rng.uniform(-40, 40, len(t))
    inside = (t + np.abs(k) * 2 * 1440 + 14 * 1440 < (RUN_DAYS + 400) * 1440) \
        & (t - np.abs(k) * 2 * 1440 - 14 * 1440 > -500 * 1440)
    moved = clock.add(t[inside], k[inside])
    np.testing.assert_allclose(clock.clock(moved) - clock.clock(t[inside]), k[inside] * 1440,
                               rtol=0, atol=1e-6)
    # whole working days: the same time of day, that many working days later (or earlier)
    whole = clock.add(t[inside], np.round(k[inside]))
    d0 = np.floor(t[inside] / 1440).astype(np.int64)
    d1 = np.floor(whole / 1440).astype(np.int64)
    np.testing.assert_allclose(whole - d1 * 1440, t[inside] - d0 * 1440, rtol=0, atol=1e-6)
    counted = np.busday_count(np.datetime64(START) + np.minimum(d0, d1) + 1,
                              np.datetime64(START) + np.maximum(d0, d1) + 1, holidays=ENGLAND)
    assert np.array_equal(counted, np.abs(np.round(k[inside])).astype(np.int64))


def test_a_time_before_the_start_reads_on_the_history_s_own_dates(run):
    _, clock = run
    # Friday 25 August 2023 16:00; Monday 28 August is the summer bank holiday
    friday = at(2023, 8, 25, 16)
    assert friday < 0
    assert clock.add(friday, 1.0) == pytest.approx(at(2023, 8, 29, 16))  # Tuesday 16:00
    assert clock.add(friday, -5.0) == pytest.approx(at(2023, 8, 18, 16))  # a week earlier
    # ten working days before the start (Friday 1 December 2023 00:00) is 17 November 00:00
    assert clock.add(0.0, -10.0) == pytest.approx(at(2023, 11, 17))
    assert clock.days_between(at(2023, 11, 17, 12), 0.0) == 10
    # a weekend or bank holiday reads as the start of the next working day
    tuesday = clock.clock(at(2023, 8, 29))
    assert clock.clock(at(2023, 8, 26, 12)) == clock.clock(at(2023, 8, 28, 23)) == tuesday


def test_a_time_after_the_horizon_reads_as_after_it(run):
    cal, clock = run
    later = clock.add(cal.horizon, np.array([1.0, 20.0]))
    assert (later > cal.horizon).all()
    assert clock.days_between(cal.horizon, later).tolist() == [1.0, 20.0]


def test_the_clock_always_holds_the_whole_run(run):
    cal, wide = run
    narrow = cal.clock(5, 10)  # asked for less than the run: still holds every day of it
    t = np.linspace(0, cal.horizon - 1, 997)
    np.testing.assert_allclose(narrow.clock(t) - narrow.clock(0.0), wide.clock(t) - wide.clock(0.0),
                               rtol=0, atol=1e-6)
    assert np.array_equal(narrow.days_between(0.0, t), wide.days_between(0.0, t))
