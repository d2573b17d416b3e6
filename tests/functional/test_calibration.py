"""Calibration plumbing and the back-test that keeps the fit from silently degrading."""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.experiments.calibrate import (
    CONFIG,
    LOG,
    FitResult,
    _start_value,
    apply,
    calibrate,
    load_config,
    scaled_shares,
    write_back,
)
from sim.experiments.validation import COVERAGE_THRESHOLD, VOLUME_TOLERANCE, run_validation
from sim.scenario.loading import OVERLAYS, load
from sim.scenario.schema import ScenarioError
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


def _copy_library(tmp_path, **settings) -> Path:
    """The baseline, its calibration overlay and the calibration settings in a temporary folder
    laid out as the project is (settings changed as given); returns the settings file."""
    (tmp_path / "calibration").mkdir()
    shutil.copytree(ROOT / "scenarios" / OVERLAYS, tmp_path / "scenarios" / OVERLAYS)
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", tmp_path / "scenarios" / "baseline.yaml")
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg.update(settings)
    config = tmp_path / "calibration" / "calibration.yaml"
    config.write_text(yaml.safe_dump(cfg))
    return config


def _files(tmp_path) -> dict[str, bytes]:
    """Every file under the temporary scenarios folder, by its path there, with its bytes."""
    folder = tmp_path / "scenarios"
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fit(cfg, front: list[float], down: list[float]) -> FitResult:
    """A finished fit with the given values, without running one (for the writing-back tests)."""
    downstream = FitResult(down, 0.0, 1, 0.0, down, 0.0)
    return FitResult(front, 0.0, 1, 0.0, front, 0.0, downstream=downstream)


def _start(cfg, doc) -> tuple[list[float], list[float]]:
    return ([_start_value(doc, p) for p in cfg.free_parameters],
            [_start_value(doc, p) for p in cfg.downstream_parameters])


OVERLAY = Path("calibrated") / "baseline.calibrated.yaml"


def test_writing_back_changes_only_the_overlay(tmp_path):
    config = _copy_library(tmp_path)
    cfg = load_config(config)
    hand = tmp_path / "scenarios" / "baseline.yaml"
    before = _files(tmp_path)
    base = load(hand)
    front, down = _start(cfg, baseline_doc())
    front[0] += 0.5  # practice supervisor posts
    written = write_back(config, cfg, _fit(cfg, front, down), when=date(2030, 1, 2))
    after = _files(tmp_path)
    assert written == tmp_path / "scenarios" / OVERLAY
    assert set(after) == set(before)  # no temporary file left behind
    assert after["baseline.yaml"] == before["baseline.yaml"]
    assert after[str(OVERLAY)] != before[str(OVERLAY)]
    sc = load(hand)
    est = sc.staff["ps"].establishment
    assert est.default == pytest.approx(front[0], abs=0.01) != base.staff["ps"].establishment.default
    assert est.provenance == "calibrated" and est.source.startswith("Calibrated 2030-01-02")
    assert "2023-07 to 2023-09" in est.source
    assert est.note == base.staff["ps"].establishment.note  # what the first calibration replaced
    was = base.staff["ps"].establishment
    assert (est.range, est.unit) == (was.range, was.unit)
    assert sc.staff["csw"] == base.staff["csw"] and sc.demand == base.demand


def test_a_hand_edit_in_the_baseline_survives_a_calibration(tmp_path):
    config = _copy_library(tmp_path)
    cfg = load_config(config)
    hand = tmp_path / "scenarios" / "baseline.yaml"
    text = hand.read_text(encoding="utf-8")
    posts = "      default: {}\n      range: [6, 20]\n"
    edited = text.replace(posts.format(12), posts.format(13)).replace("      range: [4, 14]\n",
                                                                       "      range: [4, 15]\n")
    assert edited.count("default: 13") == 1 and "range: [4, 15]" in edited
    hand.write_text(edited, encoding="utf-8")
    front, down = _start(cfg, baseline_doc())
    write_back(config, cfg, _fit(cfg, [14.5, *front[1:]], down))
    assert hand.read_text(encoding="utf-8") == edited
    sc = load(hand)
    assert sc.staff["csw"].establishment.default == 13  # the hand edit
    assert sc.staff["ps"].establishment.range == (4, 15)  # a hand edit of a calibrated setting's range
    assert sc.staff["ps"].establishment.default == 14.5  # the fit, inside the edited range


