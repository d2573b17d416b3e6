"""After the front door: each referral's pathway and every contact's child, in one pass.

`complete(res)` takes a replication's front-door result and adds, without changing anything the
front door did:

1. concerns: the contacts cut into sibling groups (sim/model/children.py);
2. the warm start: `children.history_months` of concerns generated from rates, and any work
   the scenario declares open at the start (`backlog`);
3. the pathway of every referred child: strategy meeting, S47 enquiry, conference, plan and
   assessment, with their capacities and clocks (sim/model/downstream.py);
4. families and children: who comes back, as what, and so which referrals are re-referrals;
5. history that acts (`children.history_effects`): a child who has been on a child protection
   plan is more likely to have a strategy meeting, an S47 enquiry and a conference again, and
   a family coming back soon after an episode ends more often comes back as a referral.

Why history is solved this way. The service acts on what it knows of a child: its own
earlier plans (screening reads the family's history), not on a hidden level of need. So the
history here is the child's record, built as families are linked, rather than a latent need
drawn per family: a latent level would make children with a plan look alike without saying
why, and could not be checked against anything the service reports, while "has been on a
plan" is what the repeat-plan figure counts (seed 003 line 1624). The record, though, depends
on who each concern is about, which depends on how earlier episodes ended; so the pathway and
the families are solved together by rounds (`solve`) until the pathway's draws are those its
own families give, exactly (a self-consistent answer, reached from the pathway blind to
history). Linking referrals one at a time in time order would need the pathway's queues
(chairs' slots, the assessment team) worked out one referral at a time too; the rounds keep
them worked out for all referrals at once, and the assessments, which history does not
change, are worked out once.

How far back. The generated history reaches back `children.history_months`; the reported
repeat share counts a plan at any time in a child's life. A family first seen in the model
(its first concern, in the history or later) had a plan before with probability
`history_effects.prior_plan_share`, one draw per family from its own stream
("children.prior_plan"), and its children carry that record.

Because it depends only on the front-door result, the scenario and named random streams,
`complete(res, other_scenario)` gives the pathway another scenario would give on the same
front-door run (the calibration uses this for the downstream parameters).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from sim.model import children as ch
from sim.model.calendar import MIN_PER_DAY, WorkClock
from sim.model.dated import by_spell, spell_of_times, timeline
from sim.model.demand import STREAMS, stream_volume
from sim.model.downstream import (
    IN_PROGRESS,
    ON_PLAN,
    REFERRAL,
    S47_OPEN,
    WAITING,
    Cases,
    clock_span,
    follow,
    history_decisions,
    history_scales,
)
from sim.model.results import RepResult
from sim.model.rng import CHILD_DRAWS, OTHER_STREAMS, PATHWAY_DRAWS, stream
from sim.model.sampling import draw_durations, outcome_tables
from sim.scenario.params import Duration
from sim.scenario.schema import CHANNELS, OUTCOMES, RETURN_CATEGORIES, SOURCES, Scenario

REF = OUTCOMES.index("referral")
OPEN = len(OUTCOMES)  # outcome code of a contact not decided when the run stops
# front-door outcome -> return category (info_advice, early_help, nfa); referral by its pathway
FD_CATEGORY = {OUTCOMES.index("info_advice"): 0, OUTCOMES.index("early_help"): 1,
               OUTCOMES.index("nfa"): 2}
KID = {k: i for i, k in enumerate(CHILD_DRAWS)}
PLAN_ODDS = ("plan_strategy_odds", "plan_s47_odds", "plan_icpc_odds")
# Rounds of `solve` at most. The baseline settles in 5 to 9 rounds, and odds ratios of 4 (the
# top of their ranges) in 8 to 11; cases a run leaves unsettled are flagged, not hidden.
HISTORY_ROUNDS = 16
SOON_GRID = 10_000  # quantiles of the return gap read to find the share of soon returns
BACKLOG_KINDS = (("assessments_waiting", WAITING), ("assessments_in_progress", IN_PROGRESS),
                 ("s47_in_progress", S47_OPEN), ("children_on_plans", ON_PLAN))


def expected_outcome_shares(sc: Scenario, year: int, month: int, tables=None) -> np.ndarray:
    """Share of contacts ending in each outcome in a month, from the streams' volumes and tables."""
    written, phone = tables or outcome_tables(sc)
    total = np.zeros(len(OUTCOMES))
    for source, channel in STREAMS:
        s, c = SOURCES.index(source), CHANNELS.index(channel)
        table = phone if channel == "phone" else written
        total += stream_volume(sc, source, channel, year, month) * table[s, c]
    return total / total.sum() if total.sum() > 0 else np.full(len(OUTCOMES), 1 / len(OUTCOMES))


