"""The front door's rota (sim/model/rota.py): leave booked to keep cover, leave and sickness at
their stated rates, the weekday pattern keeping the week's total, the blocks away adding up to
the time away, the same rota from the same seed, and one more post reshuffling nobody."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from datetime import date

import numpy as np
import pytest

from sim.model.calendar import WorkCalendar, run_calendar
from sim.model.dated import spell_of_days, timeline
from sim.model.rota import WEEK, PoolRota, away_blocks, front_door_rotas, rota_table
from sim.scenario.loading import deep_merge
from sim.scenario.schema import POOLS, Scenario, validate
from tests.helpers import baseline_doc, variant

# the shortest warm-up and cool-down the baseline allows: tests over whole years stay quick
SHORT = {"warmup_days": {"value": 28}, "cooldown_days": {"value": 7}}
YEAR = {"start": "2023-01-01", "end": "2023-12-31"}
OPEN = {"range": [0, 1]}  # a share widened to 0..1, to switch leave or sickness off


def _scenario(staff: dict | None = None, **run) -> Scenario:
    return variant({"run": SHORT, **({"staff": staff} if staff else {})}, **(run or YEAR))


def _csw(**fields) -> dict:
    """Overrides of the consultant social workers' settings (rota fields under `rota`)."""
    rota = fields.pop("rota", {})
    out = {k: ({"value": {}, "default": v, **OPEN} if k in ("establishment", "vacancy_rate", "leave_rate")
               else {"value": v, **OPEN}) for k, v in fields.items()}
    if "establishment" in out:
        out["establishment"]["range"] = [0, 20]
    out["rota"] = {k: {"value": v} for k, v in rota.items()}
    return {"csw": out}


def _rotas(sc: Scenario, seed: int = 11, rep: int = 0) -> tuple[dict[str, PoolRota], WorkCalendar]:
    cal = run_calendar(sc)
    return front_door_rotas(sc, cal, seed, rep), cal


def _days(cal: WorkCalendar) -> list:
    return [cal.dates[d] for d in cal.working_day_index]


def _blocks(sc: Scenario, rota: PoolRota, cal: WorkCalendar, pool: str, seed: int = 11, rep: int = 0):
    tl = timeline(sc)
    return away_blocks(rota, [s.staff[pool] for s in tl.scenarios], spell_of_days(tl, _days(cal)), cal,
                       seed, rep, pool)


def test_posts_are_filled_by_month_the_first_whole_one_part_time_the_rest_vacant():
    staff = {"csw": {"establishment": {"value": {"2023-08": 9}, "default": 12},
                     "vacancy_rate": {"value": {"2023-10": 0.3}, "default": 0.15}}}
    sc = _scenario(staff)
    rotas, cal = _rotas(sc)
    f = rotas["csw"].filled
    pool = sc.staff["csw"]
    expected = np.array([pool.establishment.at(d.year, d.month) * (1 - pool.vacancy_rate.at(d.year, d.month))
                         for d in _days(cal)])
    np.testing.assert_allclose(f.sum(axis=1), expected, rtol=1e-12)
    assert np.all(np.diff(f, axis=1) <= 0), "a higher-numbered post held more than a lower one"
    assert np.all(((f > 0) & (f < 1)).sum(axis=1) <= 1), "more than one part-time post on a day"
    assert set(np.round(np.unique(f.sum(axis=1)), 9)) == {10.2, 7.65, 8.4}


# -- 1. cover ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_leave_alone_never_takes_a_day_below_cover_where_the_filled_posts_allow(seed):
    no_sickness = {p: {"sickness_rate": {"value": 0.0, **OPEN}} for p in POOLS}
    sc = _scenario({**no_sickness, **_csw(sickness_rate=0.0, rota={"min_cover": 8})})
    rotas, _ = _rotas(sc, seed)
    moved = 0
    for pool in POOLS:
        r = rotas[pool]
        holds = r.filled > 0
        off_leave = (holds & ~r.leave).sum(axis=1)
        need = np.minimum(r.min_cover, holds.sum(axis=1))
        bad = np.flatnonzero(off_leave < need)
        assert not len(bad), f"{pool}: leave takes day {bad[0]} to {off_leave[bad[0]]} < {need[bad[0]]}"
        assert not r.sick.any()
        moved += int(r.moved.sum())
    assert moved > 0, "no spell was moved for cover: the test did not test the booking"


