"""With the history effects off, the baseline gives the results of the pathway blind to history.

`children.history_effects` with every odds ratio 1 must draw exactly as the pathway blind to
history does (`history_effects: null`): the same monthly measures to the last character and the
same event log, run against each other on the same seeds. (Until the front door's rota changed
every result, this compared with files pinned the commit before history acted; the blind pathway
is still the model's, so it is now run beside the neutral one.)
"""

from __future__ import annotations

import hashlib

import pytest

from sim.experiments.executors import SerialExecutor
from sim.experiments.runner import run_replications
from tests.backtest.test_regression import REPS, SEED
from tests.helpers import variant

pytestmark = pytest.mark.slow

NEUTRAL = {"children": {"history_effects": {k: {"value": 1.0, "range": [1.0, 4.0]} for k in (
    "plan_strategy_odds", "plan_s47_odds", "plan_icpc_odds", "soon_referral_odds")}}}
BLIND = {"children": {"history_effects": None}}
NEW_MEASURES = ("pct_cp_plans_repeat", "referrals_to_s47", "pct_referrals_to_s47",
                "referrals_to_cp_plan", "pct_referrals_to_cp_plan")


def test_neutral_history_effects_reproduce_the_history_blind_baseline():
    as_csv = {"index": False, "float_format": "%.6g"}
    runs = [run_replications(variant(over), reps=REPS, seed=SEED, executor=SerialExecutor(),
                             keep_events=True) for over in (NEUTRAL, BLIND)]
    monthly = [r.monthly.drop(columns=list(NEW_MEASURES)).to_csv(**as_csv) for r in runs]
    assert monthly[0] == monthly[1]
    events = [hashlib.sha256(r.events.to_csv(**as_csv).encode("utf-8")).hexdigest() for r in runs]
    assert events[0] == events[1]