def history(sc: Scenario, res: RepResult, g: np.random.Generator) -> dict[str, np.ndarray]:
    """Concerns before the simulation starts, generated from rates (the warm start).

    Each day's expected contacts (the scenario's monthly contacts spread evenly over the month)
    divided by the mean concern size gives a Poisson number of concerns, at uniform times; each
    has a size, an outcome from the month's expected outcome shares, and its own draws.
    """
    cal, chs = res.cal, sc.children
    back = ch.history_days(cal.epoch, int(chs.history_months.value))
    shares = chs.concern_size.value
    mean_size = sum((i + 1) * shares[k] for i, k in enumerate(("one", "two", "three", "four")))
    days = np.arange(-back, 0)
    months: list[tuple[int, int]] = []
    month_of_day = np.empty(len(days), dtype=np.int64)
    for i, dd in enumerate(days.tolist()):
        day = date.fromordinal(cal.epoch.toordinal() + dd)
        if not months or months[-1] != (day.year, day.month):
            months.append((day.year, day.month))
        month_of_day[i] = len(months) - 1
    per_day = np.empty(len(months))
    cums = []
    tables = outcome_tables(sc)
    for k, (y, m) in enumerate(months):
        nd = (date(y + (m == 12), m % 12 + 1, 1) - date(y, m, 1)).days
        per_day[k] = sc.demand.contacts_monthly.at(y, m) / nd
        cums.append(np.cumsum(expected_outcome_shares(sc, y, m, tables)))
    counts = g.poisson(per_day[month_of_day] / mean_size)
    n = int(counts.sum())
    t = np.repeat(days * MIN_PER_DAY, counts) + g.random(n) * MIN_PER_DAY
    order = np.argsort(t, kind="stable")
    t, month_of = t[order], np.repeat(month_of_day, counts)[order]
    size = ch.sizes_from(g.random(n), shares)
    u_out = g.random(n)
    cum = np.asarray(cums)[month_of] if n else np.zeros((0, len(OUTCOMES)))
    outcome = np.minimum((u_out[:, None] > cum).sum(axis=1), len(OUTCOMES) - 1)
    return {"time": t, "size": size, "outcome": outcome, "u_down": g.random((n, 4)),
            "u_path": g.random((n, len(PATHWAY_DRAWS))), "u_kid": g.random((n, len(CHILD_DRAWS)))}


