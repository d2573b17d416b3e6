"""Calibration plumbing and the back-test that keeps the fit from silently degrading."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import yaml

from sim.experiments.calibrate import (
    CONFIG,
    LOG,
    apply,
    calibrate,
    load_config,
    scaled_shares,
    write_back,
)
from sim.experiments.validation import COVERAGE_THRESHOLD, VOLUME_TOLERANCE, run_validation
from sim.scenario.loading import load
from tests.helpers import ROOT, baseline_doc


def test_scaled_shares_keep_summing_to_one():
    v = {"info_advice": 0.42, "early_help": 0.12, "referral": 0.16, "nfa": 0.30}
    out = scaled_shares(v, "referral", 1.2)
    assert out["referral"] == pytest.approx(0.192, abs=1e-4)
    assert sum(out.values()) == pytest.approx(1.0, abs=1e-9)
    assert out["info_advice"] / out["nfa"] == pytest.approx(0.42 / 0.30, rel=1e-3)


def test_apply_changes_only_the_free_parameters():
    cfg = load_config()
    doc = baseline_doc()
    new = apply(doc, cfg.free_parameters, [9.0, 1.0, 1.0])
    assert new["staff"]["ps"]["establishment"]["default"] == 9.0
    assert new["outcomes"] == doc["outcomes"]  # scale 1 leaves the shares alone
    assert new["demand"] == doc["demand"]


@pytest.mark.slow
def test_calibrate_runs_and_writes_calibrated_provenance(tmp_path):
    (tmp_path / "calibration").mkdir()
    (tmp_path / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", tmp_path / "scenarios" / "baseline.yaml")
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg.update(reps=2, max_evaluations=4)
    config = tmp_path / "calibration" / "calibration.yaml"
    config.write_text(yaml.safe_dump(cfg))
    before = (tmp_path / "scenarios" / "baseline.yaml").read_text()
    result, _, c = calibrate(config, max_evaluations=4)
    assert result.evaluations >= 4 and result.objective <= result.start_objective
    for p, x in zip(c.free_parameters, result.x, strict=True):
        assert p.bounds[0] <= x <= p.bounds[1]
    write_back(config, c, result)
    after_text = (tmp_path / "scenarios" / "baseline.yaml").read_text()
    assert after_text != before
    assert "# Baseline: Bradford" in after_text  # comments kept
    sc = load(tmp_path / "scenarios" / "baseline.yaml")
    assert sc.staff["ps"].establishment.provenance == "calibrated"
    assert sc.staff["ps"].establishment.default == pytest.approx(result.x[0], abs=0.01)
    assert "Before calibration" in sc.staff["ps"].establishment.note
    assert sc.outcomes.written["education"].provenance == "calibrated"


@pytest.mark.slow
def test_calibrate_cli_reports_both_stages_and_writes_nothing_on_a_dry_run(tmp_path):
    (tmp_path / "calibration").mkdir()
    (tmp_path / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", tmp_path / "scenarios" / "baseline.yaml")
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg.update(reps=2)
    config = tmp_path / "calibration" / "calibration.yaml"
    config.write_text(yaml.safe_dump(cfg))
    before = (tmp_path / "scenarios" / "baseline.yaml").read_text()
    log_before = LOG.read_text()
    res = subprocess.run([sys.executable, "-m", "sim", "calibrate", "--config", str(config),
                          "--max-evaluations", "2", "--dry-run", "--executor", "serial"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    c = load_config(config)
    assert "front door:" in res.stdout and "downstream:" in res.stdout
    for p in (*c.free_parameters, *c.downstream_parameters):
        assert f"  {p.name}: " in res.stdout
    assert (tmp_path / "scenarios" / "baseline.yaml").read_text() == before
    assert LOG.read_text() == log_before


@pytest.fixture(scope="module")
def validation():
    with ProcessPoolExecutor(max_workers=2) as ex:
        return run_validation(executor=ex)


@pytest.mark.slow
def test_backtest_volumes_within_three_percent_every_month(validation):
    assert validation.worst_volume_error <= 100 * VOLUME_TOLERANCE


@pytest.mark.slow
def test_backtest_timeliness_rises_from_september_to_december_as_demand_falls(validation):
    sim_rise, reported_rise = validation.rise("pct_completed_within_1wd", "2023-09", "2023-12")
    assert sim_rise > 0 and reported_rise > 0
    dec = validation.cells.query("measure == 'pct_completed_within_1wd' and month == '2023-12'")
    assert bool(dec["inside_band"].iloc[0])


@pytest.mark.slow
def test_backtest_holdout_coverage_does_not_fall_below_measured_level(validation):
    """Measured when the baseline was calibrated with the downstream pathway: 20 of 33 held-out
    cells inside the band (11 measures; before the pathway it was 10 of 18 on 6 measures)."""
    held = validation.holdout
    assert len(held) == 33
    assert held["inside_band"].sum() >= 20, validation.by_measure.to_string()
    assert np.all(held.loc[held["measure"] == "pct_completed_within_1wd", "inside_band"])


@pytest.mark.xfail(strict=True, reason="held-out coverage is 20/33 (61%): the reported October-December"
                   " falls in referral and S47 shares, the police advice mix and the improving assessment"
                   " timeliness are not in the model's inputs; see calibration/report.md")
@pytest.mark.slow
def test_backtest_holdout_coverage_meets_eighty_percent(validation):
    assert validation.coverage >= COVERAGE_THRESHOLD
