"""A result set is whole or absent, even under kill -9 (issue 11, item 4).

A kill is injected at every call that changes the file system in turn, in three ways: in-process
(a BaseException, after which every further change also fails, as nothing runs after a kill), in a
forked child that sends itself SIGKILL or calls os._exit there, and once from outside with kill -9.
After each, every result name that can be read must come from one set (each file says which set
and which name it is), and the next write must leave no leftover.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from sim.io import output
from sim.io.output import text_writer, write_atomic, write_set
from tests.helpers import ROOT

RUN = ("events.csv", "monthly.csv", "summary.csv", "run.json")
NO_EVENTS = RUN[1:]
CHANGES = ("replace", "rename", "symlink", "link", "unlink", "remove", "rmdir", "mkdir", "chmod", "open")
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch, request):
    """Flushing to disk guards against power loss, not kill -9, and costs seconds over a thousand
    writes on a busy disk; the kill from outside (a child process) and the readers' test keep it."""
    if request.node.originalname not in ("test_kill_minus_9_from_outside_at_the_switch",
                                         "test_readers_use_the_same_paths"):
        monkeypatch.setattr(output.os, "fsync", lambda fd: None)


class Killed(BaseException):
    """Stands for kill -9: not an Exception, so no `except Exception` handles it."""


def _raise() -> None:
    raise Killed


@contextmanager
def kill_at(step: int | None, action: Callable[[], None] = _raise) -> Iterator[list[str]]:
    """Count the calls that change the file system; at call number `step` run `action` instead of
    it, and fail every later one, so a `finally` that tries to tidy up cannot (as after a kill)."""
    real = {name: getattr(os, name) for name in CHANGES}
    calls: list[str] = []
    dead = False

    def wrap(name: str) -> Callable:
        def call(*args, **kwargs):
            nonlocal dead
            if name == "open" and not (args[1] if len(args) > 1 else kwargs.get("flags", 0)) & os.O_CREAT:
                return real[name](*args, **kwargs)  # opening to read or lock changes nothing
            if dead:
                raise Killed
            if len(calls) == step:
                dead = True
                action()
            calls.append(" ".join([name, *(os.fspath(a) for a in args if isinstance(a, str | os.PathLike))]))
            return real[name](*args, **kwargs)
        return call

    for name in CHANGES:
        setattr(os, name, wrap(name))
    try:
        yield calls
    finally:
        for name, fn in real.items():
            setattr(os, name, fn)


def write(out: Path, tag: str, names: tuple[str, ...], remove: tuple[str, ...] = RUN) -> None:
    """A run's set as cmd_run writes it: every file says which set and name it is."""
    write_set({out / n: text_writer(f"{tag} {n}\n") for n in names}, remove=[out / n for n in remove])


def content(tag: str, names: tuple[str, ...]) -> dict[str, str]:
    return {n: f"{tag} {n}\n" for n in names}


def shown(out: Path) -> dict[str, str]:
    """What a reader gets at out/<name> for every result name that can be opened."""
    return {p.name: p.read_text() for p in sorted(out.iterdir()) if not p.name.startswith(".") and p.exists()}


def leftovers(out: Path) -> list[str]:
    """Everything in the folder beyond the shown files, the lock and one shown set."""
    extra = [p.name for p in out.iterdir() if p.name not in (output.SETS, output.LOCK_NAME)
             and not (p.name[0] != "." and p.exists())]
    sets = out / output.SETS
    inside = sorted(os.listdir(sets)) if sets.exists() else []
    if len(inside) != 2 or output.CURRENT not in inside:
        extra += [f"{output.SETS}/{n}" for n in inside]
    return sorted(extra)


EXTRA = {"comparison.csv": "compare A B\n", "tornado.csv": "sensitivity T\n"}


