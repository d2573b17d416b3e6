"""Random streams: one SeedSequence per run, spawned into one generator per random activity.

Replication k of a run with seed S uses `SeedSequence(S).spawn(...)[k]`, built directly as
`SeedSequence(S, spawn_key=(k,))` so that a worker process needs only (S, k) and gets the same
streams as the serial run. Every scenario run with seed S uses the same streams for
replication k (common random numbers); streams are named, so adding a stream at the end of
the list never moves the others.
"""

from __future__ import annotations

import numpy as np

from sim.demand import STREAMS

STREAM_NAMES: tuple[str, ...] = (
    *(f"{s}.{c}/{what}" for s, c in STREAMS for what in ("arrivals", "outcome", "service")),
    "staffing",
    "abandonment",
    "downstream",
)


def replication_seed(seed: int, rep: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(rep,))


def make_streams(seed: int, rep: int) -> dict[str, np.random.Generator]:
    children = replication_seed(seed, rep).spawn(len(STREAM_NAMES))
    return {name: np.random.default_rng(c) for name, c in zip(STREAM_NAMES, children, strict=True)}
