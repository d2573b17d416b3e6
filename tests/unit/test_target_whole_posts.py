"""The one-lever target finder (sim.experiments.target.find_target) moves posts and co-triage pairs
in whole posts from the scenario's establishment: every value it runs and the value it proposes is
the establishment plus a whole number. The measure is a known function of the lever (no
replication runs), so the first whole post that meets the target is known by hand."""

from __future__ import annotations

import math

import pytest

import sim.experiments.target
from sim.experiments.levers import LEVERS
from sim.experiments.target import find_target
from tests.helpers import variant, whole_posts_to

WHOLE = ("csw_posts", "ps_posts", "cotriage_pairs")


@pytest.fixture(scope="module")
def sc():
    return variant(start="2023-09-01", end="2023-09-30")


def _stub(monkeypatch, lever: str, slope: float, calls: list, start: float) -> None:
    """measure_point replaced by 90 + slope x (posts added), half-width 0.5: the bound (mean - 0.5)
    reaches 95 at 5.5 / slope posts added."""
    lv = LEVERS[lever]

    def measure(changed, target, reps, seed, reference, executor):
        v = lv.current(changed)
        calls.append(v)
        m = 90.0 + slope * (v - start)
        return {"mean": m, "ci_low": m - 0.5, "ci_high": m + 0.5, "bound": m - 0.5,
                "meets_mean": m >= target.goal, "meets_confident": m - 0.5 >= target.goal}
    monkeypatch.setattr(sim.experiments.target, "measure_point", measure)


def _is_whole_from(v: float, start: float) -> bool:
    return math.isclose(v - start, round(v - start), abs_tol=1e-9)


@pytest.mark.parametrize("lever", WHOLE)
@pytest.mark.parametrize(("coarse", "fine", "slope"), [(5, 4, 2.0), (3, 1, 2.0), (4, 6, 1.9), (2, 0, 5.0)])
def test_every_value_tried_and_proposed_is_the_establishment_plus_whole_posts(sc, monkeypatch, lever,
                                                                              coarse, fine, slope):
    calls: list[float] = []
    start = LEVERS[lever].current(sc)
    _stub(monkeypatch, lever, slope, calls, start)
    res = find_target(sc, lever, "within_1wd_95", reps=3, coarse=coarse, fine=fine)
    assert calls and all(_is_whole_from(v, start) for v in calls), (start, calls)
    assert all(_is_whole_from(v, start) for v in res.grid["value"])
    if res.met:
        assert _is_whole_from(res.value_confident, start)
        assert res.value_mean is None or _is_whole_from(res.value_mean, start)
        # the proposal is the first whole step tried that meets: bound = 89.5 + slope x added >= 95
        first = math.ceil(5.5 / slope - 1e-9)
        tried = sorted(round(v - start) for v in calls)
        assert round(res.value_confident - start) == min(k for k in tried if k >= first)
        if res.gap == 1:  # pinned down: one post fewer was tried and misses
            assert round(res.value_confident - start) == first
        assert "whole" in res.message() and f"{res.value_confident:g}" in res.message()


def test_the_bracket_is_halved_to_the_first_whole_post(sc, monkeypatch):
    # ps_posts from the scenario's establishment (calibrated, so read here); bound reaches 95 at
    # 5.5 / 1.9 = 2.9 -> 3 posts
    lv = LEVERS["ps_posts"]
    ps0 = lv.current(sc)
    last = whole_posts_to(lv.high, ps0)  # 6 from 7.58 to the range's end, 14
    assert last >= 3
    calls: list[float] = []
    _stub(monkeypatch, "ps_posts", 1.9, calls, ps0)
    res = find_target(sc, "ps_posts", "within_1wd_95", reps=3, coarse=3, fine=4)
    tried = [round(v - ps0) for v in calls]
    # coarse 0, the middle, the last whole post, until one meets (the middle, from 7.58)
    coarse = (0, tried[1], last)
    assert tried[1] in {last // 2, (last + 1) // 2}, tried
    n = next(i for i, k in enumerate(coarse) if k >= 3) + 1
    assert tried[:n] == list(coarse[:n]), tried
    # then the bracket it meets in is halved (whole posts, rounded down) until one post apart
    lo, hi = coarse[n - 2], coarse[n - 1]
    for k in tried[n:]:
        assert k == (lo + hi) // 2, tried
        lo, hi = (lo, k) if k >= 3 else (k, hi)
    assert (lo, hi) == (2, 3), tried  # from 7.58: tried 0, 3, 1, 2
    assert res.value_confident == pytest.approx(ps0 + 3) and res.gap == 1
    msg = res.message()
    assert f"met with 95% confidence at {ps0 + 3:g} posts (3 whole posts added to {ps0:g})" in msg
    assert "one whole practice supervisor post" in msg
    assert f"At {ps0 + 2:g}, one post fewer, it is not met" in msg


def test_a_continuous_lever_is_still_interpolated(sc, monkeypatch):
    lv = LEVERS["phone_shift"]
    old = sc.demand.partner_phone_share["health"].value

    def measure(changed, target, reps, seed, reference, executor):
        shift = (changed.demand.partner_phone_share["health"].value - old) / (1 - old)
        m = 90.0 + 10 * shift
        return {"mean": m, "ci_low": m - 0.5, "ci_high": m + 0.5, "bound": m - 0.5,
                "meets_mean": m >= target.goal, "meets_confident": m - 0.5 >= target.goal}
    monkeypatch.setattr(sim.experiments.target, "measure_point", measure)
    res = find_target(sc, lv.key, "within_1wd_95", reps=3, coarse=3, fine=0)
    # the bound 89.5 + 10 x shift crosses 95 at 0.55, between the values tried (0.5 and 1.0)
    assert res.met and res.value_confident == pytest.approx(0.55) and not lv.whole


def test_out_of_reach_names_the_last_whole_post_with_its_decimals(sc, monkeypatch):
    # 0.5 a post: the bound reaches 89.5 + 0.5 x (the last whole post inside 14) at that post,
    # short of 95 (92.5 at 13.58 from 7.58)
    lv = LEVERS["ps_posts"]
    ps0 = lv.current(sc)
    last = whole_posts_to(lv.high, ps0)
    m = 90.0 + 0.5 * last
    assert m - 0.5 < 95
    _stub(monkeypatch, "ps_posts", 0.5, [], ps0)
    res = find_target(sc, "ps_posts", "within_1wd_95", reps=3, coarse=3, fine=2)
    msg = res.message()
    values = res.grid["value"].tolist()
    assert not res.met and all(_is_whole_from(v, ps0) for v in values)
    steps = [round(v - ps0) for v in values]
    assert steps[0] == 0 and steps[1] in {last // 2, (last + 1) // 2} and steps[2:] == [last]
    assert f"(now {ps0:g} posts; in steps of one whole practice supervisor post): not met" in msg
    assert (f"at {ps0 + last:g} the measure is {m:.3g} (95% interval {m - 0.5:.3g} to"
            f" {m + 0.5:.3g})") in msg
