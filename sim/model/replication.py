"""One replication of a scenario: the front door (SimPy), then the pathway after a referral and
the children and families each contact is about (sim/model/frontdoor.py, sim/model/pathway.py).
The replication's random streams come from (seed, replication) alone."""

from __future__ import annotations

from sim.model.frontdoor import FrontDoorModel
from sim.model.results import RepResult
from sim.scenario.schema import Scenario


def simulate(scenario: Scenario, seed: int | None = None, rep: int = 0) -> RepResult:
    """Run one replication of a scenario."""
    return FrontDoorModel(scenario, scenario.run.seed if seed is None else seed, rep).run()
