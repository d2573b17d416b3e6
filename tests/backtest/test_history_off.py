"""With the history effects off, the baseline gives the results pinned before they existed.

`children.history_effects` with every odds ratio 1 must draw exactly as the pathway blind to
history did: the monthly measures it had (tests/exp_results/baseline_no_history_monthly.csv,
the pinned baseline of the commit before history acted) to the last character, and the same
event log. These files are not regenerated: they are the behaviour the effects switch back to.
"""

from __future__ import annotations

import hashlib

import pytest

from sim.experiments.executors import SerialExecutor
from sim.experiments.runner import run_replications
from tests.backtest.test_regression import REPS, SEED
from tests.helpers import ROOT, variant

pytestmark = pytest.mark.slow

RESULTS = ROOT / "tests" / "exp_results"
NEUTRAL = {"children": {"history_effects": {k: {"value": 1.0, "range": [1.0, 4.0]} for k in (
    "plan_strategy_odds", "plan_s47_odds", "plan_icpc_odds", "soon_referral_odds")}}}
NEW_MEASURES = ("pct_cp_plans_repeat", "referrals_to_s47", "pct_referrals_to_s47",
                "referrals_to_cp_plan", "pct_referrals_to_cp_plan")


def test_neutral_history_effects_reproduce_the_history_blind_baseline():
    res = run_replications(variant(NEUTRAL), reps=REPS, seed=SEED, executor=SerialExecutor(),
                           keep_events=True)
    as_csv = {"index": False, "float_format": "%.6g"}
    monthly = res.monthly.drop(columns=list(NEW_MEASURES)).to_csv(**as_csv)
    assert monthly == (RESULTS / "baseline_no_history_monthly.csv").read_text(encoding="utf-8")
    events = hashlib.sha256(res.events.to_csv(**as_csv).encode("utf-8")).hexdigest()
    assert events == (RESULTS / "baseline_no_history_events_sha256.txt").read_text().strip()
