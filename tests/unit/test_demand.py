"""Demand: each stream's monthly volume and time profile come out as the scenario states."""

from __future__ import annotations

import numpy as np

from sim.model.demand import STREAMS, hourly_rates, stream_volume
from sim.model.frontdoor import FrontDoorModel


def test_stream_volumes_add_up_to_reported_totals(baseline):
    total = sum(stream_volume(baseline, s, c, 2023, 9) for s, c in STREAMS)
    police = sum(stream_volume(baseline, s, c, 2023, 9) for s, c in STREAMS if s == "police")
    assert total == 3467 and police == 1049


def test_generated_monthly_counts_match_volumes_within_poisson_noise(baseline):
    counts = []
    for rep in range(8):
        m = FrontDoorModel(baseline, 11, rep)
        month = m.cal.to_datetime(m.arr.time).astype("datetime64[M]")
        counts.append(np.sum(month == np.datetime64("2023-11")))
    expected = 3744
    # the mean of 8 Poisson(3744) counts has sd sqrt(3744/8) = 21.6; allow 4 sd
    assert abs(np.mean(counts) - expected) < 4 * np.sqrt(expected / 8)


def test_ppns_arrive_around_the_clock_and_calls_in_working_hours(baseline):
    m = FrontDoorModel(baseline, 3, 0)
    cal = m.cal
    ooh = np.array([not cal.is_open(t) for t in m.arr.time])
    chan = m.arr.channel
    ppn_ooh = ooh[chan >= 2].mean()
    phone_ooh = ooh[chan == 0].mean()
    # expected out-of-hours share of PPNs from the profile itself
    rates = hourly_rates(baseline, cal, "police", "ppn_domestic")
    hours = np.arange(rates.size) * 60.0 + 30.0
    open_mask = np.array([cal.is_open(h) for h in hours])
    expected = rates.ravel()[~open_mask].sum() / rates.sum()
    assert abs(ppn_ooh - expected) < 0.02
    assert 0.55 < ppn_ooh < 0.8 and phone_ooh < 0.1


def test_bank_holiday_has_few_calls(baseline):
    m = FrontDoorModel(baseline, 5, 0)
    day = m.cal.to_datetime(m.arr.time).astype("datetime64[D]")
    phone = m.arr.channel == 0
    on_bh = np.sum(phone & (day == np.datetime64("2023-08-28")))
    on_monday = np.sum(phone & (day == np.datetime64("2023-09-04")))
    assert on_bh < 0.2 * on_monday
