"""A family's history acts on what happens next (children.history_effects, sim/model/pathway.py).

The effects are checked on common random numbers: one front-door run per replication, and
the pathway and families completed for several scenarios on it (`complete`), so a
difference between scenarios is the effect, not noise.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from sim.experiments.runner import events_table
from sim.experiments.validation import history_checks
from sim.measures.metrics import monthly
from sim.model.downstream import odds_scale, with_odds
from sim.model.pathway import HISTORY_ROUNDS, complete, soon_or_late, soon_share
from sim.model.replication import simulate
from tests.helpers import assert_conserved, variant

ODDS = ("plan_strategy_odds", "plan_s47_odds", "plan_icpc_odds")


def effects(**values: float) -> dict:
    """Overrides of children.history_effects (a value each, with a range that holds it)."""
    return {"children": {"history_effects": {
        k: {"value": v, "range": [0.0, 1.0 if k.endswith("share") else max(v, 1.0) * 2]}
        for k, v in values.items()}}}


@pytest.fixture(scope="module")
def front_doors(baseline):
    """Three replications' front-door runs of the baseline, to complete for each variant."""
    return [simulate(baseline, seed=31, rep=r) for r in range(3)]


def run_months(res) -> np.ndarray:
    """Cases whose plan started in the reported months."""
    sc, cal, pw = res.scenario, res.cal, res.pathway
    t = pw["cp_plan_start"].to_numpy(dtype=float)
    return pw["cp_plan"].to_numpy() & (t >= cal.minutes_at(sc.run.start)) & (
        t < cal.minutes_at(sc.run.end) + 1440)


def test_without_effects_the_pathway_is_the_history_blind_one(front_doors):
    """Odds ratios of 1 (whatever the share with a plan before) and no history_effects block at
    all give the same pathway, families and measures, bar the repeat-plan share."""
    off = variant({"children": {"history_effects": None}})
    ones = variant(effects(**dict.fromkeys((*ODDS, "soon_referral_odds"), 1.0)))
    a, b = complete(front_doors[0], off), complete(front_doors[0], ones)
    assert_conserved(a)
    assert_conserved(b)
    skip = {"prior_plan", "cp_plan_repeat"}
    for col in a.pathway.columns.difference(list(skip)):
        assert a.pathway[col].equals(b.pathway[col]), col
    assert a.contacts.equals(b.contacts)
    assert (b.pathway["history_rounds"] == 1).all()
    ma, mb = monthly(a), monthly(b)
    assert ma.drop(columns="pct_cp_plans_repeat").equals(mb.drop(columns="pct_cp_plans_repeat"))
    assert (mb["pct_cp_plans_repeat"] > ma["pct_cp_plans_repeat"]).all()  # before the history window


def test_more_weight_on_an_earlier_plan_means_more_repeat_plans(front_doors):
    """Raising the odds ratios of a child who has been on a plan raises the children starting a
    plan again (paired on the same front-door runs), and the strategy meetings of children with
    a plan before against the others; the stated shares hold for all children together, so the
    strategy meetings and S47 enquiries over all referrals stay where they were."""
    repeat, strat, s47, contrast = [], [], [], []
    for odds in (1.0, 2.0, 4.0):
        sc = variant(effects(**dict.fromkeys(ODDS, odds)))
        rs = [complete(r, sc) for r in front_doors]
        for r in rs:
            assert_conserved(r)
            assert not r.pathway["history_unsettled"].any()
        repeat.append(sum(int((r.pathway["cp_plan_repeat"].to_numpy() & run_months(r)).sum()) for r in rs))
        met = [np.isfinite(r.pathway["strategy_requested"].to_numpy(dtype=float)) for r in rs]
        strat.append(sum(int(m.sum()) for m in met))
        s47.append(sum(int(np.isfinite(r.pathway["s47_start"].to_numpy(dtype=float)).sum()) for r in rs))
        ordinary = [r.pathway["kind"].to_numpy() == 0 for r in rs]
        flag = [r.pathway["prior_plan"].to_numpy() for r in rs]
        with_plan = np.mean(np.concatenate([m[o & f] for m, o, f in zip(met, ordinary, flag, strict=True)]))
        others = np.mean(np.concatenate([m[o & ~f] for m, o, f in zip(met, ordinary, flag, strict=True)]))
        contrast.append(with_plan - others)
    assert repeat[0] < repeat[1] < repeat[2]
    assert contrast[1] < contrast[2] and contrast[1] > 0.05
    # the odds scales are set on the history-blind flags, so the overall shares hold to within
    # how far the flags move once history acts (measured: 0.5% for strategy, 1% for S47 at 4)
    for got in (strat, s47):
        assert max(abs(g / got[0] - 1) for g in got) < 0.02, got


