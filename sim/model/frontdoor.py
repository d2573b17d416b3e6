"""The front door as SimPy processes, emitting an event log.

Each contact's way through is one generator, `FrontDoorModel.journey`, that reads top to bottom
as the service works (see docs/model.md for the diagram and every assumption):

* out of office hours, an urgent contact goes to the emergency duty team (EDT): decided on
  arrival, counted, never queued; every other contact waits for the next opening;
* phone -> consultant social worker (CSW) conversation -> decision; a referral then needs a
  practice supervisor's (PS) recorded management direction. A caller who waits past their
  patience abandons, then calls back later or sends an email instead;
* email -> PS screening -> decision (supervisors take direction, then PPNs, then emails, but
  anything waiting past its longest wait first: `Pool`);
* domestic PPN -> domestic abuse hub screening -> decision (the hub's daily risk assessment
  meeting, DRAM, is one of its blocks of the day; with `da_hub.hold_for_dram` a PPN waits for
  the next meeting before screening);
* non-domestic PPN -> PS screening (effort set by PPN quality) -> decision; from the co-triage
  start date, an officer and a PS co-triage it first and settle part of them there (on a day
  no pair is in the room, PPNs go straight to screening as before); the pair's supervisor
  works the ordinary supervisor queue while no PPN waits for the pair (sim/model/cotriage.py).

After the front door, sim/model/pathway.py follows each referral (strategy meeting, S47
enquiry, conference, plan, assessment) and decides which child and family each contact is
about, without changing anything decided here; `FrontDoorModel.run` returns both.

Staff work only in office hours and may finish a started task after closing (overtime). Who is
on duty each working day, and when in the day they are away from front-door work, comes from
the pool's rota (sim/model/rota.py: posts filled, leave in spells booked to keep a minimum
cover, sickness in spells, the productive share as blocks of the day). At each opening the
team manager triages what arrived out of hours, and when the supervisors' queue is over the
scenario's trigger the management response switched on acts within its caps (overtime,
consultant social workers lent to screening, the team manager screening: `_respond`). Each
staff member is a SimPy process working their pool's queue; they
jump straight to the next opening (no polling). A journey waits on SimPy's own events (the
staff member's service time, the caller's patience, the call-back delay, the daily meeting) and
is resumed at that instant by whoever ends the wait, rather than as a `simpy.Process` of its
own: that would add about two events a contact (its start, and one more per task), some 100,000
in a 12-month replication, beside the 130,000 it takes now.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import deque

import numpy as np
import pandas as pd
import simpy

from sim.model import dated
from sim.model.calendar import WorkCalendar, run_calendar
from sim.model.cotriage import pair_openings, pairs_formed, room_outcomes, room_uniforms, shares_supervisors
from sim.model.dated import by_spell, spell_of_days, spell_of_times, timeline
from sim.model.demand import (
    CALL_DRAWS,
    DECISION_DRAWS,
    DOWNSTREAM_DRAWS,
    SERVICE_DRAWS,
    STREAMS,
    Arrivals,
    generate,
    stream_volume,
)
from sim.model.pathway import complete
from sim.model.results import KINDS, STAGE_COLUMNS, RepResult, Saturation
from sim.model.rng import CHILD_DRAWS, PATHWAY_DRAWS, make_streams, stream
from sim.model.rota import away_blocks, front_door_rotas, rota_table
from sim.model.sampling import IA, NFA, REF, draw_durations, outcome_tables, pick
from sim.scenario.schema import CHANNELS, OUTCOMES, POOLS, SOURCES, Scenario

PHONE, EMAIL, PPN_D, PPN_N = (CHANNELS.index(c) for c in CHANNELS)
POLICE = SOURCES.index("police")
K_CONV, K_EMAIL, K_PPN, K_DIR, K_CT, K_DA = range(len(KINDS))
# the pool that does each kind of task, and the kinds that are screenings (of the written contact)
POOL_OF_KIND = {K_CONV: "csw", K_EMAIL: "ps", K_PPN: "ps", K_DIR: "ps", K_CT: "cotriage", K_DA: "da_hub"}
SCREENINGS = frozenset((K_EMAIL, K_PPN, K_DA))
# the event-log columns (prefix_queue, _start, _end, _server) each kind of task fills in
STAGE_OF_KIND = {K_CONV: "conversation", K_EMAIL: "screen", K_PPN: "screen", K_DA: "screen",
                 K_DIR: "direction", K_CT: "cotriage"}


def ppn_effort(sc: Scenario) -> float:
    """Screening effort of a PPN at the scenario's quality, as a share of the effort at the
    reference quality (the effort is linear in quality: sim/scenario/schema.py PPNQuality)."""
    q = sc.ppn
    eff = lambda x: q.effort_at_zero_quality.value + (  # noqa: E731
        q.effort_at_full_quality.value - q.effort_at_zero_quality.value) * x
    return eff(q.quality.value) / eff(q.reference_quality.value)


def contact_draws(arr: Arrivals, streams: dict[str, np.random.Generator]) -> dict[str, np.ndarray]:
    """Per-contact uniforms for the pathway after referral and for children's histories.

    Each stream's generators give its contacts their numbers in arrival order, so a change
    elsewhere in the scenario leaves them attached to the same contacts (common random numbers).
    """
    out = {"pathway": np.empty((len(arr), len(PATHWAY_DRAWS))),
           "children": np.empty((len(arr), len(CHILD_DRAWS)))}
    for source, channel in STREAMS:
        idx = np.flatnonzero((arr.source == SOURCES.index(source)) & (arr.channel == CHANNELS.index(channel)))
        for what, draws in out.items():
            draws[idx] = streams[f"{source}.{channel}/{what}"].random((len(idx), draws.shape[1]))
    return out


def backlog_contacts(sc: Scenario, cal: WorkCalendar, g: np.random.Generator) -> tuple[Arrivals, dict]:
    """Contacts already waiting when the simulation starts (scenario `backlog`).

    Unread emails come from each source in proportion to its email volume in the first month;
    PPNs are the police's. They arrived one minute before the start (so no monthly measure
    counts them as arrivals); they are never urgent. Their draws come from their own stream.
    """
    bl = sc.backlog
    n_email, n_ppn, n_dom = (int(bl.emails_unread.value), int(bl.ppns_waiting.value),
                             int(bl.domestic_ppns_waiting.value))
    n = n_email + n_ppn + n_dom
    y, m = cal.epoch.year, cal.epoch.month
    w = np.array([stream_volume(sc, src, "email", y, m) for src in SOURCES])
    w = w / w.sum() if w.sum() > 0 else np.full(len(SOURCES), 1 / len(SOURCES))
    email_src = np.searchsorted(np.cumsum(w), g.random(n_email), side="right").clip(0, len(SOURCES) - 1)
    source = np.concatenate((email_src, np.full(n_ppn + n_dom, POLICE))).astype(np.int8)
    channel = np.concatenate((np.full(n_email, EMAIL), np.full(n_ppn, PPN_N), np.full(n_dom, PPN_D))
                             ).astype(np.int8)
    decision = g.random((n, len(DECISION_DRAWS)))
    decision[:, DECISION_DRAWS.index("urgent")] = 1.0  # never urgent
    arr = Arrivals(np.full(n, -1.0), source, channel, decision, g.random((n, len(SERVICE_DRAWS))),
                   g.random((sc.abandonment.max_attempts, n, len(CALL_DRAWS))),
                   g.random((n, len(DOWNSTREAM_DRAWS))))
    return arr, {"pathway": g.random((n, len(PATHWAY_DRAWS))), "children": g.random((n, len(CHILD_DRAWS)))}


class Task:
    """One piece of work for a pool, and the journey waiting on it."""

    __slots__ = ("i", "kind", "dur", "outcome", "enq", "enq_office", "lane", "cancelled", "started",
                 "patience", "held_for_dram", "journey")

    def __init__(self, i: int, kind: int, dur: float, outcome: int = -1, held_for_dram: bool = False):
        self.i, self.kind, self.dur = i, kind, dur
        self.outcome = outcome  # what the screening will decide (read by the morning triage)
        self.enq = self.enq_office = 0.0
        self.lane = 0
        self.cancelled = False
        self.started = False
        self.patience: float | None = None  # a call's: minutes of office time the caller waits
        self.held_for_dram = held_for_dram
        self.journey = None


class Pool:
    """A team working one queue in office hours; each member (a post) is one SimPy process.

    `on[k][sid]` says whether member sid is on duty on working day k and `blocks[k][sid]` when
    in that day they are away from front-door work (sim/model/rota.py): a block is taken at the
    time it is due, or, when the member is busy then, as soon as the task in hand is done, for
    its full length (never past the close).

    The queue is a set of lanes, each first in first out: the supervisors' has one lane per
    kind of task in `service.ps_priority` order behind a lane for what the morning triage puts
    first; a member takes the first lane's head unless some lane's head has waited longer than
    that lane's `service.ps_max_wait_hours` (office hours), when the longest-waiting such head
    goes first. Members past `posts` are the management response's (consultant social workers
    lent for the day, who take only one lane, and the team manager), on duty only on the days
    the response puts them on (`FrontDoorModel._respond`)."""

    def __init__(self, model: FrontDoorModel, index: int, on: np.ndarray, blocks: list | None = None,
                 lanes: list[tuple[tuple[int, ...], float]] | None = None, extra: int = 0,
                 servers: bool = True):
        self.model, self.index, self.env, self.cal = model, index, model.env, model.cal
        on = np.asarray(on, dtype=bool)
        self.posts = on.shape[1] if on.ndim == 2 else 0
        if extra:
            on = np.concatenate((on, np.zeros((on.shape[0], extra), dtype=bool)), axis=1)
        self.on: list[list[bool]] = on.tolist()
        self.duty: list[int] = on.sum(axis=1).tolist()  # members on duty each working day
        # each member's place among the day's members on duty (-1 off): co-triage pairs take
        # the lowest places
        self.rank: list[list[int]] = np.where(on, np.cumsum(on, axis=1) - 1, -1).tolist()
        width = on.shape[1] if on.ndim == 2 else 0
        base = blocks if blocks is not None else [[()] * self.posts for _ in self.on]
        self.blocks: list[list[tuple]] = [list(row) + [()] * extra for row in base]
        self.last_free = [-1.0] * width  # when each member last finished a task
        self.block_at = [(-1, 0)] * width  # (day, next block) each member has reached
        self.away_until = [-1.0] * width  # when the last block each member has taken ends
        self.only: list[int | None] = [None] * width  # the one lane a lent member takes
        self.overtime: dict[tuple[int, int], float] = {}  # (day, member): minutes after the close
        # lanes: the kinds of task each holds and its longest wait (office minutes) before its
        # head goes first; kinds not listed go to the last lane
        lanes = lanes or [((), float("inf"))]
        self.lanes: list[deque] = [deque() for _ in lanes]
        self.lane_wait = [w for _, w in lanes]
        self.lane_of = {kind: li for li, (kinds, _) in enumerate(lanes) for kind in kinds}
        self.last_lane = len(lanes) - 1
        self.aged = any(w < float("inf") for w in self.lane_wait)
        self.idle: list[int] = []
        self.wake: dict[int, simpy.Event] = {}
        self.reserve: dict[int, simpy.Event] = {}  # response members waiting to be put on
        self.qlen = 0
        # time in queue, summed as (sum of leaving times) - (sum of joining times): the
        # integral of the queue length without touching the clock on every change
        self.joined_sum = 0.0
        self.left_sum = 0.0
        self.entered = 0
        self.in_service: dict[Task, tuple[float, int]] = {}  # start and member of each task in hand
        # whose members take this pool's tasks (co-triage pairs': the supervisors', see
        # sim/model/cotriage.py), and the pairs this pool's lowest-placed members sit in
        self.staff: Pool = self
        self.pair: Pool | None = None
        if servers:
            for sid in range(width):
                if sid >= self.posts or any(row[sid] for row in self.on):
                    self.env.process(self._server(sid))

    def queue_area(self, horizon: float) -> float:
        """Integral of the queue length from the start to `horizon` (items x minutes)."""
        return self.left_sum + self.qlen * horizon - self.joined_sum

    def submit(self, task: Task) -> bool:
        """Queue a task; True if a free member will start it at this instant."""
        task.enq = now = self.env.now
        self.entered += 1
        self.qlen += 1
        self.joined_sum += now
        task.lane = lane = self.lane_of.get(task.kind, self.last_lane)
        if self.aged:
            task.enq_office = self.cal.office_minutes(now)
        self.lanes[lane].append(task)
        staff = self.staff
        if staff.idle:
            idle = sorted(staff.idle)
            for sid in idle:  # the lowest-numbered idle member free now who takes it starts it
                only = staff.only[sid]
                if (only is None or only == lane) and staff.free_from(sid, now) == now:
                    staff.idle.remove(sid)
                    heapq.heapify(staff.idle)
                    staff.wake.pop(sid).succeed()
                    return True
            # nobody idle is free now: each idle member waits for their own next free time
            for sid in idle:
                staff.wake.pop(sid).succeed()
            staff.idle.clear()
        return False

    def cancel(self, task: Task) -> None:
        task.cancelled = True
        self.qlen -= 1
        self.left_sum += self.env.now

    def withdraw(self, task: Task) -> None:
        """Take a waiting task out of the queue (closed at the morning triage)."""
        self.lanes[task.lane].remove(task)
        self.cancel(task)

    def promote(self, task: Task) -> None:
        """Move a waiting task to the front lane (the morning triage's urgent items)."""
        self.lanes[task.lane].remove(task)
        task.lane = 0
        self.lanes[0].append(task)

    def waiting(self) -> list[Task]:
        return [t for lane in self.lanes for t in lane if not t.cancelled]

    def on_duty_next(self, t: float) -> bool:
        """Is anyone on duty on the working day open at t, or the next one?"""
        k = self.cal.working_day_at_or_after(t)
        return k < len(self.duty) and self.duty[k] > 0

    def can_take(self, sid: int) -> bool:
        only = self.only[sid]
        return self.qlen > 0 if only is None else len(self.lanes[only]) > 0

    def _pop(self, sid: int) -> Task:
        lanes = self.lanes
        only = self.only[sid]
        if only is not None:
            return lanes[only].popleft()  # lent members take one lane (never cancelled)
        for lane in lanes:
            while lane and lane[0].cancelled:
                lane.popleft()
        if self.aged:  # a head waiting past its lane's longest wait goes first, oldest first
            now = self.cal.office_minutes(self.env.now)
            best = None
            for li, lane in enumerate(lanes):
                if lane and now - lane[0].enq_office > self.lane_wait[li] and (
                        best is None or lane[0].enq < lanes[best][0].enq):
                    best = li
            if best is not None:
                return lanes[best].popleft()
        for lane in lanes:
            if lane:
                return lane.popleft()
        raise LookupError("no task waiting")  # pragma: no cover - callers check qlen first

    def free_from(self, sid: int, t: float) -> float | None:
        """Earliest time >= t when member sid is on duty, the office open (or in overtime the
        response granted) and no block of the day's time away due (None: never again in this
        run, as far as is known now). Blocks passed are marked taken."""
        cal, on = self.cal, self.on
        opens, closes = cal.opens, cal.closes
        k = bisect_right(closes, t)
        if self.overtime and k > 0 and on[k - 1][sid]:
            extra = self.overtime.get((k - 1, sid))
            if extra and t < closes[k - 1] + extra:
                return t
        n = len(on)
        while k < n:
            if on[k][sid]:
                s = opens[k] if opens[k] > t else t
                day, b = self.block_at[sid]
                if day != k:
                    b = 0
                bl = self.blocks[k][sid]
                floor = max(self.last_free[sid], self.away_until[sid])  # a block taken may still run
                if floor > s:
                    s = floor
                while b < len(bl) and bl[b][0] <= s:
                    due, length = bl[b]
                    begin = max(due, floor)  # taken once free after it fell due
                    floor = begin + length
                    if floor > s:
                        s = floor
                    self.away_until[sid] = floor
                    b += 1
                self.block_at[sid] = (k, b)
                if s < closes[k]:
                    return s
            k += 1
        return None

    def _server(self, sid: int):
        """One member of the team: take the next task when on duty in office hours, else wait."""
        env, closes = self.env, self.cal.closes
        n_days = len(self.on)
        pair = self.pair
        rank = self.rank
        while True:
            if pair is not None and pair.qlen:  # in a co-triage pair today: its PPNs first
                t = env.now
                k = bisect_right(closes, t)
                if k < n_days and 0 <= rank[k][sid] < pair.duty[k] and self.free_from(sid, t) == t:
                    yield from pair._serve(sid, t)
                    continue
            if not self.can_take(sid):  # nothing to do: sleep until a task arrives
                ev = self.wake[sid] = env.event()
                heapq.heappush(self.idle, sid)
                yield ev
                continue
            t = env.now
            start = self.free_from(sid, t)
            if start is None:
                if sid < self.posts:  # never on duty again in this run
                    yield env.event()
                ev = self.reserve[sid] = env.event()  # until the response puts them on
                yield ev
                continue
            if start > t:  # off duty, office shut or away from front-door work
                yield env.timeout(start - t)
                continue
            task = self._pop(sid)
            self.qlen -= 1
            self.left_sum += t
            task.started = True
            self.in_service[task] = (t, sid)
            yield env.timeout(task.dur)
            del self.in_service[task]
            self.last_free[sid] = env.now
            self.model.finished(self, task, sid, t, env.now)

    def put_on(self, sid: int) -> None:
        """A response member put on duty now: wake them if they wait."""
        for events in (self.reserve, self.wake):
            ev = events.pop(sid, None)
            if ev is not None:
                if sid in self.idle:
                    self.idle.remove(sid)
                    heapq.heapify(self.idle)
                ev.succeed()

    def _serve(self, sid: int, t: float):
        """Member `sid` (of the staffing pool) does this pool's next task, starting at t."""
        task = self._pop(sid) if self.staff is self else self._pop_any()
        self.qlen -= 1
        self.left_sum += t
        task.started = True
        self.in_service[task] = (t, sid)
        yield self.env.timeout(task.dur)
        del self.in_service[task]
        self.staff.last_free[sid] = self.env.now
        self.model.finished(self, task, sid, t, self.env.now)

    def _pop_any(self) -> Task:
        for lane in self.lanes:
            while lane:
                task = lane.popleft()
                if not task.cancelled:
                    return task
        raise LookupError("no task waiting")  # pragma: no cover - callers check qlen first

    def still_open(self) -> list[tuple[Task, float, int]]:
        """Tasks waiting (start NaN, member -1) or in service (start and member known) when the
        run stops."""
        waiting = [(t, np.nan, -1) for t in self.waiting()]
        return waiting + [(t, start, sid) for t, (start, sid) in self.in_service.items()]


class FrontDoorModel:
    def __init__(self, scenario: Scenario, seed: int, rep: int = 0):
        self.sc = sc = scenario
        self.rep = rep
        self.cal = cal = run_calendar(sc)
        self.tl = timeline(sc)  # the settings in force on each day (dated changes)
        self.epoch = cal.epoch
        streams = make_streams(seed, rep)
        self.streams, self.seed = streams, seed
        arr = generate(sc, cal, streams)
        draws = contact_draws(arr, streams)
        back, back_draws = backlog_contacts(sc, cal, stream(seed, rep, "backlog.contacts"))
        self.n_backlog = len(back)
        if len(back):
            arr = Arrivals(*(np.concatenate((getattr(back, f), getattr(arr, f)),
                                            axis=1 if f == "calls" else 0)
                             for f in ("time", "source", "channel", "decision", "service", "calls",
                                       "downstream")))
            draws = {k: np.concatenate((back_draws[k], v)) for k, v in draws.items()}
        self.arr: Arrivals = arr
        self.draws = draws
        self._prepare_contacts()
        self.env = simpy.Environment()
        self.rotas = rotas = front_door_rotas(sc, cal, seed, rep)
        day_spell = spell_of_days(self.tl, [cal.dates[d] for d in cal.working_day_index])
        on = {name: r.on_duty for name, r in rotas.items()}
        blocks = {name: away_blocks(r, [s.staff[name] for s in self.tl.scenarios], day_spell, cal, seed, rep,
                                    name, meeting=dram_meeting(self.tl, day_spell, cal) if name == "da_hub"
                                    else None) for name, r in rotas.items()}
        rosters = {name: o.sum(axis=1) for name, o in on.items()}
        shared = shares_supervisors(sc)
        if sc.cotriage.enabled:  # officers on duty -> pairs in the room
            pairs = pairs_formed(sc, rosters, seed, rep)
            if shared:  # the pair's supervisor is one of the day's supervisors: pairs counted
                on["cotriage"] = np.arange(on["cotriage"].shape[1])[None, :] < pairs[:, None]
            else:  # the officers' own days in the room, less the days the police do not cover
                on["cotriage"] = on["cotriage"] & (pairs > 0)[:, None]
            rosters["cotriage"] = on["cotriage"].sum(axis=1)
        self.rosters = rosters
        rs = sc.response
        self.n_lent = int(rs.lent_csws.posts.value) if rs.lent_csws.enabled else 0
        self.tm = rotas["ps"].share.shape[1] + self.n_lent  # the team manager's place in the ps pool
        self.pools = {name: Pool(self, i, on[name], blocks=blocks[name],
                                 lanes=supervisor_lanes(sc) if name == "ps" else None,
                                 extra=self.n_lent + 1 if name == "ps" else 0,
                                 servers=not (shared and name == "cotriage"))
                      for i, name in enumerate(POOLS)}
        self.email_lane = self.pools["ps"].lane_of[K_EMAIL]
        self.response_log: list[tuple[int, str, str, float]] = []  # (working day, pool, what, minutes)
        # response used so far by (supervisor; -1 the manager's minutes, -2 days CSWs were lent,
        # year, week)
        self.used_week: dict[tuple[int, int, int], float] = {}
        self.triage_u = triage_uniforms(self.arr.channel, self.n_backlog, seed, rep)
        if shared:  # the pair's supervisor is one of the day's supervisors
            self.pools["ps"].pair, self.pools["cotriage"].staff = self.pools["cotriage"], self.pools["ps"]
            self.env.process(pair_openings(self.env, cal.opens, self.pools["ps"], self.pools["cotriage"]))
        self.pool_of_kind = [self.pools[POOL_OF_KIND[k]] for k in range(len(KINDS))]
        self.stage_log: list[tuple] = []
        self.dram_pending: list[Task] = []  # domestic PPNs held for the next DRAM
        self.awaiting_callback: set[int] = set()
        self.awaiting_checks: set[int] = set()
        self.queue_daily: list[tuple] = []
        ab = sc.abandonment
        self.aband_on, self.max_attempts = ab.enabled, ab.max_attempts
        # Per call attempt and contact: patience, call back (or email), delay before calling
        # back, each by the settings in force when the contact arrived.
        u, tl, spell, n = self.arr.calls, self.tl, self.spell, len(self.arr)
        self.patience = by_spell(tl, spell, lambda s, ix: draw_durations(
            s.abandonment.patience_minutes, u[:, ix, 0]).T, n).T.tolist()
        self.calls_back = (u[:, :, 1] < dated.values(tl, spell, lambda s: s.abandonment.callback_share.value)
                           ).tolist()
        self.callback_delay = by_spell(tl, spell, lambda s, ix: draw_durations(
            s.abandonment.callback_delay_minutes, u[:, ix, 2]).T, n).T.tolist()
        self.hold_for_dram = sc.da_hub.hold_for_dram
        self.cotriage_from = (cal.minutes_at(sc.cotriage.start.value)
                              if sc.cotriage.enabled else float("inf"))
        if sc.cotriage.enabled:  # each contact's outcome and settling once co-triaged
            self.room = room_outcomes(sc, self.out_written, self.settled,
                                      self.arr.decision[:, DECISION_DRAWS.index("settle")],
                                      room_uniforms(self.arr.channel, self.n_backlog, seed, rep),
                                      self.closed_share)

    # -- set-up --------------------------------------------------------------------------------
    def _prepare_contacts(self) -> None:
        """Each contact's outcome and task times, by the settings in force when it arrived."""
        a, tl = self.arr, self.tl
        n = len(a)
        self.spell = spell = spell_of_times(tl, self.cal, a.time)
        dec = a.decision
        u_out = dec[:, DECISION_DRAWS.index("outcome")]

        def decided(phone: bool):
            def pick_in(s: Scenario, ix: np.ndarray) -> np.ndarray:
                shares = outcome_tables(s)[1 if phone else 0]
                return pick(np.cumsum(shares[a.source[ix], a.channel[ix]], axis=1), u_out[ix])
            return pick_in

        self.out_written = by_spell(tl, spell, decided(False), n)
        self.out_phone = by_spell(tl, spell, decided(True), n)
        u = a.service
        col = SERVICE_DRAWS.index

        def times(task: str, draw: str, factor: bool = False):
            def draw_in(s: Scenario, ix: np.ndarray) -> np.ndarray:
                d = draw_durations(getattr(s.service, task) if task != "cotriage" else s.cotriage.minutes,
                                   u[ix, col(draw)])
                return d * ppn_effort(s) if factor else d
            return draw_in

        self.d_conv = by_spell(tl, spell, times("conversation_minutes", "conversation"), n)
        is_ppn = (a.channel == PPN_N) | (a.channel == PPN_D)
        self.d_email = by_spell(tl, spell, times("email_screen_minutes", "screen"), n)
        self.d_ppn = by_spell(tl, spell, times("ppn_screen_minutes", "screen", factor=True), n)
        self.d_dir = by_spell(tl, spell, times("direction_minutes", "direction"), n)
        self.d_ct = by_spell(tl, spell, times("cotriage", "cotriage"), n)
        self.d_da = by_spell(tl, spell, times("da_screen_minutes", "da_screen", factor=True), n)
        self.d_checks = by_spell(tl, spell, times("checks_wait_minutes", "checks"), n)
        share = dated.values(tl, spell, lambda s: s.service.checks_share.value)
        self.checks = dec[:, DECISION_DRAWS.index("checks")] < share
        settle = (self.out_written == IA) | (self.out_written == NFA)
        u_settle = dec[:, DECISION_DRAWS.index("settle")]
        self.closed_share = closed = dated.values(tl, spell, lambda s: s.cotriage.closed_share.value)
        self.settled = settle & (u_settle < closed) & is_ppn
        urgent = dated.values(tl, spell, lambda s: s.demand.out_of_hours_urgent_share.value)
        self.urgent = dec[:, DECISION_DRAWS.index("urgent")] < urgent
        after = dated.values(tl, spell, lambda s: s.cotriage.screen_effort_after.value)
        self.effort_after = [after] * n if isinstance(after, float) else after.tolist()
        # The contacts' event log, column by column. What a journey writes is kept in Python
        # lists while the run goes (item access on lists is several times quicker than on numpy
        # arrays); the stage columns (queue, start, end, server of each kind of task) are read
        # off the stage log in `_result`, so each stage is recorded once.
        self.log_dtypes: dict[str, type] = {k: float for k in (
            "decided", "conversation_queue", "conversation_start", "conversation_end",
            "screen_queue", "screen_start", "screen_end", "direction_queue", "direction_start",
            "direction_end", "cotriage_queue", "cotriage_start", "cotriage_end", "dram_release")}
        self.log_dtypes.update({k: np.int32 for k in ("conversation_server", "screen_server",
                                                      "direction_server", "cotriage_server")})
        self.log_dtypes.update(screen_pool=np.int8, outcome=np.int8, edt=bool, attempts=np.int16,
                               abandoned_calls=np.int16, switched_to_email=bool, closed_at_triage=bool,
                               waited_on_checks=bool)
        start = {float: np.nan, np.int32: -1, np.int8: -1, bool: False, np.int16: 0}
        self.log_start = {k: start[t] for k, t in self.log_dtypes.items()}
        self.log: dict[str, list] = {k: [self.log_start[k]] * n for k in (
            "decided", "dram_release", "outcome", "edt", "attempts", "abandoned_calls",
            "switched_to_email", "closed_at_triage", "waited_on_checks")}
        # what a journey reads about its contact: one row each, in the order `journey` unpacks it
        self.contact_rows = list(zip(
            self.out_written.tolist(), self.out_phone.tolist(), self.settled.tolist(),
            self.urgent.tolist(), a.channel.tolist(), self.d_conv.tolist(), self.d_email.tolist(),
            self.d_ppn.tolist(), self.d_dir.tolist(), self.d_ct.tolist(), self.d_da.tolist(),
            self.checks.tolist(), self.d_checks.tolist(), strict=True))

    # -- one contact's journey -----------------------------------------------------------------
    def journey(self, i: int):
        """One contact through the front door, from arrival to decision, top to bottom.

        A journey yields what it waits for: a `Task` (queue for a pool, or first be held for the
        daily risk assessment meeting; resumed with True once a staff member has done it, or
        with False if the caller hung up first) or a number (minutes before calling back). The
        staff member who finishes a task, the caller's patience running out, the call-back time
        and the meeting resume it at that instant (`_advance`), so a journey costs no SimPy
        events of its own beyond what it waits on. A written contact closed at the morning
        triage is resumed with False (decided there, no checks).
        """
        (written, phone_outcome, settled, urgent, channel,
         d_conv, d_email, d_ppn, d_dir, d_ct, d_da, checks, d_checks) = self.contact_rows[i]
        env, log = self.env, self.log
        if urgent and not self.cal.is_open(env.now):  # out of hours: the emergency duty team
            log["edt"][i] = True
            self._decide(i, written)
            return
        if channel == PHONE:
            for attempt in range(self.max_attempts):
                log["attempts"][i] = attempt + 1
                call = Task(i, K_CONV, d_conv)
                if self.aband_on:
                    call.patience = self.patience[attempt][i]
                if (yield call):  # answered: the conversation took place
                    break
                if attempt + 1 < self.max_attempts and self.calls_back[attempt][i]:
                    self.awaiting_callback.add(i)
                    yield self.callback_delay[attempt][i]
                    self.awaiting_callback.discard(i)
                else:  # gives up on the phone and emails instead
                    log["switched_to_email"][i] = True
                    served = yield Task(i, K_EMAIL, d_email, written)
                    yield from self._decision(i, written, served and checks, d_checks)
                    return
            if phone_outcome == REF:  # a referral needs a supervisor's recorded direction
                yield Task(i, K_DIR, d_dir, phone_outcome)
            yield from self._decision(i, phone_outcome, checks, d_checks)
        elif channel == EMAIL:
            served = yield Task(i, K_EMAIL, d_email, written)
            yield from self._decision(i, written, served and checks, d_checks)
        elif channel == PPN_D:
            # the DA hub screens it (with `da_hub.hold_for_dram`, only after the next daily risk
            # assessment meeting, DRAM)
            yield Task(i, K_DA, d_da, written, held_for_dram=self.hold_for_dram)
            yield from self._decision(i, written, checks, d_checks)
        else:  # a non-domestic PPN
            if env.now >= self.cotriage_from and self.pools["cotriage"].on_duty_next(env.now):
                yield Task(i, K_CT, d_ct)
                written, settled = self.room[i]  # what the officer's knowledge changes
                if settled:
                    self._decide(i, written)
                    return
                d_ppn *= self.effort_after[i]
            served = yield Task(i, K_PPN, d_ppn, written)
            yield from self._decision(i, written, served and checks, d_checks)

    def _decision(self, i: int, outcome: int, checks: bool, wait: float):
        """The decision, once any checks are back (office minutes `wait` after now)."""
        if checks:
            self.awaiting_checks.add(i)
            self.log["waited_on_checks"][i] = True
            end = min(self.cal.after_office_minutes(self.env.now, wait), self.cal.horizon)
            yield end - self.env.now
            self.awaiting_checks.discard(i)
        self._decide(i, outcome)

    def _decide(self, i: int, outcome: int) -> None:
        self.log["decided"][i] = self.env.now
        self.log["outcome"][i] = outcome

    # -- what a journey waits on -----------------------------------------------------------------
    def _advance(self, journey, value: bool | None = None) -> None:
        """Resume a journey and set up what it waits for next."""
        try:
            what = journey.send(value)
        except StopIteration:
            return
        if what.__class__ is Task:
            what.journey = journey
            if what.held_for_dram:
                self.dram_pending.append(what)
            elif not self.pool_of_kind[what.kind].submit(what) and what.patience is not None:
                self._hang_up_after_patience(what)
        else:  # minutes before calling back
            self.env.timeout(what).callbacks.append(lambda _ev: self._advance(journey))

    def _hang_up_after_patience(self, call: Task) -> None:
        """A caller not answered at once hangs up once their patience runs out in office hours."""
        now, cal = self.env.now, self.cal
        opens = cal.next_open(now)
        deadline = min(opens + call.patience, cal.close_after(opens))
        if deadline < float("inf"):
            self.env.timeout(deadline - now).callbacks.append(lambda _ev: self._abandon(call))

    def _abandon(self, call: Task) -> None:
        if call.started or call.cancelled:
            return
        pool, i, now = self.pools["csw"], call.i, self.env.now
        pool.cancel(call)
        self.log["abandoned_calls"][i] += 1
        self.stage_log.append((pool.index, i, K_CONV, call.enq, np.nan, now, -1, True))
        self._advance(call.journey, False)

    def finished(self, pool: Pool, task: Task, server: int, start: float, end: float) -> None:
        """A staff member finished a task: log the stage, then the contact goes on."""
        if pool.staff.overtime:  # a pair's supervisor's co-triage counts as their own overtime
            self._overtime_worked(pool.staff, server, start, end)
        self.stage_log.append((pool.index, task.i, task.kind, task.enq, start, end, server, False))
        self._advance(task.journey, True)

    # -- the processes -----------------------------------------------------------------------------
    def _arrivals(self):
        env = self.env
        for i, t in enumerate(self.arr.time.tolist()):
            if t > env.now:
                yield env.timeout(t - env.now)
            self._advance(self.journey(i))

    def _daily(self):
        """At each opening record the queues; at each DRAM time release the domestic PPNs."""
        env, cal = self.env, self.cal
        opens = np.asarray(cal.opens, dtype=float)
        hours = dated.values(self.tl, spell_of_times(self.tl, cal, opens), lambda s: s.da_hub.dram_hour.value)
        dram_offset = np.broadcast_to(np.asarray(hours) * 60.0 - cal.open_min, opens.shape).tolist()
        for k, o in enumerate(cal.opens):
            events = sorted([(o, "open"), (o + dram_offset[k], "dram")])
            for t, what in events:
                if t > env.now:
                    yield env.timeout(t - env.now)
                if what == "open":
                    self.queue_daily.append((k, *(p.qlen for p in self.pools.values())))
                    self._respond(k)
                elif self.hold_for_dram:
                    pending, self.dram_pending = self.dram_pending, []
                    da = self.pools["da_hub"]
                    for task in pending:
                        self.log["dram_release"][task.i] = env.now
                        task.held_for_dram = False
                        da.submit(task)

    # -- the management response ---------------------------------------------------------------
    def _respond(self, k: int) -> None:
        """At the opening of working day k: the team manager's triage of what came in out of
        hours, and, when the supervisors' queue is over the trigger, the responses switched on,
        each within its cap (scenario `response`)."""
        rs, ps, cal = self.sc.response, self.pools["ps"], self.cal
        day = cal.dates[cal.working_day_index[k]]
        year, week, _ = day.isocalendar()
        triage_minutes = 0.0  # the team manager's time on the triage, from the opening
        if rs.morning_triage.enabled:
            items = self._triage_items(k)
            tr = rs.morning_triage
            each = tr.minutes_per_item.value
            triage_minutes = min(len(items), int(tr.cap_hours_per_day.value * 60.0 // each)) * each
            self.env.process(self._triage(k, items))
        if ps.qlen <= rs.trigger_items.value:
            return
        self.response_log.append((k, "ps", "triggered", 0.0))
        if rs.overtime.enabled:  # each supervisor on duty may stay after the close
            for sid in range(ps.posts):
                if ps.on[k][sid]:
                    used = self.used_week.get((sid, year, week), 0.0)
                    grant = min(rs.overtime.hours_per_day.value, rs.overtime.cap_hours_per_week.value) * 60.0
                    grant = min(grant, rs.overtime.cap_hours_per_week.value * 60.0 - used)
                    if grant > 0:
                        ps.overtime[(k, sid)] = grant
        lent_days = self.used_week.get((-2, year, week), 0.0)
        if self.n_lent and lent_days < self.sc.response.lent_csws.cap_days_per_week.value:
            # consultant social workers read emails for the day, keeping phone cover; a day
            # counts against the week's cap only if someone could be spared
            csw = self.pools["csw"]
            here = [sid for sid in range(csw.posts) if csw.on[k][sid]]
            cover = float(self.rotas["csw"].min_cover[k])
            spare = max(int(len(here) - cover), 0)
            # one who took a call at this opening, before the response ran, stays on the phones
            busy = {sid for _, sid in csw.in_service.values()}
            # full-time posts are lent before a part-time one (the highest-numbered first)
            filled = self.rotas["csw"].filled[k]
            free = sorted((sid for sid in here if sid not in busy), key=lambda sid: (filled[sid] >= 1, sid))
            spare = min(spare, len(free))
            if spare:
                self.used_week[(-2, year, week)] = lent_days + 1
            for n, sid in enumerate(reversed(free[-min(spare, self.n_lent):] if spare else [])):
                csw.on[k][sid] = False
                lent = ps.posts + n
                ps.on[k][lent], ps.blocks[k][lent], ps.only[lent] = True, csw.blocks[k][sid], self.email_lane
                minutes = self.rotas["csw"].share[k, sid] * cal.day_length
                self.response_log.append((k, "csw", "lent_to_screening", minutes))
                ps.put_on(lent)
        ms = rs.manager_screening
        if ms.enabled:
            used = self.used_week.get((-1, year, week), 0.0)
            grant = min(ms.hours_per_day.value * 60.0, ms.cap_hours_per_week.value * 60.0 - used,
                        cal.day_length - triage_minutes)
            if grant > 0:  # the manager screens once the triage is done
                self.used_week[(-1, year, week)] = used + grant
                o = cal.opens[k]
                away = ((o, triage_minutes), (o + triage_minutes + grant,
                                              cal.day_length - triage_minutes - grant))
                ps.on[k][self.tm], ps.blocks[k][self.tm] = True, tuple(b for b in away if b[1] > 0)
                self.response_log.append((k, "ps", "manager_screening", grant))
                ps.put_on(self.tm)

    def _triage_items(self, k: int) -> list[Task]:
        """The written contacts waiting at opening k that arrived since the last close, in the
        order they came."""
        since = self.cal.closes[k - 1] if k > 0 else -np.inf
        written = (t for t in self.pools["ps"].waiting() if t.enq >= since and t.kind in (K_EMAIL, K_PPN))
        return sorted(written, key=lambda t: t.enq)

    def _triage(self, k: int, items: list[Task]):
        """The team manager reads `items` in turn within the day's cap: would-be referrals go to
        the front of the queue; a share of those ending in advice or no further action are closed
        there."""
        tr, ps = self.sc.response.morning_triage, self.pools["ps"]
        each, budget, spent = tr.minutes_per_item.value, tr.cap_hours_per_day.value * 60.0, 0.0
        for task in items:
            if spent + each > budget:
                break
            yield self.env.timeout(each)
            spent += each
            if task.started or task.cancelled:
                continue
            if task.outcome == REF:
                ps.promote(task)
            elif task.outcome in (IA, NFA) and self.triage_u[task.i] < tr.closed_share.value:
                ps.withdraw(task)
                self.log["closed_at_triage"][task.i] = True
                self.stage_log.append((ps.index, task.i, task.kind, task.enq, np.nan, self.env.now, -1, True))
                self._advance(task.journey, False)
        self.response_log.append((k, "ps", "morning_triage", spent))

    def _overtime_worked(self, pool: Pool, sid: int, start: float, end: float) -> None:
        """Count a supervisor's time on a task started in the overtime the response granted."""
        cal = self.cal
        k = bisect_right(cal.closes, start) - 1
        extra = pool.overtime.get((k, sid)) if k >= 0 else None
        if not extra or not cal.closes[k] <= start < cal.closes[k] + extra:
            return
        minutes = min(end, cal.closes[k] + extra) - start
        day = cal.dates[cal.working_day_index[k]]
        year, week, _ = day.isocalendar()
        self.used_week[(sid, year, week)] = self.used_week.get((sid, year, week), 0.0) + minutes
        self.response_log.append((k, "ps", "overtime", minutes))

    # -- run -----------------------------------------------------------------------------------
    def run(self) -> RepResult:
        env = self.env
        env.process(self._arrivals())
        env.process(self._daily())
        env.run(until=self.cal.horizon)
        return self._result()

    def _open_work(self) -> np.ndarray:
        """Where each undecided contact is when the run stops ('' once decided).

        Open stage visits are added to the stage log (start NaN = waiting; end NaN = in
        service, with the member serving it), so every queue's entries equal its served,
        abandoned and open visits.
        """
        where = np.full(len(self.arr), "", dtype=object)
        for name, pool in self.pools.items():
            for task, start, sid in pool.still_open():
                state = "in_service" if np.isfinite(start) else "queued"
                self.stage_log.append((pool.index, task.i, task.kind, task.enq, start, np.nan,
                                       sid, False))
                where[task.i] += f"{state}:{name};"
        for task in self.dram_pending:
            where[task.i] += "awaiting_dram;"
        for i in self.awaiting_callback:
            where[i] += "awaiting_callback;"
        for i in self.awaiting_checks:
            where[i] += "awaiting_checks;"
        return where

    def _contact_log(self, cols: list[tuple]) -> dict[str, np.ndarray]:
        """The contacts' event log as arrays: what journeys wrote, and each finished stage."""
        n, typed = len(self.arr), self.log_dtypes
        log = {k: np.asarray(v, dtype=typed[k]) for k, v in self.log.items()}
        pool, contact, kind = (np.asarray(c, dtype=np.int64) for c in cols[:3])
        times = {"queue": np.asarray(cols[3], dtype=float), "start": np.asarray(cols[4], dtype=float),
                 "end": np.asarray(cols[5], dtype=float), "server": np.asarray(cols[6], dtype=np.int32)}
        done = ~np.asarray(cols[7], dtype=bool) & np.isfinite(times["end"])  # served, not open
        for stage in dict.fromkeys(STAGE_OF_KIND.values()):
            rows = done & np.isin(kind, [k for k, s in STAGE_OF_KIND.items() if s == stage])
            for what, values in times.items():
                col = f"{stage}_{what}"
                log[col] = np.full(n, self.log_start[col], dtype=typed[col])
                log[col][contact[rows]] = values[rows]
        screened = done & np.isin(kind, list(SCREENINGS))
        log["screen_pool"] = np.full(n, -1, dtype=typed["screen_pool"])
        log["screen_pool"][contact[screened]] = pool[screened]
        return {k: log[k] for k in typed}  # in the event log's column order

    def _places(self, stages: pd.DataFrame) -> np.ndarray:
        """Each begun task's member as their place (0 first) among the members on duty, in the
        order of their numbers, on the working day it began (the last opening at or before
        its start; -1: not begun), as the day ended: management-response members take the
        places after the day's posts, lent consultant social workers are off the phones. A
        co-triage discussion's place is its supervisor's among the supervisors, so the pairs'
        are the lowest (`Pool.rank`). Unlike the member's number, a place is below the day's
        members on duty, which is how a picture of the day lays its members out."""
        place = np.full(len(stages), -1, dtype=np.int32)
        start = stages["start"].to_numpy(dtype=float)
        server = stages["server"].to_numpy(dtype=np.int64)
        pool = stages["pool"].to_numpy(dtype=object)
        begun = np.isfinite(start) & (server >= 0)
        day = np.searchsorted(np.asarray(self.cal.opens, dtype=float), start, side="right") - 1
        for name, p in self.pools.items():
            rows = begun & (pool == name)
            if not rows.any():
                continue
            on = np.asarray(p.staff.on, dtype=bool)
            ranks = np.where(on, np.cumsum(on, axis=1) - 1, -1)
            place[rows] = ranks[day[rows], server[rows]]
        return place

    def _result(self) -> RepResult:
        a = self.arr
        open_state = self._open_work()  # adds the open stage visits to the stage log
        cols = list(zip(*self.stage_log, strict=True)) or [()] * len(STAGE_COLUMNS)
        self.log = log = self._contact_log(cols)
        contacts = pd.DataFrame({
            "id": np.arange(len(a)), "source": names(SOURCES)[a.source],
            "channel": names(CHANNELS)[a.channel], "arrival": a.time,
            "urgent": self.urgent, **log,
        })
        contacts["outcome"] = names((*OUTCOMES, "open"))[log["outcome"]]  # -1 (undecided) is "open"
        contacts["open_state"] = open_state
        stages = pd.DataFrame({
            "pool": names(POOLS)[np.asarray(cols[0], dtype=int)],
            "contact": np.asarray(cols[1], dtype=np.int64),
            "kind": names(KINDS)[np.asarray(cols[2], dtype=int)],
            **{k: np.asarray(v, dtype=float) for k, v in zip(STAGE_COLUMNS[3:6], cols[3:6], strict=True)},
            "server": np.asarray(cols[6], dtype=np.int32),
            "abandoned": np.asarray(cols[7], dtype=bool),
        })
        stages["place"] = self._places(stages)
        cal = self.cal
        days = np.asarray([cal.dates[d] for d in cal.working_day_index], dtype="datetime64[D]")
        rosters = pd.DataFrame({"day": days, **{p: self.rosters[p] for p in POOLS}})
        response = pd.DataFrame(self.response_log, columns=["working_day", "pool", "what", "minutes"])
        response["day"] = days[response["working_day"].to_numpy(dtype=int)] if len(response) else []
        response["hours"] = response.pop("minutes") / 60.0
        rota = rota_table(self.rotas, days, cal.day_length, self.rosters, response)
        qd = pd.DataFrame(self.queue_daily, columns=["working_day", *POOLS])
        qd["day"] = days[qd["working_day"].to_numpy(dtype=int)] if len(qd) else []
        qstats = {name: {"area": p.queue_area(cal.horizon), "entered": p.entered, "open_at_end": p.qlen,
                         "horizon": cal.horizon} for name, p in self.pools.items()}
        res = RepResult(self.sc, self.rep, cal, contacts, stages, rosters, qd, qstats,
                        seed=self.seed, draws={"downstream": a.downstream, **self.draws,
                                                    "codes": np.stack((a.source, a.channel, log["outcome"]))},
                        backlog_contacts=self.n_backlog, rota=rota, response=response)
        res.warnings = saturation_warnings(res)
        return complete(res)  # after the front door: the pathway after a referral, and the children



def supervisor_lanes(sc: Scenario) -> list[tuple[tuple[int, ...], float]]:
    """The supervisors' queue lanes: the morning triage's urgent items first, then one lane per
    kind of task in `service.ps_priority` order, each with its longest wait in office minutes.
    The triage's lane waits no time: its head competes with the other lanes' overdue heads by age
    (oldest first), so what the triage put first is never left behind them while they stay overdue."""
    kinds = {"direction": (K_DIR,), "ppn": (K_PPN,), "email": (K_EMAIL,)}
    order = sorted(kinds, key=lambda name: sc.service.ps_priority[name])
    return [((), 0.0), *((kinds[name], sc.service.ps_max_wait_hours[name].value * 60.0)
                                  for name in order)]


def dram_meeting(tl, day_spell: np.ndarray, cal: WorkCalendar) -> list[tuple[float, float]]:
    """Per working day: the daily risk assessment meeting's start, in minutes after the opening,
    and its length (settings in force that day)."""
    return [(s.da_hub.dram_hour.value * 60.0 - cal.open_min, s.da_hub.dram_minutes.value)
            for s in (tl.scenarios[k] for k in day_spell.tolist())]


def triage_uniforms(channel: np.ndarray, n_backlog: int, seed: int, rep: int) -> np.ndarray:
    """Each contact's uniform for being closed at the morning triage, from a stream per written
    channel in arrival order (contacts waiting at the start from one of their own), so nothing
    else moves (common random numbers)."""
    u = np.ones(len(channel))
    for ch in (EMAIL, PPN_N):
        for lo, hi, name in ((0, n_backlog, f"backlog.triage.{CHANNELS[ch]}"),
                             (n_backlog, len(channel), f"triage.{CHANNELS[ch]}")):
            idx = lo + np.flatnonzero(channel[lo:hi] == ch)
            u[idx] = stream(seed, rep, name).random(len(idx))
    return u


def names(labels: tuple[str, ...]) -> np.ndarray:
    """Labels to index by code: as Python strings, which pandas turns into its string columns
    about twice as fast as numpy's fixed-width ones."""
    return np.asarray(labels, dtype=object)


def saturation_warnings(res: RepResult) -> list[Saturation]:
    """Each queue over its saturation level at every opening of the period's last working days.

    The level is `saturation_queue_days` days of the queue's average demand, and the queue must
    have been over it at that many consecutive openings up to the end of the period (at every
    opening, in a period with fewer)."""
    sc, cal, qd = res.scenario, res.cal, res.queue_daily
    in_period = qd[qd["day"] <= np.datetime64(sc.run.end)] if not qd.empty else qd
    if in_period.empty:
        return []
    out = []
    n_days = max(len(cal.opens), 1)
    for pool in POOLS:
        daily = res.queue_stats[pool]["entered"] / n_days
        limit = sc.run.saturation_queue_days.value * daily
        series = in_period[pool].to_numpy()
        if daily <= 0 or series[-1] <= limit:
            continue
        below = np.flatnonzero(series <= limit)
        first_above = below[-1] + 1 if len(below) else 0
        # a queue only just over the level (the pile-up after a long weekend being worked down)
        # is not saturation: it must have stayed over it for as many working days as the level
        if len(series) - first_above < min(sc.run.saturation_queue_days.value, len(series)):
            continue
        since = in_period["day"].iloc[first_above]
        out.append(Saturation(pool, int(series[-1]), float(limit), str(pd.Timestamp(since).date())))
    return out
