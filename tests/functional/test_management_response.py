"""The management response (scenario `response`, sim/model/frontdoor.py `_respond`, `_triage`) and
the supervisors' lanes: caps kept, switches honoured, the triage acting as stated, priority
ageing bounding waits, no channel starved, and every contact still accounted for."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
import pandas as pd
import pytest

from sim.measures.metrics import monthly
from sim.model.frontdoor import FrontDoorModel
from sim.model.results import RepResult
from sim.scenario.loading import deep_merge, load, read_document
from sim.scenario.schema import Scenario, validate
from tests.helpers import ROOT, assert_conserved, baseline_doc, staff_level, variant

SEED = 20230701
_RUN = baseline_doc()["run"]
SHORT = {k: {**_RUN[k], "value": _RUN[k]["range"][0]} for k in ("warmup_days", "cooldown_days")}
# fewer supervisors than the baseline's calibrated posts, so the queue goes over the trigger most days
STRESSED = staff_level("ps", 5)
# the longest waits of the supervisors' lanes beyond any run (the schema's range widened to allow it)
NO_AGEING = {"service": {"ps_max_wait_hours": {k: {"value": 1e6, "range": [1, 1e6]}
                                               for k in ("direction", "ppn", "email")}}}
PS_KINDS = ("email_screen", "ppn_screen", "direction")


def short(overrides: dict | None = None, start: str = "2023-07-01", end: str = "2023-08-31") -> Scenario:
    return variant(overrides, start=start, end=end, **SHORT)


def run_model(sc: Scenario, rep: int = 0) -> tuple[FrontDoorModel, RepResult]:
    model = FrontDoorModel(sc, SEED, rep)
    return model, model.run()


@pytest.fixture(scope="module")
def stressed() -> tuple[FrontDoorModel, RepResult]:
    return run_model(short(STRESSED))


@pytest.fixture(scope="module")
def stressed_cotriage() -> tuple[FrontDoorModel, RepResult]:
    """The stressed supervisors with police co-triage (the pair's supervisor one of the day's)."""
    path = ROOT / "scenarios" / "police_cotriage.yaml"
    doc = deep_merge(read_document(path.read_text(encoding="utf-8"), str(path), path.parent), STRESSED)
    doc["run"] = {**doc["run"], "start": "2024-02-01", "end": "2024-03-31", **SHORT}
    sc = validate(doc, "police_cotriage, stressed")
    assert sc.cotriage.enabled and sc.cotriage.supervisors_from_ps_pool
    return run_model(sc)


def iso_week(res: RepResult, k: int) -> tuple[int, int]:
    year, week, _ = res.cal.dates[res.cal.working_day_index[k]].isocalendar()
    return year, week


def rows(res: RepResult, what: str) -> pd.DataFrame:
    return res.response[res.response["what"] == what]


def triggered_days(res: RepResult) -> set[int]:
    return set(rows(res, "triggered")["working_day"].tolist())


def overtime_worked(model: FrontDoorModel, res: RepResult) -> pd.DataFrame:
    """Supervisor tasks (a pair's supervisor's co-triage included) started after a close, read
    off the stage log: the day, the member, and the minutes worked inside the overtime the
    response granted that member that day."""
    cal, ps = res.cal, model.pools["ps"]
    st = res.stages
    s = st[st["pool"].isin(("ps", "cotriage")) & np.isfinite(st["start"])]
    start = s["start"].to_numpy()
    end = np.where(np.isfinite(s["end"].to_numpy()), s["end"].to_numpy(), cal.horizon)
    out = []
    for t0, t1, sid in zip(start, end, s["server"].to_numpy(), strict=True):
        if cal.is_open(t0):
            continue
        k = bisect_right(cal.closes, t0) - 1
        grant = ps.overtime.get((k, int(sid)), 0.0)
        out.append((k, int(sid), t0 - cal.closes[k], grant, min(t1, cal.closes[k] + grant) - t0))
    return pd.DataFrame(out, columns=["working_day", "member", "after_close", "grant", "minutes"])


# ---------------------------------------------------------------------------------------------
# caps and triggers


def test_the_response_acts_only_on_days_the_morning_queue_is_over_the_trigger(stressed):
    model, res = stressed
    qd = res.queue_daily
    over = set(qd.loc[qd["ps"] > res.scenario.response.trigger_items.value, "working_day"].tolist())
    assert over and triggered_days(res) == over
    for what in ("overtime", "lent_to_screening", "manager_screening"):
        used = set(rows(res, what)["working_day"].tolist())
        assert used, f"the stressed run never used {what}"
        assert used <= over, f"{what} used on a day the queue was not over the trigger"
    # the triage is every opening's, triggered or not
    assert sorted(rows(res, "morning_triage")["working_day"]) == list(range(len(res.cal.opens)))


@pytest.mark.parametrize("which", ["stressed", "stressed_cotriage"])
def test_supervisor_overtime_keeps_within_the_day_and_the_week(which, request):
    model, res = request.getfixturevalue(which)
    ot = res.scenario.response.overtime
    worked = overtime_worked(model, res)
    assert len(worked), "no supervisor task started in overtime in the stressed run"
    assert (worked["grant"] > 0).all(), "a supervisor started a task after the close with no overtime granted"
    assert (worked["after_close"] < worked["grant"]).all(), "a task started after the overtime ended"
    assert (worked["member"] < model.pools["ps"].posts).all(), "overtime by someone not a supervisor post"
    assert set(worked["working_day"]) <= triggered_days(res)
    per_day = worked.groupby(["working_day", "member"])["minutes"].sum()
    assert per_day.max() <= ot.hours_per_day.value * 60 + 1e-6
    week = worked.assign(week=[iso_week(res, k) for k in worked["working_day"]])
    per_week = week.groupby(["member", "week"])["minutes"].sum()
    assert per_week.max() <= ot.cap_hours_per_week.value * 60 + 1e-6, per_week.max()
    # the response's own log and the monthly measure count exactly this work
    assert np.isclose(rows(res, "overtime")["hours"].sum(), worked["minutes"].sum() / 60)
    run = res.scenario.run
    day = [res.cal.dates[res.cal.working_day_index[k]] for k in worked["working_day"]]
    in_period = worked[[run.start <= d <= run.end for d in day]]
    assert np.isclose(monthly(res)["response_overtime_hours"].sum(), in_period["minutes"].sum() / 60)


def test_consultant_social_workers_are_lent_within_posts_days_and_phone_cover(stressed):
    model, res = stressed
    lc = res.scenario.response.lent_csws
    lent = rows(res, "lent_to_screening")
    assert len(lent), "no consultant social worker was lent in the stressed run"
    per_day = lent.groupby("working_day").size()
    assert per_day.max() <= lc.posts.value
    days_a_week = pd.Series([iso_week(res, k) for k in per_day.index]).value_counts()
    assert days_a_week.max() <= lc.cap_days_per_week.value
    rota = model.rotas["csw"]
    for k, n in per_day.items():
        left = int(rota.on_duty[k].sum()) - n
        assert left >= rota.min_cover[k], f"working day {k}: {left} left on the phones"
    # the lent members (places past the supervisor posts, before the manager's) only screen
    # emails, and only on the days they were lent
    st = res.stages
    ps = model.pools["ps"]
    theirs = st[(st["pool"] == "ps") & (st["server"] >= ps.posts) & (st["server"] < model.tm)
                & np.isfinite(st["start"])]
    assert len(theirs) and (theirs["kind"] == "email_screen").all()
    days = np.searchsorted(res.cal.closes_arr, theirs["start"].to_numpy(), side="left")
    assert set(days.tolist()) <= set(per_day.index)


def test_a_consultant_social_worker_lent_for_the_day_takes_no_call_that_day(stressed):
    model, res = stressed
    rota, csw = model.rotas["csw"], model.pools["csw"]
    lent = [(k, j) for k in range(len(csw.on)) for j in range(csw.posts)
            if rota.on_duty[k][j] and not csw.on[k][j]]  # on the rota, taken off the phones
    assert len(lent) == len(rows(res, "lent_to_screening"))
    st = res.stages
    calls = st[(st["pool"] == "csw") & np.isfinite(st["start"])]
    day = np.searchsorted(res.cal.closes_arr, calls["start"].to_numpy(), side="left")
    taken = set(zip(day.tolist(), calls["server"].tolist(), strict=True))
    assert not taken & set(lent), "a consultant social worker took a call on a day lent to screening"


def test_the_team_manager_screens_within_the_week_and_after_the_triage(stressed):
    model, res = stressed
    ms, tr = res.scenario.response.manager_screening, res.scenario.response.morning_triage
    screening = rows(res, "manager_screening")
    assert len(screening)
    assert screening["hours"].max() <= ms.hours_per_day.value + 1e-9
    weekly = screening.groupby([str(iso_week(res, k)) for k in screening["working_day"]])["hours"].sum()
    assert weekly.max() <= ms.cap_hours_per_week.value + 1e-9
    triage = rows(res, "morning_triage").set_index("working_day")["hours"]
    assert triage.max() * 60 <= tr.cap_hours_per_day.value * 60 + 1e-9
    # the manager's tasks start on the days put on, after the day's triage, before the grant ends
    st = res.stages
    mine = st[(st["pool"] == "ps") & (st["server"] == model.tm) & np.isfinite(st["start"])]
    assert len(mine)
    cal = res.cal
    grant = screening.set_index("working_day")["hours"]
    for t0 in mine["start"].to_numpy():
        k = int(np.searchsorted(cal.closes_arr, t0, side="left"))
        assert k in grant.index, "the team manager screened on a day not put on"
        since_open = t0 - cal.opens[k]
        assert triage[k] * 60 - 1e-6 <= since_open < (triage[k] + grant[k]) * 60


@pytest.mark.parametrize("switch,what", [("overtime", "overtime"), ("lent_csws", "lent_to_screening"),
                                         ("manager_screening", "manager_screening"),
                                         ("morning_triage", "morning_triage")])
def test_switching_a_response_off_removes_its_hours_and_only_its(switch, what, stressed):
    _, on = stressed
    _, off = run_model(short(deep_merge(STRESSED, {"response": {switch: {"enabled": False}}})))
    assert len(rows(on, what)) and rows(on, what)["hours"].sum() > 0
    assert rows(off, what).empty
    m = monthly(off)
    measure = {"overtime": "response_overtime_hours", "lent_to_screening": "response_lent_csw_hours",
               "manager_screening": "response_manager_screening_hours",
               "morning_triage": "response_triage_hours"}[what]
    assert (m[measure] == 0).all()
    for other in {"overtime", "lent_to_screening", "manager_screening", "morning_triage"} - {what}:
        assert len(rows(off, other)), f"switching off {switch} also stopped {other}"
    if switch == "morning_triage":
        assert not off.contacts["closed_at_triage"].any()
        assert (m["contacts_closed_at_triage"] == 0).all()


def test_the_no_response_scenario_has_no_response_at_all():
    path = ROOT / "scenarios" / "no_response.yaml"
    sc = load(path)
    off = {"response": {k: {"enabled": False} for k in ("overtime", "lent_csws", "manager_screening",
                                                        "morning_triage")}}
    assert sc.response == variant(off).response
    assert sc.staff == variant().staff and sc.service == variant().service  # nothing else changed
    doc = deep_merge(read_document(path.read_text(encoding="utf-8"), str(path), path.parent), STRESSED)
    doc["run"] = {**doc["run"], "start": "2023-07-01", "end": "2023-08-31", **SHORT}
    model, res = run_model(validate(doc, "no_response, stressed"))
    assert set(res.response["what"]) <= {"triggered"} and len(triggered_days(res))
    assert not res.contacts["closed_at_triage"].any()
    st = res.stages
    ps = st[(st["pool"] == "ps") & np.isfinite(st["start"])]
    assert (ps["server"] < model.pools["ps"].posts).all(), "someone beyond the supervisor posts screened"
    assert all(res.cal.is_open(t) for t in ps["start"]), "a supervisor task started out of hours"


# ---------------------------------------------------------------------------------------------
# the morning triage


def test_the_triage_promotes_would_be_referrals_that_arrived_since_the_last_close():
    model = FrontDoorModel(short(), SEED, 0)
    ps, cal = model.pools["ps"], model.cal
    promoted: list[tuple[int, int, float, float]] = []  # contact, kind, queued, when promoted
    original = ps.promote

    def record(task) -> None:
        promoted.append((task.i, task.kind, task.enq, model.env.now))
        original(task)

    ps.promote = record
    res = model.run()
    assert len(promoted) > 50
    cap = res.scenario.response.morning_triage.cap_hours_per_day.value * 60
    c = res.contacts
    for i, _, queued, at in promoted:
        k = bisect_right(cal.closes, at)
        assert cal.opens[k] <= at <= cal.opens[k] + cap, "promoted outside the morning triage"
        last_close = cal.closes[k - 1] if k else -np.inf
        assert last_close <= queued <= cal.opens[k], "promoted a contact that arrived before the last close"
        assert c["outcome"].iat[i] == "referral"
        assert c["channel"].iat[i] in ("email", "ppn_nondomestic", "phone")  # phone: switched to email
        if c["channel"].iat[i] == "phone":
            assert c["switched_to_email"].iat[i]


def test_contacts_closed_at_triage_are_decided_there_as_advice_or_no_action_at_the_stated_share():
    model = FrontDoorModel(short(), SEED, 0)
    triaged: list[int] = []  # the advice or no-action contacts the triage read (its draws consulted)

    class Recorded:
        def __init__(self, u: np.ndarray) -> None:
            self.u = u

        def __getitem__(self, i: int) -> float:
            triaged.append(i)
            return self.u[i]

    model.triage_u = Recorded(model.triage_u)
    res = model.run()
    c, cal = res.contacts, res.cal
    tr = res.scenario.response.morning_triage
    closed = c[c["closed_at_triage"]]
    assert len(closed) > 30
    assert set(closed["outcome"]) <= {"info_advice", "nfa"}
    assert not closed["waited_on_checks"].any() and closed["screen_start"].isna().all()
    for t, arrived, ch in zip(closed["decided"], closed["arrival"], closed["channel"], strict=True):
        k = bisect_right(cal.closes, t)
        assert cal.opens[k] <= t <= cal.opens[k] + tr.cap_hours_per_day.value * 60
        if ch != "phone":  # a caller who gave up emailed later than they first called
            assert (cal.closes[k - 1] if k else -np.inf) <= arrived <= cal.opens[k]
    assert set(closed["id"]) <= set(triaged)
    # closed share of those read: binomial, within 4 standard errors
    n, p = len(set(triaged)), tr.closed_share.value
    share = len(closed) / n
    assert abs(share - p) <= 4 * np.sqrt(p * (1 - p) / n), (share, n)


# ---------------------------------------------------------------------------------------------
# the supervisors' lanes


def ps_waits(res: RepResult, kind: str | None = None) -> np.ndarray:
    """Office minutes each started supervisor task waited, joining the queue to starting."""
    st, cal = res.stages, res.cal
    s = st[(st["pool"] == "ps") & st["kind"].isin([kind] if kind else PS_KINDS) & np.isfinite(st["start"])]
    office = cal.working_minutes_before
    return office(s["start"].to_numpy()) - office(s["enqueued"].to_numpy())


# Margin over (longest wait + longest task): a member's block of the day away from front-door
# work (supervision, meetings) can fall due just as a task becomes overdue; an hour covers one.
AGEING_MARGIN_MINUTES = 60


def test_priority_ageing_bounds_the_longest_wait_when_supervisors_have_capacity():
    sc = short(staff_level("ps", 14), end="2023-07-31")  # the posts' range top: queue never saturated
    _, res = run_model(sc)
    st = res.stages
    done = st[(st["pool"] == "ps") & st["kind"].isin(PS_KINDS) & np.isfinite(st["end"])]
    longest_task = float((done["end"] - done["start"]).max())
    longest_wait = max(v.value for v in sc.service.ps_max_wait_hours.values()) * 60
    waits = ps_waits(res)
    assert waits.max() <= longest_wait + longest_task + AGEING_MARGIN_MINUTES, waits.max()


def test_without_ageing_emails_wait_longer():
    aged = run_model(short())[1]
    unaged = run_model(short(NO_AGEING))[1]
    with_ageing, without = ps_waits(aged, "email_screen"), ps_waits(unaged, "email_screen")
    assert without.max() > with_ageing.max()
    assert np.percentile(without, 95) > np.percentile(with_ageing, 95)


def test_triage_promotions_are_not_left_behind_overdue_work(stressed):
    """What the triage puts first is never served after the other lanes' overdue heads: its
    mean wait is no longer than the rest's."""
    model = FrontDoorModel(short(STRESSED), SEED, 0)
    promoted: set[int] = set()
    ps = model.pools["ps"]
    original = ps.promote

    def record(task) -> None:
        promoted.add(task.i)
        original(task)

    ps.promote = record
    res = model.run()
    st = res.stages
    s = st[(st["pool"] == "ps") & st["kind"].isin(PS_KINDS) & np.isfinite(st["start"])]
    waits = ps_waits(res)
    first = s["contact"].isin(promoted).to_numpy()
    assert first.sum() > 50
    assert waits[first].mean() <= waits[~first].mean()