def backlog_work(sc: Scenario, clock: WorkClock, g: np.random.Generator) -> dict[str, np.ndarray]:
    """Downstream work the scenario declares open at the start, one child each.

    Assessments waiting: referred at the start. Assessments in progress: referred up to
    `downstream.assessments.backlog_age_working_days` ago (uniform; 45 working days in the
    baseline), with a uniform share of their work left. S47 enquiries: strategy meeting up to
    `downstream.s47.backlog_age_working_days` ago (10 in the baseline), a uniform share of their
    duration left. Children on plans: a uniform share of a plan's length already passed. The
    clock reaches back far enough for the oldest (`clock_span`).
    """
    ds = sc.downstream
    kinds = np.concatenate([np.full(int(getattr(sc.backlog, name).value), k) for name, k in BACKLOG_KINDS]
                           ).astype(np.int64)
    n = len(kinds)
    u_down, u_path, u_kid, u_age = (g.random((n, 4)), g.random((n, len(PATHWAY_DRAWS))),
                                    g.random((n, len(CHILD_DRAWS))), g.random(n))
    col = PATHWAY_DRAWS.index
    left = u_path[:, col("backlog")]
    referred, preset, preset_end = np.zeros(n), np.full(n, np.nan), np.full(n, np.nan)
    ip = kinds == IN_PROGRESS
    referred[ip] = clock.add(np.zeros(ip.sum()), -ds.assessments.backlog_age_working_days.value * u_age[ip])
    s47 = kinds == S47_OPEN
    preset[s47] = clock.add(np.zeros(s47.sum()), -ds.s47.backlog_age_working_days.value * u_age[s47])
    dur = draw_durations(ds.s47.working_days, u_path[s47, col("s47_days")])
    preset_end[s47] = clock.add(np.zeros(s47.sum()), dur * left[s47])
    plan = kinds == ON_PLAN
    length = draw_durations(ds.icpc.plan_months, u_path[plan, col("plan_months")]) * 365.25 / 12 * MIN_PER_DAY
    preset[plan] = -length * (1 - left[plan])
    preset_end[plan] = length * left[plan]
    referred = np.where(s47 | plan, preset, referred)
    return {"kind": kinds, "referred": referred, "preset": preset, "preset_end": preset_end,
            "u_down": u_down, "u_path": u_path, "u_kid": u_kid}


@dataclass(frozen=True)
class Families:
    """What the linking of returns reads that does not depend on the pathway, per concern."""

    t: np.ndarray  # first contact's arrival (history: its time; backlog: its referral)
    cls: np.ndarray  # 1 referral, 0 another contact
    fd_out: np.ndarray  # front-door outcome code (OPEN: not decided in the run)
    cat0: np.ndarray  # return category by the front-door outcome (referrals: replaced by the pathway's)
    end0: np.ndarray  # episode end by the front door alone (referrals: -inf, then the pathway's)
    u_kid: np.ndarray  # (n, len(CHILD_DRAWS)) the concern's own draws
    gap: np.ndarray  # minutes from the end of the concern's episode to its family's return, if it returns
    spell: np.ndarray  # the spell of dated changes in force when the concern came in (sim/model/dated.py)


def link(p: dict[str, np.ndarray], fam: Families, cases: Cases, sc: Scenario) -> np.ndarray:
    """Each concern's family (the index of the family's first concern), given the pathway.

    A family comes back with the probability of how its episode ended, after a random gap,
    as a referral or another contact (`ch.match_returns`). With `history_effects`, a family
    coming back within `soon_return_days` of the end is more likely to come back as a
    referral than one coming back later (`soon_or_late`).
    """
    end = fam.end0.copy()
    np.maximum.at(end, cases.concern, p["episode_end"])
    cat = fam.cat0.copy()
    cat[cases.concern] = p["category"]  # siblings share their draws, so their category
    end[fam.fd_out == OPEN] = np.inf
    u_kid, chs = fam.u_kid, sc.children
    # the return shares in force when the concern came in (dated changes)
    tl, n = timeline(sc), len(cat)
    p_back = by_spell(tl, fam.spell, lambda s, ix: np.array(
        [s.children.returns[k].return_share.value for k in RETURN_CATEGORIES])[cat[ix]], n)
    p_ref = by_spell(tl, fam.spell, lambda s, ix: np.array(
        [s.children.returns[k].referral_share.value for k in RETURN_CATEGORIES])[cat[ix]], n)
    gap = fam.gap
    back = (u_kid[:, KID["returns"]] < p_back) & np.isfinite(end)
    due = np.where(back, end + gap, np.nan)
    fx = chs.history_effects
    if fx is not None and fx.soon_referral_odds.value != 1.0:
        days = fx.soon_return_days.value
        p_ref = soon_or_late(p_ref, fx.soon_referral_odds.value, gap <= days * MIN_PER_DAY,
                             soon_share(chs.return_gap_days, days))
    due_cls = (u_kid[:, KID["return_referral"]] < p_ref).astype(np.int64)
    return ch.family_roots(ch.match_returns(fam.t, fam.cls, due, due_cls))


