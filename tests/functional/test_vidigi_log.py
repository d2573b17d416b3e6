"""The vidigi event log: accepted by vidigi's own checks, and a faithful copy of the model's.

Two replications: the baseline's (callers who hang up and call back, a period with a
cool-down after it) and a month of police co-triage that stops on the period's last day, so
contacts, and tasks in hand, are still open at the stop.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest
from vidigi.analysis import _check_no_overlapping_resource_bouts, resource_use_intervals
from vidigi.logging import EventLogger
from vidigi.prep import reshape_for_animations
from vidigi.utils import _check_one_arrival_per_entity, _check_single_run

from sim.experiments.runner import events_table
from sim.measures.vidigi_log import OPEN_AT_END, in_period, vidigi_log, window
from sim.model.replication import simulate
from sim.scenario.loading import load
from sim.scenario.paths import with_values
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def cotriage_result():
    sc = load(ROOT / "scenarios" / "police_cotriage.yaml")
    sc = with_values(sc, {"run.cooldown_days.value": 0, "run.cooldown_days.range": [0, 60]})
    sc = sc.with_run(start=sc.run.start.replace(month=2), end=sc.run.start.replace(month=2, day=29))
    return simulate(sc, 7, 0)


@pytest.fixture(scope="module", params=["baseline", "cotriage"])
def case(request, baseline_result, cotriage_result):
    res = baseline_result if request.param == "baseline" else cotriage_result
    return res, vidigi_log(res)


def test_the_cotriage_case_stops_with_contacts_and_tasks_open(cotriage_result):
    log = vidigi_log(cotriage_result)
    assert (log["outcome"] == OPEN_AT_END).sum() > 0
    assert (log["event"] == "cotriage_begins").sum() > 0


@pytest.mark.parametrize("which", [pytest.param("baseline_result", marks=pytest.mark.slow),
                                   "cotriage_result"])
def test_every_row_passes_vidigis_event_validation_without_a_warning(request, which):
    log = vidigi_log(request.getfixturevalue(which))
    rows = pd.read_csv(io.StringIO(log.to_csv(index=False)))  # as run writes and a user reads it
    rows["resource_id"] = rows["resource_id"].astype("Int64")
    logger = EventLogger()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for row in rows.to_dict("records"):
            row = {k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v)
                   for k, v in row.items()}
            logger.log_event(**row)
        _check_single_run(rows)
        _check_one_arrival_per_entity(rows, pathway_col_name="pathway")
    assert len(logger.get_log()) == len(log)


def test_one_arrival_and_one_departure_per_entity_and_time_runs_forward(case):
    _, log = case
    ad = log[log["event_type"] == "arrival_departure"]
    per = ad.groupby(["entity_id", "event"]).size().unstack()
    assert list(per.columns) == ["arrival", "depart"]
    assert (per == 1).all().all()
    assert set(log["entity_id"]) == set(per.index)
    first = log.groupby("entity_id")["event"].first()
    last = log.groupby("entity_id")["event"].last()
    assert (first == "arrival").all() and (last == "depart").all()
    assert (log.groupby("entity_id")["time"].diff().dropna() >= 0).all()


def test_entities_channels_and_outcomes_match_the_models_contacts(case):
    res, log = case
    ev = events_table(res)  # what events.csv holds
    dep = log[log["event"] == "depart"]
    assert len(dep) == len(ev) == int(in_period(res).sum())
    assert dep["pathway"].value_counts().sort_index().equals(ev["channel"].value_counts().sort_index())
    want = ev["outcome"].replace("open", OPEN_AT_END).value_counts().sort_index()
    assert dep["outcome"].value_counts().sort_index().to_dict() == want.to_dict()


def test_tasks_begun_equal_the_models_served_and_open_tasks_per_team(case):
    res, log = case
    st = res.stages[np.isin(res.stages["contact"], res.contacts["id"][in_period(res)])]
    begun = st[np.isfinite(st["start"])]
    counts = log[log["event_type"] == "resource_use"].groupby("pool").size()
    assert counts.to_dict() == begun.groupby("pool").size().to_dict()
    # a wait to call back before every call attempt but the first (the journey's own count), and
    # after the last for a caller still waiting to call back at the stop
    c = res.contacts[in_period(res)]
    callbacks = int((c["attempts"] - 1).clip(lower=0).sum())
    callbacks += int(c["open_state"].str.contains("awaiting_callback").sum())
    assert (log["event"] == "wait_callback").sum() == callbacks > 0
    waits = log[(log["event_type"] == "queue") & log["event"].str.startswith("wait_")
                & ~log["event"].isin(["wait_callback", "wait_dram"])]
    assert len(waits) == len(st)  # every queue visit, served, hung up or open, is one wait


def test_each_task_begun_ends_once_with_the_same_member_and_no_member_serves_two_at_once(case):
    res, log = case
    stop = res.cal.horizon
    for pool, rows in log[log["resource_id"].notna()].groupby("pool"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an unmatched end, or two bouts of one member at once
            iv = resource_use_intervals(rows, limit_duration=stop)
            _check_no_overlapping_resource_bouts(iv)
        assert not iv["censored"].any(), f"{pool}: a task begun never ends"
        assert len(iv) == (rows["event_type"] == "resource_use").sum()
        # a place is among the members on duty the day the task began: the rota's, with the
        # management response's members on the supervisors' (lent CSWs off the phones), and
        # for co-triage the pairs in the room (their supervisors hold the lowest places)
        begun = rows[rows["event_type"] == "resource_use"]
        day = np.searchsorted(res.cal.opens, begun["time"].to_numpy(dtype=float), side="right") - 1
        assert (begun["resource_id"] >= 1).all()
        assert (begun["resource_id"].to_numpy(dtype=int) <= _on_duty(res, pool)[day]).all(), pool
        # and names one member that day, each member one place
        per_day = begun.assign(day=day).groupby("day")
        assert (per_day.apply(lambda d: d.groupby("resource_id")["staff"].nunique().max()) == 1).all()
        assert (per_day.apply(lambda d: d.groupby("staff")["resource_id"].nunique().max()) == 1).all()


def _on_duty(res, pool: str) -> np.ndarray:
    """Members on duty each working day as the front door worked them."""
    n = res.rosters[pool].to_numpy(dtype=int).copy()
    r = res.response
    lent = np.bincount(r.loc[r["what"] == "lent_to_screening", "working_day"].to_numpy(dtype=int),
                       minlength=len(n))
    manager = np.bincount(r.loc[r["what"] == "manager_screening", "working_day"].to_numpy(dtype=int),
                          minlength=len(n))
    if pool == "ps":
        n += lent + manager
    elif pool == "csw":
        n -= lent
    return n


def test_a_window_keeps_whole_histories_so_vidigi_finds_every_arrival(baseline_result):
    log = vidigi_log(baseline_result, contacts=np.ones(len(baseline_result.contacts), dtype=bool))
    t0 = baseline_result.cal.minutes_at(baseline_result.scenario.run.start.replace(month=8, day=7))
    w = window(log, t0, t0 + 1440)
    present = w.groupby("entity_id").agg(a=("time", "min"), d=("time", "max"))
    assert ((present["a"] < t0 + 1440) & (present["d"] >= t0)).all()
    outside = log[~log["entity_id"].isin(w["entity_id"])]
    ends = outside.groupby("entity_id")["time"].agg(["min", "max"])
    assert ((ends["min"] >= t0 + 1440) | (ends["max"] < t0)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        snap = reshape_for_animations(w, every_x_time_units=30, warm_up=int(t0),
                                      limit_duration=int(t0 + 1440), step_snapshot_max=1000)
    assert snap["entity_id"].nunique() > 0
