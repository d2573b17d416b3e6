"""After the referral, children's histories and the starting backlog (docs/model.md 2.4)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import holidays
import numpy as np
import pandas as pd
import pytest

from sim.experiments.runner import RepOutput, replicate, run_replications
from sim.measures.backlog import backlog_clearance
from sim.measures.metrics import backlog_cleared_at, monthly
from sim.model.calendar import WorkCalendar
from sim.model.downstream import assessment_team, book, elapsed_hours
from sim.model.frontdoor import FrontDoorModel
from sim.model.replication import simulate
from sim.scenario.schema import Scenario
from tests.helpers import assert_conserved, variant

EPOCH = date(2023, 5, 6)
MONTHS = {f"{y}-{m:02d}": 0 for y in range(2021, 2025) for m in range(1, 13)}
ENGLAND = sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2021, 2026)))


def minutes(when: datetime, epoch: date = EPOCH) -> float:
    return (when - datetime(epoch.year, epoch.month, epoch.day)).total_seconds() / 60.0


@pytest.fixture(scope="module")
def clock(baseline):
    cal = WorkCalendar(EPOCH, 400, 8.5, 17.0, (0, 1, 2, 3, 4), "england")
    return cal, cal.clock(-800, cal.days)


# --- clocks across weekends and bank holidays -------------------------------------------------

def test_strategy_clock_skips_weekend_and_august_bank_holiday(clock):
    cal, wc = clock
    friday = minutes(datetime(2023, 8, 25, 16, 0))  # Monday 28 August 2023 is a bank holiday
    tuesday = minutes(datetime(2023, 8, 29, 10, 0))
    assert elapsed_hours("working_days", cal, wc, friday, tuesday) == pytest.approx(18.0)  # 8 + 10
    assert elapsed_hours("calendar", cal, wc, friday, tuesday) == pytest.approx(90.0)
    assert elapsed_hours("office_hours", cal, wc, friday, tuesday) == pytest.approx(2.5)  # 1 + 1.5
    # 24 working-day hours after Friday 16:00 is Tuesday 16:00
    due = wc.add(friday, 1.0)
    assert due == pytest.approx(minutes(datetime(2023, 8, 29, 16, 0)))
    # an injury meeting the same evening is inside 2 hours
    assert elapsed_hours("working_days", cal, wc, friday, friday + 90) == pytest.approx(1.5)


def test_conference_clock_counts_15_working_days_over_christmas(clock):
    _, wc = clock
    meeting = minutes(datetime(2023, 12, 11, 14, 0))  # Monday; 25, 26 Dec and 1 Jan are bank holidays
    assert wc.days_between(meeting, minutes(datetime(2024, 1, 4, 10, 0))) == 15  # Thursday: in time
    assert wc.days_between(meeting, minutes(datetime(2024, 1, 5, 10, 0))) == 16  # Friday: late
    assert wc.days_between(meeting, minutes(datetime(2023, 12, 11, 16, 0))) == 0


def test_assessment_clock_counts_45_working_days(clock):
    _, wc = clock
    referral = minutes(datetime(2023, 10, 2, 11, 0))
    assert wc.days_between(referral, minutes(datetime(2023, 12, 4, 17, 0))) == 45
    assert wc.days_between(referral, minutes(datetime(2023, 12, 5, 9, 0))) == 46


def test_working_day_counts_agree_with_numpy_business_days(clock):
    _, wc = clock
    rng = np.random.default_rng(3)
    t0 = rng.uniform(-300, 300, 400) * 1440
    t1 = t0 + rng.uniform(0, 90, 400) * 1440
    d0 = np.datetime64(EPOCH) + np.floor(t0 / 1440).astype(int)
    d1 = np.datetime64(EPOCH) + np.floor(t1 / 1440).astype(int)
    expected = np.busday_count(d0 + 1, d1 + 1, holidays=np.array(ENGLAND, dtype="datetime64[D]"))
    assert np.array_equal(wc.days_between(t0, t1), expected)


def _oracle_working_hours(a: datetime, b: datetime) -> float:
    """Hours between two times counting only working days (a slow day-by-day walk)."""
    hol = set(ENGLAND)
    total, t = 0.0, a
    while t < b:
        nxt = min(datetime(t.year, t.month, t.day) + timedelta(days=1), b)
        if t.weekday() < 5 and t.date() not in hol:
            total += (nxt - t).total_seconds() / 3600
        t = nxt
    return total


def test_model_stage_clocks_match_a_day_by_day_count(baseline_result):
    res = baseline_result
    pw = res.pathway
    pw = pw[(pw["origin"] == "contact")]
    base = datetime(res.cal.epoch.year, res.cal.epoch.month, res.cal.epoch.day)

    def when(m):
        return base + timedelta(minutes=float(m))

    sm = pw[np.isfinite(pw["strategy_meeting"])].head(300)
    for r in sm.itertuples():
        hours = _oracle_working_hours(when(r.referred), when(r.strategy_meeting))
        target = 2 if r.injury else 24
        assert r.strategy_on_time == (hours <= target + 1e-9), (r, hours)
    hol = np.array(ENGLAND, dtype="datetime64[D]")
    day = np.datetime64(res.cal.epoch)
    conf = pw[np.isfinite(pw["icpc"])]
    n = np.busday_count(day + np.floor(conf["strategy_meeting"].to_numpy() / 1440).astype(int) + 1,
                        day + np.floor(conf["icpc"].to_numpy() / 1440).astype(int) + 1, holidays=hol)
    assert np.array_equal(conf["icpc_on_time"].to_numpy(), n <= 15)
    done = pw[np.isfinite(pw["assessment_completed"])]
    n = np.busday_count(day + np.floor(done["referred"].to_numpy() / 1440).astype(int) + 1,
                        day + np.floor(done["assessment_completed"].to_numpy() / 1440).astype(int) + 1,
                        holidays=hol)
    assert np.array_equal(done["assessment_45d"].to_numpy(), n <= 45)
    assert len(sm) > 100 and len(conf) > 50 and len(done) > 500


# --- capacity mechanics worked by hand --------------------------------------------------------

def test_booking_takes_first_free_slot_and_siblings_join_a_meeting_still_ahead():
    cal = WorkCalendar(date(2023, 9, 4), 7, 8.5, 17.0, (0, 1, 2, 3, 4), "england")  # Monday
    day = cal.opens[0]
    free = [[day + 120.0, day + 300.0], [cal.opens[1] + 60.0], [], [], []]
    ready = np.array([day, day + 10.0, day + 20.0, day + 400.0, day + 130.0])
    group = np.array([1, 2, 1, 3, 1])
    got = book(np.arange(5), ready, group, free, cal)
    assert got[0] == day + 120.0  # first free slot
    assert got[1] == day + 300.0  # the next one
    assert got[2] == day + 120.0  # a sibling ready before the meeting joins it
    assert got[3] == cal.opens[1] + 60.0  # the day is full: Tuesday's slot
    assert np.isnan(got[4])  # a sibling ready after the meeting needs a slot; none left


def test_assessment_team_shares_its_hours_and_respects_the_caseload_limit():
    """100 assessments of 3.7 hours, 5 workers x 7.4 hours = 37 hours a day, 50 at a time.

    Each of the first 50 gets 37/50 = 0.74 hours a day and finishes at the close of the 5th day;
    the other 50 are allocated the next morning and finish 5 working days later: 370 hours of
    work in 10 working days, as the capacity allows.
    """
    cal = WorkCalendar(date(2023, 9, 4), 28, 8.5, 17.0, (0, 1, 2, 3, 4), "england")
    n_days = len(cal.opens)
    alloc, done, _ = assessment_team(cal, np.full(n_days, 5), np.full(n_days, 50), 7.4, 10.0,
                                     np.zeros(100), np.full(100, 3.7), np.zeros(0))
    assert np.all(alloc[:50] == cal.opens[0]) and np.all(alloc[50:] == cal.opens[5])
    assert np.allclose(done[:50], cal.closes[4]) and np.allclose(done[50:], cal.closes[9])


def _certain_staff(n: float) -> dict:
    return {"establishment": {"value": {}, "default": n, "range": [0, 1000]},
            "vacancy_rate": {"value": {}, "default": 0.0, "range": [0, 1]},
            "leave_rate": {"value": MONTHS, "default": 0.0, "range": [0, 1]},
            "sickness_rate": {"value": 0.0, "range": [0, 1]},
            "productive_share": {"value": 1.0, "range": [0, 1]}}


def _fixed(minutes_: float) -> dict:
    return {"distribution": "fixed", "mean": {"value": minutes_, "range": [0, 1e6]},
            "cv": {"value": 0.0, "range": [0, 1]}}


def _quiet(backlog: dict, **over) -> dict:
    zero = {"value": MONTHS, "default": 0, "range": [0, 10]}
    doc = {"run": {"warmup_days": {"value": 0, "range": [0, 120]}},
           "demand": {"contacts_monthly": zero, "police_monthly": zero},
           "backlog": {k: {"value": v, "range": [0, 1000]} for k, v in backlog.items()}}
    return {**doc, **over}


def _supervisors_alone(doc: dict) -> dict:
    """The document with no management response, no morning triage and no decision waiting on
    checks: only the supervisors' own hours read the backlog."""
    doc["response"] = {k: {"enabled": False}
                       for k in ("overtime", "lent_csws", "manager_screening", "morning_triage")}
    doc.setdefault("service", {})["checks_share"] = {"value": 0.0}
    return doc


