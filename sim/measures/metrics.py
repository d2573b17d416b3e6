"""The service's own monthly measures, each computed in exactly one place.

A contact belongs to the month it arrived in (as in the service's performance pack), and so
does a referral's re-referral flag; a strategy meeting, S47 enquiry, conference, plan or
assessment to the month it was held, started or completed, one per child. Contacts still open at
the end of the run count as not completed within one working day. Queue lengths are
time-averaged over the month (office hours and not); waits are from joining a queue to the
start of work, in working hours elapsed; the management response's days and hours go to the
month of the working day they were used on; utilisation is busy time in office hours over on-duty
office time (work after closing is overtime, reported apart).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from sim.measures.intervals import t_critical
from sim.measures.posts import FTE_HOURS_A_MONTH, fte
from sim.model.children import REREFERRAL_WINDOW_DAYS
from sim.model.dated import timeline
from sim.model.results import RepResult
from sim.scenario.schema import CHANNELS, POOL_SHORT_NAMES, POOLS

# Measures a user sees, with a plain-English label and unit; the order is the output order.
MEASURES: dict[str, tuple[str, str]] = {
    "contacts": ("Contacts received", "contacts"),
    "police_contacts": ("Police contacts", "contacts"),
    "police_info_advice": ("Police contacts ending in information and advice", "contacts"),
    "pct_police_info_advice": ("% of police contacts ending in information and advice", "%"),
    "referrals": ("Contacts becoming referrals", "referrals"),
    "ps_task_hours": ("Practice supervisor hours on front-door tasks", "hours"),
    "cotriage_officer_hours": ("Police officer hours in co-triage pairs", "hours"),
    "ps_pair_hours": ("Practice supervisor hours in co-triage pairs", "hours"),
    "pct_contacts_to_referral": ("% of contacts resulting in a referral", "%"),
    "pct_completed_within_1wd": ("% of contacts completed within 1 working day", "%"),
    "pct_within_1wd_phone": ("% of phone contacts completed within 1 working day", "%"),
    "pct_within_1wd_email": ("% of email contacts completed within 1 working day", "%"),
    "pct_within_1wd_ppn_domestic": ("% of domestic PPNs completed within 1 working day", "%"),
    "pct_within_1wd_ppn_nondomestic": ("% of non-domestic PPNs completed within 1 working day", "%"),
    "pct_rereferral_12m": ("% of referrals within 12 months of a previous referral", "%"),
    "strategy_meetings": ("Strategy meetings held", "children"),
    "pct_strategy_on_time": ("% of strategy meetings held on time", "%"),
    "s47_enquiries": ("Section 47 enquiries started", "children"),
    "pct_strategy_to_s47": ("% of strategy meetings resulting in an S47 enquiry", "%"),
    "icpcs": ("Initial child protection conferences held", "children"),
    "pct_icpc_on_time": ("% of initial conferences held within 15 working days of the strategy meeting", "%"),
    "pct_icpc_to_cp_plan": ("% of initial conferences resulting in a child protection plan", "%"),
    "cp_plans": ("Children starting a child protection plan", "children"),
    "pct_cp_plans_repeat": ("% of children starting a child protection plan who had been on one before", "%"),
    "assessments_completed": ("Child and family assessments completed", "children"),
    "pct_assessments_45d": ("% of assessments completed within 45 working days", "%"),
    "phone_contacts": ("Contacts by phone", "contacts"),
    "email_contacts": ("Contacts by email", "contacts"),
    "ppn_contacts": ("Police protection notices", "contacts"),
    "edt_contacts": ("Urgent out-of-hours contacts to the emergency duty team", "contacts"),
    "abandoned_calls": ("Phone calls abandoned while waiting", "calls"),
    "pct_calls_abandoned": ("% of call attempts abandoned while waiting", "%"),
    "calls_switched_to_email": ("Callers who gave up and emailed instead", "contacts"),
    "open_at_month_end": ("Contacts not yet decided at the end of the month", "contacts"),
    "info_advice": ("Contacts ending in information and advice", "contacts"),
    "early_help": ("Contacts ending in early help", "contacts"),
    "nfa": ("Contacts ending in no further action", "contacts"),
    "referrals_to_s47": ("Referrals in the month whose child reached an S47 enquiry", "children"),
    "pct_referrals_to_s47": ("% of the month's referrals whose child reached an S47 enquiry", "%"),
    "referrals_to_cp_plan": ("Referrals in the month whose child reached a child protection plan",
                             "children"),
    "pct_referrals_to_cp_plan": ("% of the month's referrals whose child reached a child protection plan",
                                 "%"),
    "response_days_triggered": ("Working days the management response was triggered", "working days"),
    "response_overtime_hours": ("Supervisor overtime worked in the management response", "hours"),
    "response_lent_csw_hours": ("Consultant social worker hours lent to screening emails", "hours"),
    "response_manager_screening_hours": ("Team manager hours screening in the management response",
                                         "hours"),
    "response_triage_hours": ("Team manager hours on the morning triage", "hours"),
    "contacts_closed_at_triage": ("Contacts closed at the morning triage", "contacts"),
    "pct_waited_on_checks": ("% of contacts decided whose decision waited on checks", "%"),
}
# Exactly what each measure counts, as computed below (docs/model.md 2.6 is written from these by
# `python -m sim docs`). `{a.b.c}` names a scenario setting; the document shows its path and the
# baseline's value, so a definition never states as fixed a number the scenario may change.
DEFINITIONS: dict[str, str] = {
    "contacts": "contacts arriving in the month (all sources and channels, including those the EDT decides)",
    "police_contacts":
        "contacts arriving in the month from the police (PPNs of both kinds, police phone calls and emails)",
    "police_info_advice": "police contacts arriving in the month whose outcome is I&A",
    "pct_police_info_advice": "100 x `police_info_advice` / `police_contacts`",
    "referrals": "contacts arriving in the month whose outcome is referral",
    "ps_task_hours":
        "hours of practice-supervisor task time that the contacts arriving in the month took, start to"
        " end of each finished task: screening of emails and non-domestic PPNs, recorded management"
        " direction on referrals, and the supervisor's half of each police co-triage discussion (in"
        " office hours and overtime alike). A supervisor's time on duty with no task (a co-triage"
        " pair waiting for a PPN included) is not counted, nor a task still running when the run stops",
    "cotriage_officer_hours":
        "hours police officers spend in co-triage pairs: pairs in the room (an officer on duty on a"
        " covered day, with a supervisor on duty) on each working day opening in the"
        " month x office hours of the day ({calendar.office_open_hour} to {calendar.office_close_hour}),"
        " plus co-triage work after closing (`overtime_hours_cotriage`); 0 when co-triage is off or has"
        " not started ({cotriage.start})",
    "ps_pair_hours":
        "hours practice supervisors spend in co-triage pairs. When {cotriage.supervisors_from_ps_pool}"
        " (the pair's supervisor is one of the day's supervisors and works the ordinary queue while no"
        " PPN waits for the pair): the hours of the co-triage discussions that the contacts arriving"
        " in the month took, start to end of each finished one (also counted in `ps_task_hours`);"
        " otherwise the supervisor comes from outside the front door and sits the whole day: the same"
        " hours as `cotriage_officer_hours`",
    "pct_contacts_to_referral": "100 x `referrals` / `contacts`",
    "pct_completed_within_1wd":
        "100 x (contacts arriving in the month that are completed within 1 working day, defined below)"
        " / `contacts`; open contacts count as not completed; EDT contacts count as completed",
    **{f"pct_within_1wd_{ch}":
       f"100 x ({what} arriving in the month that are completed within 1 working day, as in"
       f" `pct_completed_within_1wd`) / {what} arriving in the month{note}; the four channels' shares"
       " weighted by their contacts give `pct_completed_within_1wd`"
       for ch, what, note in (("phone", "contacts by phone", " (the original channel: a caller who gave up"
                                                             " and emailed stays a phone contact)"),
                              ("email", "contacts first made by email", ""),
                              ("ppn_domestic", "domestic PPNs", ""),
                              ("ppn_nondomestic", "non-domestic PPNs", ""))},
    "pct_rereferral_12m":
        "100 x (referrals counted in `referrals` whose child's previous referral, in the run or the"
        f" generated history, was decided at most {REREFERRAL_WINDOW_DAYS} days before this one's"
        " decision) / `referrals`",
    "strategy_meetings":
        "strategy meetings **held** in the month, one per child (siblings at one meeting count once"
        " each), from referrals decided at any time, warm-up and history included",
    "pct_strategy_on_time":
        "100 x (meetings held in the month within {downstream.strategy_meetings.target_hours} hours of"
        " the referral decision ({downstream.strategy_meetings.injury_target_hours} for injuries), counted"
        " on the clock {downstream.strategy_meetings.clock}) / `strategy_meetings`",
    "s47_enquiries": "S47 enquiries **started** in the month, one per child",
    "pct_strategy_to_s47":
        "100 x (meetings held in the month whose S47 enquiry starts before the run stops, run-on"
        " included) / `strategy_meetings`",
    "icpcs": "initial child protection conferences **held** in the month, one per child",
    "pct_icpc_on_time":
        "100 x (conferences held in the month no more than {downstream.icpc.target_working_days} working"
        " days after the day of the child's strategy meeting) / `icpcs`",
    "pct_icpc_to_cp_plan":
        "100 x (conferences held in the month that start a child protection plan) / `icpcs`",
    "cp_plans": "children starting a child protection plan in the month",
    "pct_cp_plans_repeat":
        "100 x (children counted in `cp_plans` who had been on a plan before: an earlier referral of"
        " the same child started one, in the run or the generated history, or the family carried one"
        " from before the history ({children.history_effects.prior_plan_share})) / `cp_plans`",
    "assessments_completed": "child and family assessments **completed** in the month, one per child",
    "pct_assessments_45d":
        "100 x (assessments completed in the month no more than"
        " {downstream.assessments.target_working_days} working days after the day of the referral"
        " decision) / `assessments_completed`",
    "phone_contacts":
        "contacts arriving in the month by phone, their **original** channel (a caller who gave up and"
        " emailed stays a phone contact)",
    "email_contacts": "contacts arriving in the month by email (their original channel)",
    "ppn_contacts": "domestic plus non-domestic PPNs arriving in the month",
    "edt_contacts": "contacts arriving in the month decided by the EDT (urgent, out of office hours)",
    "abandoned_calls":
        "abandoned call attempts, summed over contacts arriving in the month (a contact can add up to"
        " {abandonment.max_attempts})",
    "pct_calls_abandoned":
        "100 x `abandoned_calls` / call attempts, both summed over contacts arriving in the month (every"
        " call-back is an attempt)",
    "calls_switched_to_email": "contacts arriving in the month whose caller gave up and emailed",
    "open_at_month_end":
        "contacts that arrived before midnight at the end of the month (warm-up and work open at the"
        " start included) and were not decided before then: a stock, not counted by arrival",
    "info_advice": "contacts arriving in the month whose outcome is I&A",
    "early_help": "contacts arriving in the month whose outcome is early help",
    "nfa": "contacts arriving in the month whose outcome is NFA",
    "referrals_to_s47":
        "referrals counted in `referrals` whose child went on from that referral to an S47 enquiry,"
        " at any time before the simulated horizon (the run's cool-down included)",
    "pct_referrals_to_s47": "100 x `referrals_to_s47` / `referrals`",
    "referrals_to_cp_plan":
        "referrals counted in `referrals` whose child went on from that referral to a child protection"
        " plan, at any time before the simulated horizon (the run's cool-down included)",
    "pct_referrals_to_cp_plan": "100 x `referrals_to_cp_plan` / `referrals`",
    "response_days_triggered":
        "working days opening in the month on which the supervisors' queue at the opening was over"
        " {response.trigger_items} contacts, so the management responses switched on could act",
    "response_overtime_hours":
        "hours practice supervisors worked in the overtime the response granted on the month's"
        " triggered days (up to {response.overtime.hours_per_day} hours a supervisor a day after the"
        " close, {response.overtime.cap_hours_per_week} a week): time on tasks started in that"
        " overtime, up to its end (a task's tail past it is ordinary work after closing, in"
        " `overtime_hours_ps`), by the month of the working day",
    "response_lent_csw_hours":
        "hours of front-door time of the consultant social workers moved to screening emails on the"
        " month's triggered days (each the office day x their productive share, the day's blocks"
        " away kept; at most {response.lent_csws.posts} a day, only while those left on the phones keep"
        " `staff.csw.rota.min_cover`, on at most {response.lent_csws.cap_days_per_week} days a week),"
        " by the month of the working day; hours put on duty, whether or not emails were waiting",
    "response_manager_screening_hours":
        "hours the team manager was put on to screen on the month's triggered days (once the morning"
        " triage is done, {response.manager_screening.hours_per_day} hours a day within"
        " {response.manager_screening.cap_hours_per_week} a week), by the month of the working day;"
        " hours put on duty, whether or not work was waiting",
    "response_triage_hours":
        "hours the team manager spent on the morning triage at the month's openings:"
        " {response.morning_triage.minutes_per_item} minutes for each written contact read, within"
        " {response.morning_triage.cap_hours_per_day} hours a day",
    "contacts_closed_at_triage":
        "contacts arriving in the month closed at the morning triage (written contacts ending in I&A"
        " or NFA, a share {response.morning_triage.closed_share} of those triaged), decided there"
        " without screening",
    "pct_waited_on_checks":
        "100 x (contacts arriving in the month and decided whose decision waited on checks,"
        " {service.checks_share} of those screened or spoken to) / (contacts arriving in the month"
        " and decided; EDT contacts, PPNs settled in co-triage and contacts closed at triage never wait"
        " on checks but count in the denominator)",
}
# each pool inside a sentence ("Utilisation of practice supervisors"), named in the schema
POOL_LABELS = POOL_SHORT_NAMES
# The measures of each pool: key prefix -> label (of "{pool}"), unit, definition.
POOL_MEASURES: dict[str, tuple[str, str, str]] = {
    "util_": ("Utilisation of {pool}", "% of on-duty office time",
              "100 x (busy minutes in the month - overtime minutes in the month) / on-duty office minutes"
              " in the month. Busy = time from start to end of tasks (a task still running at the end"
              " runs to the end of the run), clipped to the month; overtime (as in"
              " `overtime_hours_<pool>`) is subtracted, so only work in office hours counts and a pool"
              " working flat out shows 100%. On-duty = sum over working days opening in the month of"
              " (staff on duty x office minutes of the day, {calendar.office_open_hour} to"
              " {calendar.office_close_hour})."
              " For practice supervisors with co-triage on and {cotriage.supervisors_from_ps_pool}, busy"
              " includes the pair's supervisor's co-triage discussions (also in the co-triage pool's,"
              " whose on-duty is the pairs in the room). Blank when no one is on duty."),
    "overtime_hours_": ("Overtime worked by {pool}, hours a month (whole team)", "hours",
                        "the whole team's hours of task time in the month after the office closes"
                        " ({calendar.office_close_hour}) on the day each task started (to the task's end,"
                        " however long), counted in the month it was worked (a supervisor's co-triage"
                        " discussions included, as in `util_<pool>`)"),
    "overtime_per_post_": ("Overtime of {pool}, hours a month per filled post",
                           "hours a month per filled post",
                           "`overtime_hours_<pool>` / filled posts in the month (posts in the establishment"
                           " x (1 - share of posts vacant), as set for the month); blank when no post is"
                           " filled"),
    "frontdoor_hours_": ("Hours {pool} were on duty and free for front-door work", "hours",
                         "sum over working days opening in the month of the rota's `frontdoor_hours`"
                         " (rota.csv): each member on duty x the office day x their share of it on"
                         " front-door work (the day's blocks away, `staff.<pool>.productive_share`,"
                         " taken out; a part-time post its share); co-triage officers: those in a pair"
                         " in the room. The denominator of `util_<pool>`, in hours"),
    "task_hours_": ("Hours {pool} worked on front-door tasks", "hours",
                    "busy hours in the month, as in `util_<pool>` but with overtime included: time from"
                    " start to end of each task started (a task still running at the end runs to the end"
                    " of the run), clipped to the month; for practice supervisors with"
                    " {cotriage.supervisors_from_ps_pool}, the pair's supervisor's co-triage discussions"
                    " too"),
    "days_cover_not_kept_": ("Working days {pool} were below minimum cover", "working days",
                             "working days opening in the month on which fewer members were on duty"
                             " than `staff.<pool>.rota.min_cover` (or than the filled posts, if fewer):"
                             " the rota's `cover_kept` is false (sickness ignores cover; leave is booked"
                             " to keep it)"),
    "queue_": ("Average queue for {pool}", "items waiting",
               "time-averaged number of tasks waiting, over every minute of the month (nights and"
               " weekends included): sum of each task's waiting time inside the month / minutes in the"
               " month. Abandoned calls count until they hang up; domestic PPNs held for the DRAM are"
               " not in the DA hub queue."),
    "wait_hours_": ("Average wait for {pool}", "working hours",
                    "mean office-hours time (hours) from joining the queue to starting work, over tasks"
                    " that joined in the month **and were started**. Abandoned call attempts and tasks"
                    " never started are left out, so this understates what callers experience; each"
                    " call-back is a new task. PS waits pool direction, PPN and email tasks."),
}
for _p, _label in POOL_LABELS.items():
    for _prefix, (_name, _unit, _definition) in POOL_MEASURES.items():
        MEASURES[f"{_prefix}{_p}"] = (_name.format(pool=_label), _unit)
        DEFINITIONS[f"{_prefix}{_p}"] = _definition

# Measures whose period total is the sum of their months (counts and hours); the others (shares,
# averages, stocks such as open_at_month_end) have no total, only a period average.
SUMMED_UNITS = frozenset(("contacts", "referrals", "children", "calls", "hours", "working days"))
STOCKS = frozenset(("open_at_month_end",))
SUMMABLE = frozenset(m for m, (_, unit) in MEASURES.items() if unit in SUMMED_UNITS and m not in STOCKS)

# Measures of a comparison: each scenario against the reference, replication by replication.
COMPARISON_MEASURES: dict[str, tuple[str, str]] = {
    "ps_fte_saved": ("Practice supervisor time saved, as full-time posts", "full-time posts"),
    "referrals_avoided": ("Referrals avoided", "referrals"),
}
COMPARISON_DEFINITIONS: dict[str, str] = {
    "ps_fte_saved":
        "(reference's `ps_task_hours` - this scenario's) in the same replication and month, divided by"
        " the hours one full-time post works in a month ("
        f"{FTE_HOURS_A_MONTH.value:g}, `sim/measures/posts.py`) x the share of the month's days"
        " in the period; over the period, the difference in the period's total hours divided by those"
        " hours x the months in the period (so part months count by their days). Positive: the"
        " scenario needs fewer supervisor hours than the reference",
    "referrals_avoided":
        "reference's `referrals` - this scenario's, in the same replication and month (over the"
        " period: the difference of the replication's totals). Positive: fewer referrals than the"
        " reference",
}


def month_fractions(first: date, last: date) -> dict[str, float]:
    """Each reported month ('YYYY-MM') and the share of its days inside first..last."""
    out: dict[str, float] = {}
    for p in pd.period_range(pd.Timestamp(first), pd.Timestamp(last), freq="M"):
        lo, hi = max(p.start_time.date(), first), min(p.end_time.date(), last)
        out[str(p)] = ((hi - lo).days + 1) / p.days_in_month
    return out


def savings(reference: pd.DataFrame, scenario: pd.DataFrame, months: pd.Series) -> pd.DataFrame:
    """`COMPARISON_MEASURES` of a scenario against a reference, row by row (the same replication
    and month, or period, in both); `months` is each row's length in months (a part month as a
    fraction; a period's total its months). Both tables are indexed alike, with `ps_task_hours`
    and `referrals`."""
    ref = reference.reindex(scenario.index)
    return pd.DataFrame({
        "ps_fte_saved": fte(ref["ps_task_hours"] - scenario["ps_task_hours"], months),
        "referrals_avoided": ref["referrals"] - scenario["referrals"],
    }, index=scenario.index)


def _by_month(times: np.ndarray, edges: list[tuple[str, float, float]]) -> np.ndarray:
    """Index of the month each time falls in (-1 outside the reported months)."""
    starts = np.array([e[1] for e in edges] + [edges[-1][2]])
    idx = np.searchsorted(starts, times, side="right") - 1
    idx[(idx < 0) | (idx >= len(edges)) | ~np.isfinite(times)] = -1
    return idx


def _count(mask: np.ndarray, month: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(month[mask & (month >= 0)], minlength=n)[:n].astype(float)


def _pct(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 100.0 * num / den, np.nan)


def monthly(res: RepResult) -> pd.DataFrame:
    """One row per reported month of one replication, with every measure in MEASURES."""
    sc, cal, c = res.scenario, res.cal, res.contacts
    edges = cal.month_edges(sc.run.start, sc.run.end)
    n = len(edges)
    month = _by_month(c["arrival"].to_numpy(), edges)
    src, ch, out = c["source"].to_numpy(), c["channel"].to_numpy(), c["outcome"].to_numpy()
    police = src == "police"
    every = np.ones(len(c), dtype=bool)
    m: dict[str, np.ndarray] = {}
    m["contacts"] = _count(every, month, n)
    m["police_contacts"] = _count(police, month, n)
    m["police_info_advice"] = _count(police & (out == "info_advice"), month, n)
    m["pct_police_info_advice"] = _pct(m["police_info_advice"], m["police_contacts"])
    m["referrals"] = _count(out == "referral", month, n)
    m["pct_contacts_to_referral"] = _pct(m["referrals"], m["contacts"])
    m["ps_task_hours"] = _ps_task_hours(res, month, n)
    m.update(_within_1wd(res, month, n))
    m["pct_rereferral_12m"] = _pct(_count(c["rereferral_12m"].to_numpy() & (out == "referral"), month, n),
                                   m["referrals"])
    m.update(_pathway_measures(res.pathway, edges))
    m["phone_contacts"] = _count(ch == "phone", month, n)
    m["email_contacts"] = _count(ch == "email", month, n)
    m["ppn_contacts"] = _count(np.char.startswith(ch.astype(str), "ppn"), month, n)
    m["edt_contacts"] = _count(c["edt"].to_numpy(), month, n)
    m["abandoned_calls"] = np.bincount(
        month[month >= 0], weights=c["abandoned_calls"].to_numpy()[month >= 0], minlength=n)[:n]
    attempts = np.bincount(month[month >= 0], weights=c["attempts"].to_numpy()[month >= 0],
                           minlength=n)[:n]
    m["pct_calls_abandoned"] = _pct(m["abandoned_calls"], attempts)
    m["calls_switched_to_email"] = _count(c["switched_to_email"].to_numpy(), month, n)
    decided = c["decided"].to_numpy()
    arrival = c["arrival"].to_numpy()
    for k, (_, _, t1) in enumerate(edges):
        m.setdefault("open_at_month_end", np.zeros(n))[k] = np.sum(
            (arrival < t1) & ~(decided < t1))
    for o in ("info_advice", "early_help", "nfa"):
        m[o] = _count(out == o, month, n)
    m.update(_escalation(res.pathway, month, m["referrals"], n))
    m.update(_pool_measures(res, edges))
    m["cotriage_officer_hours"] = _pairs_on_duty_hours(res, edges) + m["overtime_hours_cotriage"]
    # a supervisor from the pool is in the pair only while discussing a PPN (else at their queue)
    ct = sc.cotriage
    m["ps_pair_hours"] = (_ps_task_hours(res, month, n, kinds=("cotriage",)) if ct.supervisors_from_ps_pool
                          else m["cotriage_officer_hours"].copy())
    m.update(_response_measures(res, edges))
    m["contacts_closed_at_triage"] = _count(c["closed_at_triage"].to_numpy(dtype=bool), month, n)
    was_decided = np.isfinite(decided)
    m["pct_waited_on_checks"] = _pct(_count(c["waited_on_checks"].to_numpy(dtype=bool) & was_decided,
                                            month, n), _count(was_decided, month, n))
    df = pd.DataFrame({"rep": res.rep, "month": [e[0] for e in edges], **m})
    return df[["rep", "month", *MEASURES]]


def _within_1wd(res: RepResult, month: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """The share completed within 1 working day (`cal.within_one_working_day`), overall and by
    each contact's original channel: one test of each contact, so the channels' shares weighted
    by their contacts are the overall share."""
    c = res.contacts
    in_time = res.cal.within_one_working_day(c["arrival"].to_numpy(), c["decided"].to_numpy())
    ch = c["channel"].to_numpy()
    out = {"pct_completed_within_1wd": _pct(_count(in_time, month, n),
                                            _count(np.ones(len(c), dtype=bool), month, n))}
    for name in CHANNELS:
        out[f"pct_within_1wd_{name}"] = _pct(_count(in_time & (ch == name), month, n),
                                             _count(ch == name, month, n))
    return out


# the management response's measures and the rows of `RepResult.response` each sums
RESPONSE_ROWS = {"response_overtime_hours": "overtime", "response_lent_csw_hours": "lent_to_screening",
                 "response_manager_screening_hours": "manager_screening",
                 "response_triage_hours": "morning_triage"}


def _response_measures(res: RepResult, edges) -> dict[str, np.ndarray]:
    """The management response's days and hours, by the month of the working day each was used
    on (sim/model/frontdoor.py `FrontDoorModel._respond`); zero when it was never used."""
    n, r = len(edges), res.response
    out = {k: np.zeros(n) for k in ("response_days_triggered", *RESPONSE_ROWS)}
    if r is None or r.empty:
        return out
    month = _by_month(res.cal.opens_arr[r["working_day"].to_numpy(dtype=int)], edges)
    what, hours = r["what"].to_numpy(), r["hours"].to_numpy(dtype=float)
    out["response_days_triggered"] = _count(what == "triggered", month, n)
    for key, row in RESPONSE_ROWS.items():
        mine = (what == row) & (month >= 0)
        out[key] = np.bincount(month[mine], weights=hours[mine], minlength=n)[:n]
    return out


def _pathway_measures(pw, edges) -> dict[str, np.ndarray]:
    """Downstream measures, per child, by the month each event happened (docs/model.md 2.6)."""
    n = len(edges)
    col = {k: pw[k].to_numpy() for k in ("strategy_meeting", "strategy_on_time", "s47_start", "icpc",
                                         "icpc_on_time", "cp_plan", "cp_plan_start",
                                         "assessment_completed", "assessment_45d")}
    every = np.ones(len(pw), dtype=bool)
    m: dict[str, np.ndarray] = {}
    held = _by_month(col["strategy_meeting"], edges)
    m["strategy_meetings"] = _count(every, held, n)
    m["pct_strategy_on_time"] = _pct(_count(col["strategy_on_time"], held, n), m["strategy_meetings"])
    m["s47_enquiries"] = _count(every, _by_month(col["s47_start"], edges), n)
    m["pct_strategy_to_s47"] = _pct(_count(np.isfinite(col["s47_start"]), held, n), m["strategy_meetings"])
    conf = _by_month(col["icpc"], edges)
    m["icpcs"] = _count(every, conf, n)
    m["pct_icpc_on_time"] = _pct(_count(col["icpc_on_time"], conf, n), m["icpcs"])
    m["pct_icpc_to_cp_plan"] = _pct(_count(col["cp_plan"] & np.isfinite(col["icpc"]), conf, n), m["icpcs"])
    started = _by_month(col["cp_plan_start"], edges)
    m["cp_plans"] = _count(every, started, n)
    m["pct_cp_plans_repeat"] = _pct(_count(pw["cp_plan_repeat"].to_numpy(), started, n), m["cp_plans"])
    done = _by_month(col["assessment_completed"], edges)
    m["assessments_completed"] = _count(every, done, n)
    m["pct_assessments_45d"] = _pct(_count(col["assessment_45d"], done, n), m["assessments_completed"])
    return m


# the tasks a practice supervisor does (the co-triage discussion is half officer, half supervisor)
PS_TASK_KINDS = ("email_screen", "ppn_screen", "direction", "cotriage")


def _ps_task_hours(res: RepResult, month: np.ndarray, n: int,
                   kinds: tuple[str, ...] = PS_TASK_KINDS) -> np.ndarray:
    """Supervisor task hours, by the arrival month of the contact each finished task was for."""
    st = res.stages
    done = (st["kind"].isin(kinds) & (st["pool"].isin(("ps", "cotriage")))
            & ~st["abandoned"] & np.isfinite(st["end"]) & np.isfinite(st["start"])).to_numpy()
    minutes = (st["end"] - st["start"]).to_numpy()[done]
    m = month[st["contact"].to_numpy()[done]]
    return np.bincount(m[m >= 0], weights=minutes[m >= 0], minlength=n)[:n] / 60.0


def _pairs_on_duty_hours(res: RepResult, edges) -> np.ndarray:
    """Co-triage pairs on duty x office hours, by the month of each working day (officer hours)."""
    n, cal = len(edges), res.cal
    day_month = _by_month(cal.opens_arr, edges)
    pairs = res.rosters["cotriage"].to_numpy()
    return np.bincount(day_month[day_month >= 0], weights=pairs[day_month >= 0],
                       minlength=n)[:n] * cal.day_length / 60.0


def _frontdoor_minutes(res: RepResult, pool: str) -> np.ndarray:
    """Minutes on duty free for front-door work on each working day (the rota, with the day's
    blocks away taken out; sim/model/rota.py)."""
    r = res.rota
    return r.loc[r["pool"] == pool, "frontdoor_hours"].to_numpy() * 60.0


def _filled_posts(res: RepResult, pool: str, edges) -> np.ndarray:
    """Posts in the establishment less vacancies, as the scenario sets them for each month; with
    a dated change inside a month, the average over the month's working days."""
    tl = timeline(res.scenario)
    ym = [(int(e[0][:4]), int(e[0][5:7])) for e in edges]

    def filled(staff, y: int, m: int) -> float:
        return staff.establishment.at(y, m) * (1 - staff.vacancy_rate.at(y, m))

    if tl.constant:
        return np.array([filled(res.scenario.staff[pool], y, m) for y, m in ym])
    days = [res.cal.dates[d] for d in res.cal.working_day_index]
    out = []
    for y, m in ym:
        spells = [tl.index(d) for d in days if (d.year, d.month) == (y, m)] or [tl.index(date(y, m, 1))]
        out.append(float(np.mean([filled(tl.scenarios[k].staff[pool], y, m) for k in spells])))
    return np.array(out)


