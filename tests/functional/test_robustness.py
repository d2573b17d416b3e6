"""Robustness: saturation, conservation in every scenario, interrupted and failed runs, exit codes.

Every replication simulated in this process is also checked with `assert_conserved` by the
autouse fixture `conserved_everywhere` of tests/conftest.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import simpy
import yaml

from sim.experiments.runner import MAX_POSTS_PER_POOL, check_workload, replicate, run_replications
from sim.model.frontdoor import FrontDoorModel
from sim.scenario import safe_yaml
from sim.scenario.loading import deep_merge, loads, read_document
from sim.scenario.schema import ScenarioError, validate
from tests.helpers import BASELINE, ROOT, assert_conserved, baseline_doc, replicate_or_raise

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
RUN_FILES = ("events.csv", "monthly.csv", "summary.csv", "run.json")


# ---------------------------------------------------------------------------------------------
# helpers


def short(doc: dict, month: int = 9, year: int = 2023) -> dict:
    """The document run for one month, with the shortest warm-up and cool-down it allows."""
    doc = deep_merge(doc, {})
    last = (date(year + (month == 12), month % 12 + 1, 1) - date.resolution)
    doc["run"] = {**doc["run"], "start": date(year, month, 1), "end": last}
    for key in ("warmup_days", "cooldown_days"):
        doc["run"][key] = {**doc["run"][key], "value": doc["run"][key]["range"][0]}
    return doc


def times_demand(doc: dict, k: float) -> dict:
    cm = doc["demand"]["contacts_monthly"]
    return deep_merge(doc, {"demand": {"contacts_monthly": {
        "value": {m: v * k for m, v in cm["value"].items()}, "default": cm["default"] * k,
        "range": [0, 1e7]}}})


def no_staff(doc: dict, pool: str) -> dict:
    return deep_merge(doc, {"staff": {pool: {"establishment": {"value": {}, "default": 0,
                                                               "range": [0, 20]}}},
                            "abandonment": {"enabled": False}})


class CountingEnvironment(simpy.Environment):
    steps = 0

    def step(self):
        CountingEnvironment.steps += 1
        return super().step()


@contextmanager
def time_limit(seconds: float):
    """Fail (rather than hang) if the block takes longer than `seconds`."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sim_cli(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, **kw)


def stderr_lines(res: subprocess.CompletedProcess) -> list[str]:
    return [line for line in res.stderr.splitlines() if line.strip()]


