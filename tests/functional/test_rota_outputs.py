"""What a manager can check of the rota: rota.csv row for row against the model's own rota, and
the monthly rota measures (front-door hours, task hours, days below cover, overtime per post,
the share completed within 1 working day by channel) against what they are made of."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import holidays
import numpy as np
import pandas as pd
import pytest

from sim.experiments.runner import rota_rows
from sim.measures.metrics import MEASURES, monthly
from sim.model.replication import simulate
from sim.scenario.loading import read_document
from sim.scenario.schema import CHANNELS, POOLS, validate
from tests.helpers import ROOT, cli_exit, short_run_file

pytestmark = pytest.mark.slow  # each simulates two to three months (a few seconds)

COTRIAGE = ROOT / "scenarios" / "police_cotriage.yaml"
START, END = date(2024, 2, 1), date(2024, 3, 31)  # co-triage running (from 22 January 2024)


@pytest.fixture(scope="module")
def cotriage_result():
    """One replication of police co-triage over February and March 2024, the shortest warm-up;
    social workers asked to keep every post on duty, with the most sickness allowed, so some
    days fall below cover."""
    doc = read_document(COTRIAGE.read_text(encoding="utf-8"), str(COTRIAGE), COTRIAGE.parent)
    csw = doc["staff"]["csw"]
    csw["sickness_rate"] = {**csw["sickness_rate"], "value": csw["sickness_rate"]["range"][1]}
    csw["rota"]["min_cover"] = {**csw["rota"]["min_cover"], "value": csw["rota"]["min_cover"]["range"][1]}
    doc["run"] = {**doc["run"], "start": START, "end": END}
    for key in ("warmup_days", "cooldown_days"):
        doc["run"][key] = {**doc["run"][key], "value": doc["run"][key]["range"][0]}
    sc = validate(doc, "co-triage, two months")
    assert sc.cotriage.enabled and sc.cotriage.supervisors_from_ps_pool
    res = simulate(sc, 7, 0)
    return res, monthly(res)


def _working_days(first: date, last: date) -> list[date]:
    """Weekdays that are not English bank holidays, from the holidays package directly."""
    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(first.year, last.year + 1))
    return [d.date() for d in pd.date_range(first, last) if d.weekday() < 5 and d.date() not in bank]


def test_run_writes_rota_csv_with_a_row_per_replication_working_day_and_pool(tmp_path):
    scenario = short_run_file(tmp_path, "rota check", "2023-07-01", "2023-08-31")
    out = tmp_path / "out"
    assert cli_exit(["run", str(scenario), "--reps", "2", "--seed", "11", "--events", "none",
                     "--executor", "serial", "--quiet", "--out", str(out)]) in (0, 3)
    rota = pd.read_csv(out / "rota.csv")
    assert list(rota.columns) == ["rep", "day", "pool", "posts_filled", "on_leave", "sick", "on_duty",
                                  "min_cover", "cover_kept", "frontdoor_hours", "response_hours"]
    days = [str(d) for d in _working_days(date(2023, 7, 1), date(2023, 8, 31))]
    assert len(rota) == 2 * len(days) * len(POOLS)
    assert sorted(set(rota["day"])) == days  # the reported period's working days only
    assert set(rota.groupby(["rep", "day"]).size()) == {len(POOLS)}
    assert (rota["response_hours"] >= 0).all()
    assert "rota.csv" in json.loads((out / "run.json").read_text())["files"]
    # the same rows as the model's own rota, replication by replication
    from sim.scenario.loading import load

    sc = load(scenario)
    for rep in (0, 1):
        own = simulate(sc, 11, rep).rota
        own = own[(own["day"] >= np.datetime64("2023-07-01")) & (own["day"] <= np.datetime64("2023-08-31"))]
        own = own.assign(day=pd.to_datetime(own["day"]).dt.strftime("%Y-%m-%d")).set_index(["day", "pool"])
        got = rota[rota["rep"] == rep].set_index(["day", "pool"]).reindex(own.index)
        assert (got["on_duty"].to_numpy() == own["on_duty"].to_numpy()).all()
        assert (got["cover_kept"].to_numpy() == own["cover_kept"].to_numpy()).all()
        assert np.allclose(got["frontdoor_hours"], own["frontdoor_hours"], rtol=1e-5)
        assert np.allclose(got["response_hours"], own["response_hours"], rtol=1e-5, atol=1e-4)


def test_rota_rows_use_the_models_response_hours_when_it_records_them(cotriage_result):
    res, _ = cotriage_result
    with_response = res.rota.assign(response_hours=np.arange(len(res.rota), dtype=float))
    rows = rota_rows(dataclasses.replace(res, rota=with_response))
    period = with_response[(with_response["day"] >= np.datetime64(START))
                           & (with_response["day"] <= np.datetime64(END))]
    assert sorted(rows["response_hours"]) == sorted(period["response_hours"])


def test_task_hours_are_the_stage_durations_worked_in_the_period(cotriage_result):
    res, m = cotriage_result
    cal, st = res.cal, res.stages
    t0, t1 = cal.minutes_at(START), cal.minutes_at(END) + 1440.0
    for pool in POOLS:
        s = st[(st["pool"] == pool) | ((pool == "ps") & (st["pool"] == "cotriage"))]
        s = s[np.isfinite(s["start"])]
        end = s["end"].fillna(cal.horizon)
        worked = (np.minimum(end, t1) - np.maximum(s["start"], t0)).clip(lower=0).sum() / 60.0
        assert m[f"task_hours_{pool}"].sum() == pytest.approx(worked, rel=1e-9), pool
        # task hours are the office-hours busy time (utilisation) plus the overtime
        in_office = m[f"util_{pool}"] / 100 * m[f"frontdoor_hours_{pool}"]
        assert np.allclose(m[f"task_hours_{pool}"] - m[f"overtime_hours_{pool}"], in_office), pool
    assert m["task_hours_cotriage"].sum() > 0  # co-triage took place


def test_front_door_hours_and_days_below_cover_are_the_rotas_by_month(cotriage_result):
    res, m = cotriage_result
    rows = rota_rows(res)
    month = pd.to_datetime(rows["day"]).dt.strftime("%Y-%m")
    months = list(m["month"])
    assert months == ["2024-02", "2024-03"]
    for pool in POOLS:
        mine = rows["pool"] == pool
        hours = rows.loc[mine, "frontdoor_hours"].groupby(month[mine]).sum().reindex(months)
        assert np.allclose(m[f"frontdoor_hours_{pool}"], hours), pool
        short = (~rows.loc[mine, "cover_kept"]).groupby(month[mine]).sum().reindex(months)
        assert (m[f"days_cover_not_kept_{pool}"].to_numpy() == short.to_numpy()).all(), pool
    assert m["days_cover_not_kept_csw"].sum() > 0


def test_overtime_per_post_is_the_overtime_over_the_rotas_filled_posts(cotriage_result):
    res, m = cotriage_result
    rows = rota_rows(res)
    month = pd.to_datetime(rows["day"]).dt.strftime("%Y-%m")
    for pool in ("csw", "ps", "da_hub"):  # no dated staffing change inside these months
        mine = rows["pool"] == pool
        filled = rows.loc[mine, "posts_filled"].groupby(month[mine]).mean().reindex(m["month"])
        assert np.allclose(m[f"overtime_per_post_{pool}"], m[f"overtime_hours_{pool}"] / filled.to_numpy(),
                           rtol=1e-5), pool


def test_the_channels_shares_within_1wd_weighted_by_their_contacts_are_the_overall_share(cotriage_result):
    res, m = cotriage_result
    ch = res.contacts["channel"]
    arrival_month = pd.Series(res.cal.to_datetime(res.contacts["arrival"].to_numpy())).dt.strftime("%Y-%m")
    counts = pd.crosstab(arrival_month, ch).reindex(index=m["month"], columns=list(CHANNELS), fill_value=0)
    assert counts.sum(axis=1).tolist() == m["contacts"].tolist()  # the channels cover every contact
    weighted = sum(m[f"pct_within_1wd_{c}"].fillna(0).to_numpy() * counts[c].to_numpy() for c in CHANNELS)
    assert np.allclose(weighted / m["contacts"].to_numpy(), m["pct_completed_within_1wd"])
    assert (m[[f"pct_within_1wd_{c}" for c in CHANNELS]].nunique(axis=1) > 1).all()  # not one number


def test_overtime_labels_state_hours_a_month_whole_team_and_per_filled_post():
    for pool in POOLS:
        team, unit = MEASURES[f"overtime_hours_{pool}"]
        assert "hours a month" in team and "whole team" in team and unit == "hours"
        per, unit = MEASURES[f"overtime_per_post_{pool}"]
        assert "hours a month per filled post" in per and unit == "hours a month per filled post"
        for key in (f"frontdoor_hours_{pool}", f"task_hours_{pool}", f"days_cover_not_kept_{pool}"):
            assert MEASURES[key][0] and MEASURES[key][1], key
