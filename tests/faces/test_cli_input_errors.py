"""Every input error on the command line is exit 2 with one line, found before any replication
runs where it can be; a lost Dask cluster is exit 4 with one line, within a stated time.

Most cases call `sim.cli.main` in this process on a one-month scenario with one replication;
the Dask cases start a scheduler (and a worker) as processes of their own and kill them.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import yaml

import sim.cli
import sim.experiments.executors
from sim.cli import EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_SATURATED
from sim.scenario.loading import deep_merge, load
from tests.helpers import ROOT, baseline_doc, cli_exit

QUICK = ["--reps", "1", "--executor", "serial", "--quiet"]


main = cli_exit


def _doc(name: str, start: date = date(2023, 9, 1), end: date = date(2023, 9, 30)) -> dict:
    """The baseline, renamed, on a short period with the shortest warm-up and cool-down."""
    doc = deep_merge(baseline_doc(), {"name": name})
    doc["run"] = {**doc["run"], "start": start, "end": end}
    for key in ("warmup_days", "cooldown_days"):
        doc["run"][key] = {**doc["run"][key], "value": doc["run"][key]["range"][0]}
    return doc


def _write(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("scen") / "month.yaml", _doc("month"))


@pytest.fixture(scope="module")
def other(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("scen") / "other.yaml",
                  _doc("other", date(2024, 1, 1), date(2024, 1, 31)))


def _err_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _one_error(capsys, rc: int, code: int = EXIT_INPUT) -> str:
    """The single stderr line of a command that ended with `code`."""
    err = capsys.readouterr().err
    lines = _err_lines(err)
    assert rc == code, err
    assert len(lines) == 1, lines
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def no_replications(monkeypatch):
    """Make any attempt to run a replication fail the test: the check must come first."""
    import sim.experiments
    import sim.experiments.runner
    import sim.experiments.sensitivity

    def ran(*a, **k):
        raise AssertionError("replications ran before the input was checked")

    for mod, name in ((sim.experiments.runner, "run_replications"), (sim.experiments, "compare"),
                      (sim.experiments.sensitivity, "one_at_a_time"), (sim.experiments.runner, "replicate")):
        monkeypatch.setattr(mod, name, ran)


# ---------------------------------------------------------------------------------------------
# compare: the same scenario twice, an existing file as --out, different periods


def test_compare_the_same_file_twice_is_refused_before_running(month, capsys, no_replications, tmp_path):
    rc = main(["compare", str(month), str(month), *QUICK, "--out", str(tmp_path / "o")])
    line = _one_error(capsys, rc)
    assert line == f"error: compare: {month} is given twice; give two or more different scenario files"
    spelt = month.parent / ".." / month.parent.name / month.name  # the same file spelt otherwise
    rc = main(["compare", str(month), str(spelt), *QUICK, "--out", str(tmp_path / "o")])
    assert f"(as {month} and {spelt})" in _one_error(capsys, rc)


def test_compare_two_scenarios_of_one_name_is_refused_before_running(month, capsys, no_replications,
                                                                      tmp_path):
    twin = _write(tmp_path / "twin.yaml", _doc("month"))
    rc = main(["compare", str(month), str(twin), *QUICK, "--out", str(tmp_path / "o")])
    line = _one_error(capsys, rc)
    assert line.startswith(f"error: compare: {month} and {twin} are both named 'month'")
    assert "names must differ" in line


@pytest.mark.parametrize("command", ["run", "compare", "sensitivity", "target"])
def test_an_existing_file_as_out_is_refused_before_running(command, month, other, capsys,
                                                            no_replications, tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    args = {"run": ["run", str(month), *QUICK],
            "compare": ["compare", str(month), str(other), *QUICK],
            "sensitivity": ["sensitivity", str(month), "--reps", "1", "--executor", "serial"],
            "target": ["target", "--target", "within_1wd_95", "--lever", "csw_posts", "--scenario",
                       str(month), "--reps", "1", "--executor", "serial"]}[command]
    rc = main([*args, "--out", str(blocker)])
    line = _one_error(capsys, rc)
    assert line == (f"error: --out {blocker}: is a file, not a folder; give a folder for the results"
                    " (it is created if missing)")
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("command", ["run", "compare", "sensitivity", "target"])
@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_out_is_refused(command, empty, month, other, capsys, no_replications, tmp_path,
                                 monkeypatch):
    monkeypatch.chdir(tmp_path)  # what an empty --out used to write into
    args = {"run": ["run", str(month)], "compare": ["compare", str(month), str(other)],
            "sensitivity": ["sensitivity", str(month)],
            "target": ["target", "--target", "within_1wd_95", "--lever", "csw_posts"]}[command]
    rc = main([*args, "--out", empty])
    line = _one_error(capsys, rc)
    assert line == (f"error: python -m sim {command}: argument --out: an empty or blank name is not a"
                    f" folder; give a folder for the results (e.g. out) (see python -m sim {command} --help)")
    assert list(tmp_path.iterdir()) == []


def test_compare_refuses_scenarios_whose_periods_differ_naming_both(month, other, capsys,
                                                                   no_replications, tmp_path):
    rc = main(["compare", str(month), str(other), *QUICK, "--out", str(tmp_path / "o")])
    line = _one_error(capsys, rc)
    assert line.startswith("error: compare: 'other' reports 2024-01-01 to 2024-01-31 but the reference"
                           " 'month' reports 2023-09-01 to 2023-09-30;"), line
    assert "--align" in line
    assert not (tmp_path / "o" / "comparison.csv").exists()


@pytest.mark.slow
def test_compare_align_runs_on_the_first_ones_period_and_says_what_it_moved(month, other, capsys,
                                                                            tmp_path):
    import pandas as pd

    out = tmp_path / "o"
    rc = main(["compare", str(month), str(other), *QUICK[:-1], "--out", str(out), "--align"])
    captured = capsys.readouterr()
    assert rc in (EXIT_OK, EXIT_SATURATED), captured.err
    notes = [x for x in _err_lines(captured.err) if x.startswith("note: --align")]
    assert notes == ["note: --align: 'other' moved from 2024-01-01 to 2024-01-31 (its file) to"
                     " 2023-09-01 to 2023-09-30 (the reference's)"]
    assert ("periods (first and last reported day): 'month' 2023-09-01 to 2023-09-30; 'other'"
            " 2023-09-01 to 2023-09-30") in captured.out
    table = pd.read_csv(out / "comparison.csv")
    assert set(zip(table["first_day"], table["last_day"], strict=True)) == {("2023-09-01", "2023-09-30")}
    assert set(table["month"]) == {"all months", "period total", "2023-09"}
    # the same period: nothing moved, nothing said
    same = _write(tmp_path / "same.yaml", _doc("same"))
    rc = main(["compare", str(month), str(same), *QUICK, "--out", str(out)])
    assert "--align" not in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# sensitivity --only


def test_sensitivity_only_an_unknown_path_is_refused_and_says_how_to_list_them(month, capsys,
                                                                                no_replications,
                                                                                tmp_path):
    rc = main(["sensitivity", str(month), "--only", "no.such.path", "--executor", "serial",
               "--out", str(tmp_path / "o")])
    line = _one_error(capsys, rc)
    assert line.startswith(f"error: --only no.such.path: not a judged parameter of {month}")
    assert line.endswith(f"with: python -m sim sensitivity {month} --list")
    rc = main(["sensitivity", str(month), "--only", "staff.csw.establishmen", "--out",
               str(tmp_path / "o")])
    assert "(did you mean staff.csw.establishment" in _one_error(capsys, rc)
    assert not (tmp_path / "o").exists()


def test_sensitivity_list_prints_every_path_only_accepts(month, capsys):
    from sim.experiments.sensitivity import judged_parameters

    assert main(["sensitivity", str(month), "--list"]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    names = [p.name for p in judged_parameters(load(month))]
    assert [line.split()[0] for line in out] == names and "staff.csw.establishment" in names


def test_one_at_a_time_refuses_unknown_paths_itself(month):
    from sim.experiments.sensitivity import one_at_a_time

    with pytest.raises(ValueError, match="no.such.path"):
        one_at_a_time(load(month), reps=1, only=["no.such.path"])


# ---------------------------------------------------------------------------------------------
# --scheduler


@pytest.mark.parametrize("address", ["notanaddress", "tcp://127.0.0.1", "127.0.0.1:99999", "a b:1"])
def test_a_scheduler_that_is_not_an_address_is_refused_before_anything_is_read(address, capsys,
                                                                               tmp_path):
    t0 = time.perf_counter()
    rc = main(["run", str(tmp_path / "never_read.yaml"), "--executor", "dask", "--scheduler", address])
    line = _one_error(capsys, rc)
    assert line == (f"error: --scheduler: {address!r} is not a Dask scheduler address; give host:port"
                    " or tcp://host:port (e.g. tcp://127.0.0.1:8786), the address the scheduler prints"
                    " when it starts")
    assert time.perf_counter() - t0 < 5


def test_a_scheduler_without_the_dask_executor_is_refused(capsys, tmp_path):
    rc = main(["run", str(tmp_path / "x.yaml"), "--scheduler", "tcp://127.0.0.1:8786"])
    assert _one_error(capsys, rc) == ("error: --scheduler tcp://127.0.0.1:8786: is used only with"
                                      " --executor dask (got --executor process)")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_exit_2_within_the_connect_timeout(month, capsys, monkeypatch,
                                                                       no_replications, tmp_path):
    assert sim.experiments.executors.CONNECT_SECONDS == 5  # the documented bound (EPILOG, --help)
    assert f"within {sim.experiments.executors.CONNECT_SECONDS:g} s" in sim.cli.EPILOG
    monkeypatch.setattr(sim.experiments.executors, "CONNECT_SECONDS", 1.0)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    t0 = time.perf_counter()
    rc = main(["run", str(month), "--reps", "1", "--quiet", "--executor", "dask", "--scheduler", address,
               "--out", str(tmp_path / "o")])
    elapsed = time.perf_counter() - t0
    line = _one_error(capsys, rc)
    assert line == (f"error: --scheduler {address}: no Dask scheduler answered at {address} within 1 s;"
                    " is it running, and is that the address it printed when it started?")
    assert elapsed < 15, elapsed


# ---------------------------------------------------------------------------------------------
# scenario paths, --start/--end


@pytest.mark.parametrize("command", ["run", "check"])
def test_a_folder_given_as_a_scenario_says_it_is_a_folder(command, tmp_path, capsys):
    rc = main([command, str(tmp_path)])
    line = _one_error(capsys, rc)
    assert line.startswith(f"error: {tmp_path}: ") and "is a folder" in line, line


@pytest.mark.parametrize("flags, expected", [
    (["--start", "2023-12-01", "--end", "2023-07-01"],
     "error: --start 2023-12-01 --end 2023-07-01: end 2023-07-01 is before start 2023-12-01; the period"
     " must end on or after the day it starts"),
    (["--start", "2023-10-01"],
     "error: --start 2023-10-01: end 2023-09-30 is before start 2023-10-01; the period must end on or"
     " after the day it starts ({month} runs 2023-09-01 to 2023-09-30; give both --start and --end)"),
    (["--start", "2020-01-01", "--end", "2023-12-31"],
     "error: --start 2020-01-01 --end 2023-12-31: a run of 1460 days is longer than 3 years (allowed:"
     " YYYY-MM-DD, end on or after start, at most 3 years)"),
])
@pytest.mark.parametrize("command", ["run", "compare"])
def test_start_and_end_errors_name_the_flags(command, flags, expected, month, other, capsys,
                                             no_replications, tmp_path):
    files = [str(month)] if command == "run" else [str(month), str(other)]
    rc = main([command, *files, *flags, *QUICK, "--out", str(tmp_path / "o")])
    line = _one_error(capsys, rc)
    assert line == expected.format(month=month)
    assert "scenario: run" not in line


# ---------------------------------------------------------------------------------------------
# check goes on after any error in one file


@pytest.mark.parametrize("fault, code, said", [
    (RuntimeError("Symlink loop from '/x/a.yaml'"), EXIT_INPUT, "RuntimeError: Symlink loop"),
    (ValueError("embedded null byte"), EXIT_INPUT, "ValueError: embedded null byte"),
    (OSError(errno.ENAMETOOLONG, "File name too long"), EXIT_INPUT, "File name too long"),
    (RecursionError("maximum recursion depth exceeded"), EXIT_INPUT, "RecursionError"),
    (KeyError("a bug"), EXIT_INTERNAL, "internal error: "),
])
def test_check_goes_on_after_an_error_in_one_file(fault, code, said, month, monkeypatch, capsys,
                                                  tmp_path):
    bad = tmp_path / "bad.yaml"
    real = sim.cli.load

    def load_or_fail(path):
        if Path(path) == bad:
            raise fault
        return real(path)

    monkeypatch.setattr(sim.cli, "load", load_or_fail)
    rc = main(["check", str(bad), str(month)])
    captured = capsys.readouterr()
    lines = _err_lines(captured.err)
    assert rc == code, captured.err
    assert len(lines) == 1 and str(bad) in lines[0] and said in lines[0], lines
    assert "Traceback" not in captured.err
    assert f"{month}: valid scenario 'month'" in captured.out  # the next file was still checked


# ---------------------------------------------------------------------------------------------
# a full disk while writing the results


@pytest.mark.parametrize("command", ["run", "compare"])
@pytest.mark.slow
def test_a_full_disk_while_writing_is_one_line_and_keeps_the_previous_results(command, month, other,
                                                                              monkeypatch, capsys,
                                                                              tmp_path):
    import pandas as pd

    out = tmp_path / "o"
    same = _write(tmp_path / "same.yaml", _doc("same"))  # the same period: no note
    args = ([command, str(month)] if command == "run" else [command, str(month), str(same)])
    args += [*QUICK, "--out", str(out)]
    assert main(args) in (EXIT_OK, EXIT_SATURATED)
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.suffix}

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    rc = main([*args, "--seed", "99"])
    line = _one_error(capsys, rc)
    assert line == (f"error: --out {out}: the results could not be written (No space left on device);"
                    " what was there before is unchanged")
    monkeypatch.undo()
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.suffix}
    assert after == before and before


# ---------------------------------------------------------------------------------------------
# nothing printed from a file carries control characters


def test_one_line_escapes_control_characters():
    from sim.cli import _one_line

    assert _one_line("bad\x1b[31mred\r\nx\ty") == "bad\\x1b[31mred x y"
    assert _one_line("a\x00b\x07c\u202ed\x9b") == "a\\x00b\\x07c\\u202ed\\x9b"
    assert _one_line("Cafe\u0301 \u00e9t\u00e9 \u2014 ok") == "Cafe\u0301 \u00e9t\u00e9 \u2014 ok"


NASTY = "evil\x1b[2J\x1b]0;owned\x07\rname\nsecond line\u202e"


def _no_control(text: str, progress_bar: bool = False) -> None:
    """No escape, bell, bidi override; no CR either, except a progress bar's own redraws."""
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert progress_bar or "\r" not in text


