"""The multi-lever target search's logic (sim.experiments.frontier) on synthetic measures: the
frontier, what is skipped, whole posts, the refusals. No replication runs here: the measure of a
point is a known function of its lever values, so every answer can be checked by hand."""

from __future__ import annotations

import itertools
import math

import pytest

import sim.experiments.target
from sim.experiments import frontier as fr
from sim.experiments.levers import LEVERS
from tests.helpers import variant, whole_posts_to


@pytest.fixture(scope="module")
def sc():
    return variant(start="2023-09-01", end="2023-09-30")


@pytest.fixture(scope="module")
def ps0(sc) -> float:
    """The scenario's practice supervisor establishment (calibrated, so read, not written here)."""
    return sc.staff["ps"].establishment.default


def test_frontier_mask_of_a_hand_drawn_staircase():
    # met where a + b >= 3 on a 4x4 grid, and also at (0, 2) by noise; (3, 0), (2, 1), (1, 2), (0, 3)
    # are minimal, but (0, 2) dominates (0, 3) and (1, 2)
    steps = list(itertools.product(range(4), range(4)))
    met = [a + b >= 3 or (a, b) == (0, 2) for a, b in steps]
    on = {s for s, f in zip(steps, fr.frontier_mask(steps, met), strict=True) if f}
    assert on == {(3, 0), (2, 1), (0, 2)}


def test_frontier_mask_nothing_met_is_an_empty_frontier():
    assert not any(fr.frontier_mask([(0, 0), (1, 0)], [False, False]))


def test_posts_move_in_whole_posts_from_the_current_establishment(ps0):
    lv = LEVERS["ps_posts"]
    last = whole_posts_to(lv.high, ps0)
    assert last >= 4  # the searches below need room past 3 posts added (6 from 7.58 to 14)
    for values in (2, 3, 5, 11, 40):
        ks = fr.lever_steps(lv, ps0, values)
        assert ks[0] == 0 and all(isinstance(k, int) for k in ks)
        # the last whole post inside the range's end: one more would pass it
        assert ks[-1] == last and ps0 + ks[-1] <= lv.high < ps0 + ks[-1] + 1
        assert len(ks) == min(values, last + 1) and list(ks) == sorted(set(ks))


def test_a_lever_already_at_its_range_end_cannot_move():
    assert fr.lever_steps(LEVERS["csw_posts"], 20.0, 6) == (0,)
    assert fr.lever_steps(LEVERS["conversation_effect"], 0.5, 6) == (0,)


def _stub(monkeypatch, goal_fn, calls: list):
    """measure_point replaced by a known function of the CSW and PS posts: mean = goal_fn(csw, ps),
    half-width 1 (so the bound is mean - 1 for a goal to reach)."""
    def measure(changed, target, reps, seed, reference, executor):
        csw = changed.staff["csw"].establishment.default
        ps = changed.staff["ps"].establishment.default
        calls.append((csw, ps))
        m = goal_fn(csw, ps)
        return {"mean": m, "ci_low": m - 1, "ci_high": m + 1, "bound": m - 1,
                "meets_mean": m >= target.goal, "meets_confident": m - 1 >= target.goal}
    monkeypatch.setattr(sim.experiments.target, "measure_point", measure)


