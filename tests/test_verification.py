"""Verification: the model against queueing theory and the laws any correct model obeys.

Selected by `pytest -k "erlang or little or conserv or determin or monoton"`.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiments.runner import run_replications
from sim.measures.metrics import monthly
from sim.model.replication import simulate
from sim.scenario.schema import validate
from tests.helpers import assert_conserved, mmc_doc, staff_level, variant


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue for M/M/c (Erlang C), in the units of 1/lam."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


@pytest.mark.parametrize("lam_per_hour, service_min, servers", [(10.0, 20.0, 4), (2.5, 30.0, 2)])
def test_erlang_c_mean_wait_within_replication_interval(lam_per_hour, service_min, servers):
    sc = validate(mmc_doc(lam_per_hour, service_min, servers), "mmc")
    waits = []
    for rep in range(12):
        res = simulate(sc, seed=12345, rep=rep)
        st = res.stages[res.stages["kind"] == "conversation"]
        t0 = res.cal.minutes_at(sc.run.start)
        t1 = res.cal.minutes_at(sc.run.end) + 1440
        st = st[(st["enqueued"] >= t0) & (st["enqueued"] < t1)]
        waits.append((st["start"] - st["enqueued"]).mean())
    waits = np.array(waits)
    expected = erlang_c_wait(lam_per_hour / 60.0, 1.0 / service_min, servers)
    half = stats.t.ppf(0.975, len(waits) - 1) * waits.std(ddof=1) / math.sqrt(len(waits))
    assert abs(waits.mean() - expected) <= half, (
        f"simulated mean wait {waits.mean():.2f} +/- {half:.2f} min; Erlang C {expected:.2f} min")


def test_little_law_holds_for_every_queue(baseline_result):
    """Time-average queue length (the model's own counters) = arrival rate x mean time queued."""
    res = baseline_result
    horizon = res.cal.horizon
    for pool, q in res.queue_stats.items():
        st = res.stages[res.stages["pool"] == pool]
        if len(st) == 0:
            assert q["area"] == 0
            continue
        leave = np.where(np.isfinite(st["start"]), st["start"],
                         np.where(np.isfinite(st["end"]), st["end"], horizon))
        lam = len(st) / horizon
        w = float(np.mean(leave - st["enqueued"]))
        big_l = q["area"] / horizon
        assert big_l == pytest.approx(lam * w, rel=1e-9), pool


def test_conservation_in_baseline(baseline_result):
    assert_conserved(baseline_result)


def test_conservation_under_saturation_and_cotriage():
    sc = variant({**staff_level("ps", 1.0), "cotriage": {"enabled": True,
                                                          "start": {"value": "2023-09-01"}}})
    res = simulate(sc, rep=0)
    assert_conserved(res)
    assert res.warnings, "a front door with one supervisor post should warn of saturation"
    assert res.warnings[0].pool == "ps" and res.warnings[0].waiting > res.warnings[0].limit


def test_determinism_same_seed_same_log_other_seed_differs(baseline):
    a = simulate(baseline, seed=7, rep=0).contacts
    b = simulate(baseline, seed=7, rep=0).contacts
    c = simulate(baseline, seed=8, rep=0).contacts
    pd.testing.assert_frame_equal(a, b)
    assert len(a) != len(c) or not a["arrival"].equals(c["arrival"])


def test_determinism_parallel_equals_serial(baseline):
    serial = run_replications(baseline, reps=3, seed=99)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = run_replications(baseline, reps=3, seed=99, executor=pool)
    pd.testing.assert_frame_equal(serial.monthly, parallel.monthly)


@pytest.mark.parametrize("pool, levels", [("ps", [6.0, 8.0, 11.0]), ("csw", [7.0, 10.0, 14.0])])
def test_monotone_more_staff_never_worse_within_1wd(pool, levels):
    means = []
    for level in levels:
        res = run_replications(variant(staff_level(pool, level)), reps=3, seed=2024)
        means.append(res.monthly["pct_completed_within_1wd"].mean())
    assert all(b >= a for a, b in zip(means, means[1:], strict=False)), (pool, levels, means)


def test_zero_demand_gives_zero_contacts():
    months = {f"2023-{m:02d}": 0 for m in range(1, 13)}
    zero = {"demand": {"contacts_monthly": {"value": months, "default": 0, "range": [0, 10]},
                       "police_monthly": {"value": months, "default": 0, "range": [0, 10]}}}
    res = simulate(variant(zero))
    assert len(res.contacts) == 0
    m = monthly(res)
    assert (m["contacts"] == 0).all() and (m["referrals"] == 0).all()
    assert m["pct_completed_within_1wd"].isna().all()
    assert_conserved(res)