def test_the_odds_scale_keeps_the_stated_share_over_the_eligible_cases():
    """odds_scale against its defining equation: over the eligible cases the mean chance with the
    odds ratio and the scale equals the mean stated share, for scalar and per-case shares; the
    flagged cases' odds are the others' times the ratio."""
    g = np.random.default_rng(5)
    flags, eligible = g.random(5000) < 0.2, g.random(5000) < 0.7
    for p in (0.3, g.uniform(0.2, 0.6, 5000)):
        for ratio in (0.5, 2.5):
            sc = odds_scale(p, ratio, flags, eligible)
            got = with_odds(p, ratio, flags, sc)
            pe = np.broadcast_to(p, flags.shape)
            assert np.mean(got[eligible]) == pytest.approx(np.mean(pe[eligible]), abs=1e-9)
            odds = got / (1 - got)
            base = pe / (1 - pe) / sc
            assert np.allclose(odds[flags], ratio * base[flags]) and np.allclose(odds[~flags], base[~flags])
    assert odds_scale(0.3, 1.0, flags, eligible) == 1.0
    # a share of 0 or 1 stays what it is, whatever the flags
    assert np.array_equal(with_odds(np.array([0.0, 1.0]), 2.5, np.array([True, False]), 1.7), [0.0, 1.0])


def test_coming_back_soon_as_a_referral_raises_rereferrals(front_doors):
    """Families coming back within soon_return_days more often as referrals: more referrals
    within 12 months of the previous one, with the same front door (paired)."""
    low, high = (variant(effects(soon_referral_odds=v)) for v in (1.0, 2.5))
    got = []
    for sc in (low, high):
        got.append(sum(int(complete(r, sc).pathway["rereferral_12m"].sum()) for r in front_doors))
    assert got[0] < got[1]


def test_history_is_settled_and_the_flags_are_the_childs_history(front_doors):
    """The pathway's draws agree with the families it makes (no case left unsettled), and a
    case's prior-plan flag is exactly: an earlier referral of the same child started a plan
    before this referral (with no families on a plan before the history window)."""
    sc = variant(effects(prior_plan_share=0.0))
    for fd in front_doors:
        res = complete(fd, sc)
        pw = res.pathway
        assert not pw["history_unsettled"].any()
        assert (pw["history_rounds"] < HISTORY_ROUNDS).all()
        starts: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for child, ref, start, plan in pw[["child", "referred", "cp_plan_start", "cp_plan"]].itertuples(
                index=False):
            if plan and np.isfinite(start):
                starts[child].append((ref, start))
        expected = [any(r0 < ref and s0 < ref for r0, s0 in starts.get(child, ()))
                    for child, ref in pw[["child", "referred"]].itertuples(index=False)]
        assert np.array_equal(pw["prior_plan"].to_numpy(), np.array(expected))


def test_repeat_plan_share_is_counted_from_the_plans_themselves(front_doors):
    """pct_cp_plans_repeat against a count from the pathway table: each month's plan starts
    whose child had started an earlier plan (none before the history window) ..."""
    sc = variant(effects(prior_plan_share=0.0))
    res = complete(front_doors[1], sc)
    pw = res.pathway
    plans = pw[pw["cp_plan"] & np.isfinite(pw["cp_plan_start"].to_numpy(dtype=float))]
    first = plans.groupby("child")["cp_plan_start"].transform("min")
    repeat = plans["cp_plan_start"] > first
    month = pd.DatetimeIndex(res.cal.to_datetime(plans["cp_plan_start"].to_numpy())).strftime("%Y-%m")
    share = (100 * repeat.groupby(month).mean()).rename("independent")
    m = monthly(res).set_index("month")["pct_cp_plans_repeat"]
    both = pd.concat([m, share], axis=1, join="inner")
    assert len(both) == len(m)
    assert np.allclose(both["pct_cp_plans_repeat"], both["independent"])
    # ... and with every family on a plan before the window, every plan is a repeat
    every = monthly(complete(front_doors[1], variant(effects(prior_plan_share=1.0))))
    assert (every["pct_cp_plans_repeat"] == 100).all()