def test_search_frontier_meets_the_target_and_no_point_run_dominates_it(sc, ps0, monkeypatch):
    calls: list = []
    # 95% within 1 working day when 2 CSW + 3 PS posts' worth of improvement is added (PS worth more)
    _stub(monkeypatch, lambda csw, ps: 90.5 + 1.0 * (csw - 12) + 2.0 * (ps - ps0), calls)
    p = fr.plan(sc, [("csw_posts", 3.0), ("ps_posts", 1.0)], "within_1wd_95", reps=3, values=5)
    steps: list = []
    res = fr.run_plan(p, on_step=lambda done, total: steps.append((done, total)))
    g = res.grid
    assert steps[0] == (0, len(p.points)) and steps[-1] == (len(p.points), len(p.points))
    assert len(g) == len(calls) == len(p.points) - res.skipped > 0
    f = res.frontier
    assert not f.empty and (f["bound"] >= 95).all() and f["met"].all()
    met = g[g["met"]]
    for _, row in f.iterrows():
        for _, other in met.iterrows():
            no_more = (other["csw_posts_cost"] <= row["csw_posts_cost"]
                       and other["ps_posts_cost"] <= row["ps_posts_cost"])
            assert not (no_more and other["cost"] < row["cost"]), (row.to_dict(), other.to_dict())
    # by hand: bound = 89.5 + csw_added + 2 * ps_added >= 95; the cheapest by weights 3 and 1 of
    # the steps tried is PS alone (3 posts where 3 is tried, as from 7.58)
    ks_csw, ks_ps = (c.steps for c in p.choices)
    cost, a, b = min((3 * a + b, a, b) for a in ks_csw for b in ks_ps if 89.5 + a + 2 * b >= 95)
    assert a == 0 and (b == 3 or 3 not in ks_ps)
    best = f.iloc[0]
    assert (best["csw_posts"], best["ps_posts"]) == (12, pytest.approx(ps0 + b))
    assert best["cost"] == cost
    # whole posts only, and the lever columns agree with the steps
    assert ((g["ps_posts"] - ps0).round(9) == g["ps_posts_steps"]).all()
    assert (g["csw_posts"] - 12 == g["csw_posts_steps"]).all()
    # a point that dominates one already met is not run
    for ks in p.points:
        run = ((g["csw_posts_steps"] == ks[0]) & (g["ps_posts_steps"] == ks[1])).any()
        dominates_a_hit = any(a <= ks[0] and b <= ks[1] and (a, b) != ks
                              for a, b in zip(met["csw_posts_steps"], met["ps_posts_steps"], strict=True))
        assert run != dominates_a_hit, ks


def test_single_lever_verdicts_say_which_never_reach(sc, ps0, monkeypatch):
    # CSW posts do nothing; PS posts reach 95 (bound) at +3
    _stub(monkeypatch, lambda csw, ps: 90.5 + 2.0 * (ps - ps0), [])
    p = fr.plan(sc, [("csw_posts", 1.0), ("ps_posts", 1.0)], "within_1wd_95", reps=3, values=3)
    res = fr.run_plan(p)
    by = {v.choice.lever.key: v for v in res.verdicts}
    assert not by["csw_posts"].reaches and "never meets" in by["csw_posts"].message()
    assert by["csw_posts"].row["csw_posts"] == 20  # the range end, whole posts from 12
    # the fewest PS steps tried with 89.5 + 2 x added >= 95 (3 where 3 is tried, as from 7.58)
    first = min(k for k in p.choices[1].steps if k >= 3)
    assert by["ps_posts"].reaches and by["ps_posts"].row["ps_posts"] == pytest.approx(ps0 + first)


def test_one_lever_is_the_special_case_its_frontier_is_the_first_value_that_meets(sc, ps0, monkeypatch):
    _stub(monkeypatch, lambda csw, ps: 90.5 + 2.0 * (ps - ps0), [])
    p = fr.plan(sc, [("ps_posts", 1.0)], "within_1wd_95", reps=3)
    res = fr.run_plan(p)
    assert res.frontier["ps_posts"].tolist() == [pytest.approx(ps0 + 3)]
    # 0 .. 3 posts added run; the steps past 3 are not needed
    assert p.points[:4] == [(0,), (1,), (2,), (3,)] and len(p.points) > 4
    assert len(res.grid) == 4 and res.skipped == len(p.points) - 4


def test_table_has_every_point_run_with_its_interval(sc, monkeypatch):
    _stub(monkeypatch, lambda csw, ps: 80.0, [])
    res = fr.run_plan(fr.plan(sc, [("csw_posts", 1.0), ("ps_posts", 2.0)], "within_1wd_95", reps=3,
                              values=3))
    t = fr.table(res)
    assert len(t) == 9 and res.skipped == 0
    for col in ("csw_posts", "ps_posts", "csw_posts_cost", "ps_posts_cost", "cost", "mean", "ci_low",
                "ci_high", "bound", "met", "on_frontier"):
        assert col in t.columns
    assert (t["cost"] == t["csw_posts_cost"] + t["ps_posts_cost"]).all()
    assert not t["on_frontier"].any()


