"""Police co-triage as it works in the room: the pair's supervisor keeps working the supervisor
queue between PPNs, a pair needs an officer in the room, police knowledge changes outcomes only
by the stated effect, and the break-even formula holds against the simulation."""

from __future__ import annotations

import numpy as np
import pytest

import sim.cli
from sim.measures.breakeven import break_even
from sim.measures.metrics import monthly
from sim.measures.vidigi_log import in_period
from sim.model.replication import simulate
from sim.model.rota import front_door_rotas
from sim.scenario.loading import deep_merge, load
from tests.helpers import ROOT, variant

SEPT = {"start": "2023-09-01", "end": "2023-09-30"}


def cotriage(**settings) -> dict:
    """Co-triage on from the first reported day, with some of its settings replaced."""
    return {"cotriage": {"enabled": True, "start": {"value": SEPT["start"]}, **settings}}


def effect(share: float) -> dict:
    return {"outcome_effects": {"referral_to_advice": {"value": share}}}


def working_day(res, t: np.ndarray) -> np.ndarray:
    """Index of the working day open at t, or the next one."""
    return np.searchsorted(res.cal.closes, t, side="right")


def begun_on(res, t: np.ndarray) -> np.ndarray:
    """Index of the working day a task begun at t was begun on: the last opening at or before t
    (a task begun in the overtime after a close belongs to that day)."""
    return np.searchsorted(res.cal.opens, t, side="right") - 1