# Points below the overall share a channel may sit: domestic PPNs go to the 4-post domestic abuse
# hub, where one absence is a quarter of its capacity; on the baseline they sit about 12 points
# below the overall share in July-September (80% against 92%, 3 replications of the seed), the
# other channels above it. 15 points leaves room for the replications' spread, and a channel
# starved by the supervisors' lanes (emails last with no ageing) falls far further.
CHANNEL_GAP_POINTS = 15


def test_no_channel_starves_on_the_baseline():
    sc = short(end="2023-09-30")
    m = pd.concat([monthly(run_model(sc, rep)[1]) for rep in range(3)])
    overall = m["pct_completed_within_1wd"].mean()
    for ch in ("phone", "email", "ppn_domestic", "ppn_nondomestic"):
        share = m[f"pct_within_1wd_{ch}"].mean()
        assert share >= overall - CHANNEL_GAP_POINTS, f"{ch}: {share:.1f}% against {overall:.1f}% overall"


# ---------------------------------------------------------------------------------------------
# conservation and the measures


@pytest.mark.parametrize("which", ["stressed", "stressed_cotriage"])
def test_contacts_are_conserved_with_triage_closures_and_checks(which, request):
    _, res = request.getfixturevalue(which)
    assert res.contacts["closed_at_triage"].any() and res.contacts["waited_on_checks"].any()
    assert_conserved(res)


