"""The dated start as a lever of the target search (sim.experiments.frontier START): the month of
the run the other levers begin. On a synthetic measure (no replication runs) the frontier treats it
like any other lever (every row meets, no point run dominates a row), the start is written as
dated changes from the first of its month, and a start the search cannot use is refused in one
line naming the field."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

import sim.experiments.target
from sim.experiments import frontier as fr
from sim.experiments.levers import LEVERS
from tests.helpers import variant, whole_posts_to

MONTHS = ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12"]


@pytest.fixture(scope="module")
def sc():
    return variant()  # the baseline's July-December 2023


def _ps_added(changed, ps0: float) -> tuple[float, float]:
    """The PS posts added to the scenario's `ps0` and the share of the run's six months they act
    in: all if set for the whole run, else from the dated change's month."""
    chs = [c for c in changed.changes if c.setting == "staff.ps.establishment"]
    if not chs:
        return changed.staff["ps"].establishment.at(2023, 12) - ps0, 1.0
    (ch,) = chs
    return ch.value - ps0, (6 - MONTHS.index(f"{ch.from_date:%Y-%m}")) / 6


def _stub(monkeypatch, calls: list, ps0: float) -> None:
    """mean = 89 + 2 x (PS posts added) x (share of the run they act in), half-width 0.5."""
    def measure(changed, target, reps, seed, reference, executor):
        added, share = _ps_added(changed, ps0)
        m = 89.0 + 2.0 * added * share
        calls.append(changed)
        return {"mean": m, "ci_low": m - 0.5, "ci_high": m + 0.5, "bound": m - 0.5,
                "meets_mean": m >= target.goal, "meets_confident": m - 0.5 >= target.goal}
    monkeypatch.setattr(sim.experiments.target, "measure_point", measure)


def test_the_start_steps_back_a_month_at_a_time_from_the_latest_to_the_whole_run(sc):
    p = fr.plan(sc, [("ps_posts", 1.0), (fr.START, 2.0)], "within_1wd_95", reps=3, values=6,
                latest_start="2023-11")
    start = p.start
    assert start is not None and start.steps == (0, 1, 2, 3, 4)
    assert [start.from_day(k) for k in start.steps] == [
        date(2023, 11, 1), date(2023, 10, 1), date(2023, 9, 1), date(2023, 8, 1), None]
    # a point moving only the start is the scenario itself: run once, at no steps
    assert (0, 0) in p.points and not any(ks[0] == 0 and ks[1] > 0 for ks in p.points)
    # every PS value with every start, less the 4 that move the start alone (6 PS values from 7.58)
    ks_ps = p.choices[0].steps
    assert len(ks_ps) == min(6, whole_posts_to(LEVERS["ps_posts"].high,
                                               sc.staff["ps"].establishment.default) + 1)
    assert len(p.points) == len(ks_ps) * 5 - 4


def test_a_later_start_writes_the_levers_as_dated_changes_and_the_first_month_is_the_whole_run(sc):
    p = fr.plan(sc, [("ps_posts", 1.0), ("phone_shift", 1.0), (fr.START, 1.0)], "within_1wd_95",
                reps=3, values=3)
    ks = {c.lever.key: c.steps for c in p.choices}
    assert ks[fr.START] == (0, 2, 5)  # December, October, July (the whole run)
    later = p.apply((ks["ps_posts"][1], ks["phone_shift"][1], 2))
    whole = p.apply((ks["ps_posts"][1], ks["phone_shift"][1], 5))
    assert {c.from_date for c in later.changes} == {date(2023, 10, 1)}
    assert {c.setting for c in later.changes} == {"staff.ps.establishment",
                                                  *(f"demand.partner_phone_share.{s}"
                                                    for s in sc.demand.partner_phone_share)}
    assert later.staff["ps"].establishment.default == sc.staff["ps"].establishment.default
    ps = next(c for c in later.changes if c.setting == "staff.ps.establishment")
    assert ps.value == pytest.approx(whole.staff["ps"].establishment.default)
    # from the first month: the levers as without a start, set for the whole run
    by_hand = LEVERS["phone_shift"].apply(LEVERS["ps_posts"].apply(sc, ps.value), 0.5)
    assert not whole.changes and whole.model_dump() == by_hand.model_dump()


