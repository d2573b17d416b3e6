"""When the work open at the start (scenario `backlog`) was cleared: on the command line, in the
run's files and in the app, with the shipped "we start Monday with 300 unread emails" scenario."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date, datetime, timedelta

import openpyxl
import pytest
import yaml

from sim.experiments.runner import run_replications
from sim.measures.metrics import backlog_cleared_at
from sim.model.replication import simulate
from sim.scenario.loading import load
from tests.app_helpers import go, open_app
from tests.helpers import BASELINE, ROOT
from ui import params

MONDAY = ROOT / "scenarios" / "monday_backlog.yaml"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def _same_second(text: str | None, when: datetime | None) -> bool:
    if text is None or when is None:
        return text is None and when is None
    return abs(datetime.fromisoformat(text) - when) <= timedelta(seconds=0.5)


# ---------------------------------------------------------------------------------------------
# the scenario


def test_monday_backlog_scenario_declares_300_unread_emails_from_a_monday_with_sources():
    raw = yaml.safe_load(MONDAY.read_text(encoding="utf-8"))
    node = raw["backlog"]["emails_unread"]
    assert node["value"] == 300 and node["range"][0] <= 300 <= node["range"][1]
    assert node["unit"] and node["provenance"] == "judgement" and "300 unread emails" in node["source"]
    assert {"unit", "range", "provenance", "source"} <= set(raw["run"]["warmup_days"])
    sc = load(MONDAY)
    assert sc.run.start == date(2023, 10, 2) and sc.run.start.weekday() == 0
    assert 14 <= (sc.run.end - sc.run.start).days <= 42 and sc.run.warmup_days.value == 0
    assert sc.backlog.emails_unread.value == 300
    res = _run("check", str(MONDAY))
    assert res.returncode == 0 and "valid scenario 'monday_backlog'" in res.stdout, res.stderr


def test_monday_backlog_is_cleared_within_the_first_fortnight():
    sc = load(MONDAY)
    bl = run_replications(sc, reps=4, seed=sc.run.seed).backlog
    assert bl is not None and bl.not_cleared == [] and len(bl.cleared) == 4
    assert datetime(2023, 10, 2) < bl.earliest <= bl.mean <= bl.latest < datetime(2023, 10, 16)


# ---------------------------------------------------------------------------------------------
# the command line


@pytest.mark.slow
def test_run_prints_and_writes_when_the_backlog_was_cleared_as_backlog_cleared_at_gives(tmp_path):
    out = tmp_path / "out"
    res = _run("run", str(MONDAY), "--reps", "3", "--seed", "11", "--workers", "2",
               "--events", "none", "--out", str(out))
    assert res.returncode == 0, res.stderr
    meta = json.loads((out / "run.json").read_text())
    assert sorted(meta["files"]) == ["monthly.csv", "rota.csv", "run.json", "summary.csv"]
    got = meta["backlog_cleared"]
    sc = load(MONDAY)
    direct = [backlog_cleared_at(simulate(sc, 11, r)) for r in range(3)]
    assert all(t is not None for t in direct)
    assert [r["rep"] for r in got["by_replication"]] == [0, 1, 2]
    assert all(_same_second(r["cleared"], t) for r, t in zip(got["by_replication"], direct, strict=True))
    assert _same_second(got["earliest"], min(direct)) and _same_second(got["latest"], max(direct))
    assert got["earliest"] <= got["mean"] <= got["latest"]
    assert (got["contacts"], got["emails"], got["ppns"]) == (300, 300, 0)
    assert (got["replications"], got["replications_cleared"]) == (3, 3)
    assert got["not_cleared_replications"] == [] and got["start"] == "2023-10-02T00:00:00"
    line = next(x for x in res.stdout.splitlines() if x.startswith("backlog: "))
    assert line == f"backlog: {got['message']}"
    first = min(direct)
    assert line.startswith("backlog: The 300 emails open at the start were all decided by ")
    assert f"(earliest {first:%a} {first.day} {first:%b %Y} " in line and "in all 3 replications" in line


@pytest.mark.slow
def test_run_says_plainly_when_the_backlog_was_never_cleared(tmp_path):
    scenario = tmp_path / "too_many.yaml"
    scenario.write_text("extends: monday_backlog.yaml\nname: too_many_emails\n"
                        "run: {end: 2023-10-03, cooldown_days: {value: 0, range: [0, 60]}}\n"
                        "backlog: {emails_unread: {value: 5000, range: [0, 10000]}}\n", encoding="utf-8")
    out = tmp_path / "out"
    res = _run("run", str(scenario), "--reps", "2", "--workers", "1", "--events", "none",
               "--out", str(out))
    assert res.returncode in (0, 3), res.stderr  # 3: the supervisors' queue saturates as well
    got = json.loads((out / "run.json").read_text())["backlog_cleared"]
    assert got["replications_cleared"] == 0 and got["not_cleared_replications"] == [0, 1]
    assert got["mean"] is None and got["simulation_stopped"] == "2023-10-04T00:00:00"
    assert "were never all decided, in any of the 2 replications" in res.stdout
    assert ("note: the backlog declared open at the start was not cleared by the end of the simulation"
            " (2023-10-04 00:00) in 2 of 2 replications") in res.stderr


@pytest.mark.slow
def test_run_without_a_declared_backlog_says_nothing_about_one(tmp_path):
    out = tmp_path / "out"
    res = _run("run", str(BASELINE), "--reps", "1", "--start", "2023-09-01", "--end", "2023-09-30",
               "--workers", "1", "--events", "none", "--out", str(out))
    assert res.returncode in (0, 3), res.stderr
    assert json.loads((out / "run.json").read_text())["backlog_cleared"] is None
    assert "backlog:" not in res.stdout and "open at the start" not in res.stdout + res.stderr


# ---------------------------------------------------------------------------------------------
# the app


@pytest.mark.slow
@pytest.mark.app
def test_app_results_say_when_the_monday_backlog_was_cleared():
    at = open_app()
    assert not any("open at the start" in i.value for i in at.info)  # the baseline declares none
    go(at, "Change the scenario")
    at.selectbox(key="library_choice").set_value(MONDAY.name).run()
    at.button(key="load_library").click().run()
    assert at.session_state.work.source == MONDAY.name
    go(at, "Results")
    at.button(key="run:results").click().run()
    assert not at.exception, [e.value for e in at.exception]
    bl = at.session_state.ran.res.backlog
    assert at.session_state.ran.res.scenario.name == "monday_backlog" and bl is not None
    shown = [i.value for i in at.info if "open at the start" in i.value]
    assert shown == [bl.message()], [i.value for i in at.info]
    assert shown[0].startswith("The 300 emails open at the start were all decided by ")
    assert "on average (earliest " in shown[0] and ", latest " in shown[0]
    assert bl.times == [backlog_cleared_at(simulate(load(MONDAY), int(at.session_state.seed), r))
                        for r in range(int(at.session_state.reps))]
    # and the workbook's Inputs sheet carries the same line
    go(at, "Downloads")
    sheet = openpyxl.load_workbook(io.BytesIO(at.session_state.xlsx))["Inputs"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(values_only=True)}
    assert rows.get("backlog open at the start") == bl.message()


@pytest.mark.parametrize("part", ["", "mean"])
def test_strategy_delay_is_labelled_as_the_time_to_gather_partners(part):
    path = ("downstream", "strategy_delay_hours", *([part] if part else []))
    name = params.label(path)
    assert name.startswith("Time to gather partners before a strategy meeting can be held")
    assert "from the referral decision" in name and "first free chair" in name
    assert name.endswith(": average") == bool(part)


@pytest.mark.app
def test_levers_page_shows_the_strategy_delay_as_the_time_to_gather_partners():
    at = go(open_app(), "Change the scenario")
    heads = [m.value for m in at.markdown]
    assert f"**{params.label(('downstream', 'strategy_delay_hours'))}**" in heads
    assert not any("Time from referral decision to strategy meeting" in h for h in heads)