def test_the_share_waiting_on_checks_is_the_stated_share_of_those_that_could():
    _, res = run_model(short())
    c = res.contacts
    decided = np.isfinite(c["decided"].to_numpy())
    m = monthly(res)
    assert m["pct_waited_on_checks"].between(0, 100).all()
    # EDT contacts, triage closures and co-triage settlements never wait on checks
    never = c["edt"].to_numpy() | c["closed_at_triage"].to_numpy()
    could = decided & ~never
    waited = c["waited_on_checks"].to_numpy()
    assert not np.any(waited & never)
    p, n = res.scenario.service.checks_share.value, int(could.sum())
    share = (waited & decided).sum() / n
    assert abs(share - p) <= 4 * np.sqrt(p * (1 - p) / n), (share, p)


def test_the_response_measures_count_the_triggered_days_and_closures_by_month(stressed):
    _, res = stressed
    m = monthly(res).set_index("month")
    cal, qd = res.cal, res.queue_daily
    over = qd[qd["ps"] > res.scenario.response.trigger_items.value]
    months = pd.to_datetime(over["day"]).dt.strftime("%Y-%m")
    counted = months.value_counts().reindex(m.index, fill_value=0)
    assert (m["response_days_triggered"] == counted).all()
    c = res.contacts
    arrived = pd.Timestamp(cal.epoch) + pd.to_timedelta(c.loc[c["closed_at_triage"], "arrival"], unit="min")
    month_of = arrived.dt.strftime("%Y-%m").value_counts()
    assert (m["contacts_closed_at_triage"] == month_of.reindex(m.index, fill_value=0)).all()
    assert (m["contacts_closed_at_triage"] <= m["info_advice"] + m["nfa"]).all()