def in_a_pair(res, server: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Is each supervisor (by post number) one of working day `day`'s pair supervisors: the
    day's pairs take the lowest-numbered supervisors on duty by the rota (a member of the
    management response, numbered past the posts, never sits in a pair)?"""
    on = front_door_rotas(res.scenario, res.cal, res.seed, res.rep)["ps"].on_duty
    posts = on.shape[1]
    pairs = res.rosters["cotriage"].to_numpy()
    out = np.zeros(len(server), dtype=bool)
    for n, (sid, k) in enumerate(zip(server.tolist(), day.tolist(), strict=True)):
        if sid < posts and on[k, sid]:
            below = sum(bool(on[k, other]) for other in range(sid))  # on duty, lower numbers
            out[n] = below < pairs[k]
    return out


def test_the_pairs_supervisor_serves_the_ordinary_queue_when_no_ppn_waits():
    # with the stated discussion length the pair's supervisor spends nearly all of their
    # front-door time (their productive share of the day, the rest in blocks away) on the
    # pair's PPNs; a shorter discussion leaves the gaps between PPNs this is about
    res = simulate(variant(cotriage(minutes={"mean": {"value": 8.0, "range": [1, 60]}}), **SEPT), rep=0)
    st = res.stages
    ct = st[(st["pool"] == "cotriage") & np.isfinite(st["start"])]
    ps = st[(st["pool"] == "ps") & np.isfinite(st["start"])]
    day = begun_on(res, ps["start"].to_numpy())
    in_pair = in_a_pair(res, ps["server"].to_numpy(), day)
    ordinary = ps[in_pair & ps["kind"].isin(["email_screen", "direction"]).to_numpy()]
    assert len(ct) > 100 and len(ordinary) > 100, (len(ct), len(ordinary))
    # every ordinary task the pair's supervisor began, it began with no PPN waiting for the pair
    t = ordinary["start"].to_numpy()[:, None]
    waiting = (ct["enqueued"].to_numpy() < t) & (ct["start"].to_numpy() > t)
    assert not waiting.any(), f"{int(waiting.any(axis=1).sum())} ordinary tasks begun while a PPN waited"
    # the pair's discussions are done by that day's pair supervisors, on days a pair formed
    assert in_a_pair(res, ct["server"].to_numpy(), begun_on(res, ct["start"].to_numpy())).all()
    # the stages' place (vidigi's resource) of a pair's discussion is below the day's pairs
    pairs = res.rosters["cotriage"].to_numpy()
    assert (ct["place"].to_numpy() < pairs[begun_on(res, ct["start"].to_numpy())]).all()
    # the supervisors' rota is not cut for the pair: the same as with co-triage off
    off = simulate(variant(**SEPT), rep=0)
    assert (res.rosters["ps"] == off.rosters["ps"]).all()


def test_with_the_outcome_effects_at_zero_cotriage_changes_no_outcome():
    # consultant social workers lent to screening when the supervisors' queue is over the
    # trigger are the one way that queue reaches the phones, and whether a caller gets through
    # or gives up and writes decides their outcome: off in both, so only the room could
    keep_phones = {"response": {"lent_csws": {"enabled": False}}}
    off_res = simulate(variant(keep_phones, **SEPT), rep=0)
    on_res = simulate(variant(deep_merge(keep_phones, cotriage(**effect(0.0))), **SEPT), rep=0)
    off, on = off_res.contacts, on_res.contacts
    assert on["cotriage_end"].notna().sum() > 100  # co-triage took place
    assert (on["arrival"].to_numpy() == off["arrival"].to_numpy()).all()
    a, b = off["outcome"].to_numpy(), on["outcome"].to_numpy()
    decided = (a != "open") & (b != "open")
    assert (a[decided] == b[decided]).all()
    # every contact of the reported period is decided in both (co-triage moves only when the
    # last contacts of the cool-down are decided, and so which are still open at the stop)
    period = in_period(off_res)
    assert decided[period].all() and period.sum() > 1000


def test_raising_the_effect_lowers_referrals_by_the_stated_share():
    none = simulate(variant(cotriage(**effect(0.0)), **SEPT), rep=0)
    half = simulate(variant(cotriage(**effect(0.5)), **SEPT), rep=0)
    a, b = none.contacts, half.contacts
    changed = a["outcome"].to_numpy() != b["outcome"].to_numpy()
    # only co-triaged would-be referrals move, and only to information and advice
    assert set(a.loc[changed, "outcome"]) == {"referral"}
    assert set(b.loc[changed, "outcome"]) == {"info_advice"}
    assert b.loc[changed, "cotriage_end"].notna().all()
    assert (b.loc[changed, "channel"] == "ppn_nondomestic").all()
    candidates = int(((a["outcome"] == "referral") & a["cotriage_end"].notna()).sum())
    moved = int(changed.sum())
    assert candidates > 50
    # Binomial(candidates, 0.5): within 4 standard deviations of half
    assert abs(moved - 0.5 * candidates) <= 4 * np.sqrt(candidates * 0.25), (moved, candidates)
    # the monthly referrals fall by the moved contacts that arrived in the reported month
    edges = half.cal.month_edges(half.scenario.run.start, half.scenario.run.end)
    t = b["arrival"].to_numpy()
    in_period = int((changed & (t >= edges[0][1]) & (t < edges[-1][2])).sum())
    assert monthly(none)["referrals"].sum() - monthly(half)["referrals"].sum() == in_period > 0


def test_officer_unavailable_days_have_no_cotriage():
    covered = {"days_not_covered": {"value": 0.5, "range": [0, 1]}}
    res = simulate(variant(cotriage(**covered), **SEPT), rep=0)
    off_duty = simulate(variant(cotriage(), **SEPT), rep=0)
    pairs, officers = res.rosters["cotriage"].to_numpy(), off_duty.rosters["cotriage"].to_numpy()
    active = res.rosters["day"].to_numpy() >= np.datetime64(SEPT["start"])
    assert np.all(pairs <= officers)
    lost = int((officers[active] > 0).sum() - (pairs[active] > 0).sum())
    n = int((officers[active] > 0).sum())
    assert abs(lost - 0.5 * n) <= 4 * np.sqrt(n * 0.25) and lost > 0, (lost, n)
    ct = res.stages[(res.stages["pool"] == "cotriage") & np.isfinite(res.stages["start"])]
    assert len(ct) > 0 and np.all(pairs[working_day(res, ct["start"].to_numpy())] > 0)
    # no officer on any day: no co-triage at all, and the front door runs as with it off
    never = simulate(variant(cotriage(days_not_covered={"value": 1.0, "range": [0, 1]}), **SEPT), rep=0)
    off = simulate(variant(**SEPT), rep=0)
    assert (never.rosters["cotriage"] == 0).all() and (never.stages["pool"] != "cotriage").all()
    assert never.stages.equals(off.stages)
    assert (never.contacts["outcome"].to_numpy() == off.contacts["outcome"].to_numpy()).all()


# three officers, the most allotted: a pair's supervisor has only their productive share of
# the day for front-door work, and one pair falls behind the non-domestic PPNs at the longer
# length, leaving PPNs never co-triaged whose cost the hours would miss
ROOM = {"staff": {"cotriage": {"establishment": {"value": {}, "default": 3, "range": [0, 3]}}}}


def _ps_hours(overrides: dict) -> float:
    res = simulate(variant(deep_merge(ROOM, overrides), start="2023-09-01", end="2023-10-31"), rep=0)
    ct = res.stages[res.stages["pool"] == "cotriage"]
    assert np.isfinite(ct["start"]).all(), "a PPN waited for the pair to the stop"  # the room kept up
    return float(monthly(res)["ps_task_hours"].sum())


def test_the_break_even_length_is_where_the_simulated_saving_crosses_zero():
    sc = variant(deep_merge(ROOM, cotriage()), **SEPT)
    be = break_even(sc)
    c_star = be.max_cotriage_minutes
    assert be.saved_minutes == pytest.approx(c_star - sc.cotriage.minutes.mean.value)
    off = _ps_hours({})
    lengths = (0.5 * c_star, 1.5 * c_star)
    saved = [off - _ps_hours(cotriage(minutes={"mean": {"value": m, "range": [1, 60]}})) for m in lengths]
    assert saved[0] > 0 > saved[1], saved  # saves below the break-even, costs above it
    # the saving is linear in the co-triage length (the same contacts, their own uniforms)
    crossing = lengths[0] + saved[0] * (lengths[1] - lengths[0]) / (saved[0] - saved[1])
    assert crossing == pytest.approx(c_star, rel=0.1), (crossing, c_star)


def test_a_break_even_share_is_given_when_settling_decides_it():
    # a longer co-triage that must settle some PPNs to pay for itself
    sc = variant(cotriage(minutes={"mean": {"value": 24.0}}), **SEPT)
    be = break_even(sc)
    assert be.min_settled_share is not None and 0 < be.min_settled_share < be.settleable_share
    # at exactly that settled share the formula saves nothing
    s, f = be.screen_minutes, sc.cotriage.screen_effort_after.value
    assert s * (1 - (1 - be.min_settled_share) * f) == pytest.approx(24.0)
    assert be.min_closed_share == pytest.approx(be.min_settled_share / be.settleable_share)
    assert f"{100 * be.min_settled_share:.1f}%" in be.text()


@pytest.mark.slow
def test_compare_prints_the_break_even_of_a_cotriage_scenario(tmp_path, capsys):
    scen = ROOT / "scenarios"
    rc = sim.cli.main(["compare", str(scen / "baseline_2024.yaml"), str(scen / "police_cotriage.yaml"),
                       "--reps", "1", "--start", "2024-02-01", "--end", "2024-02-29",
                       "--executor", "serial", "--out", str(tmp_path)])
    assert rc in (0, 3)
    out = capsys.readouterr().out
    lines = [x for x in out.splitlines() if x.startswith("break-even of")]
    be = break_even(load(scen / "police_cotriage.yaml"))
    assert len(lines) == 1 and "police_cotriage" in lines[0]
    assert f"more than {be.max_cotriage_minutes:.1f} min" in lines[0]