@pytest.mark.parametrize(("levers", "values", "reps", "start"), [
    ([("csw_posts", 1), ("ps_posts", 1), ("phone_shift", 1), ("ppn_quality", 1)], None, 10,
     "--lever: 4 levers"),
    ([("csw_posts", 1), ("csw_posts", 2)], None, 10, "--lever csw_posts: given twice"),
    ([("nurses", 1)], None, 10, "--lever nurses: unknown lever"),
    ([("csw_posts", 0.0)], None, 10, "--lever csw_posts:0: the weight must be a positive number"),
    ([("csw_posts", math.nan)], None, 10, "--lever csw_posts:nan: the weight"),
    ([("csw_posts", 1)], 1, 10, "--values 1: must be at least 2"),
    ([("csw_posts", 1), ("ps_posts", 1)], 6, 20, "--values 6: 36 points x 20 replications is 720"),
    ([("csw_posts", 1), ("ps_posts", 1), ("phone_shift", 1)], None, 20, "--reps 20: 27 points x 20"),
])
def test_a_search_it_cannot_run_is_refused_with_one_line(sc, levers, values, reps, start):
    with pytest.raises(fr.SearchError) as e:
        fr.plan(sc, levers, "within_1wd_95", reps=reps, values=values)
    assert str(e.value).startswith(start) and "\n" not in str(e.value)


def test_the_default_grids_fit_the_cap_with_the_default_replications(sc):
    for n in (1, 2, 3):
        levers = [("csw_posts", 1.0), ("phone_shift", 1.0), ("ppn_quality", 1.0)][:n]
        p = fr.plan(sc, levers, "referrals_30pct", reps=10)
        assert p.runs * p.reps <= fr.MAX_POINT_REPS


def test_every_lever_has_a_step_and_posts_step_in_whole_posts():
    assert set(fr.STEPS) == set(LEVERS)
    for k in ("csw_posts", "ps_posts", "cotriage_pairs"):
        assert fr.STEPS[k][0] == 1.0


def test_the_ppn_quality_lever_sets_the_quality_beyond_the_files_range(sc):
    moved = LEVERS["ppn_quality"].apply(sc, 0.8)
    assert moved.ppn.quality.value == 0.8 and sc.ppn.quality.value == 0.3
    assert moved.ppn.quality.range[1] >= 0.8


def test_a_target_out_of_reach_names_the_nearest_point(sc, ps0, monkeypatch):
    _stub(monkeypatch, lambda csw, ps: 80 + (csw - 12) + (ps - ps0), [])
    res = fr.run_plan(fr.plan(sc, [("csw_posts", 1.0), ("ps_posts", 1.0)], "within_1wd_95", reps=3,
                              values=2))
    assert res.frontier.empty
    # the far corner is nearest: 80 + 8 CSW + the last whole PS post inside the range's end
    last = whole_posts_to(LEVERS["ps_posts"].high, ps0)
    m = 88 + last
    assert m - 1 < 95  # its bound (the interval's low end) is short of the goal
    assert (f"The nearest is csw_posts 20, ps_posts {ps0 + last:g}: {m:g} (95% interval {m - 1:g} to"
            f" {m + 1:g})") in res.message()


def test_one_lever_says_the_value_that_meets_and_the_one_before(sc, ps0, monkeypatch):
    _stub(monkeypatch, lambda csw, ps: 90.5 + 2.0 * (ps - ps0), [])
    msg = fr.run_plan(fr.plan(sc, [("ps_posts", 2.0)], "within_1wd_95", reps=3)).message()
    assert f"met with 95% confidence at ps_posts {ps0 + 3:g} posts (3 steps" in msg and "cost 6" in msg
    assert f"at {ps0 + 2:g}, the value tried before it, it is not met" in msg