def test_a_scenario_name_with_escapes_is_printed_escaped(month, monkeypatch, capsys, tmp_path):
    """Second guard behind the schema (which refuses such names): the CLI's own printing."""
    real = sim.cli.load
    monkeypatch.setattr(sim.cli, "load", lambda path: real(path).model_copy(update={"name": NASTY}))
    assert main(["check", str(month)]) == EXIT_OK
    captured = capsys.readouterr()
    _no_control(captured.out)
    assert len(captured.out.strip().splitlines()) == 1 and "evil\\x1b[2J" in captured.out
    rc = main(["compare", str(month), str(month.parent / "." / month.name), *QUICK,
               "--out", str(tmp_path / "o")])
    assert rc == EXIT_INPUT
    twin = _write(tmp_path / "twin.yaml", _doc("twin"))
    rc = main(["compare", str(month), str(twin), *QUICK, "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    _no_control(captured.err)
    assert rc == EXIT_INPUT and "both named 'evil\\x1b[2J" in captured.err
    rc = main(["run", str(month), "--reps", "1", "--executor", "serial", "--out", str(tmp_path / "r")])
    captured = capsys.readouterr()
    assert rc in (EXIT_OK, EXIT_SATURATED)
    _no_control(captured.out)
    _no_control(captured.err, progress_bar=True)
    assert "evil\\x1b[2J" in captured.out and "\revil\\x1b[2J" in captured.err


# ---------------------------------------------------------------------------------------------
# Dask: a scheduler and workers of its own, killed during the run

DASK = Path(sys.executable).with_name("dask")
needs_dask = pytest.mark.skipif(not DASK.exists(), reason="the dask command is not installed")


def _popen(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([str(DASK), *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


@pytest.fixture
def scheduler(tmp_path):
    """A Dask scheduler on a free local port: (its process, its address)."""
    info = tmp_path / "scheduler.json"
    proc = _popen("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                  "--scheduler-file", str(info))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            address = json.loads(info.read_text())["address"]
            break
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    else:
        _stop(proc)
        pytest.skip("the Dask scheduler did not start")
    yield proc, address
    _stop(proc)


def _worker(address: str) -> subprocess.Popen:
    return _popen("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard")


class _Recorder(sim.experiments.executors.DaskExecutor):
    """The Dask executor, telling the test when its first task has finished."""

    first_done = threading.Event()

    def _finished(self, task, cf):
        super()._finished(task, cf)
        if task.status == "finished":
            type(self).first_done.set()


def _dask_run(address: str, out: Path, reps: int = 30) -> list[str]:
    return ["run", str(ROOT / "scenarios" / "baseline.yaml"), "--reps", str(reps), "--start",
            "2023-09-01", "--end", "2023-09-30", "--quiet", "--executor", "dask", "--scheduler",
            address, "--out", str(out)]


def _run_killing_after_first_result(victim, address: str, out: Path, settle: float = 0.0
                                    ) -> tuple[int, float, float]:
    """Run against the scheduler, stop `victim` (a worker or the scheduler) as soon as the first
    replication has finished; returns the exit code, when the run ended and when `victim` died."""
    _Recorder.first_done.clear()
    killed: list[float] = []

    def kill_after_first_result() -> None:
        if _Recorder.first_done.wait(60):
            _stop(victim)
            killed.append(time.perf_counter())

    killer = threading.Thread(target=kill_after_first_result, daemon=True)
    killer.start()
    rc = main(_dask_run(address, out))
    ended = time.perf_counter()
    time.sleep(settle)
    killer.join(timeout=5)
    assert killed, "the worker finished no task within 60 s"
    return rc, ended, killed[0]


def _assert_lost(capfd, rc: int, *words: str) -> None:
    """Exit 4, one line naming the reason; nothing from Dask's loggers, no bare CancelledError."""
    err = capfd.readouterr().err
    lines = _err_lines(err)
    assert rc == EXIT_INTERNAL, err
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and "the run was stopped" in lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    for noise in ("Traceback", "CancelledError", "distributed.", "ERROR"):
        assert noise not in err, (noise, err)


@needs_dask
@pytest.mark.slow
def test_a_scheduler_with_no_worker_stops_the_run_within_the_stated_time(scheduler, monkeypatch,
                                                                         capfd, tmp_path):
    assert sim.experiments.executors.NO_WORKER_SECONDS == 60  # the documented bound (EPILOG, --help)
    assert f"no worker connected for {sim.experiments.executors.NO_WORKER_SECONDS:g} s" in sim.cli.EPILOG
    monkeypatch.setattr(sim.experiments.executors, "NO_WORKER_SECONDS", 2.0)
    _, address = scheduler
    t0 = time.perf_counter()
    rc = main(_dask_run(address, tmp_path / "o", reps=3))
    elapsed = time.perf_counter() - t0
    _assert_lost(capfd, rc, f"no Dask worker was connected to the scheduler at {address} for 2 s",
                 "3 of 3 tasks were unfinished (0 done)")
    assert elapsed < 20, elapsed
    assert not (tmp_path / "o" / "monthly.csv").exists()


@needs_dask
@pytest.mark.slow
def test_workers_that_all_die_stop_the_run_within_the_stated_time(scheduler, monkeypatch, capfd,
                                                                  tmp_path):
    monkeypatch.setattr(sim.experiments.executors, "NO_WORKER_SECONDS", 2.0)
    monkeypatch.setattr(sim.experiments.executors, "DaskExecutor", _Recorder)
    _, address = scheduler
    worker = _worker(address)
    try:
        rc, ended, killed = _run_killing_after_first_result(worker, address, tmp_path / "o")
    finally:
        _stop(worker)
    _assert_lost(capfd, rc, "no Dask worker was connected", "for 2 s")
    assert ended - killed < 15, ended - killed


@needs_dask
@pytest.mark.slow
def test_a_scheduler_that_dies_is_exit_4_with_one_line(scheduler, monkeypatch, capfd, tmp_path):
    monkeypatch.setattr(sim.experiments.executors, "DaskExecutor", _Recorder)
    proc, address = scheduler
    worker = _worker(address)
    try:
        # settle: Dask's loop logs for a moment after the client closes; that must stay quiet too
        rc, ended, killed = _run_killing_after_first_result(proc, address, tmp_path / "o", settle=1.0)
    finally:
        _stop(worker)
    _assert_lost(capfd, rc, f"the connection to the Dask scheduler at {address} was lost")
    assert ended - killed < 15, ended - killed


@needs_dask
@pytest.mark.slow
def test_ctrl_c_during_and_after_a_local_cluster_start_up_gives_one_line(tmp_path):
    """Ctrl-C to the whole process group (as a terminal sends it), over and over from the start:
    the run ends with exit 130 and one line; no worker and no exit hook prints a traceback."""
    scen = _write(tmp_path / "long.yaml", _doc("long", date(2023, 7, 1), date(2023, 12, 31)))
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", str(scen), "--reps", "8", "--quiet",
                             "--executor", "dask", "--workers", "1", "--out", str(tmp_path / "o")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        time.sleep(1.5)
        deadline = time.monotonic() + 50
        while proc.poll() is None and time.monotonic() < deadline:
            os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.7)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == EXIT_INTERRUPTED, err
    lines = _err_lines(err)
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), err
    assert not (tmp_path / "o" / "monthly.csv").exists()