def _escalation(pw, contact_month: np.ndarray, referrals: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Children escalating to statutory intervention, as the service's reviews count it: of the
    referrals made in a month (by the contact's month, as `referrals`), those whose child went
    on from that referral to an S47 enquiry and to a child protection plan, at any time up to
    the end of the simulated horizon (the run's cool-down included; a scenario with a short
    cool-down undercounts its last month, whose enquiries and plans are still ahead)."""
    run = pw["contact"].to_numpy() >= 0
    which = pw["contact"].to_numpy()[run]
    month = contact_month[which]
    s47 = np.isfinite(pw["s47_start"].to_numpy(dtype=float)[run])
    plan = np.isfinite(pw["cp_plan_start"].to_numpy(dtype=float)[run]) & pw["cp_plan"].to_numpy()[run]
    m = {"referrals_to_s47": _count(s47, month, n), "referrals_to_cp_plan": _count(plan, month, n)}
    m["pct_referrals_to_s47"] = _pct(m["referrals_to_s47"], referrals)
    m["pct_referrals_to_cp_plan"] = _pct(m["referrals_to_cp_plan"], referrals)
    return m


def _pool_measures(res: RepResult, edges) -> dict[str, np.ndarray]:
    cal, st, n = res.cal, res.stages, len(edges)
    starts = np.array([e[1] for e in edges])
    ends = np.array([e[2] for e in edges])
    out: dict[str, np.ndarray] = {}
    day_month = _by_month(cal.opens_arr, edges)
    ct = res.scenario.cotriage
    for pool in POOLS:
        s = st[st["pool"] == pool]
        begun = s["start"].to_numpy(dtype=float)
        end = s["end"].to_numpy(dtype=float)
        end = np.where(np.isfinite(end) | ~np.isfinite(begun), end, cal.horizon)  # still busy
        enq = s["enqueued"].to_numpy(dtype=float)
        served = np.isfinite(begun)
        # busy minutes within each month, and overtime after the close of the start's day
        b0, b1 = begun[served], end[served]
        if pool == "ps" and ct.enabled and ct.supervisors_from_ps_pool:  # the pair's supervisor's
            c = st[(st["pool"] == "cotriage") & np.isfinite(st["start"])]  # discussions: busy too
            c_end = c["end"].to_numpy(dtype=float)
            b0 = np.concatenate((b0, c["start"].to_numpy(dtype=float)))
            b1 = np.concatenate((b1, np.where(np.isfinite(c_end), c_end, cal.horizon)))
        busy = np.clip(np.minimum(b1[:, None], ends) - np.maximum(b0[:, None], starts), 0, None)
        on_duty = np.bincount(day_month[day_month >= 0],  # minutes on duty free for front-door work
                              weights=_frontdoor_minutes(res, pool)[day_month >= 0], minlength=n)[:n]
        close = cal.close_of_day(b0)
        ot0, ot1 = np.maximum(b0, close), b1
        overtime = np.clip(np.minimum(ot1[:, None], ends) - np.maximum(ot0[:, None], starts), 0, None)
        out[f"util_{pool}"] = _pct(busy.sum(axis=0) - overtime.sum(axis=0), on_duty)
        out[f"frontdoor_hours_{pool}"] = on_duty / 60.0
        out[f"task_hours_{pool}"] = busy.sum(axis=0) / 60.0
        kept = res.rota.loc[res.rota["pool"] == pool, "cover_kept"].to_numpy(dtype=bool)
        out[f"days_cover_not_kept_{pool}"] = _count(~kept, day_month, n)
        out[f"overtime_hours_{pool}"] = overtime.sum(axis=0) / 60.0
        filled = _filled_posts(res, pool, edges)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"overtime_per_post_{pool}"] = np.where(filled > 0, out[f"overtime_hours_{pool}"] / filled,
                                                        np.nan)
        # time-averaged queue length: every spell in the queue, clipped to the month
        q1 = np.where(served, begun, end)
        q1 = np.where(np.isfinite(q1), q1, cal.horizon)
        spell = np.clip(np.minimum(q1[:, None], ends) - np.maximum(enq[:, None], starts), 0, None)
        out[f"queue_{pool}"] = spell.sum(axis=0) / (ends - starts)
        wait = (cal.working_minutes_before(begun[served]) - cal.working_minutes_before(enq[served]))
        wm = _by_month(enq[served], edges)
        total = np.bincount(wm[wm >= 0], weights=wait[wm >= 0], minlength=n)[:n]
        count = np.bincount(wm[wm >= 0], minlength=n)[:n]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"wait_hours_{pool}"] = np.where(count > 0, total / count / 60.0, np.nan)
    return out


def backlog_cleared_at(res: RepResult) -> datetime | None:
    """When the last contact waiting at the start (scenario `backlog`) was decided.

    None if there was no such backlog or some of it was still open when the run stopped.
    """
    n = res.backlog_contacts
    decided = res.contacts["decided"].to_numpy()[:n]
    if n == 0 or not np.all(np.isfinite(decided)):
        return None
    e = res.cal.epoch
    return datetime(e.year, e.month, e.day) + timedelta(minutes=float(decided.max()))


def summarise(monthly_all: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and t-based interval across replications, per month and measure (long format).

    Grouped on the wide table, one measure at a time, rather than on a long copy of it: the
    same sums in the same order (so the same numbers) with a few rows per measure held at a
    time, so 10,000 replications of a three-year run summarise in well under a gigabyte."""
    cols = [c for c in monthly_all.columns if c not in ("rep", "month")]
    g = monthly_all.groupby("month", sort=False)
    parts = []
    for col in cols:
        one = g[col].agg(["mean", "std", "count"]).rename(columns={"std": "sd", "count": "reps"})
        one.insert(0, "measure", col)
        parts.append(one.reset_index())
    if parts:
        out = pd.concat(parts, ignore_index=True)
    else:
        out = pd.DataFrame({"month": [], "measure": [], "mean": [], "sd": [], "reps": []})
    tcrit = t_critical(level, np.maximum(out["reps"] - 1, 1))
    half = np.where(out["reps"] > 1, tcrit * out["sd"] / np.sqrt(out["reps"]), np.nan)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    order = {m: i for i, m in enumerate(MEASURES)}
    out["_o"] = out["measure"].map(order)
    out = out.sort_values(["_o", "month"]).drop(columns="_o").reset_index(drop=True)
    out["label"] = out["measure"].map(lambda k: MEASURES.get(k, (k, ""))[0])
    out["unit"] = out["measure"].map(lambda k: MEASURES.get(k, (k, ""))[1])
    return out[["month", "measure", "label", "unit", "mean", "ci_low", "ci_high", "sd", "reps"]]