def test_escalation_measures_against_the_event_log(front_doors):
    """Referrals reaching an S47 enquiry, per month of the referral, from the event log a user
    reads; referrals reaching a plan from the pathway table joined on the contact."""
    res = front_doors[2]
    m = monthly(res).set_index("month")
    ev = events_table(res)
    refs = ev[ev["outcome"] == "referral"]
    month = refs["arrival"].dt.strftime("%Y-%m")
    s47 = refs["s47_start"].notna().groupby(month).sum()
    assert np.array_equal(m["referrals_to_s47"].to_numpy(), s47.reindex(m.index, fill_value=0).to_numpy())
    pw = res.pathway
    planned = set(pw.loc[pw["cp_plan"] & (pw["contact"] >= 0), "contact"].tolist())
    idx = res.contacts.index[(res.contacts["outcome"] == "referral")]
    in_ev = ev.index[ev["outcome"] == "referral"]
    rows = dict(zip(in_ev, idx[res.contacts.loc[idx, "arrival"].between(
        res.cal.minutes_at(res.scenario.run.start),
        res.cal.minutes_at(res.scenario.run.end) + 1440, inclusive="left")], strict=True))
    plan = pd.Series([rows[i] in planned for i in in_ev], index=in_ev).groupby(month).sum()
    assert np.array_equal(m["referrals_to_cp_plan"].to_numpy(),
                          plan.reindex(m.index, fill_value=0).to_numpy())
    assert np.allclose(m["pct_referrals_to_s47"], 100 * m["referrals_to_s47"] / m["referrals"])


def test_history_checks_read_the_monthly_table():
    """The validation's history checks on a small table worked out by hand: two replications,
    two months."""
    table = pd.DataFrame({"rep": [0, 0, 1, 1], "month": ["2023-07", "2023-08"] * 2,
                          "pct_cp_plans_repeat": [20.0, 30.0, 22.0, 40.0],
                          "cp_plans": [100.0, 110.0, 120.0, 130.0],
                          "s47_enquiries": [30.0, 40.0, 35.0, 35.0], "referrals": [100.0] * 4,
                          "icpcs": [12.0, 16.0, 14.0, 14.0]})
    got = history_checks(table).set_index(["check", "period"])["mean"]
    assert got[("Children starting a plan who had been on one before (%)", "2023-07")] == 21.0
    assert got[("Children starting a plan who had been on one before (%)", "2023-08")] == 35.0
    # over the run, the months weighted by their plans: rep 0 (20 + 33) / 210, rep 1 (26.4 + 52) / 250
    assert np.isclose(got[("Children starting a plan who had been on one before (%)", "run")],
                      (100 * 53 / 210 + 100 * 78.4 / 250) / 2)
    assert got[("Children starting a plan, a month", "run")] == 115.0
    assert np.isclose(got[("S47 enquiries per referral", "run")], 0.35)
    assert np.isclose(got[("Conferences per S47 enquiry", "run")], 0.4)


def test_soon_returns_are_reweighted_around_the_stated_referral_shares(baseline):
    """A soon return is more often a referral and a later one less often, and over the gap
    distribution each category keeps the share `children.returns` states."""
    p = np.array([0.3243, 0.454, 0.7782, 0.9079])
    share = soon_share(baseline.children.return_gap_days, 90.0)
    gaps = np.sort(np.random.default_rng(3).lognormal(np.log(150 / np.sqrt(1 + 1.2**2)),
                                                      np.sqrt(np.log(1 + 1.2**2)), 200_000))
    assert abs(share - np.mean(gaps <= 90.0)) < 0.01  # the baseline gap: lognormal, mean 150, cv 1.2
    soon = soon_or_late(p, 1.5, np.ones(4, dtype=bool), share)
    late = soon_or_late(p, 1.5, np.zeros(4, dtype=bool), share)
    assert (soon > p).all() and (late < p).all()
    assert np.allclose(share * soon + (1 - share) * late, p)
