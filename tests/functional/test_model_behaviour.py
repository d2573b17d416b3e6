"""Levers move the model the way their definitions say."""

from __future__ import annotations

import numpy as np
import pytest

from sim.measures.metrics import monthly
from sim.model.frontdoor import FrontDoorModel
from sim.model.replication import simulate
from sim.model.rng import make_streams
from sim.model.rosters import duty_rosters
from tests.helpers import variant


def _quality(q: float):
    return variant({"ppn": {"quality": {"value": q, "range": [0, 1]}}})


def test_better_ppns_mean_less_advice_fewer_referrals_and_less_screening():
    poor, good = FrontDoorModel(_quality(0.2), 4, 0), FrontDoorModel(_quality(0.9), 4, 0)
    police = poor.arr.source == 0  # same contacts in both (common random numbers)
    for k in (0, 2):  # information and advice, referral
        assert np.sum(good.out_written[police] == k) < np.sum(poor.out_written[police] == k)
    ppn = poor.arr.channel >= 2
    assert good.d_ppn[ppn].sum() < poor.d_ppn[ppn].sum()
    assert good.d_da[ppn].sum() < poor.d_da[ppn].sum()


def test_cotriage_settles_ppns_and_pairs_only_supervisors_on_duty():
    on = variant({"cotriage": {"enabled": True, "start": {"value": "2023-10-01"}}})
    res = simulate(on, rep=0)
    ct = res.stages[res.stages["pool"] == "cotriage"]
    assert len(ct) > 0 and ct["enqueued"].min() >= res.cal.minutes_at(on.cotriage.start.value)
    settled = res.contacts["cotriage_end"].notna() & res.contacts["screen_start"].isna()
    assert settled.sum() > 0
    assert set(res.contacts.loc[settled, "outcome"]) <= {"info_advice", "nfa"}
    off = simulate(variant(), rep=0)
    after = off.rosters["day"] >= np.datetime64("2023-10-01")
    # the pair's supervisor stays on the supervisors' rota; a pair needs one on duty
    assert (res.rosters["ps"] == off.rosters["ps"]).all()
    assert (res.rosters.loc[after, "cotriage"] <= res.rosters.loc[after, "ps"]).all()
    assert (res.rosters.loc[~after, "cotriage"] == 0).all() and res.rosters.loc[after, "cotriage"].sum() > 0


def test_a_period_starting_mid_month_counts_only_its_own_days():
    full = monthly(simulate(variant(start="2023-09-01", end="2023-09-30"), rep=0))
    half = monthly(simulate(variant(start="2023-09-16", end="2023-09-30"), rep=0))
    assert list(half["month"]) == ["2023-09"]
    assert 0.35 * full["contacts"].iloc[0] < half["contacts"].iloc[0] < 0.65 * full["contacts"].iloc[0]


def test_summer_leave_means_fewer_staff_on_duty_in_august(baseline):
    model = FrontDoorModel(baseline, 1, 0)
    days = np.array([model.cal.dates[d] for d in model.cal.working_day_index], dtype="datetime64[M]")
    aug, sep = [], []
    for rep in range(20):
        csw = duty_rosters(baseline, model.cal, make_streams(1, rep))["csw"]
        aug.append(csw[days == np.datetime64("2023-08")].mean())
        sep.append(csw[days == np.datetime64("2023-09")].mean())
    pool = baseline.staff["csw"]
    expected = [pool.establishment.default * (1 - pool.vacancy_rate.default)
                * (1 - pool.leave_rate.at(2023, m)) * (1 - pool.sickness_rate.value)
                * pool.productive_share.value for m in (8, 9)]
    assert np.mean(aug) < np.mean(sep)
    assert np.mean(aug) == pytest.approx(expected[0], rel=0.05)
    assert np.mean(sep) == pytest.approx(expected[1], rel=0.05)
