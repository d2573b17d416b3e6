"""Shared fixtures: the conservation check on every replication, the baseline."""

from __future__ import annotations

import os
import signal

# The app's runs in tests use few replications in one process. `ui.runs` reads these when first
# imported, which may be by any test module (the labels' tests import `ui`), so they are set here,
# before any test module is collected.
os.environ.setdefault("FRONT_DOOR_REPS", "3")
os.environ.setdefault("FRONT_DOOR_WORKERS", "1")

import pytest

from sim.model.frontdoor import FrontDoorModel
from sim.model.replication import simulate
from sim.scenario.loading import load
from tests.helpers import BASELINE, assert_conserved


def pytest_configure(config):
    """Ctrl-C must behave as it does at a terminal. A test run started in the background by a
    shell without job control inherits SIGINT ignored, and so would every command the tests
    start (Python installs no KeyboardInterrupt handler then): the interrupt tests would test
    nothing. Restore Python's own handler; commands started from here get the default."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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