def test_the_frontier_treats_the_start_like_any_other_lever(sc, monkeypatch):
    calls: list = []
    _stub(monkeypatch, calls, sc.staff["ps"].establishment.default)  # calibrated, so read
    p = fr.plan(sc, [("ps_posts", 1.0), (fr.START, 0.5)], "within_1wd_95", reps=3, values=6)
    res = fr.run_plan(p)
    g, f = res.grid, res.frontier
    assert len(g) == len(calls) == len(p.points) - res.skipped
    assert not f.empty and (f["bound"] >= 95).all() and f["met"].all()
    steps = [tuple(r) for r in g[["ps_posts_steps", f"{fr.START}_steps"]].to_numpy(dtype=int)]
    met = [s for s, m in zip(steps, g["met"], strict=True) if m]
    for row in f[["ps_posts_steps", f"{fr.START}_steps"]].to_numpy(dtype=int):
        row = tuple(row)
        assert not any(all(a <= b for a, b in zip(o, row, strict=True)) and o != row for o in met), row
    # a point not run dominates one that met (so it cannot be on the frontier)
    for ks in set(p.points) - set(steps):
        assert fr.dominated(ks, met), ks
    # by hand: bound 88.5 + 2 x added x months/6 >= 95, i.e. added x months >= 19.5
    want = set()
    ks_ps = p.choices[0].steps
    for a, months in itertools.product(ks_ps, range(1, 7)):
        if a * months >= 19.5 and not any(b <= a and n <= months and (b, n) != (a, months) and b * n >= 19.5
                                          for b in ks_ps for n in range(1, 7)):
            want.add((a, months - 1))  # a start `months` long is months - 1 steps before December
    assert set(map(tuple, f[["ps_posts_steps", f"{fr.START}_steps"]].to_numpy(dtype=int))) == want
    # the start's own line says it acts only with the others; ps_posts alone is read over the whole run
    by = {v.choice.lever.key: v for v in res.verdicts}
    assert "alone it changes nothing" in by[fr.START].message()
    assert by["ps_posts"].reaches and by["ps_posts"].row[f"{fr.START}_from"] == "whole run"
    # the fewest posts tried with posts x 6 months >= 19.5: 4 (3 x 6 is not), as 3 is tried or not
    assert 4 in ks_ps and by["ps_posts"].row["ps_posts_steps"] == 4
    assert set(g[f"{fr.START}_from"]) <= {"whole run", *(f"{m}-01" for m in MONTHS[1:])}
    assert "start_month 2023-" in res.message()


@pytest.mark.parametrize(("levers", "latest", "start"), [
    ([(fr.START, 1.0)], None, "--lever start_month: needs another lever to start"),
    ([("ps_posts", 1.0), (fr.START, 1.0)], "2024-03",
     "--latest-start 2024-03: outside the run (2023-07 to 2023-12); give one of its months"),
    ([("ps_posts", 1.0), (fr.START, 1.0)], "2023-06", "--latest-start 2023-06: outside the run"),
    ([("ps_posts", 1.0), (fr.START, 1.0)], "October", "--latest-start October: not a month"),
    ([("ps_posts", 1.0)], "2023-10", "--latest-start 2023-10: give it with --lever start_month"),
    ([("cotriage_pairs", 1.0), (fr.START, 1.0)], None,
     "--lever cotriage_pairs: cannot start on a date with --lever start_month"),
    ([("cotriage_effect", 1.0), (fr.START, 1.0)], None, "--lever cotriage_effect: cannot start on a date"),
])
def test_a_start_it_cannot_use_is_refused_with_one_line(sc, levers, latest, start):
    with pytest.raises(fr.SearchError) as e:
        fr.plan(sc, levers, "within_1wd_95", reps=3, latest_start=latest)
    assert str(e.value).startswith(start) and "\n" not in str(e.value), str(e.value)
