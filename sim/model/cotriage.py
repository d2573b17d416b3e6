"""Police co-triage as it works in the room: when a pair forms, and what the officer's knowledge
changes.

A pair forms on a working day when an allotted officer is in the room (the officer's own roster,
`staff.cotriage`, less the days the police do not cover, `cotriage.days_not_covered`) and, with
`cotriage.supervisors_from_ps_pool`, a practice supervisor is on duty. The pair's supervisor is
one of that day's supervisors (the lowest-numbered members of the supervisor pool, see
`Pool.pair` in sim/model/frontdoor.py) and works the ordinary supervisor queue whenever no
non-domestic PPN waits for the pair: the seeds say the officer sits alongside a practice
supervisor (seed 003, line 412), not that a supervisor is taken off other work.

Police knowledge in the room turns a share of the co-triaged PPNs that would have become
referrals (risk could not be judged from the notice, seed 003, line 410) into information and
advice (`cotriage.outcome_effects`). Each contact's uniform for that comes from a stream of its
own, so no other draw moves (common random numbers).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import simpy

from sim.model.rng import stream
from sim.model.sampling import IA, REF
from sim.scenario.schema import CHANNELS, Scenario

PPN_N = CHANNELS.index("ppn_nondomestic")
# the named streams co-triage draws from (each its own child of the replication's seed)
COVER_STREAM = "staffing.cotriage_cover"  # one uniform per working day: is the room covered?
ROOM_STREAM = "police.ppn_nondomestic/cotriage"  # one per non-domestic PPN, in arrival order
BACKLOG_ROOM_STREAM = "backlog.cotriage"  # one per PPN waiting at the start


def shares_supervisors(sc: Scenario) -> bool:
    """Does the pair's supervisor come from the front-door supervisors (and work their queue)?"""
    return sc.cotriage.enabled and sc.cotriage.supervisors_from_ps_pool


def pairs_formed(sc: Scenario, rosters: dict[str, np.ndarray], seed: int, rep: int) -> np.ndarray:
    """Pairs in the room on each working day: officers on duty on a covered day, each with a
    supervisor on duty when the supervisors come from the pool (`rosters["cotriage"]` holds the
    officers on duty, `rosters["ps"]` the supervisors)."""
    officers = rosters["cotriage"]
    uncovered = stream(seed, rep, COVER_STREAM).random(len(officers)) < sc.cotriage.days_not_covered.value
    pairs = np.where(uncovered, 0, officers)
    if sc.cotriage.supervisors_from_ps_pool:
        pairs = np.minimum(pairs, rosters["ps"])
    return pairs


def room_uniforms(channel: np.ndarray, n_backlog: int, seed: int, rep: int) -> np.ndarray:
    """Each contact's uniform for the room's effect on its outcome (1 for contacts that are not
    non-domestic PPNs, which never meet the pair)."""
    u = np.ones(len(channel))
    for lo, hi, name in ((0, n_backlog, BACKLOG_ROOM_STREAM), (n_backlog, len(channel), ROOM_STREAM)):
        idx = lo + np.flatnonzero(channel[lo:hi] == PPN_N)
        u[idx] = stream(seed, rep, name).random(len(idx))
    return u


def room_outcomes(sc: Scenario, written: np.ndarray, settled: np.ndarray, u_settle: np.ndarray,
                  u_room: np.ndarray, closed: float | np.ndarray | None = None) -> list[tuple[int, bool]]:
    """Each contact's outcome and whether the pair settles it, once co-triaged.

    A would-be referral the officer's knowledge turns into information and advice is settled at
    co-triage as any other advice PPN is (with the contact's own `settle` uniform, against the
    settled share in force when it arrived, `closed`, by default the scenario's)."""
    ct = sc.cotriage
    closed = ct.closed_share.value if closed is None else closed
    to_advice = (written == REF) & (u_room < ct.outcome_effects.referral_to_advice.value)
    outcome = np.where(to_advice, IA, written)
    now_settled = settled | (to_advice & (u_settle < closed))
    return list(zip(outcome.tolist(), now_settled.tolist(), strict=True))


class Team(Protocol):
    """What the wake-up reads of a pool (sim/model/frontdoor.py `Pool`)."""

    duty: list[int]
    rank: list[list[int]]
    qlen: int
    idle: list[int]
    wake: dict[int, simpy.Event]


def pair_openings(env: simpy.Environment, opens: Sequence[float], ps: Team, pair: Team):
    """At each opening with a pair in the room and PPNs waiting for it, wake the pair's idle
    supervisors (a supervisor asleep since a day with no pair would otherwise not look)."""
    for k, o in enumerate(opens):
        pairs = pair.duty[k]
        if pairs == 0:
            continue
        if o > env.now:
            yield env.timeout(o - env.now)
        if pair.qlen == 0:
            continue
        for sid in [s for s in ps.idle if 0 <= ps.rank[k][s] < pairs]:
            ps.idle.remove(sid)
            ps.wake.pop(sid).succeed()
        heapq.heapify(ps.idle)