def soon_share(gap: Duration, days: float) -> float:
    """Share of return gaps of `days` or less (the gap distribution's quantiles on a fine grid)."""
    grid = (np.arange(SOON_GRID) + 0.5) / SOON_GRID
    return float(np.mean(draw_durations(gap, grid) <= days))


def soon_or_late(p: np.ndarray, odds: float, soon: np.ndarray, share: float) -> np.ndarray:
    """Each return's chance of being a referral: its category's share `p` with the odds
    multiplied by `odds` for a soon return, and lowered for a later one so that, over the
    gap distribution (`share` of returns soon), the category's share stays `p` (the shares
    `children.returns` states, and that the calibration fitted, keep their meaning). Where
    the soon returns alone would take more than `p`, the later ones take none."""
    up = odds * p / (1.0 - p + odds * p)
    late = np.clip((p - share * up) / (1.0 - share), 0.0, 1.0) if share < 1.0 else p
    return np.where(soon, up, late)


def prior_plan_window(sc: Scenario, u_prior: np.ndarray, family: np.ndarray, concern: np.ndarray
                      ) -> np.ndarray:
    """Whether each case's family had been on a plan before the generated history (one draw per
    family, from its first concern's uniform: `history_effects.prior_plan_share`)."""
    fx = sc.children.history_effects
    return u_prior[family[concern]] < (fx.prior_plan_share.value if fx is not None else 0.0)


def prior_plan(sc: Scenario, u_prior: np.ndarray, family: np.ndarray, cases: Cases,
               plan_start: np.ndarray) -> np.ndarray:
    """Whether each case's child had been on a plan before its referral: before the history
    window (its family's draw) or a plan of an earlier referral of the same child."""
    child = family[cases.concern] * ch.MAX_SIBLINGS + np.minimum(cases.position, ch.MAX_SIBLINGS - 1)
    return prior_plan_window(sc, u_prior, family, cases.concern) | ch.earlier_plan(
        child, cases.referred, plan_start, cases.referred)


def _acts(sc: Scenario) -> bool:
    """Whether a child's earlier plan changes its pathway in this scenario."""
    fx = sc.children.history_effects
    return fx is not None and any(getattr(fx, k).value != 1.0 for k in PLAN_ODDS)


def solve(cases: Cases, fam: Families, u_prior: np.ndarray, sc: Scenario, cal, clock: WorkClock,
          seed: int, rep: int
          ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, int, np.ndarray]:
    """The pathway and the families together: (pathway, family per concern, each case's
    prior-plan flag by those families, rounds, cases whose draws the flag would still change).

    Who a concern is about depends on how earlier episodes ended (returns), and with history
    effects how an episode goes depends on who it is about, so the two are solved by rounds:
    round 1 is the pathway blind to history and its families; each further round draws the
    pathway again on the same random numbers (staff rosters too, from fresh streams) with
    the prior-plan flags the last round's families give, and links the families again,
    until the draws the pathway used (`history_decisions`) are those its families' flags
    give (then pathway and families agree exactly), or HISTORY_ROUNDS (the cases that still
    disagree are flagged `history_unsettled`).
    A child's history reaches only backward in time, so each round settles a longer stretch
    of the run from its start. Without history effects round 1 is the answer.
    """
    p = follow(cases, sc, cal, clock, _staffing(seed, rep))
    family = link(p, fam, cases, sc)
    flags = prior_plan(sc, u_prior, family, cases, p["cp_plan_start"])
    if not _acts(sc):
        return p, family, flags, 1, np.zeros(len(cases), dtype=bool)
    drawn = history_decisions(cases, sc, cal, None)
    scales = history_scales(cases, sc, cal, flags)  # from the history-blind flags, fixed for every round
    rounds = 1
    while True:
        wanted = history_decisions(cases, sc, cal, flags, scales)
        differ = np.any([x != y for x, y in zip(wanted, drawn, strict=True)], axis=0)
        if not differ.any() or rounds == HISTORY_ROUNDS:
            return p, family, flags, rounds, differ
        drawn = wanted
        p = follow(cases, sc, cal, clock, _staffing(seed, rep), prior_plan=flags, assessed=p,
                   scales=scales)
        family = link(p, fam, cases, sc)
        flags = prior_plan(sc, u_prior, family, cases, p["cp_plan_start"])
        rounds += 1


