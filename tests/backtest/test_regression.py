"""Pinned outputs: three scenarios' monthly measures (and a digest of their event logs) for a
fixed seed, so a change that moves any result is seen, and has to be meant.

When a change is meant to move results, regenerate the pinned files and say so in the commit:

    python -m tests.backtest.test_regression

(then look at `git diff tests/exp_results/`: the monthly tables show what moved).
"""

from __future__ import annotations

import hashlib
import io
import json

import pandas as pd
import pytest

from sim.experiments.executors import SerialExecutor
from sim.experiments.runner import run_replications
from sim.scenario.loading import load
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

RESULTS = ROOT / "tests" / "exp_results"
SCENARIOS = ("baseline", "police_cotriage", "monday_backlog")
REPS, SEED = 3, 12345
DIGESTS = RESULTS / "events_sha256.json"


def outputs(name: str) -> tuple[str, str]:
    """The monthly table and the event log as `python -m sim run --reps 3 --seed 12345` writes them."""
    res = run_replications(load(ROOT / "scenarios" / f"{name}.yaml"), reps=REPS, seed=SEED,
                           executor=SerialExecutor(), keep_events=True)
    as_csv = {"index": False, "float_format": "%.6g"}
    return res.monthly.to_csv(**as_csv), res.events.to_csv(**as_csv)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("name", SCENARIOS)
def test_results_are_those_pinned(name):
    monthly, events = outputs(name)
    pinned = (RESULTS / f"{name}_monthly.csv").read_text(encoding="utf-8")
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(monthly)), pd.read_csv(io.StringIO(pinned)))
    assert monthly == pinned  # to the last character as written
    assert digest(events) == json.loads(DIGESTS.read_text())[name], (
        f"{name}: the event log differs from the pinned one while the monthly table does not")


def regenerate() -> None:
    RESULTS.mkdir(exist_ok=True)
    digests = {}
    for name in SCENARIOS:
        monthly, events = outputs(name)
        (RESULTS / f"{name}_monthly.csv").write_text(monthly, encoding="utf-8")
        digests[name] = digest(events)
        print(f"{name}: {len(monthly.splitlines()) - 1} monthly rows, {len(events.splitlines()) - 1} events")
    DIGESTS.write_text(json.dumps(digests, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    regenerate()
