"""`run` writes replication 0's vidigi event log and process map beside events.csv."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.helpers import BASELINE, ROOT


def _run(out, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", "run", str(BASELINE), "--reps", "2", "--seed", "9",
         "--start", "2023-10-01", "--end", "2023-10-31", "--quiet", "--out", str(out), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_run_writes_the_vidigi_log_and_process_map_of_the_replication_in_events_csv(tmp_path):
    out = tmp_path / "out"
    res = _run(out, "--events", "first")
    assert res.returncode in (0, 3), res.stderr
    events = pd.read_csv(out / "events.csv")
    log = pd.read_csv(out / "vidigi_log.csv")
    dfg = pd.read_csv(out / "process_map.csv")
    monthly = pd.read_csv(out / "monthly.csv", dtype={"month": str})
    assert set(log["run_number"]) == {0}
    departed = log[log["event"] == "depart"]
    assert sorted(departed["entity_id"]) == sorted(events["id"])
    assert len(departed) == monthly.loc[monthly["rep"] == 0, "contacts"].sum()
    assert (departed["outcome"] == "referral").sum() == monthly.loc[monthly["rep"] == 0, "referrals"].sum()
    assert dfg.loc[dfg["source"] == "arrival", "count"].sum() == len(departed)
    assert pd.to_datetime(log["timestamp"]).min() >= pd.Timestamp("2023-10-01")
    assert {"vidigi_log.csv", "process_map.csv"} <= set(json.loads((out / "run.json").read_text())["files"])
    # a later run without event logs leaves no stale copy of these behind
    res = _run(out, "--events", "none")
    assert res.returncode in (0, 3), res.stderr
    assert not (out / "vidigi_log.csv").exists() and not (out / "process_map.csv").exists()