def test_unread_email_backlog_empties_at_the_rate_supervisors_allow():
    """300 unread emails on Monday 4 September 2023, no new contacts, 4 supervisors all on duty,
    30 minutes an email, no management response and no checks: each supervisor reads 17 a day
    (510 office minutes), 68 a day, so Monday to Thursday clear 272 and the last 28 take 7 each on
    Friday: clear at 08:30 + 210 min = 12:00.
    """
    sc = variant(_supervisors_alone(_quiet({"emails_unread": 300},
                                           staff={"ps": _certain_staff(4)},
                                           service={"email_screen_minutes": _fixed(30)})),
                 start="2023-09-04", end="2023-09-30")
    res = simulate(sc, rep=0)
    assert_conserved(res)
    c = res.contacts
    assert res.backlog_contacts == 300 and len(c) == 300
    assert (c["channel"] == "email").all() and (c["arrival"] < 0).all()
    day = np.floor(c["decided"].to_numpy() / 1440).astype(int)
    assert np.bincount(day).tolist() == [68, 68, 68, 68, 28]
    assert c["decided"].max() == pytest.approx(4 * 1440 + 12 * 60)
    assert backlog_cleared_at(res) == datetime(2023, 9, 8, 12, 0)
    m = monthly(res)
    assert m["contacts"].sum() == 0 and m["open_at_month_end"].iloc[0] == 0


