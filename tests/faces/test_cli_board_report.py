"""`python -m sim report`: exit 0 and one file written, its headline figures those of the same
replications run by `python -m sim run`, and bad input refused in one line with exit code 2."""

from __future__ import annotations

import hashlib
import html
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiments.sensitivity import judged_parameters
from sim.scenario.loading import load
from tests.helpers import ROOT

BASE = "scenarios/baseline.yaml"
OTHER = "scenarios/staffing_minus2.yaml"
PERIOD = ["--start", "2023-09-01", "--end", "2023-10-31"]
REPS, SEED = 2, 11
CSV_ROUNDING = 5e-6  # monthly.csv's 6 significant figures: half a unit of the 6th, relative


def sim(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def a_tornado(path: Path) -> Path:
    """A tornado table as `python -m sim sensitivity` writes it, for two of the baseline's judged
    numbers (its swings made up: this test is of the report, not of the sensitivity run)."""
    judged = {j.name: j for j in judged_parameters(load(ROOT / BASE))}
    rows = []
    for k, name in enumerate(["staff.csw.leave_rate", "service.conversation_minutes.mean"]):
        j = judged[name]
        rows.append({"parameter": name, "value": j.value, "low": j.low, "high": j.high,
                     "measure": "pct_completed_within_1wd", "label": "x", "base": 80.0,
                     "at_low": 85.0 - k, "at_high": 70.0 + k, "swing": 15.0 - 2 * k, "rank": k + 1})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _values(page: str, scenario: str, measure: str, keys: tuple[str, ...]) -> tuple[float, ...]:
    attrs = r"".join(rf' data-{k}="([^"]+)"' for k in keys)
    m = re.search(rf'data-measure="{measure}" data-scenario="{scenario}"{attrs}', page)
    assert m is not None, (scenario, measure, keys)
    return tuple(map(float, m.groups()))


@pytest.mark.slow
def test_report_exits_0_writes_one_file_with_the_figures_of_the_same_runs(tmp_path: Path) -> None:
    out = tmp_path / "report"
    tornado = a_tornado(tmp_path / "tornado.csv")
    res = sim("report", BASE, OTHER, "--reps", str(REPS), "--seed", str(SEED), *PERIOD,
              "--sensitivity", str(tornado), "--out", str(out), "--executor", "serial", "--quiet")
    assert res.returncode == 0, res.stderr
    assert [p.name for p in out.iterdir()] == ["board_report.html"]
    assert res.stdout.strip() == f"written: {out / 'board_report.html'}"
    page = (out / "board_report.html").read_text(encoding="utf-8")

    # the same replications through another path: `run` writes each one's months, averaged here
    per, slack = {}, {}
    for path in (BASE, OTHER):
        run_out = tmp_path / Path(path).stem
        r = sim("run", path, "--reps", str(REPS), "--seed", str(SEED), *PERIOD, "--out", str(run_out),
                "--events", "none", "--quiet", "--executor", "serial")
        assert r.returncode == 0, r.stderr
        months = pd.read_csv(run_out / "monthly.csv")
        per[path] = months.groupby("rep").mean(numeric_only=True)
        # how far each replication's mean can be from the unrounded one: half a unit of the 6th
        # significant figure of its largest month
        numbers = months.select_dtypes("number")
        slack[path] = CSV_ROUNDING * numbers.abs().groupby(months["rep"]).max()
    t = stats.t.ppf(0.975, REPS - 1) / np.sqrt(REPS)
    # the rounding moves a mean by at most e and a sample standard deviation by at most
    # e * sqrt(n / (n - 1)), so an interval's bounds by e * (1 + t * sqrt(n / (n - 1))): with 2
    # replications close together that is more than the values' own 6-figure precision
    spread = 1 + t * np.sqrt(REPS / (REPS - 1))
    for measure in ("pct_completed_within_1wd", "referrals", "abandoned_calls", "overtime_hours_ps"):
        for path, name in ((BASE, "baseline"), (OTHER, "staffing_minus2")):
            x = per[path][measure]
            mean, lo, hi = _values(page, name, measure, ("mean", "low", "high"))
            e = slack[path][measure].max()
            assert mean == pytest.approx(x.mean(), rel=0, abs=e), (name, measure)
            assert (lo, hi) == pytest.approx((x.mean() - t * x.std(), x.mean() + t * x.std()), rel=0,
                                             abs=e * spread), (name, measure)
        d = per[OTHER][measure] - per[BASE][measure]
        got = _values(page, "staffing_minus2", measure, ("diff", "diff-low", "diff-high"))
        e = (slack[OTHER][measure] + slack[BASE][measure]).max()
        assert got[0] == pytest.approx(d.mean(), rel=0, abs=e), measure
        assert got[1:] == pytest.approx((d.mean() - t * d.std(), d.mean() + t * d.std()), rel=0,
                                        abs=e * spread), measure

    # the command it prints reproduces it: the same files, seed, replications, period and table
    command = html.unescape(re.search(r"<pre>(.*?)</pre>", page, re.S).group(1))
    args = shlex.split(command)
    assert args[:6] == ["python", "-m", "sim", "report", BASE, OTHER]
    for flag, value in (("--reps", str(REPS)), ("--seed", str(SEED)), ("--sensitivity", str(tornado))):
        assert args[args.index(flag) + 1] == value
    assert "--start=2023-09-01" in args and "--end=2023-10-31" in args
    # each fingerprint is of the file as read, not of the scenario on the period given here
    for path in (BASE, OTHER):
        read = load(ROOT / path)
        assert hashlib.sha256(read.model_dump_json().encode()).hexdigest() in page
        moved = read.with_run(start="2023-09-01", end="2023-10-31")
        assert hashlib.sha256(moved.model_dump_json().encode()).hexdigest() not in page
    text = html.unescape(page)
    assert "September to October 2023 (2 months)" in text
    assert "Its assumptions and their values are those of 'baseline'" in text


@pytest.mark.parametrize(("args", "says"), [
    (["scenarios/no_such_file.yaml"], "no_such_file.yaml"),
    ([BASE, "--question", " "], "--question"),
    ([BASE, "--reps", "0"], "--reps"),
    ([BASE, BASE], "report: scenarios/baseline.yaml is given twice"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], says: str, tmp_path: Path) -> None:
    res = sim("report", *args, "--out", str(tmp_path / "out"), timeout=120)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and says in res.stderr
    assert not (tmp_path / "out" / "board_report.html").exists()


def test_a_table_that_is_not_a_tornado_is_refused_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "tornado.csv"
    bad.write_text("month,value\n2023-07,1\n", encoding="utf-8")
    res = sim("report", BASE, "--sensitivity", str(bad), "--out", str(tmp_path / "out"), timeout=120)
    assert res.returncode == 2
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1
    assert f"--sensitivity {bad}" in line and "has no column 'parameter'" in line and "tornado.csv" in line
    assert not (tmp_path / "out" / "board_report.html").exists()


def test_pdf_without_weasyprint_is_refused_before_any_replication(tmp_path: Path, monkeypatch,
                                                                  capsys) -> None:
    from sim import cli
    from sim.experiments import board_pdf, compare

    def never(*args, **kwargs):
        raise AssertionError("a replication ran before --pdf was refused")

    monkeypatch.setattr(board_pdf, "available", lambda: False)
    monkeypatch.setattr(compare, "compare", never)
    code = cli.main(["report", str(ROOT / BASE), "--pdf", "--sensitivity", "none", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: --pdf: WeasyPrint")
    assert list(tmp_path.iterdir()) == []