def _staffing(seed: int, rep: int) -> dict[str, np.random.Generator]:
    """Fresh staff-roster streams, so every round of `solve` has the same rosters."""
    return {name: stream(seed, rep, name) for name in OTHER_STREAMS if name.startswith("staffing.")}


def complete(res: RepResult, sc: Scenario | None = None) -> RepResult:
    """The front-door result with every referred child's pathway and every contact's child."""
    sc = sc or res.scenario
    cal, c, d = res.cal, res.contacts, res.draws
    seed, rep = res.seed, res.rep
    streams = {name: stream(seed, rep, name) for name in OTHER_STREAMS}
    n = len(c)
    src, chn, out_code = (x.astype(np.int64) for x in d["codes"])  # source, channel, outcome (-1 open)
    out_code = np.where(out_code < 0, OPEN, out_code)
    arrival, decided = c["arrival"].to_numpy(), c["decided"].to_numpy()

    # 1. concerns among the contacts
    size = ch.sizes_from(d["children"][:, KID["concern_size"]], sc.children.concern_size.value)
    concern, pos, head = ch.group_concerns(src * 100 + chn * 10 + out_code, arrival, size)

    # 2. warm start: history and declared backlog
    hist = history(sc, res, streams["children.history"])
    nh = len(hist["time"])
    clock = cal.clock(*clock_span(sc, cal, hist["time"], hist["u_path"]))
    bw = backlog_work(sc, clock, streams["backlog.work"])
    nb = len(bw["kind"])
    nc = len(head)

    # 3. cases: referred children of the history, the backlog and the run
    h_ref = np.flatnonzero(hist["outcome"] == REF)
    h_rows = np.repeat(h_ref, hist["size"][h_ref])
    h_pos = np.arange(len(h_rows)) - np.repeat(np.cumsum(hist["size"][h_ref]) - hist["size"][h_ref],
                                               hist["size"][h_ref])
    c_rows = np.flatnonzero(out_code == REF)
    c_head = head[concern[c_rows]]  # siblings share their concern's first contact's draws
    nhr, nbr, ncr = len(h_rows), nb, len(c_rows)
    cases = Cases(
        kind=np.concatenate((np.full(nhr, REFERRAL), bw["kind"], np.full(ncr, REFERRAL))),
        origin=np.concatenate((np.full(nhr, 1), np.full(nbr, 2), np.zeros(ncr, dtype=np.int64))),
        contact=np.concatenate((np.full(nhr + nbr, -1), c_rows)),
        concern=np.concatenate((h_rows, nh + np.arange(nb), nh + nb + concern[c_rows])),
        position=np.concatenate((h_pos, np.zeros(nbr, dtype=np.int64), pos[c_rows])),
        referred=np.concatenate((hist["time"][h_rows], bw["referred"], decided[c_rows])),
        u_down=np.concatenate((hist["u_down"][h_rows], bw["u_down"], d["downstream"][c_head])),
        u_path=np.concatenate((hist["u_path"][h_rows], bw["u_path"], d["pathway"][c_head])),
        preset=np.concatenate((np.full(nhr, np.nan), bw["preset"], np.full(ncr, np.nan))),
        preset_end=np.concatenate((np.full(nhr, np.nan), bw["preset_end"], np.full(ncr, np.nan))),
    )
    # 4. families: concern-level times, kinds, and the ends of the front door's episodes
    ntot = nh + nb + nc
    t = np.concatenate((hist["time"], bw["referred"], arrival[head]))
    fd_out = np.concatenate((hist["outcome"], np.full(nb, REF), out_code[head]))
    cls = (fd_out == REF).astype(np.int64)
    cat0 = np.full(ntot, 2, dtype=np.int64)
    for o, k in FD_CATEGORY.items():
        cat0[fd_out == o] = k
    end0 = np.where(fd_out == REF, -np.inf, t)
    c_dec = np.where(np.isfinite(decided), decided, np.inf)
    np.maximum.at(end0, nh + nb + concern, np.where(out_code == REF, -np.inf, c_dec))
    u_kid = np.concatenate((hist["u_kid"], bw["u_kid"], d["children"][head]))
    # the spell of dated changes in force when each concern came in (its return shares)
    c_spell = spell_of_times(timeline(sc), cal, t)
    gap = draw_durations(sc.children.return_gap_days, u_kid[:, KID["return_gap"]]) * MIN_PER_DAY
    fam = Families(t, cls, fd_out, cat0, end0, u_kid, gap, c_spell)

    # 3-4. the pathway and the families, solved together when history acts (`solve`)
    u_prior = streams["children.prior_plan"].random(ntot)
    p, family, used, rounds, unsettled = solve(cases, fam, u_prior, sc, cal, clock, seed, rep)

    # 5. children, re-referrals and repeat plans
    child = family[cases.concern] * ch.MAX_SIBLINGS + np.minimum(cases.position, ch.MAX_SIBLINGS - 1)
    gap_prev = ch.previous_referral_gap(child, cases.referred)
    rereferral = gap_prev <= ch.REREFERRAL_WINDOW_DAYS * MIN_PER_DAY
    before = prior_plan_window(sc, u_prior, family, cases.concern)
    repeat = p["cp_plan"] & (before | ch.earlier_plan(child, cases.referred, p["cp_plan_start"],
                                                      p["cp_plan_start"]))

    contacts = c.copy(deep=False)
    cfam = family[nh + nb + concern]
    contacts["concern"] = nh + nb + concern
    contacts["family"] = cfam
    contacts["child"] = cfam * ch.MAX_SIBLINGS + np.minimum(pos, ch.MAX_SIBLINGS - 1)
    flag = np.zeros(n, dtype=bool)
    flag[c_rows] = rereferral[nhr + nbr:]
    contacts["rereferral_12m"] = flag
    for col in ("strategy_meeting", "s47_start"):
        v = np.full(n, np.nan)
        v[c_rows] = p[col][nhr + nbr:]
        contacts[col] = v
    origin = pd.Categorical.from_codes(cases.origin, ["contact", "history", "backlog"])
    pathway = pd.DataFrame({"origin": origin, "kind": cases.kind, "contact": cases.contact,
                            "concern": cases.concern,
                            "family": family[cases.concern], "child": child, "referred": cases.referred,
                            "previous_referral_gap": gap_prev, "rereferral_12m": rereferral, **p,
                            "prior_plan": used, "cp_plan_repeat": repeat,
                            "history_rounds": np.full(len(cases), rounds, dtype=np.int64),
                            "history_unsettled": unsettled})
    pathway["category"] = pd.Categorical.from_codes(pathway["category"].to_numpy(), RETURN_CATEGORIES)
    return dataclasses.replace(res, scenario=sc, contacts=contacts, pathway=pathway)
