"""After the referral: strategy meetings, S47 enquiries, conferences, plans and assessments.

One row per referred child (a "case"): the referrals the front door made in the run, the
referrals of the generated history (the warm start) and any work a scenario declares already
open at the start (the backlog). The stages, their capacities and clocks (docs/model.md 2.4):

* **Strategy meeting**, requested at the referral decision for a share of referrals (the same
  for siblings named in one concern). It can be held once partners are gathered (a random lead
  time); team managers chair a limited number of meetings a day, at set times in office hours,
  booked first come first served; siblings whose meeting is still ahead join it. A meeting
  about an injury is held as soon as it is ready, at any hour (the emergency duty team out of
  hours), without a slot. On time: within `target_hours` (2 hours for injuries) on the
  scenario's clock.
* **S47 enquiry** for a share of meetings, from shortly after the meeting, lasting a random
  number of working days. A share of enquiries ask for an **initial child protection
  conference**: after a notice period it takes the first free conference slot (chairs with a
  few conferences a day); siblings share it. On time: within 15 working days of the strategy
  meeting. A share of conferences start a **child protection plan**, which lasts a random
  number of months.
* **Child and family assessment** for a share of referrals, from the referral decision, by the
  assessment team: assessments wait for allocation while the team is at its caseload limit;
  the team's hours each working day are shared equally among its open assessments, each taking
  at most `max_hours_per_day`; an assessment is complete when its work (hours) is done. On time:
  within 45 working days of the referral. Its outcome: closed, stepped down to early help, or a
  child in need plan (which lasts a random number of months).

Requests made before the simulation starts (the history) are not bound by capacity: their
meetings and conferences are held when ready and their assessments take the unhurried time;
those still open at the start join the capacity-bound queues (the warm start).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.model.calendar import MIN_PER_DAY, WorkCalendar, WorkClock, days_holding
from sim.model.dated import by_spell, spell_of_days, spell_of_times, timeline, values
from sim.model.results import RepResult, Saturation
from sim.model.rng import PATHWAY_DRAWS
from sim.model.rosters import pool_roster
from sim.model.sampling import draw_durations
from sim.scenario.params import Scalar
from sim.scenario.schema import ASSESSMENT_OUTCOMES, Downstream, Scenario

STRATEGY, STRATEGY_DELAY, S47, S47_DELAY = range(4)  # columns of the per-contact downstream draws
DAYS_PER_MONTH = 365.25 / 12
# the downstream teams whose queues can saturate: the setting each is, named in warnings by the
# schema's title and its path
TEAM_PATHS = {"strategy_chairs": "downstream.strategy_meetings.chairs",
              "conference_chairs": "downstream.icpc.chairs",
              "assessment_team": "downstream.assessments.team"}
# run.saturation_queue_days counts in working weeks for these teams (see `saturation`)
TEAM_LEVEL_SCALE = {"assessment_team": 5}
# case kinds: ordinary referral; backlog items declared by the scenario
REFERRAL, WAITING, IN_PROGRESS, S47_OPEN, ON_PLAN = range(5)


def clock_span(sc: Scenario, cal: WorkCalendar, hist_time: np.ndarray,
               hist_u_path: np.ndarray) -> tuple[int, int]:
    """The calendar days (counted from the run's first day) the pathway's clock must hold:
    `first` <= d < `end`, for `cal.clock(first, end)`.

    The clock is exact only on the days it holds (outside them it reads a time as on its first
    or last day), so the span is worked out from what this replication reads on it, not guessed:

    * back: the earliest referral of the history (`hist_time`), and the oldest age a declared
      backlog item can have before the start (`downstream.assessments.backlog_age_working_days`,
      `downstream.s47.backlog_age_working_days`);
    * forward: a working day past the run's end and a conference's notice after it (a time past
      the horizon must read as past it, and `icpc_ready` is kept), and the longest unhurried
      assessment of the history (referral + work / max_hours_per_day working days, the draws
      of these very rows), whose share of work left at the start is read on the clock.

    Every other reading is of a time inside this span: strategy meetings, enquiries and
    conferences held within the run, assessments completed within it.
    """
    ds, wd = sc.downstream, cal.working_weekdays
    asm = ds.assessments
    oldest = max(asm.backlog_age_working_days.value, ds.s47.backlog_age_working_days.value)
    h_day = np.floor(np.asarray(hist_time, dtype=float) / MIN_PER_DAY)
    first = min(int(h_day.min(initial=0.0)), -int(days_holding(oldest, wd)))
    work = draw_durations(asm.work_hours, hist_u_path[:, PATHWAY_DRAWS.index("assessment_work")])
    reach = h_day + days_holding(work / asm.max_hours_per_day.value, wd)
    end = max(cal.days + int(days_holding(ds.icpc.notice_working_days.value + 1, wd)),
              int(reach.max(initial=0.0)))
    return first, end


def elapsed_hours(kind: str, cal: WorkCalendar, clock: WorkClock, t0, t1) -> np.ndarray:
    """Hours between two times on the strategy meeting's clock."""
    if kind == "calendar":
        return (np.asarray(t1) - np.asarray(t0)) / 60.0
    if kind == "office_hours":
        return (cal.working_minutes_before(t1) - cal.working_minutes_before(t0)) / 60.0
    return (clock.clock(t1) - clock.clock(t0)) / 60.0


class EvenSlots:
    """The free meeting slots of every working day, without a list of every slot.

    Day k has `counts[k]` slots at opens[k] + (j + 0.5) x day length / counts[k] (j = 0, 1, ...),
    the times a list of every slot would hold, computed the same way; only the slots taken are
    remembered (a "next free slot" pointer per taken slot, with path halving), so memory grows
    with the bookings, not with the capacity the scenario states.
    """

    def __init__(self, counts: list[int], cal: WorkCalendar) -> None:
        self.counts = counts
        self.opens, self.day_length = cal.opens, cal.day_length
        self.taken: dict[int, dict[int, int]] = {}

    def __len__(self) -> int:
        return len(self.counts)

    def _time(self, k: int, j: int) -> float:
        return self.opens[k] + (j + 0.5) * self.day_length / self.counts[k]

    def _first_at_or_after(self, k: int, r: float) -> int:
        """Index of day k's first slot (free or not) at or after r; counts[k] if none."""
        n, o, day = self.counts[k], self.opens[k], self.day_length
        est = (r - o) * n / day - 0.5
        j = min(max(math.ceil(est) if math.isfinite(est) else (n if est > 0 else 0), 0), n)
        while j > 0 and o + (j - 1 + 0.5) * day / n >= r:  # the times `_time` gives
            j -= 1
        while j < n and o + (j + 0.5) * day / n < r:
            j += 1
        return j

    def _free_from(self, k: int, j: int) -> int:
        nxt = self.taken.get(k)
        if not nxt:
            return j
        while j in nxt:
            after = nxt[j]
            if after in nxt:  # path halving: skip over runs of taken slots next time
                nxt[j] = nxt[after]
            j = after
        return j

    def take(self, k: int, r: float) -> float | None:
        """Book day k's first free slot at or after r; None if the day has none left."""
        j = self._free_from(k, self._first_at_or_after(k, r))
        if j >= self.counts[k]:
            return None
        self.taken.setdefault(k, {})[j] = j + 1
        return self._time(k, j)

    def empty(self, k: int) -> bool:
        return self._free_from(k, 0) >= self.counts[k]


class ListSlots:
    """Free slots given as one sorted list of times per working day (hand-worked cases)."""

    def __init__(self, free: list[list[float]]) -> None:
        self.free = free

    def __len__(self) -> int:
        return len(self.free)

    def take(self, k: int, r: float) -> float | None:
        lst = self.free[k]
        j = bisect_left(lst, r)
        return lst.pop(j) if j < len(lst) else None

    def empty(self, k: int) -> bool:
        return not self.free[k]


def free_slots(on_duty: np.ndarray, per_chair: float, cal: WorkCalendar) -> EvenSlots:
    """Meeting start times each working day: chairs on duty x meetings each, spread evenly."""
    return EvenSlots([int(round(chairs * per_chair)) for chairs in on_duty.tolist()], cal)


def book(order: np.ndarray, ready: np.ndarray, group: np.ndarray,
         free: EvenSlots | ListSlots | list[list[float]], cal: WorkCalendar) -> np.ndarray:
    """First come, first served: each request takes the first free slot at or after it is ready.

    Requests are taken in `order`; one whose group (siblings) already has a slot still ahead of
    it joins that slot instead of taking another. `free` is what `free_slots` returns, or one
    sorted list of free times per working day.
    """
    slots = ListSlots(free) if isinstance(free, list) else free
    out = np.full(len(ready), np.nan)
    ready_at, group_of = ready.tolist(), group.tolist()  # Python floats: the same values, faster to read
    booked: dict[int, float] = {}
    closes, n = cal.closes, len(slots)
    empty_below = 0  # every day before it has no free slot (only a lower bound for the search)
    while empty_below < n and slots.empty(empty_below):
        empty_below += 1
    for i in order.tolist():
        r, g = ready_at[i], int(group_of[i])
        b = booked.get(g)
        if b is not None and b >= r:
            out[i] = b
            continue
        k = max(bisect_right(closes, r), empty_below)
        t = np.nan
        while k < n:
            got = slots.take(k, r)
            if got is not None:
                t = got
                break
            k += 1
        while k == empty_below < n and slots.empty(empty_below):  # only a take can fill a day
            empty_below += 1
            k = empty_below
        out[i] = t
        if t == t:
            booked[g] = t
    return out


def assessment_team(cal: WorkCalendar, on_duty: np.ndarray, caseload_cap: np.ndarray,
                    hours_per_day: float, max_pace: float, req_t: np.ndarray, req_work: np.ndarray,
                    start_work: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The assessment team, one working day at a time.

    At each opening, requests made since are allocated in the order made while the open
    assessments are fewer than the caseload cap. Through the day the team's hours (staff on
    duty x hours a day) are shared equally by the open assessments, each taking at most
    `max_pace` hours a day; one whose remaining work is covered finishes part way through the
    day in proportion. `start_work` is the remaining work of assessments already open at the
    start (allocated, whatever the cap). Returns allocation and completion times of the
    requests and completion times of the ones open at the start (NaN: not done by the end).
    """
    n_req, n_start = len(req_t), len(start_work)
    alloc = np.full(n_req, np.nan)
    done = np.full(n_req + n_start, np.nan)
    order = np.argsort(req_t, kind="stable")
    avail_day = np.searchsorted(cal.opens_arr, req_t[order], side="left")
    ids = np.arange(n_req, n_req + n_start)
    rem = np.asarray(start_work, dtype=float).copy()
    opens, day_len = cal.opens, cal.day_length
    taken = 0
    for k in range(len(opens)):
        ready = int(np.searchsorted(avail_day, k, side="right"))
        free = int(caseload_cap[k]) - len(ids)
        if free > 0 and ready > taken:
            new = order[taken:min(ready, taken + free)]
            taken += len(new)
            alloc[new] = opens[k]
            ids = np.concatenate((ids, new))
            rem = np.concatenate((rem, req_work[new]))
        hours = on_duty[k] * hours_per_day
        if len(ids) == 0 or hours <= 0:
            continue
        rate = min(max_pace, hours / len(ids))
        fin = rem <= rate + 1e-9
        if fin.any():
            done[ids[fin]] = opens[k] + rem[fin] / rate * day_len
            ids, rem = ids[~fin], rem[~fin]
        rem = rem - rate
    return alloc, done[:n_req], done[n_req:]


@dataclass
class Cases:
    """Referred children to follow through the pathway (arrays of one length)."""

    kind: np.ndarray  # REFERRAL or a backlog kind
    origin: np.ndarray  # 0 a contact in the run, 1 the generated history, 2 the declared backlog
    contact: np.ndarray  # contact index (-1 if none)
    concern: np.ndarray  # concern index (siblings share it)
    position: np.ndarray  # place among the siblings of the concern
    referred: np.ndarray  # referral decision time (minutes since the simulation start)
    u_down: np.ndarray  # (n, 4) strategy, lead, s47, s47 start delay
    u_path: np.ndarray  # (n, len(PATHWAY_DRAWS))
    preset: np.ndarray  # backlog: a time set by the declared state (meeting, plan start) or NaN
    preset_end: np.ndarray  # backlog: the end of the open stage (S47, plan) or NaN

    def __len__(self) -> int:
        return len(self.kind)


def with_odds(p: float | np.ndarray, ratio: float, where: np.ndarray | None, scale: float = 1.0
              ) -> np.ndarray | float:
    """The probability p with its odds divided by `scale` where `where` is false and multiplied
    by `ratio / scale` where it is true (`odds_scale` chooses the scale that keeps p overall).

    With no flags or a ratio of 1 it is p itself (not p recomputed through the odds, which
    can differ in the last bit), so a scenario without history effects draws as before.
    """
    if where is None or ratio == 1.0:
        return p
    q = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):  # a share of 1 has infinite odds: it stays 1
        odds = q / (1.0 - q) / scale
        out = np.where(where, ratio * odds / (1.0 + ratio * odds), odds / (1.0 + odds))
    return np.where(q >= 1.0, 1.0, out)


def odds_scale(p: float | np.ndarray, ratio: float, where: np.ndarray, eligible: np.ndarray) -> float:
    """The scale (1 to `ratio`) for `with_odds` at which the mean chance over the `eligible`
    cases equals the mean of the stated share p over them: the odds ratio then says how
    children with a plan before differ from the others, and the stated share, which the
    service reports for all children together, keeps its meaning."""
    if ratio == 1.0 or not eligible.any():
        return 1.0
    pe = np.broadcast_to(p, where.shape)[eligible]
    we, goal = where[eligible], float(np.mean(pe))
    lo, hi = (0.0, math.log(ratio)) if ratio > 1 else (math.log(ratio), 0.0)
    for _ in range(60):  # bisection on log(scale): the mean chance falls as the scale rises
        mid = 0.5 * (lo + hi)
        if float(np.mean(with_odds(pe, ratio, we, math.exp(mid)))) > goal:
            lo = mid
        else:
            hi = mid
    return math.exp(0.5 * (lo + hi))


def referral_shares(cases: Cases, sc: Scenario, cal: WorkCalendar
                    ) -> Callable[[Callable[[Downstream], Scalar]], float | np.ndarray]:
    """A case's downstream share as in force on its referral day (dated changes): `share(get)`
    gives one number when nothing changes, else one per case."""
    tl = timeline(sc)
    sp = spell_of_times(tl, cal, cases.referred)

    def share(get: Callable[[Downstream], Scalar]) -> float | np.ndarray:
        return values(tl, sp, lambda s: get(s.downstream).value)

    return share


Scales = tuple[float, float, float]
NO_SCALES: Scales = (1.0, 1.0, 1.0)


def history_decisions(cases: Cases, sc: Scenario, cal: WorkCalendar, prior_plan: np.ndarray | None,
                      scales: Scales = NO_SCALES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The draws a child's history can change: whether a strategy meeting is asked for, an S47
    enquiry follows it and a conference follows that (each on the case's own uniform, against
    the share in force on its referral day), before the stages' other conditions. `prior_plan`
    flags the children who have been on a plan before; with `children.history_effects` their
    odds are multiplied by its odds ratios, and the others' lowered by `scales`
    (`history_scales`)."""
    fx = sc.children.history_effects
    flags = prior_plan if fx is not None else None
    ud, up = cases.u_down, cases.u_path
    share = referral_shares(cases, sc, cal)
    ratios = (fx.plan_strategy_odds.value, fx.plan_s47_odds.value,
              fx.plan_icpc_odds.value) if fx else (1.0, 1.0, 1.0)
    return (ud[:, STRATEGY] < with_odds(share(lambda d: d.strategy_share_of_referrals),
                                        ratios[0], flags, scales[0]),
            ud[:, S47] < with_odds(share(lambda d: d.s47_share_of_strategy), ratios[1], flags, scales[1]),
            up[:, PATHWAY_DRAWS.index("icpc")] < with_odds(share(lambda d: d.icpc.share_of_s47),
                                                           ratios[2], flags, scales[2]))


def history_scales(cases: Cases, sc: Scenario, cal: WorkCalendar, prior_plan: np.ndarray) -> Scales:
    """The odds scales at which, over the referrals (then over those with a strategy meeting,
    then over those with an S47 enquiry) that `prior_plan` flags as they do, each stated share
    holds overall (`odds_scale`), worked out stage by stage."""
    fx = sc.children.history_effects
    if fx is None:
        return NO_SCALES
    share = referral_shares(cases, sc, cal)
    ud = cases.u_down
    ordinary = cases.kind == REFERRAL
    p = share(lambda d: d.strategy_share_of_referrals)
    s1 = odds_scale(p, fx.plan_strategy_odds.value, prior_plan, ordinary)
    strat = ordinary & (ud[:, STRATEGY] < with_odds(p, fx.plan_strategy_odds.value, prior_plan, s1))
    p = share(lambda d: d.s47_share_of_strategy)
    s2 = odds_scale(p, fx.plan_s47_odds.value, prior_plan, strat)
    s47 = strat & (ud[:, S47] < with_odds(p, fx.plan_s47_odds.value, prior_plan, s2))
    s3 = odds_scale(share(lambda d: d.icpc.share_of_s47), fx.plan_icpc_odds.value, prior_plan, s47)
    return s1, s2, s3


ASSESSMENT_COLUMNS = ("assessment", "assessment_requested", "assessment_allocated",
                      "assessment_completed", "assessment_45d", "assessment_outcome")


def assessments(cases: Cases, sc: Scenario, cal: WorkCalendar, clock: WorkClock,
                streams: dict[str, np.random.Generator]) -> dict[str, np.ndarray]:
    """Every case's child and family assessment (ASSESSMENT_COLUMNS): requested at the referral
    for a share of referrals, done by the capacity-bound assessment team."""
    asm = sc.downstream.assessments
    n = len(cases)
    kind, up, ref = cases.kind, cases.u_path, cases.referred
    col = PATHWAY_DRAWS.index
    nan = np.full(n, np.nan)
    ordinary = kind == REFERRAL
    out: dict[str, np.ndarray] = {}
    # a referral's assessment takes the shares in force when it was referred; rosters their day's
    tl = timeline(sc)
    sp = spell_of_times(tl, cal, ref)
    days = [cal.dates[d] for d in cal.working_day_index]
    day_spell = spell_of_days(tl, days)

    def share(get) -> float | np.ndarray:
        return values(tl, sp, lambda s: get(s.downstream).value)

    waiting, in_prog = kind == WAITING, kind == IN_PROGRESS
    assess = ((ordinary & (up[:, col("assessment")] < share(lambda d: d.assessments.share_of_referrals)))
              | waiting | in_prog)
    work = draw_durations(asm.work_hours, up[:, col("assessment_work")])
    pace = asm.max_hours_per_day.value
    unhurried = clock.add(ref, work / pace)  # history: no capacity limit before the start
    past = assess & ordinary & (ref < 0)
    hist_done = past & (unhurried <= 0)
    span = clock.clock(unhurried) - clock.clock(ref)
    left = np.where(span > 0, (clock.clock(unhurried) - clock.clock(0.0)) / np.where(span > 0, span, 1), 0)
    open_at_start = (past & ~hist_done) | in_prog
    start_work = np.where(in_prog, work * up[:, col("backlog")], work * np.clip(left, 0, 1))
    requests = assess & ~past & ~in_prog
    teams = [s.downstream.assessments for s in tl.scenarios]
    cap = np.floor([teams[k].team.establishment.at(d.year, d.month)
                    * (1 - teams[k].team.vacancy_rate.at(d.year, d.month))
                    * teams[k].caseload_limit.value for k, d in zip(day_spell.tolist(), days, strict=True)])
    req_idx, start_idx = np.flatnonzero(requests), np.flatnonzero(open_at_start)
    alloc, done_req, done_start = assessment_team(
        cal, pool_roster([a.team for a in teams], cal, streams["staffing.assessment_team"], day_spell), cap,
        asm.hours_per_day.value, pace, ref[req_idx], work[req_idx], start_work[start_idx])
    allocated, completed = nan.copy(), nan.copy()
    allocated[req_idx], completed[req_idx] = alloc, done_req
    completed[start_idx] = done_start
    completed = np.where(hist_done, unhurried, completed)
    u_out = up[:, col("assessment_outcome")]
    outcome = by_spell(tl, sp, lambda s, ix: np.minimum(np.searchsorted(
        np.cumsum([s.downstream.assessments.outcomes.value[k] for k in ASSESSMENT_OUTCOMES]),
        u_out[ix], side="right"), 2), n)
    out.update(assessment=assess, assessment_requested=np.where(assess, ref, nan),
               assessment_allocated=allocated, assessment_completed=completed,
               assessment_45d=np.isfinite(completed) & (clock.days_between(ref, completed)
                                                         <= asm.target_working_days.value + 1e-9),
               assessment_outcome=np.where(assess, outcome, -1))
    return out


def follow(cases: Cases, sc: Scenario, cal: WorkCalendar, clock: WorkClock,
           streams: dict[str, np.random.Generator], prior_plan: np.ndarray | None = None,
           assessed: dict[str, np.ndarray] | None = None, scales: Scales = NO_SCALES
           ) -> dict[str, np.ndarray]:
    """Every stage's times for every case (NaN where a stage does not happen in the run).

    `prior_plan` flags the cases whose child has been on a child protection plan before the
    referral, `scales` the odds scales that keep the stated shares (`history_decisions`).
    `assessed`: the assessments of an earlier call on the same cases (they do not depend on
    the history), to reuse.
    """
    ds = sc.downstream
    wants_strategy, wants_s47, wants_icpc = history_decisions(cases, sc, cal, prior_plan, scales)
    # a referral's pathway takes the shares in force when it was referred; rosters their day's
    share = referral_shares(cases, sc, cal)
    tl = timeline(sc)
    day_spell = spell_of_days(tl, [cal.dates[d] for d in cal.working_day_index])
    sm, en, cf, asm = ds.strategy_meetings, ds.s47, ds.icpc, ds.assessments
    n = len(cases)
    kind, ud, up = cases.kind, cases.u_down, cases.u_path
    col = PATHWAY_DRAWS.index
    nan = np.full(n, np.nan)
    ordinary = kind == REFERRAL
    ref = cases.referred
    out: dict[str, np.ndarray] = {}

    # strategy meeting --------------------------------------------------------------------
    strat = ordinary & wants_strategy
    injury = strat & (up[:, col("injury")] < share(lambda d: d.strategy_meetings.injury_share))
    lead = np.where(injury, draw_durations(sm.injury_lead_hours, ud[:, STRATEGY_DELAY]),
                    draw_durations(ds.strategy_delay_hours, ud[:, STRATEGY_DELAY])) * 60.0
    ready = ref + lead
    meeting = np.where(strat & ((ref < 0) | injury), ready, nan)
    slots = free_slots(pool_roster([s.downstream.strategy_meetings.chairs for s in tl.scenarios], cal,
                                   streams["staffing.strategy_chairs"], day_spell),
                       sm.meetings_per_chair_per_day.value, cal)
    todo = np.flatnonzero(strat & (ref >= 0) & ~injury)
    todo = todo[np.argsort(ref[todo], kind="stable")]
    meeting[todo] = book(todo, ready, cases.concern, slots, cal)[todo]
    s47_case = kind == S47_OPEN
    meeting = np.where(s47_case, cases.preset, meeting)
    meeting[~s47_case & (meeting > cal.horizon)] = np.nan  # not held within the run
    target = np.where(injury, sm.injury_target_hours.value, sm.target_hours.value)
    took = elapsed_hours(sm.clock, cal, clock, ref, meeting)
    bound = np.full(n, np.nan)  # when a meeting waiting for a chair's slot could be held
    bound[todo] = ready[todo]
    out.update(strategy_requested=np.where(strat, ref, nan), injury=injury, strategy_meeting=meeting,
               strategy_ready=bound,
               strategy_on_time=strat & np.isfinite(meeting) & (took <= target + 1e-9))

    # S47 enquiry, conference, plan -------------------------------------------------------
    s47 = (strat & wants_s47) | s47_case
    start = np.where(s47_case, meeting, meeting + draw_durations(ds.s47_delay_hours, ud[:, S47_DELAY]) * 60)
    start = np.where(s47 & ~(start > cal.horizon), start, nan)
    end = np.where(s47_case, cases.preset_end,
                   clock.add(start, draw_durations(en.working_days, up[:, col("s47_days")])))
    end = np.where(s47 & (end <= cal.horizon), end, nan)  # NaN: not concluded within the run
    icpc_wanted = s47 & wants_icpc
    request = np.where(icpc_wanted, end, nan)
    c_ready = clock.add(request, cf.notice_working_days.value)
    icpc = np.where(icpc_wanted & (request < 0), c_ready, nan)
    conf = free_slots(pool_roster([s.downstream.icpc.chairs for s in tl.scenarios], cal,
                                  streams["staffing.conference_chairs"], day_spell),
                      cf.conferences_per_chair_per_day.value, cal)
    todo = np.flatnonzero(icpc_wanted & (request >= 0) & (request < cal.horizon))
    todo = todo[np.argsort(request[todo], kind="stable")]
    icpc[todo] = book(todo, c_ready, cases.concern, conf, cal)[todo]
    c_wait = np.full(n, np.nan)  # when a conference waiting for a chair's slot could be held
    c_wait[todo] = c_ready[todo]
    icpc[icpc > cal.horizon] = np.nan
    plan = icpc_wanted & np.isfinite(icpc) & (up[:, col("plan")] < share(lambda d: d.icpc.plan_share))
    on_plan = kind == ON_PLAN
    plan_start = np.where(on_plan, cases.preset, np.where(plan, icpc, nan))
    plan_end = np.where(on_plan, cases.preset_end, plan_start + draw_durations(
        cf.plan_months, up[:, col("plan_months")]) * DAYS_PER_MONTH * MIN_PER_DAY)
    out.update(s47_start=start, s47_end=end,
               icpc_requested=request, icpc_ready=c_wait, icpc=icpc,
               icpc_on_time=np.isfinite(icpc) & (clock.days_between(meeting, icpc)
                                                 <= cf.target_working_days.value + 1e-9),
               cp_plan=plan | on_plan, cp_plan_start=plan_start,
               cp_plan_end=np.where(plan | on_plan, plan_end, nan))

    # assessment (the same whatever the child's history: computed once, `assessed`) ----------
    a = assessed if assessed is not None else assessments(cases, sc, cal, clock, streams)
    out.update({k: a[k] for k in ASSESSMENT_COLUMNS})
    assess, completed = a["assessment"], a["assessment_completed"]
    outcome = a["assessment_outcome"]  # -1 where none, only read where there is one

    # how the episode ends, and when (inf: still open at the end of the run) ------------------
    inf = np.full(n, np.inf)
    cin_end = completed + draw_durations(asm.child_in_need_months, up[:, col("cin_months")]) \
        * DAYS_PER_MONTH * MIN_PER_DAY
    a_end = np.where(np.isfinite(completed), np.where(outcome == 2, cin_end, completed), inf)
    pending = (s47 & ~np.isfinite(out["s47_end"])) | (icpc_wanted & ~np.isfinite(icpc)) \
        | (strat & ~np.isfinite(meeting))
    other_end = np.where(pending, inf, np.fmax(ref, np.fmax(np.nan_to_num(out["s47_end"], nan=-np.inf),
                                                            np.nan_to_num(icpc, nan=-np.inf))))
    by_outcome = np.array([3, 1, 4])  # closed -> assessment_closed, early_help, child_in_need
    category = np.where(out["cp_plan"], 5, np.where(assess & np.isfinite(completed),
                                                    by_outcome[np.maximum(outcome, 0)], 3))
    ep_end = np.where(out["cp_plan"], plan_end, np.where(assess, a_end, other_end))
    ep_end = np.where(out["cp_plan"] & ~np.isfinite(plan_start), inf, ep_end)
    out.update(category=category.astype(np.int8), episode_end=ep_end)
    return out


def saturation(res: RepResult) -> list[Saturation]:
    """Each downstream team whose queue ended the period over its saturation level.

    Judged as the front door's queues are (sim.model.frontdoor.saturation_warnings), so a team with no
    one on duty warns instead of quietly reporting no meetings: the queue at each opening is
    the requests ready and waiting for the team (a chair's slot, or allocation to an
    assessment worker), the level `run.saturation_queue_days` days of the team's average
    demand, and the queue must stay over it up to the end of the period. For the assessment
    team both are in working weeks, not days (TEAM_LEVEL_SCALE): a waiting list for allocation
    is ordinary practice against a 45-working-day target, and the baseline's, about a week of
    demand before Christmas, is not a team that cannot keep up.
    """
    sc, cal, pw = res.scenario, res.cal, res.pathway
    if pw is None or not len(cal.opens):
        return []
    queues = {"strategy_chairs": ("strategy_ready", "strategy_meeting"),
              "conference_chairs": ("icpc_ready", "icpc"),
              "assessment_team": ("assessment_requested", "assessment_allocated")}
    # assessments wait for allocation from the referral (or the start, for those declared
    # waiting); those open at the start are allocated already
    asked = pw["assessment_requested"].to_numpy(dtype=float)
    waits_for = {"assessment_team": (asked >= 0) & (pw["kind"].to_numpy() != IN_PROGRESS)}
    days = np.asarray([cal.dates[d] for d in cal.working_day_index], dtype="datetime64[D]")
    in_period = days <= np.datetime64(sc.run.end)
    opens = cal.opens_arr[in_period]
    level_days = sc.run.saturation_queue_days.value
    out = []
    for team, (ready_col, served_col) in queues.items():
        ready = pw[ready_col].to_numpy(dtype=float)
        keep = np.isfinite(ready) & (ready < cal.horizon)
        if team in waits_for:
            keep &= waits_for[team]
        ready, served = ready[keep], pw[served_col].to_numpy(dtype=float)[keep]
        daily = len(ready) / len(cal.opens)
        days_over = level_days * TEAM_LEVEL_SCALE.get(team, 1)
        limit = days_over * daily
        if daily <= 0 or not len(opens):
            continue
        series = (np.searchsorted(np.sort(ready), opens, side="right")
                  - np.searchsorted(np.sort(served[np.isfinite(served)]), opens, side="right"))
        if series[-1] <= limit:
            continue
        below = np.flatnonzero(series <= limit)
        first_above = below[-1] + 1 if len(below) else 0
        if len(series) - first_above < min(days_over, len(series)):
            continue
        since = days[in_period][first_above]
        out.append(Saturation(team, int(series[-1]), float(limit), str(since)))
    return out
