"""Children escalating to statutory intervention against the front door before the approach."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiments.compare import PERIOD
from sim.experiments.escalation import REVIEWS, STEPS, escalation, reported_reviews
from sim.scenario.loading import load
from tests.backtest.test_observed_data import read_extract
from tests.helpers import ROOT, variant

pytestmark = pytest.mark.slow  # two scenarios of three replications each (about 10 s)

PRE = ROOT / "scenarios" / "pre_conversations.yaml"
START, END, REPS, SEED = "2023-07-01", "2023-08-31", 3, 11


@pytest.fixture(scope="module")
def against_pre():
    return escalation(variant(start=START, end=END), load(PRE), reps=REPS, seed=SEED)


def _by_hand(before: pd.DataFrame, after: pd.DataFrame, measure: str) -> dict[str, tuple]:
    """Mean and 95% t interval (scipy.stats) of 100 (1 - after/before), per month and over the
    period (from each replication's monthly average)."""
    cells: dict[str, list[float]] = {}
    totals: dict[int, list[float]] = {}
    for rep in sorted(before["rep"].unique()):
        b = before[before["rep"] == rep].set_index("month")[measure]
        a = after[after["rep"] == rep].set_index("month")[measure]
        for month in b.index:
            cells.setdefault(month, []).append(100 * (1 - a[month] / b[month]))
        totals[rep] = [float(a.mean()), float(b.mean())]
    cells[PERIOD] = [100 * (1 - a / b) for a, b in totals.values()]
    out = {}
    for month, x in cells.items():
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
        out[month] = (np.mean(x), lo, hi, len(x))
    return out


def test_paired_reduction_is_t_over_replications_of_the_ratio(against_pre):
    before, after = (r.monthly for r in against_pre.results)
    t = against_pre.table
    for measure in STEPS:
        for month, (mean, lo, hi, n) in _by_hand(before, after, measure).items():
            row = t[(t["measure"] == measure) & (t["month"] == month)].iloc[0]
            assert row["reps"] == n == REPS
            assert row["reduction_pct"] == pytest.approx(mean, abs=1e-9), (measure, month)
            assert row["reduction_ci_low"] == pytest.approx(lo, abs=1e-9), (measure, month)
            assert row["reduction_ci_high"] == pytest.approx(hi, abs=1e-9), (measure, month)
    assert set(t["month"]) == {"2023-07", "2023-08", PERIOD}


def test_difference_is_scenario_minus_before(against_pre):
    t = against_pre.table
    assert np.allclose(t["difference"], t["scenario"] - t["before"])
    assert (t["difference_ci_low"] <= t["difference"]).all()
    assert (t["difference"] <= t["difference_ci_high"]).all()


def test_escalation_counts_nest_within_referrals(against_pre):
    for res in against_pre.results:
        m = res.monthly
        assert (m["referrals_to_cp_plan"] <= m["referrals_to_s47"]).all()
        assert (m["referrals_to_s47"] <= m["referrals"]).all()
        assert (m["referrals_to_cp_plan"] > 0).all()  # a month with none would test nothing


def test_a_scenario_against_itself_is_no_reduction():
    """Exactly 0 only if replication k of each runs on the same streams (common random numbers)."""
    same = variant({"name": "baseline again"}, start=START, end="2023-07-31")
    esc = escalation(same, load(ROOT / "scenarios" / "baseline.yaml"), reps=2, seed=SEED)
    t = esc.table
    assert len(t) == len(STEPS) * 2
    assert (t["reduction_pct"] == 0).all()
    assert (t["reduction_ci_low"] == 0).all() and (t["reduction_ci_high"] == 0).all()
    assert (t["difference"] == 0).all()


def test_reported_figures_are_on_their_seed_lines():
    extract = read_extract()
    rep = reported_reviews()
    assert len(rep) >= 5
    for r in rep.itertuples():
        assert r.quote in extract[r.line], (r.measures, r.line)
        assert f"{abs(r.reduction_pct):g}%" in r.quote, r.quote
    for review in REVIEWS.values():
        assert review.quote in extract[review.line]
        assert f"{review.weeks}" in review.quote
    by = rep.set_index("measures")["reduction_pct"]
    assert by["contacts resulting in a referral, all agencies (average reduction)"] == 16
    assert by["police contacts resulting in a referral"] == 29
    assert by["contacts resulting in a referral, over the year"] == 5.8
    assert by.filter(like="S47").iloc[0] == -10.8  # an increase, so a negative reduction


def _sim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", "escalation", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_cli_writes_the_table(tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text("extends: baseline.yaml\nname: short\nrun:\n  end: 2023-07-31\n")
    res = _sim(str(short), "--reps", "2", "--seed", "5", "--executor", "serial",
               "--out", str(tmp_path / "o"))
    assert res.returncode in (0, 3), res.stderr
    table = pd.read_csv(tmp_path / "o" / "escalation.csv", dtype={"month": str})
    assert set(table["measure"]) == set(STEPS) and set(table["month"]) == {"2023-07", PERIOD}
    assert (table["reps"] == 2).all()
    reviews = pd.read_csv(tmp_path / "o" / "escalation_reviews.csv")
    assert "seed 003 line 381" in set(reviews["source"].str.split(";").str[0])
    assert "reduction %" in res.stdout and "reported by the reviews" in res.stdout


@pytest.mark.parametrize("args, names", [
    (["scenarios/pre_conversations.yaml"], "SCENARIO scenarios/pre_conversations.yaml"),
    (["scenarios/baseline.yaml", "--reps", "0"], "--reps"),
    (["scenarios/baseline.yaml", "--reference", "missing.yaml"], "missing.yaml"),
])
def test_cli_bad_input_is_one_line_exit_2(args, names):
    res = _sim(*args)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and names in res.stderr, res.stderr