def test_a_fitted_number_stated_by_hand_is_refused_before_any_fit(tmp_path):
    config = _copy_library(tmp_path)
    hand = tmp_path / "scenarios" / "baseline.yaml"
    hand.write_text(hand.read_text(encoding="utf-8").replace(
        "      range: [4, 14]\n", "      range: [4, 14]\n      default: 9\n"), encoding="utf-8")
    before = _files(tmp_path)
    with pytest.raises(ScenarioError) as err:
        calibrate(config, max_evaluations=1)
    msg = str(err.value)
    assert "\n" not in msg and "staff.ps.establishment.default" in msg and "baseline.calibrated.yaml" in msg
    cfg = load_config(config)
    front, down = _start(cfg, baseline_doc())
    with pytest.raises(ScenarioError, match="staff.ps.establishment.default"):
        write_back(config, cfg, _fit(cfg, front, down))
    assert _files(tmp_path) == before


def test_a_fit_that_makes_a_bad_scenario_writes_nothing(tmp_path):
    config = _copy_library(tmp_path)
    cfg = load_config(config)
    before = _files(tmp_path)
    front, down = _start(cfg, baseline_doc())
    with pytest.raises(ScenarioError, match=r"staff\.ps\.establishment.*outside its plausible range"):
        write_back(config, cfg, _fit(cfg, [50.0, *front[1:]], down))  # the range is [4, 14]
    assert _files(tmp_path) == before


def test_a_scenario_without_its_overlay_is_not_calibrated(tmp_path):
    config = _copy_library(tmp_path)
    hand = tmp_path / "scenarios" / "baseline.yaml"
    hand.write_text(load(hand).model_dump_json(), encoding="utf-8")  # whole, extending nothing
    before = _files(tmp_path)
    with pytest.raises(ScenarioError, match="must extend its calibration overlay baseline.calibrated.yaml"):
        calibrate(config, max_evaluations=1)
    assert _files(tmp_path) == before


@pytest.mark.slow
def test_calibrate_runs_and_writes_calibrated_provenance(tmp_path):
    config = _copy_library(tmp_path, reps=2, max_evaluations=4)
    before = _files(tmp_path)
    result, _, c = calibrate(config, max_evaluations=4)
    assert result.evaluations >= 4 and result.objective <= result.start_objective
    for p, x in zip(c.free_parameters, result.x, strict=True):
        assert p.bounds[0] <= x <= p.bounds[1]
    write_back(config, c, result)
    after = _files(tmp_path)
    assert after["baseline.yaml"] == before["baseline.yaml"]
    assert after[str(OVERLAY)] != before[str(OVERLAY)]
    assert after[str(OVERLAY)].startswith(b"# The calibrated settings of baseline.yaml")
    sc = load(tmp_path / "scenarios" / "baseline.yaml")
    assert sc.staff["ps"].establishment.provenance == "calibrated"
    assert sc.staff["ps"].establishment.default == pytest.approx(result.x[0], abs=0.01)
    assert "Before calibration" in sc.staff["ps"].establishment.note
    assert sc.outcomes.written["education"].provenance == "calibrated"


@pytest.mark.slow
def test_calibrate_cli_reports_both_stages_and_writes_nothing_on_a_dry_run(tmp_path):
    config = _copy_library(tmp_path, reps=2)
    before = _files(tmp_path)
    log_before = LOG.read_text()
    res = subprocess.run([sys.executable, "-m", "sim", "calibrate", "--config", str(config),
                          "--max-evaluations", "2", "--dry-run", "--executor", "serial"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    c = load_config(config)
    assert "front door:" in res.stdout and "downstream:" in res.stdout
    for p in (*c.free_parameters, *c.downstream_parameters):
        assert f"  {p.name}: " in res.stdout
    assert _files(tmp_path) == before
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