def test_the_management_response_adds_its_hours_to_what_the_supervisors_read():
    """The front door above with the baseline's management response, morning triage and checks.
    Each morning the backlog is over the trigger, each supervisor reads their front-door hours in
    the rota (8.5 office hours: all on duty, all productive) plus the overtime granted (its hours a
    day until the week's cap), the team manager screens their hours (until the week's cap) and a
    lent consultant social worker their day's front-door hours (the week's days at most; the email
    in hand when they are done is finished); on other mornings the supervisors read alone. Every
    email is screened or closed at the triage, once; only those the checks pick wait after their
    screening, so the checks, not the reading, say when the backlog is cleared."""
    sc = _email_backlog(300, 4, start="2023-09-04", end="2023-09-30")
    rs, each = sc.response, 30.0
    res = simulate(sc, rep=0)
    assert_conserved(res)
    c, st, resp = res.contacts, res.stages, res.response
    scr = st[(st["kind"] == "email_screen") & ~st["abandoned"]]
    closed = c["closed_at_triage"].to_numpy()
    tr = rs.morning_triage
    read_at_triage = tr.cap_hours_per_day.value * 60 // tr.minutes_per_item.value
    assert scr["contact"].is_unique and len(scr) + closed.sum() == 300
    assert 0 < closed.sum() <= read_at_triage and not (c["waited_on_checks"] & c["closed_at_triage"]).any()
    day = np.floor(scr["start"].to_numpy() / 1440).astype(int)  # Monday 4 September is day 0
    queue = res.queue_daily.set_index("working_day")["ps"]
    triggered = sorted(resp.loc[resp["what"] == "triggered", "working_day"])
    assert triggered == [k for k in queue.index if queue[k] > rs.trigger_items.value] == [0, 1, 2]

    def hours(what: str, pool: str = "ps") -> dict[int, float]:
        rows = resp[(resp["pool"] == pool) & (resp["what"] == what)]
        return rows.groupby("working_day")["hours"].sum().to_dict()

    ot, ms = rs.overtime, rs.manager_screening
    ot_days = int(ot.cap_hours_per_week.value // ot.hours_per_day.value)  # 3 of the week's mornings
    assert hours("overtime") == pytest.approx({k: 4 * ot.hours_per_day.value for k in triggered[:ot_days]})
    ms_days = int(ms.cap_hours_per_week.value // ms.hours_per_day.value)
    assert hours("manager_screening") == pytest.approx(
        {k: ms.hours_per_day.value for k in triggered[:ms_days]})
    lent = hours("lent_to_screening", "csw")
    assert sorted(lent) == triggered[:int(rs.lent_csws.cap_days_per_week.value)]
    ps = res.rota[res.rota["pool"] == "ps"].reset_index(drop=True)
    assert np.allclose(ps["frontdoor_hours"].iloc[:5], 4 * res.cal.day_length / 60)
    sup = scr["server"].to_numpy() < 4
    others = sorted(set(scr["server"][~sup]))
    assert len(others) == 2  # the lent consultant social worker, then the team manager
    for k in triggered:
        got = np.bincount(day[sup & (day == k)], minlength=k + 1)[k]
        assert got == (ps["frontdoor_hours"][k] + hours("overtime").get(k, 0.0)) * 60 / each, k
        by = {s: int(((day == k) & (scr["server"].to_numpy() == s)).sum()) for s in others}
        assert by[others[1]] == hours("manager_screening").get(k, 0.0) * 60 / each, k
        # the consultant's time comes between their blocks away: each may end in an email in hand
        reads = lent.get(k, 0.0) * 60 / each
        blocks = sc.staff["csw"].rota.away_blocks.value
        assert np.floor(reads) <= by[others[0]] <= np.ceil(reads) + blocks, k
        if k in lent:  # the consultant's front-door time that day: at most an office day
            assert 0 < lent[k] <= res.cal.day_length / 60
    # Thursday opens under the trigger: the supervisors read what is left, within their hours
    assert day.max() == 3 and (day == 3).sum() == (sup & (day == 3)).sum() == queue[3]
    assert queue[3] < ps["frontdoor_hours"][3] * 60 / each
    # decisions: at the screening's end, or after it for the checks' share
    dec = c.set_index("id")["decided"]
    end = scr.set_index("contact")["end"]
    waited = c.set_index("id")["waited_on_checks"][end.index].to_numpy()
    assert np.all(dec[end.index].to_numpy()[~waited] == end.to_numpy()[~waited])
    assert np.all(dec[end.index].to_numpy()[waited] > end.to_numpy()[waited])
    p, n = sc.service.checks_share.value, len(end)
    assert abs(waited.sum() - n * p) <= 4 * np.sqrt(n * p * (1 - p))
    cleared = backlog_cleared_at(res)
    last = dec.idxmax()
    assert c.set_index("id")["waited_on_checks"][last] and cleared > datetime(2023, 9, 4) + timedelta(
        minutes=float(end.max()))


def _email_backlog(emails: int, supervisors: float, cooldown_days: float | None = None,
                   alone: bool = False, **run) -> Scenario:
    """The test above's quiet front door: only the unread emails, 30 minutes each (`alone`: read
    by the supervisors alone, as there)."""
    doc = _quiet({"emails_unread": emails}, staff={"ps": _certain_staff(supervisors)},
                 service={"email_screen_minutes": _fixed(30)})
    if alone:
        doc = _supervisors_alone(doc)
    if cooldown_days is not None:
        doc["run"]["cooldown_days"] = {"value": cooldown_days, "range": [0, 60]}
    return variant(doc, **run)


def test_run_results_say_when_the_email_backlog_was_cleared_in_every_replication():
    """Through the runner (each worker returns its cleared time): the deterministic front door of
    the test above clears its 300 emails at 12:00 on Friday 8 September in every replication."""
    sc = _email_backlog(300, 4, alone=True, start="2023-09-04", end="2023-09-30")
    res = run_replications(sc, reps=3, seed=7)
    bl = res.backlog
    assert bl is not None and (bl.emails, bl.ppns, bl.contacts) == (300, 0, 300)
    friday_noon = datetime(2023, 9, 8, 12, 0)
    assert bl.cleared == ((0, friday_noon), (1, friday_noon), (2, friday_noon))
    assert bl.mean == bl.earliest == bl.latest == friday_noon and bl.not_cleared == []
    assert bl.working_days == pytest.approx(4 + 210 / 510)  # Monday to Thursday, then 08:30-12:00
    assert bl.start == datetime(2023, 9, 4) and bl.stop == datetime(2023, 10, 1) + timedelta(
        days=sc.run.cooldown_days.value)
    assert bl.message().startswith("The 300 emails open at the start were all decided by Fri 8 Sep"
                                   " 2023 12:00 on average (earliest Fri 8 Sep 2023 12:00, latest Fri"
                                   " 8 Sep 2023 12:00), in all 3 replications")


def test_a_backlog_still_open_when_the_run_stops_is_reported_as_never_cleared():
    """One supervisor reads 17 emails a working day: 300 are not read in a week with no run-on."""
    sc = _email_backlog(300, 1, cooldown_days=0, start="2023-09-04", end="2023-09-10")
    res = run_replications(sc, reps=2, seed=7)
    assert res.backlog.cleared == ((0, None), (1, None)) and res.backlog.not_cleared == [0, 1]
    assert res.backlog.mean is None and res.backlog.earliest is None
    msg = res.backlog.message()
    assert "never all decided, in any of the 2 replications" in msg
    assert "still open when the simulation stopped at Mon 11 Sep 2023 00:00" in msg
    d = res.backlog.as_dict()
    assert d["replications_cleared"] == 0 and d["mean"] is None and d["not_cleared_replications"] == [0, 1]


def test_some_replications_clearing_and_some_not_is_said_plainly_and_averaged_in_office_hours():
    """The mean is on the office-hours clock (08:30 to 17:00): Thursday 16:00 and Friday 12:00
    are 7.5 and 8.5 + 3.5 office hours after Thursday's opening, on average 9.75, so Friday 09:45."""
    sc = _email_backlog(300, 4, start="2023-10-02", end="2023-10-29")
    outs = [RepOutput(r, pd.DataFrame(), [], None, t) for r, t in
            enumerate([datetime(2023, 10, 5, 16), None, datetime(2023, 10, 6, 12), None, None])]
    bl = backlog_clearance(sc, reversed(outs))
    assert [r for r, _ in bl.cleared] == [0, 1, 2, 3, 4] and bl.not_cleared == [1, 3, 4]
    assert bl.mean == datetime(2023, 10, 6, 9, 45)
    assert bl.working_days == pytest.approx(4 + 75 / 510)
    assert (bl.earliest, bl.latest) == (datetime(2023, 10, 5, 16), datetime(2023, 10, 6, 12))
    msg = bl.message()
    assert "all decided by Fri 6 Oct 2023 09:45 on average (earliest Thu 5 Oct 2023 16:00, latest" in msg
    assert "in 2 of the 5 replications" in msg
    assert "In the other 3 (replications 1, 3-4) they were never all decided" in msg
    assert backlog_clearance(variant(), outs) is None  # nothing declared, nothing to say


def test_replications_reused_with_done_keep_their_cleared_times():
    sc = _email_backlog(300, 1.5, start="2023-09-04", end="2023-09-30")
    fresh = run_replications(sc, reps=3, seed=3)
    done = [replicate(sc, 3, r) for r in (0, 2)]
    reused = run_replications(sc, reps=3, seed=3, done=done)
    assert reused.backlog == fresh.backlog and fresh.backlog.not_cleared == []
    assert [t for _, t in fresh.backlog.cleared] == [backlog_cleared_at(simulate(sc, 3, r)) for r in range(3)]


def test_assessment_backlog_empties_at_the_rate_the_team_allows():
    """As the team test above, through the whole model: 100 children waiting for an assessment on
    Monday 4 September 2023; half done at the close of Friday 8th, the rest Friday 15th."""
    asm = {"team": _certain_staff(5), "caseload_limit": {"value": 10},
           "work_hours": _fixed(3.7), "max_hours_per_day": {"value": 10, "range": [0.1, 24]}}
    sc = variant(_quiet({"assessments_waiting": 100}, downstream={"assessments": asm}),
                 start="2023-09-04", end="2023-10-31")
    res = simulate(sc, rep=0)
    assert_conserved(res)
    pw = res.pathway
    assert len(pw) == 100 and (pw["origin"] == "backlog").all()
    done = np.sort(pw["assessment_completed"].to_numpy())
    friday = 4 * 1440 + 17 * 60
    assert np.allclose(done[:50], friday) and np.allclose(done[50:], friday + 7 * 1440)
    m = monthly(res).set_index("month")
    assert m.at["2023-09", "assessments_completed"] == 100
    assert m.at["2023-09", "pct_assessments_45d"] == 100 and m.at["2023-10", "assessments_completed"] == 0


def test_declared_s47s_and_plans_enter_the_pathway():
    sc = variant(_quiet({"s47_in_progress": 40, "children_on_plans": 30}),
                 start="2023-09-04", end="2023-12-31")
    res = simulate(sc, rep=0)
    assert_conserved(res)
    pw = res.pathway
    s47 = pw[np.isfinite(pw["s47_start"])]
    assert len(s47) == 40 and (s47["s47_start"] < 0).all() and (s47["s47_end"] >= 0).all()
    assert np.isfinite(s47["icpc"]).sum() > 0  # some ask for a conference, held in the run
    plans = pw[pw["cp_plan"] & ~np.isfinite(pw["icpc"])]
    assert len(plans) == 30 and (plans["cp_plan_start"] < 0).all() and (plans["cp_plan_end"] > 0).all()


# --- children and their histories -------------------------------------------------------------

def test_children_histories_are_consistent(baseline_result):
    res = baseline_result
    c, pw = res.contacts, res.pathway
    # siblings named in one concern: same stream and outcome, one family
    g = c.groupby("concern")
    assert (g["source"].nunique() == 1).all() and (g["channel"].nunique() == 1).all()
    assert (g["outcome"].nunique() == 1).all() and (g["family"].nunique() == 1).all()
    assert g.size().max() <= 4 and (g.size() > 1).mean() > 0.25
    # some families come back; a child's contacts are in time order within its family
    per_family = c.groupby("family")["concern"].nunique()
    assert (per_family > 1).mean() > 0.05
    # no plan without a conference, no conference without an enquiry (also in assert_conserved)
    plan = pw["cp_plan"] & (pw["origin"] != "backlog")
    assert np.isfinite(pw.loc[plan, "icpc"]).all()
    assert np.isfinite(pw.loc[np.isfinite(pw["icpc"]), "s47_start"]).all()


@pytest.mark.slow
def test_warm_start_makes_rereferrals_meaningful_from_july():
    cold = variant({"children": {"history_months": {"value": 0, "range": [0, 36]}}})
    warm = variant()
    a = run_replications(cold, reps=2, seed=11).monthly.groupby("month")["pct_rereferral_12m"].mean()
    b = run_replications(warm, reps=2, seed=11).monthly.groupby("month")["pct_rereferral_12m"].mean()
    assert b["2023-07"] > 2 * a["2023-07"]
    assert b["2023-07"] > 0.7 * b[["2023-10", "2023-11", "2023-12"]].mean()


def test_downstream_changes_leave_the_front_door_alone(baseline):
    capacity = {"strategy_meetings": {"chairs": {"establishment": {"default": 30}}},
                "assessments": {"team": {"establishment": {"default": 60}}}}
    blind = {"children": {"history_effects": None}}
    # who is asked for a strategy meeting is drawn, not set by capacity (history blind: exactly)
    a, b = (simulate(variant({**blind, **extra}), seed=5, rep=1) for extra in ({}, {"downstream": capacity}))
    for col in ("arrival", "decided", "outcome", "concern"):
        assert a.contacts[col].equals(b.contacts[col])
    assert np.array_equal(a.pathway["strategy_requested"].to_numpy(),
                          b.pathway["strategy_requested"].to_numpy(), equal_nan=True)
    assert not np.array_equal(a.pathway["strategy_meeting"].to_numpy(),
                              b.pathway["strategy_meeting"].to_numpy(), equal_nan=True)
    # with history acting, capacity moves when episodes end, so who has been on a plan before,
    # and with it those children's requests and (a little) the others' odds that keep the stated
    # share: nearly all children keep their request
    a, b = simulate(baseline, seed=5, rep=1), simulate(variant({"downstream": capacity}), seed=5, rep=1)
    for col in ("arrival", "decided", "outcome", "concern"):
        assert a.contacts[col].equals(b.contacts[col])
    same = a.pathway["prior_plan"].to_numpy() == b.pathway["prior_plan"].to_numpy()
    assert same.mean() > 0.9
    ra, rb = (np.isfinite(r.pathway["strategy_requested"].to_numpy(dtype=float))[same] for r in (a, b))
    assert (ra != rb).mean() < 0.01


@pytest.mark.parametrize("path, levels, measure", [
    (("strategy_meetings", "chairs"), [12, 19, 30], "pct_strategy_on_time"),
    (("assessments", "team"), [70, 85, 110], "pct_assessments_45d"),
])
@pytest.mark.slow
def test_monotone_more_downstream_capacity_never_worse(path, levels, measure):
    means = []
    for level in levels:
        over = {"downstream": {path[0]: {path[1]: {"establishment": {"default": level, "range": [0, 200]}}}}}
        means.append(run_replications(variant(over), reps=2, seed=2024).monthly[measure].mean())
    assert all(b >= a - 0.5 for a, b in zip(means, means[1:], strict=False)), (path, levels, means)
    assert means[-1] > means[0]


def test_backlog_counts_must_be_whole_numbers():
    from sim.scenario.schema import ScenarioError

    with pytest.raises(ScenarioError, match="whole number"):
        variant({"backlog": {"emails_unread": {"value": 2.5, "range": [0, 10]}}})


def test_front_door_backlog_changes_no_other_contact(baseline):
    base = FrontDoorModel(baseline, 3, 0)
    more = FrontDoorModel(variant({"backlog": {"emails_unread": {"value": 50, "range": [0, 100]}}}), 3, 0)
    assert len(more.arr) == len(base.arr) + 50
    assert np.array_equal(more.arr.time[50:], base.arr.time)
    assert np.array_equal(more.draws["pathway"][50:], base.draws["pathway"])
    assert np.array_equal(more.arr.decision[50:], base.arr.decision)
