"""One runner, any executor; the replication chooser; the target finder."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.experiments.executors import SerialExecutor, open_executor
from sim.experiments.levers import LEVERS
from sim.experiments.reps import choose_reps
from sim.experiments.runner import run_replications
from sim.experiments.target import find_target
from tests.helpers import variant


@pytest.fixture(scope="module")
def short():
    return variant(start="2023-09-01", end="2023-09-30")


@pytest.mark.slow
def test_determinism_serial_process_and_dask_give_identical_results(short):
    pytest.importorskip("distributed")
    out = {}
    for kind in ("serial", "process", "dask"):
        with open_executor(kind, workers=2) as ex:
            out[kind] = run_replications(short, reps=3, seed=77, executor=ex).monthly
    pd.testing.assert_frame_equal(out["serial"], out["process"])
    pd.testing.assert_frame_equal(out["serial"], out["dask"])


def test_unknown_executor_is_refused():
    with pytest.raises(ValueError, match="not one of"), open_executor("threads"):
        pass


@pytest.mark.slow
def test_choose_reps_stops_when_precision_is_reached_and_held(short):
    choice = choose_reps(short, seed=5, precision=0.05, min_reps=4, look_ahead=3, max_reps=40)
    trace = choice.trace
    assert not choice.results.warnings
    assert choice.chosen >= 4 and choice.ran >= choice.chosen + 3
    assert (trace.loc[choice.chosen:] <= 0.05).all().all()
    before = trace.loc[:choice.chosen - 1]
    assert choice.chosen == 4 or not (before.iloc[-1] <= 0.05).all()
    assert choice.results.monthly["rep"].nunique() == choice.ran


class CountingExecutor(SerialExecutor):
    """Runs in this process and counts the replications it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.reps: list[int] = []

    def submit(self, fn, *args, **kwargs):
        self.reps.append(args[2])
        return super().submit(fn, *args, **kwargs)


@pytest.mark.slow
def test_replications_run_to_choose_the_count_are_reused_not_run_again(short):
    choice = choose_reps(short, seed=5, precision=0.05, min_reps=3, look_ahead=2, max_reps=40)
    ex = CountingExecutor()
    more = choice.ran + 2
    res = run_replications(short, reps=more, seed=5, executor=ex, done=choice.outputs)
    assert ex.reps == [choice.ran, choice.ran + 1]  # only the two new ones ran
    fresh = run_replications(short, reps=more, seed=5)
    pd.testing.assert_frame_equal(res.monthly, fresh.monthly)
    # a run that needs event logs cannot reuse replications run without them ...
    ex = CountingExecutor()
    run_replications(short, reps=2, seed=5, executor=ex, done=choice.outputs, keep_events=True)
    assert ex.reps == [0, 1]
    # ... but can reuse those chosen with their logs kept, and gets the same logs
    with_logs = choose_reps(short, seed=5, precision=0.05, min_reps=3, look_ahead=2, max_reps=40,
                            keep_events=True)
    ex = CountingExecutor()
    res = run_replications(short, reps=with_logs.ran, seed=5, executor=ex, keep_events=True,
                           done=with_logs.outputs + with_logs.outputs[:1])  # a duplicate too
    assert ex.reps == []
    pd.testing.assert_frame_equal(res.events, run_replications(short, reps=with_logs.ran, seed=5,
                                                               keep_events=True).events)
    pd.testing.assert_frame_equal(res.monthly, fresh.monthly.iloc[:len(res.monthly)])


def test_choose_reps_says_when_precision_is_out_of_reach(short):
    choice = choose_reps(short, seed=5, precision=0.0005, min_reps=2, look_ahead=2, max_reps=4)
    assert choice.ran == 4 and "not reached within 4" in choice.results.warnings[0]


@pytest.mark.slow
def test_choose_reps_tighter_precision_needs_more(short):
    loose = choose_reps(short, seed=5, precision=0.05, min_reps=3, look_ahead=2, max_reps=40)
    tight = choose_reps(short, seed=5, precision=0.01, min_reps=3, look_ahead=2, max_reps=40)
    assert tight.chosen > loose.chosen


def test_levers_change_what_they_say(short):
    more = LEVERS["ps_posts"].apply(short, 11.0)
    assert more.staff["ps"].establishment.default == 11.0
    shifted = LEVERS["phone_shift"].apply(short, 0.5)
    for src, p in shifted.demand.partner_phone_share.items():
        before = short.demand.partner_phone_share[src].value
        assert p.value == pytest.approx(before + (1 - before) / 2)


@pytest.mark.slow
def test_target_finder_meets_a_reachable_target_and_reports_an_unreachable_one(short):
    res = find_target(short, "ps_posts", "within_1wd_95", reps=4, coarse=4, fine=2)
    g = res.grid
    # more supervisors never worse on paired seeds, so the search walks up a rising curve
    assert g["mean"].is_monotonic_increasing or g["mean"].diff().min() > -1.0
    if res.met:
        assert LEVERS["ps_posts"].current(short) <= res.value_confident <= 14
        row = g[g["value"] >= res.value_confident].iloc[0]
        assert row["bound"] >= 95 or row["value"] == g["value"].max()
    else:
        assert "not met" in res.message()
    never = find_target(short, "conversation_effect", "referrals_30pct", reps=3, coarse=3, fine=0,
                        reference=variant({"name": "before", "outcomes": {
                            "conversation_referral_ratio": {"value": 1.0}}},
                            start="2023-09-01", end="2023-09-30"))
    assert not never.met and "not met" in never.message()