@pytest.mark.parametrize("seed", [1, 2])
def test_with_sickness_every_day_below_cover_has_a_sick_post_that_explains_it(seed):
    sc = _scenario(_csw(sickness_rate=0.06, rota={"min_cover": 8}))
    rotas, _ = _rotas(sc, seed)
    below = 0
    for pool in POOLS:
        r = rotas[pool]
        holds = r.filled > 0
        enough = holds.sum(axis=1) >= r.min_cover  # days the filled posts allow the cover
        short = ~r.cover_kept() & enough
        sick = (r.sick & holds).sum(axis=1)
        off_leave = (holds & ~r.leave).sum(axis=1)
        assert np.all(sick[short] >= 1), f"{pool}: a day below cover with nobody sick"
        assert np.all(off_leave[short] >= r.min_cover[short]), f"{pool}: leave took a day below cover"
        assert np.all(r.count()[short] + sick[short] >= r.min_cover[short])
        below += int(short.sum())
    assert below > 0, "sickness never took a day below cover: the test did not test it"


def test_a_day_too_few_posts_are_filled_for_cover_is_counted_as_cover_not_kept():
    """August at 5 posts less 15% vacancy is 4.25 filled posts (5 held), below the cover of 6."""
    staff = {"csw": {"establishment": {"value": {"2023-08": 5}, "default": 12, "range": [0, 20]},
                     "sickness_rate": {"value": 0.0, **OPEN}}}
    sc = _scenario(staff)
    rotas, cal = _rotas(sc)
    days = np.asarray(_days(cal), dtype="datetime64[D]")
    table = rota_table(rotas, days, cal.day_length, {p: r.count() for p, r in rotas.items()})
    csw = table[table["pool"] == "csw"]
    august = (csw["day"] >= np.datetime64("2023-08-01")) & (csw["day"] <= np.datetime64("2023-08-31"))
    assert august.sum() > 0
    assert np.allclose(csw.loc[august, "posts_filled"], 5 * (1 - 0.15))
    assert not csw.loc[august, "cover_kept"].any(), "a day with 5 posts held listed as keeping 6"
    # elsewhere (10.2 filled, no sickness) leave is booked to keep it
    assert csw.loc[~august, "cover_kept"].all()
    assert np.array_equal(csw["cover_kept"].to_numpy(), csw["on_duty"].to_numpy() >= 6)


def test_a_dated_change_of_the_cover_acts_from_its_date_and_not_before():
    """The cover rises from 6 to 9 on 1 September: before it leave is booked (and days judged)
    against 6, from it against 9."""
    doc = deep_merge(baseline_doc(), {"run": SHORT})
    doc["run"] = {**doc["run"], "start": date(2023, 7, 1), "end": date(2023, 10, 31)}
    doc["changes"] = [{"setting": "staff.csw.rota.min_cover", "from_date": date(2023, 9, 1), "value": 9,
                       "range": [0, 12], "provenance": "judgement", "source": "the test's own change"}]
    sc = validate(doc, "test")
    rotas, cal = _rotas(sc)
    r = rotas["csw"]
    after = np.array([d >= date(2023, 9, 1) for d in _days(cal)])
    assert np.all(r.min_cover[~after] == 6) and np.all(r.min_cover[after] == 9)
    holds = r.filled > 0
    off_leave = (holds & ~r.leave).sum(axis=1)
    assert np.all(off_leave[after] >= 9)
    assert off_leave[~after].min() < 9, "leave before the change was held to the later cover"
    assert np.array_equal(r.cover_kept(), r.count() >= np.where(after, 9, 6))


def test_a_spell_that_fits_nowhere_is_refused_and_counted_not_taken():
    """A cover of 12 with 11 posts held (10.2 filled): no spell keeps it, so none is taken, each
    held post counts its refusals, and no day is listed as keeping the cover."""
    sc = _scenario(_csw(rota={"min_cover": 12}))
    r = _rotas(sc)[0]["csw"]
    holds = r.filled > 0
    assert holds.sum(axis=1).max() == 11
    assert not (r.leave & holds).any()
    assert np.all(r.leave_refused[holds.any(axis=0)] > 0) and not r.moved.any()
    assert not r.cover_kept().any()


