"""`python -m sim target` with several levers, end to end on a one-month scenario with 3
replications and tiny grids: the frontier meets the target, nothing run beats it, posts are
whole, target.csv has every point run, and a search it cannot run is refused with one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.cli
import sim.experiments.runner
from sim.cli import EXIT_INPUT, EXIT_OK
from sim.experiments import frontier as fr
from sim.experiments.compare import per_rep
from sim.experiments.levers import LEVERS
from sim.experiments.runner import run_replications
from sim.measures.intervals import half_width
from sim.scenario.loading import load
from tests.helpers import cli_exit, short_run_file, whole_posts_to

FAST = ["--reps", "3", "--executor", "serial", "--quiet"]


main = cli_exit


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    """The baseline for September 2023, with the shortest warm-up and cool-down."""
    return short_run_file(tmp_path_factory.mktemp("scen"), "month", "2023-09-01", "2023-09-30")


@pytest.fixture
def no_replications(monkeypatch):
    def ran(*a, **k):
        raise AssertionError("replications ran before the input was checked")
    monkeypatch.setattr(sim.experiments.runner, "replicate", ran)


def _one_error(capsys, rc: int) -> str:
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.strip()]
    assert rc == EXIT_INPUT and len(lines) == 1, err
    return lines[0]


def test_more_than_three_levers_is_refused_with_one_line_naming_the_field(month, capsys, no_replications,
                                                                         tmp_path):
    rc = main(["target", str(month), "--target", "within_1wd_95", "--lever", "csw_posts", "--lever",
               "ps_posts", "--lever", "phone_shift:2", "--lever", "ppn_quality", *FAST,
               "--out", str(tmp_path / "o")])
    line = _one_error(capsys, rc)
    assert line.startswith("error: --lever: 4 levers given") and "at most 3" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("spec", "words"), [("nurses", "unknown lever 'nurses'"),
                                             ("csw_posts:-1", "weight after ':' must be a positive"),
                                             ("csw_posts:lots", "weight after ':' must be a positive")])
def test_a_bad_lever_is_refused_with_one_line(month, capsys, no_replications, tmp_path, spec, words):
    rc = main(["target", str(month), "--target", "within_1wd_95", "--lever", spec, *FAST,
               "--out", str(tmp_path / "o")])
    line = _one_error(capsys, rc)
    assert "--lever" in line and words in line


def test_a_search_over_the_cap_is_refused_before_running(month, capsys, no_replications, tmp_path):
    rc = main(["target", str(month), "--target", "within_1wd_95", "--lever", "csw_posts", "--lever",
               "ps_posts", "--values", "7", "--reps", "10", "--executor", "serial",
               "--out", str(tmp_path / "o")])
    line = _one_error(capsys, rc)
    # each lever has at most 7 values, fewer where fewer whole posts fit (49 points from 7.58 PS)
    st = load(month).staff
    n = 1
    for k, pool in (("csw_posts", "csw"), ("ps_posts", "ps")):
        n *= min(7, whole_posts_to(LEVERS[k].high, st[pool].establishment.default) + 1)
    assert n * 10 > fr.MAX_POINT_REPS
    assert line.startswith(f"error: --values 7: {n} points x 10 replications is {n * 10} point-replications")
    assert f"{fr.MAX_POINT_REPS}" in line


@pytest.mark.slow
def test_two_lever_search_end_to_end(month, tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["target", str(month), "--target", "within_1wd_95", "--lever", "csw_posts:2",
               "--lever", "ps_posts:1", "--values", "2", *FAST, "--out", str(out)])
    assert rc == EXIT_OK
    said = capsys.readouterr().out
    t = pd.read_csv(out / "target.csv")
    # every point run is in target.csv, and those not run are the ones said to be skipped
    assert f"{len(t)} points run" in said
    skipped = 4 - len(t)
    assert skipped == 0 or f"{skipped} not run" in said
    # whole posts only, added to the scenario's establishment (CSW and PS, the PS calibrated), and
    # with 2 values each lever's ends: its own value and the last whole post inside its range
    sc = load(month)
    csw0, ps0 = sc.staff["csw"].establishment.default, sc.staff["ps"].establishment.default
    ends = {k: (v, v + whole_posts_to(LEVERS[k].high, v)) for k, v in (("csw_posts", csw0),
                                                                         ("ps_posts", ps0))}
    assert ends["csw_posts"] == (12, 20) and ends["ps_posts"][1] <= LEVERS["ps_posts"].high
    assert np.allclose(t["csw_posts"] - csw0, np.round(t["csw_posts"] - csw0))
    assert np.allclose(t["ps_posts"] - ps0, np.round(t["ps_posts"] - ps0))
    for k, (lo, hi) in ends.items():
        assert all(np.isclose(v, lo) or np.isclose(v, hi) for v in t[k]), (k, list(t[k]))
    # the interval and bound are the t interval's ends; met means the bound is past the goal
    assert (t["ci_low"] <= t["mean"]).all() and (t["mean"] <= t["ci_high"]).all()
    assert np.allclose(t["bound"], t["ci_low"]) and (t["met"] == (t["bound"] >= 95)).all()
    f = t[t["on_frontier"]]
    assert f["met"].all()
    for _, row in f.iterrows():
        beats = t[t["met"] & (t["csw_posts"] <= row["csw_posts"]) & (t["ps_posts"] <= row["ps_posts"])
                  & (t["cost"] < row["cost"])]
        assert beats.empty
    assert "Each lever alone" in said and "csw_posts: alone" in said and "ps_posts: alone" in said
    # common random numbers: the scenario's own point is the plain run on the same seeds
    x = per_rep(run_replications(sc, reps=3, seed=sc.run.seed).monthly, by_month=False)[
        "pct_completed_within_1wd"].to_numpy()
    own = t[(t["csw_posts_steps"] == 0) & (t["ps_posts_steps"] == 0)].iloc[0]
    assert own["mean"] == pytest.approx(x.mean(), abs=1e-3)
    assert own["ci_high"] - own["mean"] == pytest.approx(half_width(x), abs=1e-3)
