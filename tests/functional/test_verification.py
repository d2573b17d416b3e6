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
@pytest.mark.slow
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


def queue_visits(res, pool: str) -> tuple[np.ndarray, np.ndarray]:
    """Each visit to a pool's queue from the stage log: when it joined and when it left the queue
    (service start, or the caller hanging up; infinity if still waiting when the run stopped)."""
    st = res.stages[res.stages["pool"] == pool]
    start, end = st["start"].to_numpy(), st["end"].to_numpy()
    leave = np.where(np.isfinite(start), start, np.where(st["abandoned"].to_numpy(), end, np.inf))
    return st["enqueued"].to_numpy(), leave


def time_average_in_queue(joined: np.ndarray, left: np.ndarray, t0: float, t1: float) -> float:
    """Integrate the number waiting over [t0, t1): the step function +1 at each join, -1 at each
    leave, in time order (joins first at a tie: a zero-length wait adds nothing either way)."""
    times = np.concatenate((joined, left[np.isfinite(left)]))
    steps = np.concatenate((np.ones(len(joined)), -np.ones(int(np.isfinite(left).sum()))))
    order = np.lexsort((-steps, times))
    times, n = times[order], np.cumsum(steps[order])
    assert n.min() >= 0, "the queue went below zero: a visit left before it joined"
    edges = np.clip(np.append(times, np.inf), t0, t1)
    return float(np.sum(n * np.diff(edges)) / (t1 - t0))


def test_little_law_time_average_queue_equals_arrival_rate_times_mean_wait(baseline_result):
    """L = lambda x W for every queue over the reported period, from three separate measurements:
    L the time average of the number waiting (the step function of joins and leaves, integrated
    over the window, and checked against the model's own queue counter at every opening),
    lambda the joins in the window over its length, W the mean whole wait of those joins.

    Over a finite window the law holds up to edge effects: waiting that falls inside the window
    but belongs to joins before it, less waiting after the window's end by joins inside it. Each
    is at most (number waiting at that end) x (longest wait), so |L - lambda W| <= max(N(t0),
    N(t1)) x W_max / T; the test asserts that bound, and that the window is long enough for the
    bound to be under 5% of L (a tolerance that means something). The relative error found is
    also held under 2%.
    """
    res = baseline_result
    sc, cal = res.scenario, res.cal
    t0, t1 = cal.minutes_at(sc.run.start), cal.minutes_at(sc.run.end) + 1440.0  # after the warm-up
    span = t1 - t0
    qd = res.queue_daily
    opens = np.asarray(cal.opens)[qd["working_day"].to_numpy(dtype=int)]
    checked = []
    for pool in res.queue_stats:
        joined, left = queue_visits(res, pool)
        # the step function is the model's queue: at each opening the model's counter (taken at
        # the same instant as servers starting, so between the counts just before and after)
        before = ((joined[:, None] < opens) & (left[:, None] > opens)).sum(axis=0)
        after = ((joined[:, None] <= opens) & (left[:, None] >= opens)).sum(axis=0)
        snap = qd[pool].to_numpy()
        bad = np.flatnonzero((snap < before) | (snap > after))
        assert not len(bad), (f"{pool}: the model counted {snap[bad[:3]]} waiting at openings"
                              f" {opens[bad[:3]]}, the event log {before[bad[:3]]}..{after[bad[:3]]}")
        inside = (joined >= t0) & (joined < t1)
        if inside.sum() < 1000:
            continue
        waits = left[inside] - joined[inside]
        assert np.all(np.isfinite(waits)), f"{pool}: joins in the window still waiting at the end of the run"
        big_l = time_average_in_queue(joined, left, t0, t1)
        lam = inside.sum() / span
        w = float(waits.mean())
        n0 = int(((joined < t0) & (left > t0)).sum())
        n1 = int(((joined < t1) & (left > t1)).sum())
        edge = max(n0, n1) * float(np.max(left[np.isfinite(left)] - joined[np.isfinite(left)])) / span
        msg = (f"{pool}: L = {big_l:.3f}, lambda W = {lam:.5f}/min x {w:.1f} min = {lam * w:.3f},"
               f" edge bound {edge:.3f} (N(t0) = {n0}, N(t1) = {n1})")
        assert edge <= 0.05 * big_l, f"window too short for a sharp check: {msg}"
        assert abs(big_l - lam * w) <= edge, msg
        assert big_l == pytest.approx(lam * w, rel=0.02), msg
        checked.append(pool)
    assert {"csw", "ps", "da_hub"} <= set(checked), checked


def test_conservation_in_baseline(baseline_result):
    assert_conserved(baseline_result)


def test_conservation_under_saturation_and_cotriage():
    sc = variant({**staff_level("ps", 1.0), "cotriage": {"enabled": True,
                                                          "start": {"value": "2023-09-01"}}})
    res = simulate(sc, rep=0)
    assert_conserved(res)
    assert res.warnings, "a front door with one supervisor post should warn of saturation"
    assert res.warnings[0].pool == "ps" and res.warnings[0].waiting > res.warnings[0].limit


@pytest.mark.slow
def test_determinism_same_seed_same_log_other_seed_differs(baseline):
    a = simulate(baseline, seed=7, rep=0).contacts
    b = simulate(baseline, seed=7, rep=0).contacts
    c = simulate(baseline, seed=8, rep=0).contacts
    pd.testing.assert_frame_equal(a, b)
    assert len(a) != len(c) or not a["arrival"].equals(c["arrival"])


@pytest.mark.slow
def test_determinism_parallel_equals_serial(baseline):
    serial = run_replications(baseline, reps=3, seed=99)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = run_replications(baseline, reps=3, seed=99, executor=pool)
    pd.testing.assert_frame_equal(serial.monthly, parallel.monthly)


@pytest.mark.parametrize("pool, levels", [("ps", [6.0, 8.0, 11.0]), ("csw", [7.0, 10.0, 14.0])])
@pytest.mark.slow
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
