"""Answers in the partner's and the board's units: supervisor hours, officer hours, posts,
referrals avoided and overtime per post, each checked against an independent computation from
what `run` writes (the event log, the monthly table) or from the scenario file itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim.cli
from sim.measures.posts import FTE_HOURS_A_MONTH
from sim.scenario.params import month_value
from tests.helpers import ROOT, baseline_doc

pytestmark = pytest.mark.slow  # each runs replications (5 to 25 s)

FAST = ["--executor", "serial", "--quiet"]
CSV_REL = 5e-6  # the output CSVs' rounding (sim/io/output.py: float_format "%.6g"), relative
# a month of police co-triage, from the start of February 2024 (it starts on 22 January)
COTRIAGE_FEB = ["--start", "2024-02-01", "--end", "2024-02-29"]


def _run(out: Path, scenario: str, *args: str) -> pd.DataFrame:
    rc = sim.cli.main(["run", str(ROOT / "scenarios" / scenario), *args, "--out", str(out), *FAST])
    assert rc in (0, 3)
    return pd.read_csv(out / "monthly.csv")


def _hours(start: pd.Series, end: pd.Series) -> pd.Series:
    return (pd.to_datetime(end) - pd.to_datetime(start)).dt.total_seconds().fillna(0) / 3600


def test_ps_task_hours_are_the_supervisors_task_times_in_the_event_log(tmp_path):
    monthly = _run(tmp_path, "police_cotriage.yaml", "--reps", "2", "--seed", "5", *COTRIAGE_FEB)
    ev = pd.read_csv(tmp_path / "events.csv")
    month = pd.to_datetime(ev["arrival"]).dt.strftime("%Y-%m")
    by_ps = ev["screen_by"].fillna("").str.startswith("ps-")
    task = (_hours(ev["screen_start"], ev["screen_end"]).where(by_ps, 0)
            + _hours(ev["direction_start"], ev["direction_end"])
            + _hours(ev["cotriage_start"], ev["cotriage_end"]))
    tasks = (by_ps.astype(int) + ev["direction_end"].notna() + ev["cotriage_end"].notna())
    logged = task.groupby([ev["rep"], month]).sum()
    count = tasks.groupby([ev["rep"], month]).sum()
    got = monthly.set_index(["rep", "month"])["ps_task_hours"]
    assert len(got) == 2 and (ev["cotriage_end"].notna()).sum() > 0  # co-triage took place
    # the event log writes times to the second: each task's hours can differ by up to a second
    assert np.all(np.abs(got - logged.reindex(got.index)) <= count.reindex(got.index) / 3600)
    # the pair's officer is there for every co-triage discussion, and for the waits between them;
    # the pair's supervisor (one of the day's supervisors) only for the discussions
    pair = _hours(ev["cotriage_start"], ev["cotriage_end"]).groupby([ev["rep"], month]).sum()
    officer = monthly.set_index(["rep", "month"])["cotriage_officer_hours"]
    assert np.all(officer >= pair.reindex(officer.index) - 1e-6)
    n_ct = ev["cotriage_end"].notna().groupby([ev["rep"], month]).sum().reindex(got.index)
    supervisor = monthly.set_index(["rep", "month"])["ps_pair_hours"]
    assert np.all(np.abs(supervisor - pair.reindex(supervisor.index)) <= n_ct / 3600)
    assert np.all(supervisor < officer)


def test_without_cotriage_no_officer_hours_and_overtime_per_post_is_over_the_files_posts(tmp_path):
    monthly = _run(tmp_path, "baseline_2024.yaml", "--reps", "2", "--seed", "5", *COTRIAGE_FEB)
    assert (monthly["cotriage_officer_hours"] == 0).all() and (monthly["ps_pair_hours"] == 0).all()
    # filled posts as the scenario document states them for February 2024 (baseline_2024 keeps
    # the baseline's staffing): establishment x (1 - vacancy), read from the document itself
    doc = baseline_doc()
    for pool in ("csw", "ps"):
        staff = doc["staff"][pool]
        filled = (month_value(staff["establishment"], "2024-02")
                  * (1 - month_value(staff["vacancy_rate"], "2024-02")))
        assert np.allclose(monthly[f"overtime_per_post_{pool}"], monthly[f"overtime_hours_{pool}"] / filled)


def _t_interval(x: np.ndarray) -> tuple[float, float, float]:
    m, half = x.mean(), stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return m, m - half, m + half


def test_period_totals_are_t_intervals_of_each_replications_totals(tmp_path):
    """compare's `period total` rows against the same runs' monthly.csv, summed by hand; and the
    signs: fewer referrals in the scenario is a positive referrals_avoided."""
    fewer = tmp_path / "fewer_referrals.yaml"
    fewer.write_text("extends: baseline_2024.yaml\nname: fewer referrals\noutcomes:\n"
                     "  conversation_referral_ratio:\n    value: 0.5\n    range: [0.5, 1.0]\n")
    ref_file = ROOT / "scenarios" / "baseline_2024.yaml"
    start = ["--start", "2024-01-01", "--end", "2024-02-29"]
    reps = 3
    mon = {}
    for name, path in (("ref", ref_file), ("alt", fewer)):
        rc = sim.cli.main(["run", str(path), "--reps", str(reps), "--seed", "9", *start, "--events", "none",
                           "--out", str(tmp_path / name), *FAST])
        assert rc in (0, 3)
        mon[name] = pd.read_csv(tmp_path / name / "monthly.csv")
    rc = sim.cli.main(["compare", str(ref_file), str(fewer), "--reps", str(reps), "--seed", "9", *start,
                       "--out", str(tmp_path / "cmp"), *FAST])
    assert rc in (0, 3)
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    total = table[(table["month"] == "period total") & (table["scenario"] == "fewer referrals")]
    summed = ["referrals", "ps_task_hours", "abandoned_calls"]
    tot = {k: v.groupby("rep")[summed].sum() for k, v in mon.items()}

    def row(measure: str) -> pd.Series:
        return total[total["measure"] == measure].iloc[0]

    for measure in ("referrals", "ps_task_hours", "abandoned_calls"):
        m, lo, hi = _t_interval((tot["alt"][measure] - tot["ref"][measure]).to_numpy())
        r = row(measure)
        assert np.allclose([r["diff_from_first"], r["diff_ci_low"], r["diff_ci_high"]], [m, lo, hi],
                           rtol=1e-4, atol=1e-3), measure
        m, lo, hi = _t_interval(tot["alt"][measure].to_numpy(dtype=float))
        assert np.allclose([r["mean"], r["ci_low"], r["ci_high"]], [m, lo, hi], rtol=1e-4, atol=1e-3)
    avoided = (tot["ref"]["referrals"] - tot["alt"]["referrals"]).to_numpy()
    assert avoided.min() > 0  # halving the conversations' referrals makes fewer referrals...
    m, lo, hi = _t_interval(avoided.astype(float))
    r = row("referrals_avoided")
    assert r["mean"] > 0 and np.allclose([r["mean"], r["ci_low"], r["ci_high"]], [m, lo, hi], rtol=1e-4)
    assert r["mean"] == pytest.approx(-row("referrals")["diff_from_first"])  # ...a positive number
    # posts over the period: the hours saved over one post's hours in two whole months
    saved = (tot["ref"]["ps_task_hours"] - tot["alt"]["ps_task_hours"]).to_numpy()
    m, lo, hi = _t_interval(saved / (FTE_HOURS_A_MONTH.value * 2))
    r = row("ps_fte_saved")
    assert np.allclose([r["mean"], r["ci_low"], r["ci_high"]], [m, lo, hi], rtol=1e-4, atol=1e-6)
    # per month: referrals_avoided is the reference's referrals less the scenario's, month by month
    jan = table[(table["month"] == "2024-01") & (table["scenario"] == "fewer referrals")
                & (table["measure"] == "referrals_avoided")].iloc[0]
    per = (mon["ref"].set_index(["rep", "month"])["referrals"]
           - mon["alt"].set_index(["rep", "month"])["referrals"]).xs("2024-01", level="month")
    # comparison.csv writes 6 significant figures: at most half a unit of the 6th, 5e-6 relative
    assert jan["mean"] == pytest.approx(per.mean(), rel=CSV_REL, abs=0.0)
    # a measure that is not a count has no period total (a share does not add up)
    assert "pct_completed_within_1wd" not in set(total["measure"])


def test_run_warns_when_cotriage_starts_after_the_period_ends(tmp_path, capsys):
    f = tmp_path / "cotriage_2023.yaml"
    f.write_text("extends: baseline.yaml\nname: co-triage in 2023\nrun:\n  end: 2023-07-31\n"
                 "cotriage:\n  enabled: true\n")
    rc = sim.cli.main(["run", str(f), "--reps", "1", "--events", "none", "--out", str(tmp_path / "o"), *FAST])
    err = capsys.readouterr().err
    assert rc in (0, 3), err
    lines = [x for x in err.splitlines() if x.startswith("warning: cotriage")]
    assert lines == ["warning: cotriage.start: police co-triage is switched on but starts on 22 January"
                     " 2024, after the period ends (31 July 2023): it changes nothing in these results"]
    meta = json.loads((tmp_path / "o" / "run.json").read_text())
    assert [x["setting"] for x in meta["inactive_settings"]] == ["cotriage.start"]
    # the same scenario on a period co-triage reaches: no warning
    rc = sim.cli.main(["run", str(f), "--reps", "1", "--events", "none", "--start", "2024-02-01",
                       "--end", "2024-02-29", "--out", str(tmp_path / "o"), *FAST])
    assert "warning: cotriage" not in capsys.readouterr().err


def test_compare_warns_naming_the_setting_that_cannot_act_in_the_period(tmp_path, capsys):
    july = "extends: baseline.yaml\nrun:\n  start: 2023-07-01\n  end: 2023-07-31\n"
    base = tmp_path / "july.yaml"
    base.write_text(july)
    on = tmp_path / "on.yaml"
    on.write_text(july + "name: co-triage on\ncotriage:\n  enabled: true\n")
    rc = sim.cli.main(["compare", str(base), str(on), "--reps", "1", "--out", str(tmp_path / "o"), *FAST])
    err = capsys.readouterr().err
    assert rc in (0, 3), err
    assert [x for x in err.splitlines() if x.startswith("warning:")] == [
        "warning: co-triage on: cotriage.start: police co-triage is switched on but starts on 22 January"
        " 2024, after the period ends (31 July 2023): it changes nothing in these results"]
