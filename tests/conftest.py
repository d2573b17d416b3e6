from __future__ import annotations

import pytest

from sim.model.replication import simulate
from sim.scenario.loading import load
from tests.helpers import BASELINE
from tests.test_robustness import conserved_everywhere  # noqa: F401 - applies the check to every run


@pytest.fixture(scope="session")
def baseline():
    return load(BASELINE)


@pytest.fixture(scope="session")
def baseline_result(baseline):
    return simulate(baseline, rep=0)
