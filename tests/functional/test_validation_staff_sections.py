"""The validation report's staff, channel and management-response sections, and issue 13's
figures in its Summary, on a short validation run (September-December 2023, 3 replications)."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiments.compare import PERIOD
from sim.experiments.report import cover_section, summary_issue13, write_report
from sim.experiments.validation import (
    CHANGE_1WD_RANGE,
    FIT_TOLERANCE_1WD,
    MAX_BAND_WIDTH_1WD,
    RESPONSE_MEASURES,
    RESPONSES,
    SHARE_1WD,
    Validation,
    run_validation,
    without_response,
)
from sim.scenario.loading import load
from tests.helpers import BASELINE

REPS = 3


@pytest.fixture(scope="module")
def short() -> Validation:
    sc = load(BASELINE).with_run(start=date(2023, 9, 1), end=date(2023, 12, 31))
    return run_validation(scenario=sc, reps=REPS, elasticities=False)


def _with_rota(v: Validation, rota: pd.DataFrame) -> Validation:
    return dataclasses.replace(v, results=dataclasses.replace(v.results, rota=rota))


def _emptied(v: Validation, days: list[tuple[int, str, str]], posts: float | None = None) -> Validation:
    """The validation with nobody on duty in the given (rep, day, pool) rows of its rota (and,
    with `posts`, that many posts filled there)."""
    r = v.results.rota.copy()
    for rep, day, pool in days:
        at = (r["rep"] == rep) & (r["day"] == np.datetime64(day)) & (r["pool"] == pool)
        assert at.sum() == 1, (rep, day, pool)
        r.loc[at, ["on_duty", "sick"]] = [0, int(r.loc[at, "on_duty"].iloc[0] + r.loc[at, "sick"].iloc[0])]
        r.loc[at, "cover_kept"] = False
        if posts is not None:
            r.loc[at, "posts_filled"] = posts
    return _with_rota(v, r)


def _direct_zero_count(rota: pd.DataFrame, pool: str) -> int:
    return sum(1 for row in rota.itertuples() if row.pool == pool and row.on_duty == 0)


def test_every_replication_and_working_day_is_counted_once_per_pool(short):
    rota = short.results.rota
    days = rota["day"].nunique()
    for r in short.cover.itertuples():
        assert r.replications == REPS
        assert r.working_days == REPS * days
        assert 0 <= r.least_on_duty <= r.mean_on_duty <= r.posts_filled_max + 1


def test_zero_on_duty_count_equals_a_direct_count_of_the_rota_rows(short):
    v = _emptied(short, [(1, "2023-09-12", "ps"), (2, "2023-10-03", "ps"), (0, "2023-09-20", "csw")])
    cover = v.cover.set_index("pool")
    for pool in cover.index:
        assert cover.at[pool, "days_none_on_duty"] == _direct_zero_count(v.results.rota, pool)
    assert cover.at["ps", "days_none_on_duty"] == _direct_zero_count(short.results.rota, "ps") + 2
    below = sum(1 for row in v.results.rota.itertuples() if row.pool == "ps" and row.on_duty < row.min_cover)
    assert cover.at["ps", "days_below_cover"] == below


def test_a_day_with_nobody_on_duty_is_listed_with_its_replication(short):
    v = _emptied(short, [(2, "2023-10-03", "ps")])
    listed = v.zero_duty
    hit = listed[(listed["rep"] == 2) & (listed["pool"] == "ps")
                 & (pd.to_datetime(listed["day"]) == pd.Timestamp("2023-10-03"))]
    assert len(hit) == 1 and not hit["cannot_cover"].iloc[0]  # 6.8 posts could have covered it
    text = "\n".join(cover_section(v))
    assert "| 2 | 2023-10-03 | ps |" in text
    assert "**yes**" in text


def test_summary_says_not_met_for_a_day_the_filled_posts_could_have_covered(short):
    v = _emptied(short, [(2, "2023-10-03", "ps")])
    line = summary_issue13(v)[0]
    assert "of which the filled posts could have covered 1" in line and line.endswith("**Not met.**")


def test_a_day_whose_filled_posts_cannot_cover_it_is_listed_but_meets_the_figure(short):
    if len(short.zero_duty):
        pytest.skip("the short run has its own days with nobody on duty")
    v = _emptied(short, [(1, "2023-09-12", "csw")], posts=0.5)
    assert v.zero_duty["cannot_cover"].all()
    assert summary_issue13(v)[0].endswith("Met.")
    assert "| 1 | 2023-09-12 | csw | 0.5 |" in "\n".join(cover_section(v))


def _set_share(v: Validation, **cols) -> Validation:
    """The validation with columns of the share's cells (or its month-to-month row) set."""
    cells, changes = v.cells.copy(), v.changes.copy()
    share = cells["measure"] == SHARE_1WD
    for col, value in cols.items():
        if col == "simulated":
            changes.loc[changes["measure"] == SHARE_1WD, col] = value
        elif col == "mean":  # off the reported value by `value` points in the first fitted month
            first = share & (cells["period"] == "fitted")
            first &= cells["month"] == cells.loc[first, "month"].min()
            cells.loc[share & (cells["period"] == "fitted"), "mean"] = cells.loc[share, "reported"]
            cells.loc[first, "mean"] = cells.loc[first, "reported"] + value
        else:
            cells.loc[share, col] = value
    return dataclasses.replace(v, cells=cells, changes=changes)