def prepare(out: Path, kind: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """A folder as a user would have it before the interrupted run; returns what it shows and
    the names of the new set."""
    out.mkdir()
    if kind == "empty":
        return {}, RUN
    if kind == "plain files":  # written before result sets, with an earlier kill's temporaries
        for name, text in {**content("A", RUN), **EXTRA}.items():
            (out / name).write_text(text)
        for name in RUN[:3]:
            (out / f".{name}.k2j4x_a1.tmp").write_text("half of a killed write")
        return {**content("A", RUN), **EXTRA}, NO_EVENTS
    write_csv_text(out / "comparison.csv", EXTRA["comparison.csv"])  # compare's single file
    write_set({out / "tornado.csv": text_writer(EXTRA["tornado.csv"])})  # sensitivity's set
    old = RUN if kind == "drops events" else NO_EVENTS
    write(out, "A", old)
    return {**content("A", old), **EXTRA}, (NO_EVENTS if kind == "drops events" else RUN)


def write_csv_text(path: Path, text: str) -> None:
    write_atomic(path, text_writer(text))


KINDS = ("drops events", "adds events", "plain files", "empty")


def count_steps(tmp_path: Path, kind: str) -> int:
    """How many file-system changes a write of set B makes from this starting folder."""
    out = tmp_path / "count"
    _, names = prepare(out, kind)
    with kill_at(None) as calls:
        write(out, "B", names)
    assert any(c.startswith("replace") and c.endswith(f"{output.SETS}/{output.CURRENT}") for c in calls)
    return len(calls)


@pytest.mark.parametrize("kind", KINDS)
def test_a_kill_at_any_step_leaves_one_whole_set_and_the_next_write_tidies(tmp_path, kind):
    steps = count_steps(tmp_path, kind)
    seen, untidy = set(), 0
    for step in range(steps):
        out = tmp_path / f"k{step}"
        before, names = prepare(out, kind)
        after = {**content("B", names), **{k: v for k, v in before.items() if k in EXTRA}}
        with pytest.raises(Killed), kill_at(step):
            write(out, "B", names)
        now = shown(out)
        assert now in (before, after), f"killed at step {step} of {steps}: a mixed set {now}"
        seen.add("old" if now == before else "new")
        untidy += bool(leftovers(out))
        write(out, "C", RUN)  # the next run
        assert shown(out) == {**content("C", RUN), **{k: v for k, v in before.items() if k in EXTRA}}
        assert leftovers(out) == [], f"after a kill at step {step}, the next write left {leftovers(out)}"
    # kills before and after the switch were both tried (into an empty folder the switch is the last step)
    assert seen == ({"old"} if kind == "empty" else {"old", "new"})
    assert untidy > steps // 2  # the simulated kill really left things behind for the next write


def test_a_set_that_drops_a_file_never_shows_the_old_one(tmp_path):
    out = tmp_path / "out"
    write(out, "A", RUN)
    write(out, "B", NO_EVENTS)
    assert shown(out) == content("B", NO_EVENTS)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(NO_EVENTS)
    assert not (out / "events.csv").exists() and not (out / "events.csv").is_symlink()


@pytest.mark.slow
def test_two_kills_in_a_row_still_leave_one_whole_set(tmp_path):
    steps = count_steps(tmp_path, "drops events")
    sets = {"A": RUN, "B": NO_EVENTS, "C": RUN}
    tried = 0
    for first in range(0, steps, 2):
        second = 0
        while True:
            out = tmp_path / f"k{first}-{second}"
            prepare(out, "drops events")
            with pytest.raises(Killed), kill_at(first):
                write(out, "B", NO_EVENTS)
            with kill_at(second):
                try:
                    write(out, "C", RUN)
                    finished = True
                except Killed:
                    finished = False
            now = {k: v for k, v in shown(out).items() if k not in EXTRA}
            assert now in [content(t, n) for t, n in sets.items()], (first, second, now)
            tried += 1
            if finished:
                assert now == content("C", RUN) and leftovers(out) == []
                break
            second += 1
    assert tried > steps * 3


def _forked_write(out: Path, names: tuple[str, ...], step: int, how: str) -> int:
    """Write set B in a child process that dies for real at `step`; returns its wait status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            with kill_at(step, (lambda: os.kill(os.getpid(), signal.SIGKILL)) if how == "SIGKILL"
                         else (lambda: os._exit(9))):
                write(out, "B", names)
            os._exit(0)
        except BaseException:
            os._exit(3)
    return os.waitpid(pid, 0)[1]


@needs_fork
@pytest.mark.parametrize("kind, how", [("drops events", "SIGKILL"), ("plain files", "SIGKILL"),
                                       ("adds events", "os._exit")])
@pytest.mark.slow
def test_a_real_kill_at_any_step_leaves_one_whole_set(tmp_path, kind, how):
    steps = count_steps(tmp_path, kind)
    seen = set()
    for step in range(steps + 1):
        out = tmp_path / f"k{step}"
        before, names = prepare(out, kind)
        status = _forked_write(out, names, step, how)
        if step == steps:
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        elif how == "SIGKILL":
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
        else:
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 9, status
        after = {**content("B", names), **{k: v for k, v in before.items() if k in EXTRA}}
        now = shown(out)
        assert now in (before, after), f"killed at step {step} of {steps}: a mixed set {now}"
        seen.add(now == after)
        write(out, "C", RUN)  # the dead writer's locks are gone, so its leftovers go
        assert leftovers(out) == [], f"after a kill at step {step}: {leftovers(out)}"
    assert seen == {True, False}


CHILD = """
import os, sys, time
from pathlib import Path
from sim.io.output import text_writer, write_set
out, pause_at = Path(sys.argv[1]), sys.argv[2]
real = os.replace
def replace(src, dst):
    if pause_at == "before" and str(dst).endswith("current"):
        print("switching", flush=True); time.sleep(60)
    real(src, dst)
    if pause_at == "after" and str(dst).endswith("current") and not Path(dst).with_name("done").exists():
        print("switched", flush=True); time.sleep(60)
os.replace = replace
names = ("monthly.csv", "summary.csv", "run.json")
write_set({out / n: text_writer(f"B {n}\\n") for n in names},
          remove=[out / n for n in ("events.csv", *names)])
"""


@pytest.mark.parametrize("pause_at", ["before", "after"])
def test_kill_minus_9_from_outside_at_the_switch(tmp_path, pause_at):
    out = tmp_path / "out"
    out.mkdir()
    for name, text in content("A", RUN).items():  # a folder from before result sets
        (out / name).write_text(text)
    write(out, "A", RUN)  # now a shown set: the child's only switch is the one that matters
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(out), pause_at], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline()
        assert line.strip() in ("switching", "switched"), proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert shown(out) == (content("A", RUN) if pause_at == "before" else content("B", NO_EVENTS))
    assert leftovers(out)  # the dead run's folder or the old set's
    write(out, "C", NO_EVENTS)
    assert shown(out) == content("C", NO_EVENTS) and leftovers(out) == []


def test_stale_temporaries_of_the_old_writer_are_removed_by_the_next_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / f".{n}.ab_12xyz.tmp" for n in ("events.csv", "monthly.csv", "summary.csv")]
    for p in stale:
        p.write_text("half")
    (out / ".notes.tmp").write_text("a user's file, not ours")
    write_atomic(out / "comparison.csv", text_writer("x\n"))
    assert not any(p.exists() for p in stale)
    for p in stale:
        p.write_text("half")
    write(out, "A", RUN)
    assert not any(p.exists() for p in stale)
    assert (out / ".notes.tmp").read_text() == "a user's file, not ours"


def test_a_killed_single_file_write_leaves_old_or_new_and_no_temporary(tmp_path):
    (tmp_path / "count").mkdir()
    with kill_at(None) as calls:
        write_atomic(tmp_path / "count" / "comparison.csv", text_writer("new\n"))
    for step in range(len(calls)):
        out = tmp_path / f"k{step}"
        out.mkdir()
        (out / "comparison.csv").write_text("old\n")
        with pytest.raises(Killed), kill_at(step):
            write_atomic(out / "comparison.csv", text_writer("new\n"))
        assert (out / "comparison.csv").read_text() in ("old\n", "new\n")
        write_atomic(out / "target.csv", text_writer("t\n"))
        assert sorted(os.listdir(out)) == ["comparison.csv", "target.csv"]


def test_a_single_file_written_beside_a_set_leaves_the_set_whole(tmp_path):
    out = tmp_path / "out"
    write(out, "A", RUN)
    write_atomic(out / "comparison.csv", text_writer("compare\n"))
    assert shown(out) == {**content("A", RUN), "comparison.csv": "compare\n"}
    assert all((out / n).is_symlink() for n in RUN) and not (out / "comparison.csv").is_symlink()
    write(out, "B", NO_EVENTS)
    assert shown(out) == {**content("B", NO_EVENTS), "comparison.csv": "compare\n"}
    # a single file written over a set's name replaces only that name; the next set takes it over
    write_atomic(out / "monthly.csv", text_writer("by hand\n"))
    assert shown(out) == {**content("B", NO_EVENTS), "monthly.csv": "by hand\n",
                          "comparison.csv": "compare\n"}
    write(out, "C", RUN)
    assert shown(out) == {**content("C", RUN), "comparison.csv": "compare\n"} and leftovers(out) == []


def test_sets_of_two_commands_share_a_folder(tmp_path):
    out = tmp_path / "out"
    write(out, "A", RUN)
    write_set({out / "tornado.csv": text_writer("T1\n"), out / "sobol.csv": text_writer("S1\n")})
    write_set({out / "tornado.csv": text_writer("T2\n")}, remove=[out / "sobol.csv"])
    assert shown(out) == {**content("A", RUN), "tornado.csv": "T2\n"}
    write(out, "B", NO_EVENTS)
    assert shown(out) == {**content("B", NO_EVENTS), "tornado.csv": "T2\n"} and leftovers(out) == []


def test_readers_use_the_same_paths(tmp_path):
    out = tmp_path / "out"
    write_set({out / "monthly.csv": output.csv_writer(pd.DataFrame({"rep": [0, 1], "x": [1.5, 2.0]}))})
    assert pd.read_csv(out / "monthly.csv")["x"].tolist() == [1.5, 2.0]
    cat = subprocess.run(["cat", str(out / "monthly.csv")], capture_output=True, text=True, check=True)
    assert cat.stdout.splitlines()[0] == "rep,x"
    assert (out / "monthly.csv").is_file() and out.is_dir() and not out.is_symlink()
    assert oct((out / output.SETS / output.CURRENT / "monthly.csv").stat().st_mode & 0o777) == "0o644"


def test_an_interrupted_write_into_a_new_folder_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()

    def boom(path: Path) -> None:
        path.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_set({out / "monthly.csv": text_writer("new"), out / "summary.csv": boom})
    assert list(out.iterdir()) == []


def test_a_set_must_live_in_one_folder_and_not_over_a_folder(tmp_path):
    with pytest.raises(ValueError, match="one folder"):
        write_set({tmp_path / "a" / "x.csv": text_writer("1"), tmp_path / "b" / "y.csv": text_writer("2")})
    (tmp_path / "events.csv").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        write(tmp_path, "A", NO_EVENTS)
    assert sorted(os.listdir(tmp_path)) == ["events.csv"]  # refused before anything was made


# ---------------------------------------------------------------------------------------------
# two writers


def test_a_set_waits_for_the_folder_lock(tmp_path):
    out = tmp_path / "out"
    write(out, "A", RUN)
    done = threading.Event()
    with output.folder_lock(out):
        t = threading.Thread(target=lambda: (write(out, "B", NO_EVENTS), done.set()))
        t.start()
        assert not done.wait(0.5)
        assert shown(out) == content("A", RUN)
    t.join(10)
    assert done.is_set() and shown(out) == content("B", NO_EVENTS)


def test_a_live_writers_files_are_not_taken_for_leftovers(tmp_path):
    out = tmp_path / "out"
    write(out, "A", RUN)
    started, single, go, errors = threading.Event(), threading.Event(), threading.Event(), []

    def slow(path: Path) -> None:
        path.write_text("B monthly.csv\n")
        started.set()
        assert go.wait(10)

    def run_set() -> None:
        try:
            write_set({out / "monthly.csv": slow}, remove=[out / n for n in RUN])
        except BaseException as exc:  # reported below
            errors.append(exc)

    def run_single() -> None:
        try:
            write_atomic(out / "comparison.csv", lambda p: (p.write_text("cmp\n"), single.set(), go.wait(10)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run_set), threading.Thread(target=run_single)]
    for t in threads:
        t.start()
    assert started.wait(10) and single.wait(10)
    assert any(re.fullmatch(r"\.comparison\.csv\..{8}\.tmp", n) for n in os.listdir(out))
    write(out, "C", NO_EVENTS)  # cleans leftovers while the other two are still writing
    write_atomic(out / "target.csv", text_writer("t\n"))
    go.set()
    for t in threads:
        t.join(10)
    assert errors == []
    assert shown(out) == {"monthly.csv": "B monthly.csv\n", "comparison.csv": "cmp\n", "target.csv": "t\n"}
    assert leftovers(out) == []


@needs_fork
def test_concurrent_writers_leave_one_whole_set(tmp_path):
    out = tmp_path / "out"
    write(out, "A", RUN)
    pids = []
    for who in ("P", "Q"):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                for i in range(15):
                    write(out, f"{who}{i}", RUN if i % 2 else NO_EVENTS)
                os._exit(0)
            except BaseException:
                os._exit(3)
        pids.append(pid)
    for pid in pids:
        assert os.waitpid(pid, 0)[1] == 0
    now = shown(out)
    tag = now["monthly.csv"].split()[0]
    assert tag in ("P14", "Q14") and now == content(tag, NO_EVENTS) and leftovers(out) == []