# -- 2. leave at its rate -----------------------------------------------------------------------


def _owed(sc: Scenario, pool: str, cal: WorkCalendar, holds: np.ndarray) -> np.ndarray:
    """Leave days each post owes: the month's leave rate on each day it is held."""
    rate = np.array([sc.staff[pool].leave_rate.at(d.year, d.month) for d in _days(cal)])
    return (rate[:, None] * holds).sum(axis=0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_each_post_takes_its_year_of_leave_within_the_rounding_to_whole_spells(seed):
    """Booked = owed + the post's starting point in the spell cycle (within half its first spell) - what
    is still owed at the end (less than half the longest spell, no more than it over-booked by
    half a spell), less what runs past the run's end (under two weeks). Part-time posts owe
    the rate of their days too."""
    sc = _scenario(_csw(rota={"min_cover": 0}))
    rotas, cal = _rotas(sc, seed)
    for pool in ("csw", "ps", "da_hub"):
        r = rotas[pool]
        holds = r.filled > 0
        taken = (r.leave & holds).sum(axis=0)
        owed = _owed(sc, pool, cal, holds)
        assert not r.leave_refused.any()
        over, under = WEEK + WEEK, WEEK + WEEK + (2 * WEEK - 1)
        for j in np.flatnonzero(holds.any(axis=0)):
            assert owed[j] - under <= taken[j] <= owed[j] + over, (
                f"{pool} post {j} (filled {r.filled[0, j]:.2f}): {taken[j]} days of leave,"
                f" owed {owed[j]:.1f}")


def _year_of_leave(vacant: str | None, reps: int = 40):
    """40 replications of 20 full-time posts over 2023 (all vacant in month `vacant`)."""
    posts = {"value": {vacant: 0} if vacant else {}, "default": 20, "range": [0, 20]}
    staff = _csw(vacancy_rate=0.0, rota={"min_cover": 0})
    staff["csw"]["establishment"] = posts
    sc = _scenario(staff)
    cal = run_calendar(sc)
    days = _days(cal)
    rate = np.array([sc.staff["csw"].leave_rate.at(d.year, d.month) for d in days])
    rotas = [front_door_rotas(sc, cal, 5, rep)["csw"] for rep in range(reps)]
    leave = np.array([r.leave[:, :20] & (r.filled[:, :20] > 0) for r in rotas])
    return days, rate, leave


def _month_share(days, leave, m: int) -> tuple[float, float, np.ndarray]:
    """Share of 2023 month m's post-days on leave, its standard error over posts, its days."""
    sel = np.array([d.year == 2023 and d.month == m for d in days])
    per_post = leave[:, sel].mean(axis=1)
    return float(per_post.mean()), float(per_post.std() / np.sqrt(per_post.size)), sel


def _spill(rate: np.ndarray, sel: np.ndarray) -> float:
    """Leave a month gains or loses over its edges: on average half the longest spell booked
    near the end runs into the next month."""
    first = np.flatnonzero(sel)[0]
    return max(rate[first], rate[first - 1]) * WEEK / sel.sum()


def test_leave_share_over_a_year_and_in_august_follows_the_monthly_rates():
    """Many posts over a year: the share of filled post-days on leave is the year's rate within
    the rounding to whole spells; August (20%) takes more than any other month, near its rate."""
    days, rate, leave = _year_of_leave(None)
    slack = (WEEK + WEEK + 2 * WEEK) / len(days)  # each post's rounding (see above)
    assert abs(leave.mean() - rate.mean()) <= slack
    share = {m: _month_share(days, leave, m) for m in range(1, 13)}
    aug, se, sel = share[8]
    assert abs(aug - 0.20) <= 4 * se + _spill(rate, sel), aug
    assert aug == max(s for s, _, _ in share.values()), share
    assert aug > 1.5 * np.mean([share[m][0] for m in range(1, 7)]), share


@pytest.mark.parametrize("vacant", [None, "2023-03"])
def test_every_month_takes_its_own_rate_of_leave_also_after_a_vacant_month(vacant):
    """Posts owed the same do not all book their spells in the same months (nor all start
    afresh together when filled again after a vacant month)."""
    days, rate, leave = _year_of_leave(vacant)
    for m in range(1, 13):
        if vacant == f"2023-{m:02d}":
            continue
        share, se, sel = _month_share(days, leave, m)
        assert abs(share - rate[sel][0]) <= 4 * se + _spill(rate, sel), (m, share, rate[sel][0])


# -- 3. sickness ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "mean_days", "leave"), [(0.05, 4, 0.0), (0.035, 3, 0.11), (0.06, 1, 0.0)])
def test_sickness_takes_its_share_of_days_in_spells_of_its_mean_length(rate, mean_days, leave):
    """A two-state chain: in p = r / (L (1 - r)) and out q = 1 / L a day gives a share r of days
    sick, in spells of mean L. Its days are correlated: the sampling variance is the binomial one
    times (1 + lambda) / (1 - lambda), lambda = 1 - p - q. With leave on, the share is of the
    days off leave."""
    sc = _scenario(_csw(establishment=20, vacancy_rate=0.0, leave_rate=leave, sickness_rate=rate,
                        rota={"min_cover": 0, "sickness_spell_days": mean_days}))
    cal = run_calendar(sc)
    sick_days = at_work = 0
    spells: list[int] = []
    for rep in range(12):
        r = front_door_rotas(sc, cal, 3, rep)["csw"]
        sick, work = r.sick[:, :20], ~r.leave[:, :20]
        sick_days += int(sick.sum())
        at_work += int(work.sum())
        if leave == 0:
            for j in range(20):  # spells ended inside the run
                edges = np.diff(np.concatenate(([0], sick[:, j].astype(int), [0])))
                starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
                spells += [int(e - s) for s, e in zip(starts, ends, strict=True) if e < len(sick)]
    p, q = rate / (mean_days * (1 - rate)), 1 / mean_days
    lam = 1 - p - q
    se = np.sqrt(rate * (1 - rate) / at_work * (1 + lam) / (1 - lam))
    assert abs(sick_days / at_work - rate) <= 4 * se, (sick_days / at_work, rate, se)
    if leave == 0:
        sd = np.sqrt(mean_days * (mean_days - 1))  # geometric, mean L
        assert len(spells) > 200
        assert abs(np.mean(spells) - mean_days) <= 4 * sd / np.sqrt(len(spells)) + 1e-12, np.mean(spells)


def test_leave_hides_the_sick_days_it_overlaps_and_moves_no_others():
    """Sickness runs its course through leave (a day on leave is not counted sick), so leave
    takes no share of the stated sickness away: a post's days sick with leave are its days
    sick without leave, less those it is on leave."""
    def rota(leave: float) -> PoolRota:
        sc = _scenario(_csw(establishment=20, vacancy_rate=0.0, leave_rate=leave, sickness_rate=0.05,
                            rota={"min_cover": 0, "sickness_spell_days": 5}))
        return _rotas(sc, 9)[0]["csw"]

    without, with_leave = rota(0.0), rota(0.2)
    assert with_leave.leave.any() and (without.sick & with_leave.leave).any()
    assert np.array_equal(with_leave.sick, without.sick & ~with_leave.leave)


# -- 4. the weekday pattern ---------------------------------------------------------------------


def _everyone_on_duty(prod: float, weights: list[float]) -> Scenario:
    return _scenario(_csw(establishment=10, vacancy_rate=0.0, leave_rate=0.0, sickness_rate=0.0,
                          productive_share=prod, rota={"min_cover": 0, "weekday_weights": weights}),
                     start="2023-09-01", end="2023-10-31")


def _full_weeks(cal: WorkCalendar) -> list[np.ndarray]:
    """Working-day indices of each Monday-to-Friday week with all five days working."""
    days = _days(cal)
    weeks: dict[tuple, list[int]] = {}
    for i, d in enumerate(days):
        weeks.setdefault(d.isocalendar()[:2], []).append(i)
    return [np.array(ix) for ix in weeks.values() if len(ix) == 5]


@pytest.mark.parametrize("weights", [[1.4, 0.9, 0.9, 0.9, 0.9], [1.5, 1.0, 1.0, 1.0, 1.0]])
def test_the_weekday_pattern_moves_front_door_time_between_days_and_keeps_the_week(weights):
    prod = 0.6
    flat, cal = _rotas(_everyone_on_duty(prod, [1, 1, 1, 1, 1]))
    moved, _ = _rotas(_everyone_on_duty(prod, weights))
    f, m = flat["csw"].share[:, :10], moved["csw"].share[:, :10]
    weeks = _full_weeks(cal)
    assert len(weeks) >= 6
    days = _days(cal)
    for ix in weeks:
        np.testing.assert_allclose(m[ix].sum(axis=0), f[ix].sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(f[ix].sum(axis=0), 5 * prod, rtol=1e-12)
        monday = ix[[days[i].weekday() for i in ix].index(0)]
        np.testing.assert_allclose(m[monday], prod * weights[0] / np.mean(weights), rtol=1e-12)
        assert np.all(m[monday] > f[monday])
    # the front door's hours per person on duty on Mondays rise by the same factor
    days_arr = np.asarray(days, dtype="datetime64[D]")
    hours = {k: rota_table(r, days_arr, cal.day_length, {p: x.count() for p, x in r.items()})
             for k, r in (("flat", flat), ("moved", moved))}
    is_monday = np.array([d.weekday() == 0 for d in days])
    per = {k: (t[t["pool"] == "csw"]["frontdoor_hours"] / t[t["pool"] == "csw"]["on_duty"]).to_numpy()
           for k, t in hours.items()}
    np.testing.assert_allclose(per["moved"][is_monday],
                               per["flat"][is_monday] * weights[0] / np.mean(weights))


def test_a_weekday_share_capped_at_the_whole_day_loses_only_its_excess():
    prod, weights = 0.8, [1.4, 0.9, 0.9, 0.9, 0.9]  # Monday 0.8 x 1.4 = 1.12: capped at 1
    moved, cal = _rotas(_everyone_on_duty(prod, weights))
    m = moved["csw"].share[:, :10]
    for ix in _full_weeks(cal):
        np.testing.assert_allclose(m[ix].sum(axis=0), 5 * prod - (prod * weights[0] - 1.0), rtol=1e-12)
        assert m[ix].max() == 1.0


# -- 5. the blocks away ---------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 4])
def test_the_blocks_away_add_up_to_the_time_away_each_inside_its_part_of_the_day(k):
    weights = [1.3, 1.0, 0.8, 1.0, 0.9]
    sc = _scenario({p: {"rota": {"away_blocks": {"value": k}, "weekday_weights": {"value": weights}}}
                    for p in ("csw", "ps", "da_hub")}, start="2023-07-01", end="2023-08-31")
    rotas, cal = _rotas(sc)
    L, opens = cal.day_length, np.asarray(cal.opens)
    days = _days(cal)
    w = np.array(weights) / np.mean(weights)
    checked = 0
    for pool in ("csw", "ps", "da_hub"):
        r = rotas[pool]
        blocks = _blocks(sc, r, cal, pool)
        prod = sc.staff[pool].productive_share.value
        for d in range(len(days)):
            for j in range(r.share.shape[1]):
                bl = blocks[d][j]
                if not r.on_duty[d, j]:
                    assert bl == (), f"{pool} post {j} has blocks on a day off duty"
                    continue
                share = min(prod * w[days[d].weekday()], 1.0) * r.filled[d, j]
                assert len(bl) == k
                assert sum(length for _, length in bl) == pytest.approx((1 - share) * L, rel=1e-12)
                part = L / k
                for b, (due, length) in enumerate(bl):
                    assert opens[d] + b * part - 1e-9 <= due
                    assert due + length <= opens[d] + (b + 1) * part + 1e-9
                checked += 1
    assert checked > 1000


# -- 6. reproducible --------------------------------------------------------------------------------


def _rota_arrays(seed: int, rep: int) -> dict[str, np.ndarray]:
    """Every array of every pool's rota and blocks (importable by a worker process)."""
    sc = _scenario(start="2023-07-01", end="2023-09-30")
    rotas, cal = _rotas(sc, seed, rep)
    out = {}
    for pool, r in rotas.items():
        for f in ("filled", "leave", "sick", "share", "moved", "leave_refused"):
            out[f"{pool}.{f}"] = getattr(r, f)
        out[f"{pool}.blocks"] = np.array([[x for bl in row for blk in bl for x in blk]
                                          for row in _blocks(sc, r, cal, pool, seed, rep)], dtype=object)
    return out


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(
        all(np.array_equal(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
            for x, y in zip(a[k], b[k], strict=True)) for k in a)


def test_the_same_seed_gives_the_same_rota_serially_and_in_worker_processes():
    serial = [_rota_arrays(7, rep) for rep in (0, 1)]
    assert _same(serial[0], _rota_arrays(7, 0))
    assert not _same(serial[0], serial[1]), "replications 0 and 1 have the same rota"
    assert not _same(serial[0], _rota_arrays(8, 0)), "seeds 7 and 8 give the same rota"
    with ProcessPoolExecutor(max_workers=2) as ex:
        futures = [ex.submit(_rota_arrays, 7, rep) for rep in (1, 0, 0, 1)]
        parallel = [f.result() for f in futures]
    for got, rep in zip(parallel, (1, 0, 0, 1), strict=True):
        assert _same(got, serial[rep]), f"replication {rep} differs in a worker process"


# -- 7. one more post ---------------------------------------------------------------------------------


FIELDS = ("leave", "sick", "share")


def _one_more(extra: float, min_cover: float, seed: int):
    base = _scenario(_csw(establishment=12, vacancy_rate=0.15, rota={"min_cover": min_cover}))
    more = _scenario(_csw(establishment=12 + extra, vacancy_rate=0.15, rota={"min_cover": min_cover}))
    (a, cal), (b, _) = _rotas(base, seed), _rotas(more, seed)
    return ((a["csw"], _blocks(base, a["csw"], cal, "csw", seed)),
            (b["csw"], _blocks(more, b["csw"], cal, "csw", seed)))


@pytest.mark.parametrize(("extra", "seed"), [(1.0, 1), (1 / 0.85, 2), (1 / 0.85, 3), (1.0, 4)])
def test_one_more_post_changes_no_post_whose_leave_was_not_moved_for_cover(extra, seed):
    (a, ba), (b, bb) = _one_more(extra, 8, seed)
    assert b.filled.sum(axis=1) == pytest.approx(a.filled.sum(axis=1) + 0.85 * extra, rel=1e-12)
    same_post = np.all(a.filled == b.filled, axis=0)  # posts held the same in both runs
    untouched = same_post & (a.moved == 0) & (b.moved == 0) & (a.leave_refused == 0) & (b.leave_refused == 0)
    assert untouched[:10].sum() >= 3, "too few posts untouched by cover to test anything"
    for j in np.flatnonzero(untouched):
        for f in FIELDS:
            assert np.array_equal(getattr(a, f)[:, j], getattr(b, f)[:, j]), f"post {j}: {f} reshuffled"
        assert [row[j] for row in ba] == [row[j] for row in bb], f"post {j}: blocks reshuffled"


@pytest.mark.parametrize("extra", [1.0, 1 / 0.85])
def test_with_no_cover_to_keep_one_more_post_leaves_every_earlier_post_as_it_was(extra):
    (a, ba), (b, bb) = _one_more(extra, 0, 5)
    first_changed = int(np.flatnonzero(~np.all(a.filled == b.filled, axis=0))[0])
    assert first_changed == 10  # 10.2 filled: post 10 was the part-time one
    for f in FIELDS:
        assert np.array_equal(getattr(a, f)[:, :first_changed], getattr(b, f)[:, :first_changed]), f
    assert [row[:first_changed] for row in ba] == [row[:first_changed] for row in bb]
    assert np.array_equal(a.moved[:first_changed], b.moved[:first_changed])
    # the new person is on duty on some days: the pool has more people on duty, never fewer
    assert np.all(b.count() >= a.count()) and b.count().sum() > a.count().sum()