@pytest.mark.parametrize(("line", "col", "inside", "outside"), [
    (1, "band_width", MAX_BAND_WIDTH_1WD, MAX_BAND_WIDTH_1WD + 0.5),
    (2, "simulated", CHANGE_1WD_RANGE[1], CHANGE_1WD_RANGE[1] + 1.0),
    (2, "simulated", CHANGE_1WD_RANGE[0], CHANGE_1WD_RANGE[0] - 1.0),
    (3, "mean", -(FIT_TOLERANCE_1WD - 0.01), FIT_TOLERANCE_1WD + 0.5),
])
def test_summary_says_not_met_when_a_figure_is_outside_its_threshold(short, line, col, inside, outside):
    assert summary_issue13(_set_share(short, **{col: inside}))[line].endswith(" Met.")
    text = summary_issue13(_set_share(short, **{col: outside}))[line]
    assert text.endswith("**Not met.**"), text


def test_the_run_without_response_switches_off_every_response_and_nothing_else(short):
    on = short.results.scenario.model_dump(mode="python")
    off = without_response(short.results.scenario).model_dump(mode="python")
    for r in RESPONSES:
        assert on["response"][r]["enabled"] and not off["response"][r]["enabled"]
        off["response"][r]["enabled"] = True
    off["name"] = on["name"]
    assert off == on
    assert (short.no_response.seed, short.no_response.reps) == (short.results.seed, short.results.reps)


def test_response_differences_agree_with_scipys_paired_t_interval(short):
    with_, without = (x.monthly.set_index(["rep", "month"]) for x in (short.results, short.no_response))
    table = short.response.set_index(["measure", "month"])
    assert set(table.index.get_level_values("measure")) == set(RESPONSE_MEASURES)
    for measure in RESPONSE_MEASURES:
        months = {m: (with_[measure].xs(m, level="month"), without[measure].xs(m, level="month"))
                  for m in short.months}
        months[PERIOD] = (with_[measure].groupby(level="rep").mean(),
                          without[measure].groupby(level="rep").mean())
        for month, (a, b) in months.items():
            b = b.reindex(a.index)
            ci = stats.ttest_rel(a, b).confidence_interval(0.95)
            row = table.loc[(measure, month)]
            assert row["diff"] == pytest.approx(float((a - b).mean()), abs=1e-9)
            assert (row["diff_ci_low"], row["diff_ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
            assert row["mean_without"] == pytest.approx(float(b.mean()))


def test_the_report_carries_the_new_sections_and_their_files(short, tmp_path):
    path = write_report(short, out_dir=tmp_path)
    text = path.read_text(encoding="utf-8")
    summary = text.split("## Summary")[1].split("## Fit table")[0]
    assert summary.count("(target:") == 4
    for head in ("## Staff on duty and cover", "## Share within 1 working day by channel",
                 "## What the management response buys"):
        assert head in text
    for name in ("cover", "zero_duty", "channels", "response"):
        assert (tmp_path / f"validation_{name}.csv").is_file()