# One executor factory (sim.experiments.executors): the options each face relies on.

def _signals() -> tuple[bool, bool]:
    """In a worker: whether Ctrl-C is ignored and SIGTERM has its default action."""
    import signal

    return (signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
            signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)


def _sleep(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def _die() -> None:
    import os

    os._exit(1)


def _cli_args(executor: str = "process", workers: int = 2):
    import argparse

    return argparse.Namespace(executor=executor, workers=workers, scheduler=None, verbose=False)


def test_cli_pool_workers_leave_ctrl_c_to_the_main_process():
    from concurrent.futures import ProcessPoolExecutor

    from sim.cli import _executor

    with _executor(_cli_args()) as ex:
        assert isinstance(ex, ProcessPoolExecutor)
        assert [ex.submit(_signals).result() for _ in range(4)] == [(True, True)] * 4


def test_cli_one_worker_or_serial_runs_in_this_process():
    from sim.cli import _executor

    for args in (_cli_args(workers=1), _cli_args("serial")):
        with _executor(args) as ex:
            assert isinstance(ex, SerialExecutor)


def test_a_plain_pool_gets_no_initialiser_and_the_initialiser_is_an_option():
    with open_executor("process", workers=2) as ex:
        assert ex._initializer is None
    from sim.experiments.executors import ignore_sigint

    with open_executor("process", workers=2, initializer=ignore_sigint) as ex:
        assert ex.submit(_signals).result() == (True, True)


def test_ctrl_c_ends_a_terminating_pool_at_once_and_its_workers_with_it():
    import time

    t0 = time.monotonic()
    with (pytest.raises(KeyboardInterrupt),
          open_executor("process", workers=2, on_interrupt_terminate=True) as ex):
        ex.submit(_sleep, 0).result()  # the workers are up
        futures = [ex.submit(_sleep, 60) for _ in range(3)]
        time.sleep(0.5)  # and busy
        procs = list(ex._processes.values())
        raise KeyboardInterrupt
    # the workers are ended within the same bound (a process reaped by the forkserver is seen as
    # ended a moment after it dies, so look again until the bound)
    while any(p.is_alive() for p in procs) and time.monotonic() - t0 < 20:
        time.sleep(0.1)
    assert time.monotonic() - t0 < 20, "the pool waited for its tasks instead of ending them"
    assert procs and not any(p.is_alive() for p in procs)
    assert all(f.cancelled() or f.done() for f in futures)


def test_a_terminating_pool_with_a_dead_worker_is_terminated(monkeypatch):
    from sim.experiments import executors

    ended = []
    real = executors.terminate_pool
    monkeypatch.setattr(executors, "terminate_pool", lambda pool: (ended.append(pool), real(pool)))
    with (open_executor("process", workers=2, on_interrupt_terminate=True) as ex,
          pytest.raises(Exception, match="terminated abruptly")):
        ex.submit(_die).result()
    assert ended == [ex]
    with open_executor("process", workers=2, on_interrupt_terminate=True) as ex:
        assert ex.submit(_sleep, 0).result() == 0
    assert ended == [ended[0]], "a healthy pool is shut down, not terminated"


def test_app_pool_is_forkserver_preloaded_and_started_before_the_first_task():
    import multiprocessing

    pytest.importorskip("streamlit")
    from ui import runs

    assert isinstance(runs.make_pool(1), SerialExecutor)
    pool = runs.make_pool(2)
    try:
        want = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        assert pool._mp_context.get_start_method() == want
        if want == "forkserver":
            from multiprocessing import forkserver

            assert set(runs.PRELOAD) <= set(forkserver._forkserver._preload_modules)
        assert len(pool._processes) == 2  # every worker started at once
        assert pool.submit(_sleep, 0).result() == 0
    finally:
        pool.shutdown()


def test_app_compare_refuses_or_aligns_periods_by_the_command_lines_rule(monkeypatch):
    pytest.importorskip("streamlit")
    from sim.experiments import compare as experiments_compare
    from ui import runs

    assert runs.check_periods is experiments_compare.check_periods  # no copy of it in the app
    ran = []
    monkeypatch.setattr(runs, "run", lambda sc, seed, reps, step=None: (ran.append(sc), None, False))
    monkeypatch.setattr(runs, "comparison_table", lambda results: pd.DataFrame())
    a = variant(start="2023-09-01", end="2023-09-30")
    b = variant({"name": "other"}, start="2023-10-01", end="2023-11-30")
    with pytest.raises(experiments_compare.PeriodMismatch, match="2023-10-01 to 2023-11-30.*2023-09-01 to"
                                                                 " 2023-09-30"):
        runs.compare([a, b], seed=1, reps=2)
    assert ran == []  # refused before anything ran
    runs.compare([a, b], seed=1, reps=2, align=True)
    assert [s.name for s in ran] == [a.name, "other"]
    assert [(s.run.start, s.run.end) for s in ran] == [(a.run.start, a.run.end)] * 2
    with pytest.raises(ValueError, match="must differ"):
        runs.compare([a, a], seed=1, reps=2)
