"""Work is bounded before it starts, and downstream saturation warns (issue 11, items 3 and 6).

Every setting that sizes a data structure has a range within the workload budget
(docs/model.md 4.4); the workload check counts contacts, backlog, history and rosters and
refuses in one line naming the setting; `--reps` is bounded as `run.reps`; the main process
keeps only the event logs asked for; a downstream team with no one on duty warns (exit 3,
naming the team) and a percentage with no events behind it is blank.
"""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc
from bisect import bisect_left

import numpy as np
import pandas as pd
import pytest

import sim.experiments.runner as runner
from sim.experiments.executors import SerialExecutor, open_executor
from sim.experiments.runner import (
    REP_MEMORY_BUDGET_MB,
    RepOutput,
    check_workload,
    estimate_workload,
    replicate,
    run_replications,
)
from sim.measures.intervals import t_critical
from sim.measures.metrics import MEASURES, summarise
from sim.model.calendar import WorkCalendar
from sim.model.downstream import EvenSlots, book, free_slots
from sim.scenario.loading import deep_merge
from sim.scenario.params import MAX_SESSIONS_PER_CHAIR_PER_DAY
from sim.scenario.schema import MAX_REPS, ScenarioError, validate
from tests.helpers import BASELINE, ROOT, baseline_doc, variant

SOURCED = {"unit": "u", "provenance": "judgement", "source": "a test of the workload limits"}


def _monthly(value: float, top: float = 1e7) -> dict:
    """The same number every month (named months too: a merge keeps the baseline's)."""
    months = {f"{y}-{m:02d}": value for y in range(2020, 2027) for m in range(1, 13)}
    return {"value": months, "default": value, "range": [0, top], **SOURCED}


def _scalar(value: float, lo: float = 0, hi: float = 1e7) -> dict:
    return {"value": value, "range": [lo, hi], **SOURCED}


def _pool(establishment: float) -> dict:
    return {"establishment": _monthly(establishment, 1000)}


ZERO_TEAMS = {
    "strategy_chairs": {"downstream": {"strategy_meetings": {"chairs": _pool(0)}}},
    "conference_chairs": {"downstream": {"icpc": {"chairs": _pool(0)}}},
    "assessment_team": {"downstream": {"assessments": {"team": _pool(0)}}},
}


# --- ranges: settings that size data structures -------------------------------------------------

@pytest.mark.parametrize("path", [("strategy_meetings", "meetings_per_chair_per_day"),
                                  ("icpc", "conferences_per_chair_per_day")])
def test_meetings_a_chair_holds_a_day_are_bounded_by_the_schema(path):
    """1e7 a day was schema-valid and built 1e7 slots a chair a day (MemoryError)."""
    block, name = path
    for value in (1e7, 1e5, MAX_SESSIONS_PER_CHAIR_PER_DAY + 1):
        doc = deep_merge(baseline_doc(), {"downstream": {block: {name: _scalar(value, 1, 1e7)}}})
        with pytest.raises(ScenarioError) as err:
            validate(doc, "huge")
        msg = str(err.value)
        assert f"downstream.{block}.{name}" in msg and "\n" not in msg, msg
        assert f"{MAX_SESSIONS_PER_CHAIR_PER_DAY:g}" in msg, msg
    doc = deep_merge(baseline_doc(), {"downstream": {block: {name: _scalar(12, 1, 12)}}})
    check_workload(validate(doc, "busy chairs"))


def test_slots_are_not_built_one_by_one():
    """The most a schema allows (1,000 chairs x 12 a day for 5 years) costs kilobytes, not a
    list per slot, and booking takes the same times a list of every slot would give."""
    cal = WorkCalendar(pd.Timestamp("2023-01-02").date(), 5 * 366, 8.5, 17.0, (0, 1, 2, 3, 4))
    on_duty = np.full(len(cal.opens), 1000)
    tracemalloc.start()
    t0 = time.perf_counter()
    slots = free_slots(on_duty, MAX_SESSIONS_PER_CHAIR_PER_DAY, cal)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000 and time.perf_counter() - t0 < 1
    assert isinstance(slots, EvenSlots) and sum(slots.counts) == 12_000 * len(cal.opens)


def _list_slots(on_duty: np.ndarray, per_chair: float, cal: WorkCalendar) -> list[list[float]]:
    """Every slot as a list: how free_slots used to build them (the reference)."""
    out = []
    for k, chairs in enumerate(on_duty.tolist()):
        n = int(round(chairs * per_chair))
        out.append((cal.opens[k] + (np.arange(n) + 0.5) * cal.day_length / max(n, 1)).tolist())
    return out


