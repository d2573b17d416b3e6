"""The working calendar: weekends, English bank holidays, the year end, and the 1-working-day rule."""

from __future__ import annotations

from datetime import date, datetime

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
