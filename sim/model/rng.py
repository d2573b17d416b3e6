"""Random streams: one SeedSequence per run, one independent generator per random activity.

Replication k of a run with seed S is `SeedSequence(S).spawn(...)[k]`, built directly as
`SeedSequence(S, spawn_key=(k,))` so a worker process needs only (S, k). Each random activity
(the arrivals of one stream, its outcome draws, its task times, its callers' patience, its
downstream draws, the staff rosters) takes a child of that sequence keyed by a stable
checksum of the activity's name, so its numbers do not depend on which other activities
exist or in what order they are listed. Every scenario run with seed S therefore uses the
same numbers for the same activity in replication k (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

from sim.model.demand import STREAMS
from sim.scenario.schema import POOLS

PER_STREAM = ("arrivals", "outcome", "service", "abandonment", "downstream", "pathway", "children")
# Per-contact uniforms drawn from each stream's "pathway" and "children" generators (attached to
# the stream's contacts in arrival order), used after the referral and for children's histories.
PATHWAY_DRAWS = ("injury", "s47_days", "icpc", "plan", "plan_months", "assessment",
                 "assessment_work", "assessment_outcome", "cin_months", "backlog")
CHILD_DRAWS = ("concern_size", "returns", "return_gap", "return_referral")
# Activities outside the front door's streams. Each is drawn afresh from its own seed whenever
# it is needed (`stream`), so the pathway can be recomputed for another scenario on the same
# front-door run (used by the calibration) and gets the same numbers.
OTHER_STREAMS = ("children.history", "backlog.contacts", "backlog.work", "staffing.strategy_chairs",
                 "staffing.conference_chairs", "staffing.assessment_team", "children.prior_plan")
STREAM_NAMES: tuple[str, ...] = (
    *(f"{s}.{c}/{what}" for s, c in STREAMS for what in PER_STREAM),
    *(f"staffing.{pool}" for pool in POOLS),
)


def replication_seed(seed: int, rep: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(rep,))


def activity_seed(seed: int, rep: int, name: str) -> np.random.SeedSequence:
    """The child of replication `rep`'s sequence that belongs to the named activity."""
    return np.random.SeedSequence(seed, spawn_key=(rep, zlib.crc32(name.encode("utf-8"))))


def stream(seed: int, rep: int, name: str) -> np.random.Generator:
    """A fresh generator for one named activity of replication `rep`."""
    return np.random.default_rng(activity_seed(seed, rep, name))


def make_streams(seed: int, rep: int) -> dict[str, np.random.Generator]:
    return {name: np.random.default_rng(activity_seed(seed, rep, name)) for name in STREAM_NAMES}