@pytest.mark.parametrize("seed", range(6))
def test_compact_slots_book_exactly_what_a_list_of_every_slot_books(seed):
    """Same slot times to the bit, so results stay byte-identical."""
    rng = np.random.default_rng(seed)
    cal = WorkCalendar(pd.Timestamp("2023-09-04").date(), 40, 8.5, 17.0, (0, 1, 2, 3, 4))
    on_duty = rng.integers(0, 6, len(cal.opens))
    per_chair = float(rng.choice([1, 2, 3, 2.5, 12]))
    n = int(rng.integers(50, 600))
    ready = np.sort(rng.uniform(-600, cal.horizon, n)) + rng.normal(0, 300, n)
    ready[rng.random(n) < 0.1] = cal.opens[3]  # ties at an opening
    group = rng.integers(0, n // 2, n)
    order = np.argsort(ready + rng.uniform(0, 200, n), kind="stable")
    want = book(order, ready, group, _list_slots(on_duty, per_chair, cal), cal)
    got = book(order, ready, group, free_slots(on_duty, per_chair, cal), cal)
    assert np.array_equal(want, got, equal_nan=True)


def test_list_slots_still_work_as_before():
    free = [[10.0, 20.0], [30.0]]
    lst = free[0]
    assert bisect_left(lst, 15.0) == 1  # the reference behaviour the adapter keeps
    cal = WorkCalendar(pd.Timestamp("2023-09-04").date(), 2, 0.0, 24.0, (0, 1, 2, 3, 4, 5, 6))
    got = book(np.arange(3), np.array([15.0, 0.0, 0.0]), np.array([1, 2, 3]), free, cal)
    assert got.tolist() == [20.0, 10.0, 30.0]


# --- the workload check --------------------------------------------------------------------------

def _refused(doc: dict, reps: int | None = None) -> str:
    sc = validate(doc, "huge")
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        check_workload(sc, "huge.yaml", reps=reps)
    assert time.perf_counter() - t0 < 2
    msg = str(err.value)
    assert msg.startswith("huge.yaml: ") and "\n" not in msg, msg
    return msg


def test_the_declared_backlog_counts():
    """About 500,000 contacts plus every backlog item at 100,000 took 94 s and 4.3 GB."""
    doc = deep_merge(baseline_doc(), {
        "demand": {"contacts_monthly": _monthly(40_000), "police_monthly": _monthly(10_000)},
        "backlog": {k: _scalar(100_000) for k in ("emails_unread", "ppns_waiting", "domestic_ppns_waiting",
                                                  "assessments_waiting", "assessments_in_progress",
                                                  "s47_in_progress", "children_on_plans")}})
    msg = _refused(doc)
    assert "backlog." in msg or "demand.contacts_monthly" in msg, msg
    # the backlog alone, on the baseline's demand, is named as the backlog
    doc = deep_merge(baseline_doc(), {"demand": {"contacts_monthly": _monthly(210_000),
                                                 "police_monthly": _monthly(10_000)}})
    doc["run"]["start"], doc["run"]["end"] = "2023-07-01", "2023-07-31"
    doc = deep_merge(doc, {"run": {"warmup_days": _scalar(0), "cooldown_days": _scalar(0)},
                           "children": {"history_months": _scalar(1, 0, 60)},
                           "backlog": {"emails_unread": _scalar(100_000), "ppns_waiting": _scalar(100_000),
                                       "domestic_ppns_waiting": _scalar(100_000)}})
    msg = _refused(doc)
    assert ": backlog." in msg and "500,000" in msg, msg


def test_the_generated_history_counts():
    """A one-day run at a high monthly rate passes the contact count but 60 months of history
    at that rate is millions of contacts."""
    doc = deep_merge(baseline_doc(), {
        "demand": {"contacts_monthly": _monthly(2_000_000), "police_monthly": _monthly(100_000)},
        "run": {"warmup_days": _scalar(0), "cooldown_days": _scalar(0)},
        "children": {"history_months": _scalar(60, 0, 60)}})
    doc["run"]["start"] = doc["run"]["end"] = "2023-07-03"
    msg = _refused(doc)
    assert ": children.history_months:" in msg and f"{REP_MEMORY_BUDGET_MB:,} MB" in msg, msg


def test_call_attempts_count_per_contact():
    base = deep_merge(baseline_doc(), {"demand": {"contacts_monthly": _monthly(34_000),
                                                  "police_monthly": _monthly(10_000)}})
    check_workload(validate(base, "ok"))
    more = deep_merge(base, {"abandonment": {"max_attempts": 20}})
    assert estimate_workload(validate(more, "x")).memory_mb > estimate_workload(validate(base, "x")).memory_mb
    _refused(more)


def test_replications_times_their_cost_count():
    doc = deep_merge(baseline_doc(), {"demand": {"contacts_monthly": _monthly(30_000),
                                                 "police_monthly": _monthly(9_000)}})
    sc = validate(doc, "big")
    check_workload(sc, reps=10)
    msg = _refused(doc, reps=MAX_REPS)
    assert ": run.reps:" in msg and "hours" in msg, msg
    with pytest.raises(ScenarioError, match="run.reps"):
        run_replications(sc, reps=MAX_REPS)  # refused before any replication runs


def test_the_library_and_the_baseline_at_the_most_replications_pass():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        from sim.scenario.loading import load

        sc = load(path)
        check_workload(sc, str(path))
        assert estimate_workload(sc).memory_mb < REP_MEMORY_BUDGET_MB / 4
    check_workload(variant(), reps=MAX_REPS)


@pytest.mark.parametrize("reps", ["99999999999999999999999", "1000000", str(MAX_REPS + 1), "0"])
def test_command_line_replications_are_bounded_as_the_schema_bounds_run_reps(reps, tmp_path):
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--reps", reps,
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=60,
                         cwd=ROOT)
    assert time.perf_counter() - t0 < 20
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{MAX_REPS:,}" in lines[0] and "--reps" in lines[0], res.stderr
    assert not (tmp_path / "out").exists()


