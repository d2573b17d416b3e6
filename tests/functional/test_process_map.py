"""The directly-follows process map conserves contacts and agrees with vidigi's own miner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from vidigi.process_mapping import discover_dfg

from sim.measures.process_map import ARRIVAL, directly_follows, is_departure, steps
from sim.measures.vidigi_log import vidigi_log
from sim.model.replication import simulate
from sim.scenario.loading import load
from tests.helpers import ROOT


@pytest.fixture(scope="module", params=["baseline", "police_cotriage"])
def log(request, baseline_result):
    if request.param == "baseline":
        return vidigi_log(baseline_result)
    sc = load(ROOT / "scenarios" / "police_cotriage.yaml")
    return vidigi_log(simulate(sc.with_run(start=sc.run.start.replace(month=3),
                                           end=sc.run.start.replace(month=3, day=31)), 3, 0))


def test_flows_conserve_contacts_at_every_step(log):
    dfg = directly_follows(log)
    entities = log["entity_id"].nunique()
    out_of = dfg.groupby("source")["count"].sum()
    into = dfg.groupby("target")["count"].sum()
    assert out_of[ARRIVAL] == entities
    assert ARRIVAL not in into.index
    assert sum(v for k, v in into.items() if is_departure(k)) == entities
    assert not any(is_departure(k) for k in out_of.index)
    middle = (set(out_of.index) | set(into.index)) - {ARRIVAL} - {k for k in into.index if is_departure(k)}
    assert middle, "no step between arrival and departure"
    for step in middle:
        assert into.get(step, 0) == out_of.get(step, 0), step
    assert dfg["count"].sum() == len(steps(log)) - entities  # one fewer flow than steps, per contact


def test_counts_and_times_agree_with_vidigis_discover_dfg(log):
    s = steps(log)
    s["timestamp"] = pd.Timestamp("2000-01-01") + pd.to_timedelta(s["time"], unit="min")
    _, edges = discover_dfg(s, case_col="entity_id", activity_col="step", timestamp_col="timestamp")
    theirs = edges.set_index(["source", "target"]).sort_index()
    ours = directly_follows(log).set_index(["source", "target"]).sort_index()
    assert ours.index.equals(theirs.index)
    assert (ours["count"] == theirs["frequency"]).all()
    assert np.allclose(ours["mean_minutes"], theirs["mean_time"], atol=1e-3)


def test_the_routes_are_the_services(log):
    """Only the routes the front door has: a phone call is answered by a CSW, a referral from a
    conversation needs a supervisor's direction, a domestic PPN waits for the daily meeting."""
    dfg = directly_follows(log)
    edges = set(zip(dfg["source"], dfg["target"], strict=True))
    assert ("wait_conversation", "conversation") in edges
    assert ("conversation", "depart: referral") not in edges
    assert ("direction", "depart: referral") in edges
    assert ("wait_dram", "wait_da_screen") in edges
    assert not any(t == "wait_da_screen" and s != "wait_dram" for s, t in edges)
