from __future__ import annotations

import pytest

from sim.model import FrontDoorModel, simulate
from sim.scenario import load
from tests.helpers import BASELINE, assert_conserved


@pytest.fixture(autouse=True)
def conserved_everywhere(monkeypatch):
    """Every replication simulated in this process passes the shared conservation check:
    arrivals equal finished plus open at the end, per stage (tests/helpers.assert_conserved)."""
    original = FrontDoorModel.run

    def run_and_check(self):
        res = original(self)
        assert_conserved(res)
        return res

    monkeypatch.setattr(FrontDoorModel, "run", run_and_check)


@pytest.fixture(scope="session")
def baseline():
    return load(BASELINE)


@pytest.fixture(scope="session")
def baseline_result(baseline):
    return simulate(baseline, rep=0)