# --- the main process keeps only what the results need ------------------------------------------

def _fake_replicate(calls: list):
    """A replication that costs nothing to run but returns a 2 MB event log when asked."""

    def fake(scenario, seed, rep, keep_events=False):
        calls.append((rep, keep_events))
        monthly = pd.DataFrame({"rep": [rep], "month": ["2023-09"], "contacts": [float(rep)]})
        events = pd.DataFrame({"rep": np.full(250_000, rep), "x": np.zeros(250_000)}) if keep_events else None
        return RepOutput(rep, monthly, [], events, None)

    return fake


@pytest.mark.parametrize("keep", ["first", False])
def test_the_main_process_keeps_no_event_log_it_was_not_asked_for(monkeypatch, keep):
    """O(1) per replication: 60 replications hold one event log ("first") or none, not 60
    (each replication's log was about 10 MB: 100 replications held 1.1 GB)."""
    calls: list = []
    monkeypatch.setattr(runner, "replicate", _fake_replicate(calls))
    sc = variant(start="2023-09-01", end="2023-09-30")
    tracemalloc.start()
    res = run_replications(sc, reps=60, seed=1, executor=SerialExecutor(), keep_events=keep)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    asked = [r for r, k in calls if k]
    assert asked == ([0] if keep == "first" else [])
    assert peak < 30e6, peak  # 60 logs of 2 MB would be 120 MB
    if keep == "first":
        assert set(res.events["rep"]) == {0} and len(res.events) == 250_000
    else:
        assert res.events is None
    assert res.monthly["rep"].tolist() == list(range(60))


def test_reused_replications_drop_logs_not_asked_for(monkeypatch):
    """`done=` (from --reps auto) is reused, keeping only the event log of replication 0."""
    calls: list = []
    fake = _fake_replicate(calls)
    monkeypatch.setattr(runner, "replicate", fake)
    sc = variant(start="2023-09-01", end="2023-09-30")
    done = [fake(sc, 1, r, True) for r in range(5)]
    calls.clear()
    res = run_replications(sc, reps=8, seed=1, executor=SerialExecutor(), keep_events="first", done=done)
    assert [r for r, _ in calls] == [5, 6, 7] and not any(k for _, k in calls)
    assert set(res.events["rep"]) == {0}
    res = run_replications(sc, reps=3, seed=1, executor=SerialExecutor(), keep_events=False, done=done)
    assert res.events is None and res.monthly["rep"].tolist() == [0, 1, 2]


@pytest.mark.slow
def test_first_events_are_identical_serial_process_and_dask():
    sc = variant(start="2023-09-01", end="2023-09-30")
    kinds = ["serial", "process"]
    try:
        import distributed  # noqa: F401
        kinds.append("dask")
    except ImportError:
        pass
    out = {}
    for kind in kinds:
        with open_executor(kind, workers=2) as ex:
            out[kind] = run_replications(sc, reps=3, seed=11, executor=ex, keep_events="first")
    ref = out["serial"]
    whole = run_replications(sc, reps=3, seed=11, keep_events=True)
    pd.testing.assert_frame_equal(ref.events, whole.events[whole.events["rep"] == 0])
    for res in out.values():
        pd.testing.assert_frame_equal(res.events, ref.events)
        pd.testing.assert_frame_equal(res.monthly, ref.monthly)
        pd.testing.assert_frame_equal(res.summary, ref.summary)


