"""Settings that come from scenario files, not from the code: the declared backlog's ages, the
working-day clock's span, and how `extends` merges an empty mapping (issue 12, items 3 and 8)."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import numpy as np
import pytest

from sim.model.calendar import MIN_PER_DAY, WorkCalendar, days_holding
from sim.model.downstream import clock_span
from sim.model.pathway import backlog_work
from sim.model.rng import PATHWAY_DRAWS
from sim.model.sampling import draw_durations
from sim.scenario.loading import deep_merge, load
from tests.helpers import variant

EPOCH = date(2023, 7, 1)


def _cal(days: int = 184) -> WorkCalendar:
    return WorkCalendar(EPOCH, days, 8.5, 17.0, (0, 1, 2, 3, 4), "england")


# --- an empty mapping replaces ------------------------------------------------------------------

def test_an_empty_mapping_replaces_and_a_full_one_merges():
    base = {"m": {"value": {"2023-07": 1, "2023-08": 2}, "default": 0}, "x": {"a": 1}}
    assert deep_merge(base, {"m": {"value": {}}}) == {"m": {"value": {}, "default": 0}, "x": {"a": 1}}
    assert deep_merge(base, {"m": {"value": {"2023-08": 5}}})["m"]["value"] == {"2023-07": 1, "2023-08": 5}
    assert deep_merge(base, {"x": {}}) == {**base, "x": {}}
    assert deep_merge(base, {}) == base and deep_merge(base, {}) is not base


def test_value_empty_on_a_monthly_setting_clears_the_base_files_months(tmp_path):
    (tmp_path / "base.yaml").write_text("extends: baseline.yaml\nname: base\n", encoding="utf-8")
    (tmp_path / "cleared.yaml").write_text(
        "extends: base.yaml\nname: cleared\ndemand:\n  contacts_monthly:\n    value: {}\n", encoding="utf-8")
    (tmp_path / "one.yaml").write_text(
        "extends: base.yaml\nname: one\ndemand:\n  contacts_monthly:\n    value: {2023-08: 3000}\n",
        encoding="utf-8")
    base = load(tmp_path / "base.yaml").demand.contacts_monthly
    assert base.value["2023-07"] != base.default  # the baseline states its months
    cleared = load(tmp_path / "cleared.yaml").demand.contacts_monthly
    assert cleared.value == {} and cleared.at(2023, 7) == cleared.default == base.default
    one = load(tmp_path / "one.yaml").demand.contacts_monthly
    assert one.value == {**base.value, "2023-08": 3000}  # a non-empty mapping still merges


# --- the declared backlog's ages are settings ----------------------------------------------------

def test_baseline_states_the_backlog_ages_with_their_provenance():
    sc = variant()
    for p, value in ((sc.downstream.assessments.backlog_age_working_days, 45),
                     (sc.downstream.s47.backlog_age_working_days, 10)):
        assert p.value == value and p.provenance == "judgement" and p.range[0] < value < p.range[1]
        assert "working days" in p.unit and "judgement" in p.source


@pytest.mark.parametrize("assess_age, s47_age", [(20, 5), (45, 10), (90, 20)])
def test_declared_work_is_no_older_than_its_setting(assess_age, s47_age):
    sc = variant({"backlog": {"assessments_in_progress": {"value": 400, "range": [0, 1000]},
                              "s47_in_progress": {"value": 400, "range": [0, 1000]}},
                  "downstream": {"assessments": {"backlog_age_working_days": {"value": assess_age}},
                                 "s47": {"backlog_age_working_days": {"value": s47_age}}}})
    cal = _cal()
    clock = cal.clock(*clock_span(sc, cal, np.zeros(0), np.zeros((0, len(PATHWAY_DRAWS)))))
    bw = backlog_work(sc, clock, np.random.default_rng(7))
    for kind, col, age in ((2, "referred", assess_age), (3, "preset", s47_age)):
        t = bw[col][bw["kind"] == kind]
        assert len(t) == 400 and (t <= 0).all()
        ago = (clock.clock(0.0) - clock.clock(t)) / MIN_PER_DAY  # working days before the start
        assert ago.max() <= age + 1e-9 and ago.max() > 0.9 * age and ago.min() >= 0


# --- the clock's span is worked out, and safe ----------------------------------------------------

@pytest.mark.parametrize("weekdays", [(0, 1, 2, 3, 4), (0,), (0, 1, 2, 3, 4, 5, 6), (4, 5)])
def test_days_holding_always_holds_the_working_days(weekdays):
    mask = [1 if d in weekdays else 0 for d in range(7)]
    hol = np.array(sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2018, 2034))),
                   dtype="datetime64[D]")
    starts = np.datetime64("2020-01-01") + np.arange(0, 365 * 10, 3)
    for w in (1, 2, 5, 10, 45, 90, 250, 1000):
        d = int(days_holding(w, weekdays))
        ahead = np.busday_count(starts, starts + d, weekmask=mask, holidays=hol)
        behind = np.busday_count(starts - d, starts, weekmask=mask, holidays=hol)
        assert ahead.min() >= w and behind.min() >= w, (w, weekdays)


def test_the_clock_is_exact_wherever_the_pathway_reads_it():
    sc, cal = variant(), _cal()
    g = np.random.default_rng(3)
    n = 2000
    hist_time = -g.random(n) * 730 * MIN_PER_DAY
    u_path = g.random((n, len(PATHWAY_DRAWS)))
    u_path[:5, PATHWAY_DRAWS.index("assessment_work")] = 1 - 1e-9  # a few very long assessments
    first, end = clock_span(sc, cal, hist_time, u_path)
    clock = cal.clock(first, end)
    wide = cal.clock(first - 500, end + 5000)
    asm = sc.downstream.assessments
    work = draw_durations(asm.work_hours, u_path[:, PATHWAY_DRAWS.index("assessment_work")])
    end, wide_end = (c.add(hist_time, work / asm.max_hours_per_day.value) for c in (clock, wide))
    assert np.nanmax(end) > cal.horizon  # the span had to reach past the run
    np.testing.assert_allclose(end, wide_end, rtol=0, atol=1e-6)
    np.testing.assert_allclose(clock.clock(end) - clock.clock(0.0),
                               wide.clock(wide_end) - wide.clock(0.0), rtol=0, atol=1e-6)
    for age in (asm.backlog_age_working_days.value, sc.downstream.s47.backlog_age_working_days.value):
        np.testing.assert_allclose(clock.add(0.0, -age), wide.add(0.0, -age), rtol=0, atol=1e-6)
    # a time past the run reads as past it, however far
    past = clock.add(cal.horizon, np.array([1.0, 1e4]))
    assert (past > cal.horizon).all()
    day_after = EPOCH + timedelta(days=int(np.floor(past[0] / MIN_PER_DAY)))
    assert day_after.weekday() < 5
