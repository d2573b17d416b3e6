"""The animated week: frames in office hours of working days only, on real dates, each saying
whether the office is open and who the rota has on duty that day."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from ui.animation import WEEK_STEP, animation


@pytest.mark.slow
def test_a_week_is_drawn_in_office_hours_with_the_rota_of_each_day(baseline_result):
    res = baseline_result
    fig = animation(res, date(2023, 8, 7), 7)  # Monday 7 to Sunday 13 August 2023
    when = [datetime.strptime(f.name, "%a %d %b %Y %H:%M") for f in fig.frames]
    cal = res.cal
    assert {w.date() for w in when} == {date(2023, 8, d) for d in range(7, 12)}  # Monday to Friday
    first, last = cal.open_min - 30, cal.close_min + 60
    for day in range(7, 12):
        minutes = sorted(w.hour * 60 + w.minute for w in when if w.day == day)
        assert minutes == list(range(int(first), int(last) + 1, WEEK_STEP)), day
    status = {f.name: next(str(t.text[0]) for t in f.data
                          if t.text is not None and len(t.text) == 1 and "on duty today" in str(t.text[0]))
              for f in fig.frames}
    rota = res.rosters.assign(day=pd.to_datetime(res.rosters["day"]).dt.date).set_index("day")
    for f, w in zip(fig.frames, when, strict=True):
        opened = cal.is_open(cal.minutes_at(w.date()) + w.hour * 60 + w.minute)
        assert status[f.name].startswith("Office open" if opened else "Office closed"), f.name
        assert f"{int(rota.loc[w.date(), 'csw'])} CSWs" in status[f.name]