def _summarise_long(monthly_all: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """The summary as computed before (on a long copy of the table): the reference."""
    long = monthly_all.melt(id_vars=["rep", "month"], var_name="measure", value_name="value")
    g = long.groupby(["month", "measure"], sort=False)["value"]
    out = g.agg(mean="mean", sd="std", reps="count").reset_index()
    tcrit = t_critical(level, np.maximum(out["reps"] - 1, 1))
    half = np.where(out["reps"] > 1, tcrit * out["sd"] / np.sqrt(out["reps"]), np.nan)
    out["ci_low"], out["ci_high"] = out["mean"] - half, out["mean"] + half
    order = {m: i for i, m in enumerate(MEASURES)}
    out["_o"] = out["measure"].map(order)
    out = out.sort_values(["_o", "month"]).drop(columns="_o").reset_index(drop=True)
    out["label"] = out["measure"].map(lambda k: MEASURES.get(k, (k, ""))[0])
    out["unit"] = out["measure"].map(lambda k: MEASURES.get(k, (k, ""))[1])
    return out[["month", "measure", "label", "unit", "mean", "ci_low", "ci_high", "sd", "reps"]]


@pytest.mark.parametrize("reps", [1, 2, 37])
def test_the_lean_summary_is_the_long_one_to_the_bit(reps):
    rng = np.random.default_rng(reps)
    months = ["2023-07", "2023-08", "2023-09"]
    n = reps * len(months)
    m = pd.DataFrame({"rep": np.repeat(np.arange(reps), 3), "month": months * reps,
                      **{k: rng.random(n) * 100 for k in MEASURES}})
    m.loc[rng.random(n) < 0.3, "pct_icpc_on_time"] = np.nan
    m["icpcs"] = np.nan
    pd.testing.assert_frame_equal(summarise(m), _summarise_long(m), check_exact=True)


# --- downstream saturation warns -----------------------------------------------------------------

@pytest.mark.parametrize("team", list(ZERO_TEAMS))
def test_a_downstream_team_with_no_one_warns(team):
    sc = validate(deep_merge(baseline_doc(), ZERO_TEAMS[team]), f"no {team}")
    sc = sc.with_run(start=pd.Timestamp("2023-07-01").date(), end=pd.Timestamp("2023-09-30").date())
    out = replicate(sc, 1, 0)
    hits = [w for w in out.warnings if w.pool == team]
    assert hits and hits[0].waiting > hits[0].limit > 0
    lines = runner.saturation_summary(out.warnings, 1, sc.run.saturation_queue_days.value)
    assert any(team.split("_")[0] in line and "downstream." in line for line in lines), lines
    m = out.monthly
    if team == "assessment_team":
        assert (m["assessments_completed"] == 0).all() and m["pct_assessments_45d"].isna().all()
    if team == "conference_chairs":
        assert (m["icpcs"] == 0).all()
        assert m["pct_icpc_on_time"].isna().all() and m["pct_icpc_to_cp_plan"].isna().all()


def test_the_baseline_downstream_does_not_warn():
    sc = variant(start="2023-07-01", end="2023-12-31")
    out = replicate(sc, 7, 0)
    assert not [w for w in out.warnings if w.pool in ZERO_TEAMS], out.warnings


def test_zero_assessment_team_exits_3_naming_the_team_with_blank_percentages(tmp_path):
    path = tmp_path / "no_team.yaml"
    path.write_text("extends: baseline.yaml\nname: no_team\ndownstream:\n  assessments:\n    team:\n"
                    "      establishment: {value: {}, default: 0, range: [0, 200], unit: posts,"
                    " provenance: judgement, source: a team with no one in it}\n", encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "sim", "run", str(path), "--reps", "1", "--start",
                          "2023-07-01", "--end", "2023-08-31", "--events", "none", "--quiet",
                          "--workers", "1", "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 3, res.stderr
    warn = [ln for ln in res.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warn) == 1 and "assessment social workers (downstream.assessments.team)" in warn[0], res.stderr
    monthly = pd.read_csv(tmp_path / "out" / "monthly.csv")
    assert (monthly["assessments_completed"] == 0).all()
    assert monthly["pct_assessments_45d"].isna().all()  # blank in the file, not 0 or 100
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary.loc[summary["measure"] == "pct_assessments_45d", "mean"].isna().all()