def write_doc(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# 3. conservation in every scenario


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_conserves_contacts_for_a_month(path):
    doc = read_document(path.read_text(encoding="utf-8"), str(path), path.parent)
    first = doc["run"]["start"]
    sc = validate(short(doc, first.month, first.year), path.name)
    res = FrontDoorModel(sc, sc.run.seed, 0).run()  # checked by conserved_everywhere as well
    assert_conserved(res)
    assert len(res.contacts) > 0


# ---------------------------------------------------------------------------------------------
# 2. saturation


def test_a_queue_over_its_level_warns_only_once_it_has_stayed_over_for_as_many_working_days():
    from sim.model.frontdoor import saturation_warnings
    from sim.model.replication import simulate

    sc = validate(short(baseline_doc()), "short")
    res = simulate(sc, sc.run.seed, 0)
    qd = res.queue_daily[res.queue_daily["day"] <= np.datetime64(sc.run.end)].copy()
    days = int(sc.run.saturation_queue_days.value)
    limit = days * res.queue_stats["da_hub"]["entered"] / len(res.cal.opens)
    for over in (days - 1, days, days + 3):
        q = qd.copy()
        q["da_hub"] = 0
        q.iloc[-over:, q.columns.get_loc("da_hub")] = int(limit) + 10
        found = [w for w in saturation_warnings(dataclasses.replace(res, queue_daily=q))
                 if w.pool == "da_hub"]
        if over < days:  # e.g. the pile-up after a bank-holiday weekend, being worked down
            assert not found
        else:
            assert len(found) == 1 and found[0].waiting == int(limit) + 10
            assert found[0].since == str(pd.Timestamp(q["day"].iloc[-over]).date())
    # a period with fewer openings than that warns when the queue was over at every one
    q = qd.iloc[:days - 2].copy()
    q["da_hub"] = int(limit) + 10
    found = [w for w in saturation_warnings(dataclasses.replace(res, queue_daily=q)) if w.pool == "da_hub"]
    assert len(found) == 1


@pytest.mark.slow
def test_ten_times_the_demand_ends_bounded_warns_and_counts_open_contacts_honestly(monkeypatch):
    monkeypatch.setattr(simpy, "Environment", CountingEnvironment)
    CountingEnvironment.steps = 0
    sc = validate(short(times_demand(baseline_doc(), 10)), "ten times")
    t0 = time.perf_counter()
    with time_limit(120):
        res = FrontDoorModel(sc, sc.run.seed, 0).run()
    seconds = time.perf_counter() - t0
    n = len(res.contacts)
    assert n > 50_000
    assert CountingEnvironment.steps <= 10 * n + 10_000, "event count grew faster than the contacts"
    assert seconds < 60
    # a clear warning: which queue, how large, from when
    ps = [w for w in res.warnings if w.pool == "ps"]
    assert ps and ps[0].waiting > 5 * ps[0].limit > 0
    assert date.fromisoformat(ps[0].since) <= sc.run.end
    from sim.experiments.runner import saturation_summary

    line = saturation_summary(res.warnings, 1, sc.run.saturation_queue_days.value)
    assert any("practice supervisors (ps)" in x and f"{ps[0].waiting:,}" in x and ps[0].since in x
               for x in line), line
    # honest measures: a contact still open at the end is not completed within a working day
    from sim.measures.metrics import monthly

    m = monthly(res).iloc[0]
    c = res.contacts
    arrived = c[(c["arrival"] >= res.cal.minutes_at(sc.run.start))
                & (c["arrival"] < res.cal.minutes_at(sc.run.end) + 1440)]
    in_time = res.cal.within_one_working_day(arrived["arrival"].to_numpy(), arrived["decided"].to_numpy())
    still_open = ~np.isfinite(arrived["decided"].to_numpy())
    assert still_open.sum() > 0 and not in_time[still_open].any()
    assert m["contacts"] == len(arrived)
    assert m["pct_completed_within_1wd"] == pytest.approx(100 * in_time.sum() / len(arrived))
    assert m["pct_completed_within_1wd"] <= 100 * (1 - still_open.mean()) + 1e-9
    assert m["open_at_month_end"] >= still_open.sum()


def test_a_pool_with_no_staff_at_all_warns_and_leaves_its_work_open():
    sc = validate(short(no_staff(baseline_doc(), "csw")), "no csw")
    with time_limit(60):
        res = FrontDoorModel(sc, sc.run.seed, 0).run()
    csw = [w for w in res.warnings if w.pool == "csw"]
    assert csw and csw[0].waiting > csw[0].limit
    c = res.contacts
    c = c[(c["arrival"] >= res.cal.minutes_at(sc.run.start))
          & (c["arrival"] < res.cal.minutes_at(sc.run.end) + 1440)]
    answered = (c["channel"] == "phone") & ~c["edt"]  # urgent calls out of hours go to the EDT
    assert answered.sum() > 0 and c.loc[answered, "outcome"].eq("open").all(), "no one answered"
    from sim.measures.metrics import monthly

    m = monthly(res).iloc[0]
    assert m["contacts"] == len(c)
    assert m["pct_completed_within_1wd"] <= 100 * (1 - answered.sum() / len(c)) + 1e-9
    assert m["open_at_month_end"] >= answered.sum()


@pytest.mark.slow
def test_saturated_run_from_the_cli_exits_3_with_the_queue_its_size_and_since_when(tmp_path):
    scen = write_doc(tmp_path / "no_supervisors.yaml",
                     short(deep_merge(no_staff(baseline_doc(), "ps"), {"name": "no_supervisors"})))
    out = tmp_path / "out"
    res = sim_cli("run", str(scen), "--reps", "2", "--executor", "serial", "--quiet",
                  "--events", "none", "--out", str(out))
    assert res.returncode == 3, res.stderr
    lines = stderr_lines(res)
    assert lines and all(x.startswith("warning: saturated: ") for x in lines), lines
    ps = [x for x in lines if "practice supervisors (ps)" in x]
    assert len(ps) == 1
    assert any(ch.isdigit() for ch in ps[0].split("held")[1].split("items")[0])  # how large
    assert " from 20" in ps[0]                                                   # since when
    assert "Traceback" not in res.stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["warnings"] and meta["reps"] == 2
    assert (out / "monthly.csv").is_file() and not (out / "events.csv").exists()


@pytest.mark.parametrize("change, field", [
    (lambda d: times_demand(d, 2000), "demand.contacts_monthly"),
    (lambda d: deep_merge(d, {"staff": {"csw": {"establishment": {"range": [0, 1e7]}}}}),
     "staff.csw.establishment"),
    (lambda d: deep_merge(d, {"run": {"warmup_days": {"value": 1e5, "range": [0, 1e7]}}}),
     "run.warmup_days"),
    (lambda d: deep_merge(d, {"run": {"start": date(9999, 12, 1), "end": date(9999, 12, 31)}}), "run"),
], ids=["demand", "posts", "warm-up", "year 9999"])
def test_what_cannot_be_simulated_in_bounded_time_is_refused_before_it_starts(change, field):
    sc = validate(change(baseline_doc()), "huge")  # valid by the schema's own limits
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        run_replications(sc, reps=2)
    assert time.perf_counter() - t0 < 5
    msg = str(err.value)
    assert msg.startswith(f"{sc.name}: {field}:") and "\n" not in msg, msg
    with pytest.raises(ScenarioError):
        check_workload(sc)


def test_every_shipped_scenario_is_within_the_workload_limits():
    for path in SCENARIOS:
        doc = read_document(path.read_text(encoding="utf-8"), str(path), path.parent)
        check_workload(validate(doc, path.name))
    assert MAX_POSTS_PER_POOL >= 100


# ---------------------------------------------------------------------------------------------
# 4. outputs never half-written; failed and killed workers


def test_write_set_interrupted_while_writing_leaves_the_previous_files(tmp_path):
    from sim.io.output import text_writer, write_set

    old = {n: f"previous {n}\n" for n in RUN_FILES}
    for n, text in old.items():
        (tmp_path / n).write_text(text)

    def boom(path):
        path.write_text("half")
        raise KeyboardInterrupt

    files = {tmp_path / "monthly.csv": text_writer("new"), tmp_path / "summary.csv": boom}
    with pytest.raises(KeyboardInterrupt):
        write_set(files, remove=[tmp_path / n for n in RUN_FILES])
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == old


def test_write_set_holds_ctrl_c_until_the_whole_set_is_in_place(tmp_path, monkeypatch):
    from sim.io import output

    real_replace = os.replace
    calls = []

    def replace_then_ctrl_c(src, dst):
        real_replace(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C between the first and second move

    monkeypatch.setattr(output.os, "replace", replace_then_ctrl_c)
    (tmp_path / "events.csv").write_text("stale event log of an earlier run")
    files = {tmp_path / n: output.text_writer(f"new {n}") for n in ("monthly.csv", "summary.csv",
                                                                    "run.json")}
    with pytest.raises(KeyboardInterrupt):
        output.write_set(files, remove=[tmp_path / "events.csv"])
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert names == ["monthly.csv", "run.json", "summary.csv"]
    assert all(p.read_text() == f"new {p.name}" for p in tmp_path.iterdir() if p.name in names)
    assert not list(tmp_path.glob(".*.tmp"))


def _replicate_or_die(scenario, seed, rep, keep_events=False):
    if rep == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return replicate(scenario, seed, rep, keep_events)


@pytest.fixture(scope="module")
def month_scenario():
    return validate(short(baseline_doc()), "one month")


def test_a_replication_that_raises_in_a_process_pool_is_reported_with_its_seed(monkeypatch,
                                                                                month_scenario):
    import sim.experiments.runner

    monkeypatch.setattr(sim.experiments.runner, "replicate", replicate_or_raise)
    with ProcessPoolExecutor(max_workers=2) as pool:
        res = run_replications(month_scenario, reps=4, seed=11, executor=pool)
    assert [r for r, _ in res.failures] == [1]
    line = res.failures[0][1]
    assert "replication 1 (seed 11, spawn key (1,))" in line and "RuntimeError" in line
    assert "\n" not in line
    assert sorted(res.monthly["rep"].unique()) == [0, 2, 3]
    assert not res.broken_pool


@pytest.mark.slow
def test_a_killed_worker_breaks_the_pool_yet_only_its_replication_is_lost(monkeypatch,
                                                                          month_scenario):
    import sim.experiments.runner

    monkeypatch.setattr(sim.experiments.runner, "replicate", _replicate_or_die)
    with time_limit(150), ProcessPoolExecutor(max_workers=2) as pool:
        res = run_replications(month_scenario, reps=3, seed=12, executor=pool)
    assert [r for r, _ in res.failures] == [1], res.failures
    assert "seed 12" in res.failures[0][1] and "worker process died" in res.failures[0][1]
    assert sorted(res.monthly["rep"].unique()) == [0, 2]
    assert res.broken_pool and "run again" in res.notes[0]


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            kids += [int(x) for x in (task / "children").read_text().split()]
    workers = []
    for k in kids:
        try:
            if "resource_tracker" not in Path(f"/proc/{k}/cmdline").read_text():
                workers.append(k)
        except OSError:
            pass
    return workers


def _wait_for(predicate, seconds: float = 60) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")


def _run_args(scen: Path, out: Path, *extra: str, reps: int = 6, end: str = "2023-10-31") -> list[str]:
    return [sys.executable, "-m", "sim", "run", str(scen), "--reps", str(reps), "--seed", "3",
            "--start", "2023-09-01", "--end", end, "--out", str(out), *extra]


@needs_proc
@pytest.mark.slow
def test_ctrl_c_in_a_parallel_run_keeps_the_previous_results_and_says_so(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    old = {n: f"previous {n}\n" for n in RUN_FILES}
    for n, text in old.items():
        (out / n).write_text(text)
    proc = subprocess.Popen(_run_args(BASELINE, out, "--workers", "2"), cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert _wait_for(lambda: len(_children(proc.pid)) >= 2), "the workers never started"
        workers = _children(proc.pid)
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"interrupted: no results were written; {out}/ keeps the previous results"
        f" ({', '.join(RUN_FILES)}) unchanged")
    assert {p.name: p.read_text() for p in out.iterdir()} == old  # no temporary file left either
    assert _wait_for(lambda: all(_gone(w) for w in workers), 10), "worker processes left running"


@needs_proc
@pytest.mark.parametrize("sig, said", [(signal.SIGINT, "interrupted"),
                                       (signal.SIGTERM, "terminated (SIGTERM)")])
@pytest.mark.slow
def test_interrupted_serial_run_with_no_previous_results_leaves_none(tmp_path, sig, said):
    out = tmp_path / "out"
    proc = subprocess.Popen(_run_args(BASELINE, out, "--executor", "serial"), cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert _wait_for(out.is_dir), "the run never started"  # made just before replications
        time.sleep(0.5)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert [x for x in err.splitlines() if x.strip()] == [f"{said}: no results were written to {out}/"]
    assert list(out.iterdir()) == []


@needs_proc
@pytest.mark.slow
def test_a_worker_killed_during_a_cli_run_is_replaced_and_every_result_kept(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(_run_args(BASELINE, out, "--workers", "2", "--quiet", reps=3,
                                      end="2023-09-30"),
                            cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert _wait_for(lambda: len(_children(proc.pid)) >= 2), "the workers never started"
        time.sleep(0.3)
        os.kill(_children(proc.pid)[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 3), err
    assert "Traceback" not in err
    meta = json.loads((out / "run.json").read_text())
    assert meta["failed_replications"] == []
    import pandas as pd

    assert sorted(pd.read_csv(out / "monthly.csv")["rep"].unique()) == [0, 1, 2]
    if meta["notes"]:  # unless the killed worker had already finished its share
        assert "worker process died" in meta["notes"][0]
        assert any(x.startswith("note: a worker process died") for x in err.splitlines())


# ---------------------------------------------------------------------------------------------
# 5. exit codes and messages


def test_help_documents_every_exit_code():
    for args in (["--help"], ["run", "--help"], ["check", "--help"]):
        res = sim_cli(*args)
        assert res.returncode == 0
        text = res.stdout
        for code, word in (("0", "success"), ("2", "invalid input"), ("3", "saturated"),
                           ("4", "internal error"), ("130", "interrupted")):
            assert any(line.strip().startswith(code) and word in line for line in text.splitlines()), (
                args, code)


@pytest.mark.slow
def test_invalid_input_exits_2_with_one_line_and_verbose_gives_every_problem(tmp_path):
    doc = baseline_doc()
    doc["ppn"]["quality"]["value"] = 7.0  # outside its range (NaN is refused earlier, when read)
    doc["staff"]["csw"]["headcount"] = 3
    bad = write_doc(tmp_path / "bad.yaml", doc)
    res = sim_cli("check", str(bad))
    assert res.returncode == 2 and res.stdout == ""
    lines = stderr_lines(res)
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: ")
    assert "staff.csw.headcount" in lines[0] or "ppn.quality.value" in lines[0]
    assert "Traceback" not in res.stderr
    res = sim_cli("check", str(bad), "--verbose")
    detail = [x for x in stderr_lines(res) if x.strip().startswith("detail:")]
    assert res.returncode == 2 and len(detail) == 2
    assert any("staff.csw.headcount" in x for x in detail)
    res = sim_cli("run", str(bad), "--quiet", "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and len(stderr_lines(res)) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, words", [
    (["run", "scenarios/baseline.yaml", "--reps", "0"], ["--reps", "'0'"]),
    (["run", "scenarios/baseline.yaml", "--start", "2023-02-30"], ["--start", "2023-02-30"]),
    (["run", "scenarios/baseline.yaml", "--executor", "gpu"], ["--executor", "gpu"]),
    (["run"], ["scenario"]),
    (["nonsense"], ["nonsense"]),
    (["check", "no/such/file.yaml"], ["no/such/file.yaml", "no such scenario file"]),
    (["run", "scenarios/baseline.yaml", "--end", "2023-01-01"], ["run", "before start"]),
])
def test_bad_arguments_exit_2_with_one_line_on_stderr(args, words):
    res = sim_cli(*args)
    lines = stderr_lines(res)
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_an_output_folder_that_cannot_be_written_exits_2_before_running(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    t0 = time.perf_counter()
    res = sim_cli("run", str(BASELINE), "--quiet", "--out", str(blocker / "out"))
    assert res.returncode == 2 and time.perf_counter() - t0 < 30
    lines = stderr_lines(res)
    assert len(lines) == 1 and lines[0].startswith(f"error: --out {blocker / 'out'}: cannot write")


def test_check_takes_several_files_and_names_each_bad_one(tmp_path):
    good = write_doc(tmp_path / "good.yaml", baseline_doc())
    doc = baseline_doc()
    doc["run"]["end"] = date(2020, 1, 1)
    bad1 = write_doc(tmp_path / "bad1.yaml", doc)
    bad2 = tmp_path / "bad2.yaml"
    bad2.write_bytes(b"\xff\xfe binary")
    res = sim_cli("check", str(good), str(bad1), str(bad2))
    assert res.returncode == 2
    assert res.stdout.count("valid scenario") == 1 and str(good) in res.stdout
    lines = stderr_lines(res)
    assert len(lines) == 2
    assert lines[0].startswith(f"error: {bad1}: run") and "before start" in lines[0]
    assert lines[1].startswith(f"error: {bad2}: ") and "not a text file" in lines[1]


def test_a_scenario_extending_a_file_that_is_not_text_exits_2(tmp_path):
    (tmp_path / "parent.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\nname: child\n")
    res = sim_cli("check", str(child))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert stderr_lines(res) == [f"error: {child}: extends parent.yaml: not a text file (it is not UTF-8:"
                                 " byte 0 cannot be read)"]


_HARNESS = """
import sys
import sim.cli, sim.experiments.runner
from tests.helpers import replicate_or_raise
def broken(args):
    raise ValueError("an unexpected fault\\nspread over lines")
sim.cli.cmd_check = broken
sim.experiments.runner.replicate = replicate_or_raise
sys.exit(sim.cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_internal_error_exits_4_with_one_line_and_verbose_shows_the_traceback():
    res = subprocess.run([sys.executable, "-c", _HARNESS, "check", "x.yaml"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 4
    assert stderr_lines(res) == ["internal error: ValueError: an unexpected fault spread over lines"
                                 " (run with --verbose for the traceback)"]
    res = subprocess.run([sys.executable, "-c", _HARNESS, "--verbose", "check", "x.yaml"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 4 and "Traceback (most recent call last)" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("internal error: ValueError")


@pytest.mark.slow
def test_a_failed_replication_exits_4_naming_its_seed_and_keeps_the_others(tmp_path):
    out = tmp_path / "out"
    scen = write_doc(tmp_path / "month.yaml", short(baseline_doc()))
    res = subprocess.run([sys.executable, "-c", _HARNESS, "run", str(scen), "--reps", "3",
                          "--seed", "5", "--executor", "serial", "--quiet", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 4, res.stderr
    errors = [x for x in stderr_lines(res) if x.startswith("error: ")]
    assert errors == ["error: replication 1 (seed 5, spawn key (1,)) failed: RuntimeError: a fault in"
                      " replication 1 on two lines"]
    import pandas as pd

    assert sorted(pd.read_csv(out / "monthly.csv")["rep"].unique()) == [0, 2]
    assert json.loads((out / "run.json").read_text())["failed_replications"]


# ---------------------------------------------------------------------------------------------
# the hardened YAML loader (sim/safe_yaml.py)

BOMB = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "lol"] * 10) + "]\n"
               for i in range(9))
HOSTILE = {
    "alias bomb": (BOMB, "aliases (*name) expanded"),
    "self-containing alias": ("a: &x [1, *x]\n", "contains it"),
    "self-containing alias, 11 bytes": ("a: &a [*a]\n", "cannot contain itself"),
    "deep nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "levels deep"),
    "many aliases": ("a: &x 1\nb: [" + ", ".join(["*x"] * 1500) + "]\n", "aliases"),
    "duplicate key": ("run: 1\nname: x\nrun: 2\n", "appears twice"),
    "impossible date": ("run:\n  start: 2023-02-30\n", "2023-02-30"),
    "bad int tag": ("a: !!int twelve\n", "twelve"),
    "bad timestamp tag": ("a: !!timestamp soon\n", "soon"),
    "huge integer": ("a: " + "9" * 5000 + "\n", "a number of 5,000 characters"),
    "python object": ("a: !!python/object/apply:os.system ['true']\n",
                      "!!python/object/apply:os.system is not"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hardened_loader_refuses_hostile_yaml_quickly_with_a_position(name):
    text, words = HOSTILE[name]
    t0 = time.perf_counter()
    with pytest.raises(yaml.YAMLError) as err:
        safe_yaml.load(text)
    assert time.perf_counter() - t0 < 2
    exc = err.value
    problem = getattr(exc, "problem", None) or str(exc)
    assert words in problem, problem
    assert "\n" not in problem


def test_hardened_loader_reads_every_shipped_file_as_the_plain_safe_loader_does():
    for path in [*SCENARIOS, ROOT / "calibration" / "calibration.yaml"]:
        text = path.read_text(encoding="utf-8")
        assert safe_yaml.load(text) == yaml.safe_load(text), path
    assert safe_yaml.load("a: &x {b: 1}\nc: *x\nd: {<<: *x, e: 2}\n") == {
        "a": {"b": 1}, "c": {"b": 1}, "d": {"b": 1, "e": 2}}


INTEGRATED = "safe_yaml" in Path(read_document.__code__.co_filename).read_text(encoding="utf-8")


@pytest.mark.skipif(not INTEGRATED, reason="sim/scenario.read_document does not call"
                    " sim.scenario.safe_yaml.load yet (one-line change, see sim/safe_yaml.py)")
@pytest.mark.parametrize("name", list(HOSTILE))
def test_scenario_loading_refuses_hostile_yaml_with_one_line(name):
    text, _ = HOSTILE[name]
    with time_limit(10), pytest.raises(ScenarioError) as err:
        loads(text, "hostile.yaml")
    # the file, the setting being read where there is one, the line
    assert re.match(r"hostile\.yaml: ([\w.]+: )?not valid YAML at line \d+", str(err.value)), str(err.value)
    assert "\n" not in str(err.value)


@needs_proc
@pytest.mark.slow
def test_ctrl_c_while_the_program_is_still_loading_gives_one_line_not_a_traceback():
    # Python's own start-up (site packages, the -m machinery) runs before any of this project's
    # code and prints its own traceback when interrupted; the signals are sent after it.
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import runpy"], check=True)
    started = 2 * (time.perf_counter() - t0)
    answered = []
    for delay in (started + d for d in (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6)):
        proc = subprocess.Popen([sys.executable, "-m", "sim", "check", str(BASELINE)], cwd=ROOT,
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        # an interrupt inside Python's own start-up (before any frame of this project) is the
        # interpreter's to report; one inside the project's code must never give a traceback
        assert f'File "{ROOT}' not in err, (delay, err)
        if "Traceback" in err:
            continue
        # before Python has set up its own handler the signal simply ends the process
        assert proc.returncode in (130, -signal.SIGINT, 0), (delay, proc.returncode, err)
        if proc.returncode == 130:
            lines = [x for x in err.splitlines() if x.strip()]
            assert len(lines) == 1 and lines[0].startswith("interrupted"), err
            answered.append(delay)
    assert answered, "no interrupt landed while the program was running"
