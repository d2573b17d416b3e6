"""`python -m sim run` writes the event log, the monthly measures and the summary."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.helpers import BASELINE, ROOT

REQUIRED = ["rep", "month", "contacts", "police_contacts", "police_info_advice",
            "pct_police_info_advice", "referrals", "pct_contacts_to_referral",
            "pct_completed_within_1wd", "strategy_meetings", "s47_enquiries",
            "pct_strategy_to_s47", "phone_contacts", "email_contacts", "ppn_contacts"]


@pytest.mark.slow
def test_run_writes_events_monthly_summary(tmp_path):
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(BASELINE), "--reps", "2", "--seed", "5",
         "--start", "2023-09-01", "--end", "2023-10-31", "--workers", "2", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode in (0, 3), res.stderr
    monthly = pd.read_csv(out / "monthly.csv", dtype={"month": str})
    assert set(REQUIRED) <= set(monthly.columns)
    assert list(monthly["month"].unique()) == ["2023-09", "2023-10"]
    assert sorted(monthly["rep"].unique()) == [0, 1]
    assert any(c.startswith("util_") for c in monthly.columns)
    assert any(c.startswith("queue_") for c in monthly.columns)
    assert any(c.startswith("wait_hours_") for c in monthly.columns)
    events = pd.read_csv(out / "events.csv")
    for col in ("id", "source", "channel", "arrival", "conversation_start", "screen_end",
                "screen_by", "outcome", "decided"):
        assert col in events.columns
    # the monthly counts are the event log's counts
    ev0 = events[events["rep"] == 0]
    sep = ev0[ev0["arrival"].str.startswith("2023-09")]
    row = monthly[(monthly["rep"] == 0) & (monthly["month"] == "2023-09")].iloc[0]
    assert len(sep) == row["contacts"]
    assert (sep["outcome"] == "referral").sum() == row["referrals"]
    assert 100 * sep["completed_within_1wd"].mean() == pytest.approx(row["pct_completed_within_1wd"],
                                                                   abs=1e-3)
    summary = pd.read_csv(out / "summary.csv")
    s = summary[(summary["measure"] == "contacts") & (summary["month"] == "2023-09")].iloc[0]
    assert s["ci_low"] <= s["mean"] <= s["ci_high"]
    assert s["mean"] == pytest.approx(monthly[monthly["month"] == "2023-09"]["contacts"].mean())
    meta = json.loads((out / "run.json").read_text())
    assert meta["reps"] == 2 and meta["seed"] == 5
    assert "% of contacts completed within 1 working day" in res.stdout


def test_run_with_bad_arguments_exits_2_with_one_line(tmp_path):
    res = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--reps", "0"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "--reps" in res.stderr
    res = subprocess.run([sys.executable, "-m", "sim", "run", str(tmp_path / "none.yaml")],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "no such scenario file" in res.stderr
    assert "Traceback" not in res.stderr


def test_help_lists_commands_and_exit_codes():
    res = subprocess.run([sys.executable, "-m", "sim", "--help"], cwd=ROOT, capture_output=True,
                         text=True)
    assert res.returncode == 0
    for word in ("run", "check", "bench", "exit codes"):
        assert word in res.stdout
