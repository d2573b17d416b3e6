"""What one replication leaves behind: its event log and the bookkeeping the measures need."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.model.calendar import WorkCalendar
from sim.scenario.schema import Scenario

KINDS = ("conversation", "email_screen", "ppn_screen", "direction", "cotriage", "da_screen")
STAGE_COLUMNS = ("pool", "contact", "kind", "enqueued", "start", "end", "server", "abandoned")


@dataclass
class RepResult:
    """One replication's event log and the bookkeeping the measures need."""

    scenario: Scenario
    rep: int
    cal: WorkCalendar
    contacts: pd.DataFrame
    stages: pd.DataFrame
    rosters: pd.DataFrame
    queue_daily: pd.DataFrame
    queue_stats: dict[str, dict[str, float]]
    warnings: list[Saturation] = field(default_factory=list)
    seed: int = 0
    draws: dict[str, np.ndarray] = field(default_factory=dict)  # per-contact uniforms (rows = contacts)
    backlog_contacts: int = 0  # the first rows of `contacts` were waiting at the start
    pathway: pd.DataFrame | None = None  # one row per referred child (sim/pathway.py)
    # one row per working day and front-door pool (sim/model/rota.py `rota_table`)
    rota: pd.DataFrame | None = None
    # the management response: one row per working day, pool and response, with its hours
    # (sim/model/frontdoor.py `FrontDoorModel._respond`; "triggered" rows mark the days)
    response: pd.DataFrame | None = None



@dataclass(frozen=True)
class Saturation:
    """A queue that ended the reported period holding more than its stated saturation level."""

    pool: str
    waiting: int
    limit: float
    since: str

    def message(self, days: float) -> str:
        return (f"saturated: the {self.pool} queue held {self.waiting} items at the last opening"
                f" of the period (more than {days:g} days of its demand, {self.limit:.0f}),"
                f" above that level since {self.since}")
