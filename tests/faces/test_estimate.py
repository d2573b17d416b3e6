"""The time estimate shown before a run: learnt from the runs measured here, by rounds of
replications (no timing is measured in these tests; the seconds are given)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from sim.scenario.loading import load
from tests.helpers import BASELINE
from ui import runs


@pytest.fixture(scope="module")
def baseline():
    return load(BASELINE)


def test_a_run_like_the_one_measured_is_estimated_at_its_own_time(baseline) -> None:
    timing = runs.Timing()
    timing.record(31.3, runs.workload(baseline), workers=2, reps=20)
    assert runs.estimate_seconds(baseline, 20, timing, workers=2) == pytest.approx(31.3)
    # 3 replications on 2 workers are 2 rounds of the 10 measured, besides the fixed part
    fixed = runs.RUN_OVERHEAD_SECONDS
    assert runs.estimate_seconds(baseline, 3, timing, workers=2) == pytest.approx(fixed + (31.3 - fixed) / 5)
    # one worker runs all 20 in turn: twice the rounds
    assert runs.estimate_seconds(baseline, 20, timing, workers=1) == pytest.approx(fixed + 2 * (31.3 - fixed))


def test_before_any_run_the_first_guess_is_scaled_by_how_busy_the_workers_are(baseline) -> None:
    timing = runs.Timing()
    quiet = runs.estimate_seconds(baseline, 10, timing, workers=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        timing.calibrate(pool, 2)   # two threads share one interpreter: each runs about half as fast
    assert timing.slowdown >= 1.0
    busy = runs.estimate_seconds(baseline, 10, timing, workers=2)
    fixed = runs.RUN_OVERHEAD_SECONDS
    assert busy - fixed == pytest.approx((quiet - fixed) * timing.slowdown)
    timing.record(10.0, runs.workload(baseline), workers=2, reps=10)
    assert runs.estimate_seconds(baseline, 10, timing, workers=2) == pytest.approx(10.0)
