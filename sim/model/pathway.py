"""After the front door: each referral's pathway and every contact's child, in one pass.

`complete(res)` takes a replication's front-door result and adds, without changing anything the
front door did:

1. concerns: the contacts cut into sibling groups (sim/model/children.py);
2. the warm start: `children.history_months` of concerns generated from rates, and any work
   the scenario declares open at the start (`backlog`);
3. the pathway of every referred child: strategy meeting, S47 enquiry, conference, plan and
   assessment, with their capacities and clocks (sim/model/downstream.py);
4. families and children: who comes back, as what, and so which referrals are re-referrals.

Because it depends only on the front-door result, the scenario and named random streams,
`complete(res, other_scenario)` gives the pathway another scenario would give on the same
front-door run (the calibration uses this for the downstream parameters).
"""

from __future__ import annotations

import dataclasses
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
)
from sim.model.results import RepResult
from sim.model.rng import CHILD_DRAWS, OTHER_STREAMS, PATHWAY_DRAWS, stream
from sim.model.sampling import draw_durations, outcome_tables
from sim.scenario.schema import CHANNELS, OUTCOMES, RETURN_CATEGORIES, SOURCES, Scenario

REF = OUTCOMES.index("referral")
OPEN = len(OUTCOMES)  # outcome code of a contact not decided when the run stops
# front-door outcome -> return category (info_advice, early_help, nfa); referral by its pathway
FD_CATEGORY = {OUTCOMES.index("info_advice"): 0, OUTCOMES.index("early_help"): 1,
               OUTCOMES.index("nfa"): 2}
KID = {k: i for i, k in enumerate(CHILD_DRAWS)}
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
    p = follow(cases, sc, cal, clock, streams)

    # 4. families: concern-level times, kinds, episode ends and return draws
    ntot = nh + nb + nc
    t = np.concatenate((hist["time"], bw["referred"], arrival[head]))
    fd_out = np.concatenate((hist["outcome"], np.full(nb, REF), out_code[head]))
    cls = (fd_out == REF).astype(np.int64)
    cat = np.full(ntot, 2, dtype=np.int64)
    for o, k in FD_CATEGORY.items():
        cat[fd_out == o] = k
    end = np.where(fd_out == REF, -np.inf, t)
    c_dec = np.where(np.isfinite(decided), decided, np.inf)
    np.maximum.at(end, nh + nb + concern, np.where(out_code == REF, -np.inf, c_dec))
    np.maximum.at(end, cases.concern, p["episode_end"])
    cat[cases.concern] = p["category"]  # siblings share their draws, so their category
    end[fd_out == OPEN] = np.inf
    u_kid = np.concatenate((hist["u_kid"], bw["u_kid"], d["children"][head]))
    # the return shares in force when the concern came in (dated changes)
    tl = timeline(sc)
    c_spell = spell_of_times(tl, cal, t)
    p_back = by_spell(tl, c_spell, lambda s, ix: np.array(
        [s.children.returns[k].return_share.value for k in RETURN_CATEGORIES])[cat[ix]], len(t))
    p_ref = by_spell(tl, c_spell, lambda s, ix: np.array(
        [s.children.returns[k].referral_share.value for k in RETURN_CATEGORIES])[cat[ix]], len(t))
    gap = draw_durations(sc.children.return_gap_days, u_kid[:, KID["return_gap"]]) * MIN_PER_DAY
    back = (u_kid[:, KID["returns"]] < p_back) & np.isfinite(end)
    due = np.where(back, end + gap, np.nan)
    due_cls = (u_kid[:, KID["return_referral"]] < p_ref).astype(np.int64)
    pred = ch.match_returns(t, cls, due, due_cls)
    family = ch.family_roots(pred)

    # 5. children and re-referrals
    child = family[cases.concern] * ch.MAX_SIBLINGS + np.minimum(cases.position, ch.MAX_SIBLINGS - 1)
    gap_prev = ch.previous_referral_gap(child, cases.referred)
    rereferral = gap_prev <= ch.REREFERRAL_WINDOW_DAYS * MIN_PER_DAY

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
                            "previous_referral_gap": gap_prev, "rereferral_12m": rereferral, **p})
    pathway["category"] = pd.Categorical.from_codes(pathway["category"].to_numpy(), RETURN_CATEGORIES)
    return dataclasses.replace(res, scenario=sc, contacts=contacts, pathway=pathway)
