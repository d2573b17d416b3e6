"""Calibration plumbing and the back-test that keeps the fit from silently degrading."""

from __future__ import annotations

import copy
import csv
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
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
from sim.experiments.elasticity import paired_elasticity, period_share, scaled_demand
from sim.experiments.report import write_report
from sim.experiments.validation import COVERAGE_THRESHOLD, VOLUME_TOLERANCE, issue13_figures, run_validation
from sim.model.demand import STREAMS, stream_volume
from sim.scenario.docpaths import assign, get, parts
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
    """Each number-valued free parameter takes its value (one inside its bounds that differs from
    the scenario's, so the test cannot pass by leaving it alone); share scales of 1 leave the
    shares alone; nothing else in the document moves, whatever the free parameters are."""
    cfg = load_config()
    doc = baseline_doc()
    x, stated = [], {}
    for p in cfg.free_parameters:
        if p.kind in ("monthly_default", "scalar"):
            key = (*parts(p.path), "default" if p.kind == "monthly_default" else "value")
            old = get(doc, key)
            lo, hi = p.bounds
            v = next(c for c in (round(lo + f * (hi - lo), 3) for f in (0.3, 0.7)) if c != old)
            stated[key] = v
            x.append(v)
        else:
            x.append(1.0)
    assert ("staff", "ps", "establishment", "default") in stated
    assert ("service", "checks_share", "value") in stated
    new = apply(doc, cfg.free_parameters, x)
    for key, v in stated.items():
        assert get(new, key) == v, key
    back = copy.deepcopy(new)
    for key in stated:
        assign(back, key, get(doc, key))
    assert back == doc  # nothing but the free parameters changed


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


@pytest.mark.slow
def test_backtest_at_least_half_the_held_out_cells_are_inside_their_bands(validation):
    """At five validation seeds (20231001, 1, 2, 3, 4; 20 replications each) the baseline before
    the rota covered 20, 19, 19, 21 and 20 of the 33 cells, so a pin on the count would sit
    inside the seed-to-seed noise of the band's ends; half is the floor kept."""
    held = validation.holdout
    assert len(held) == 33
    assert held["inside_band"].sum() >= len(held) / 2, validation.by_measure.to_string()


@pytest.mark.xfail(strict=True, reason=(
    "held-out CRPS skill against carrying the July-September mean forward is -0.02 for the % of"
    " contacts resulting in a referral and -0.02 for assessments within 45 working days (0.31 for"
    " the share within 1 working day, 0.67 for strategy meetings on time); before the rota every"
    " validated measure was at 0 or above (calibration/report.md, Sharpness)"))
@pytest.mark.slow
def test_backtest_held_out_months_are_forecast_better_than_carrying_july_september_forward(validation):
    """Sharpness and calibration judged together: over the held-out months every validated
    measure's CRPS beats the naive forecast that carries the reported July-September mean
    forward (skill >= 0); the CRPS uses every replication."""
    scores = validation.scores
    validated = scores[scores["validated"]]
    assert len(validated) == 11
    assert (validated["skill"] >= 0).all(), validated.to_string()


@pytest.mark.xfail(strict=True, reason=(
    "on the rota, the management response and checks the share within 1 working day is inside its"
    " band in October (82.1 simulated, 83.7 reported) but not in November (82.2 against 89.4) or"
    " December (84.1 against 94.2): the calibration puts most late contacts down to checks"
    " (30% of decisions wait on them), which demand does not move (elasticity -0.07 partner,"
    " -0.08 police), so the reported rise as police contacts fell is not reproduced"
    " (calibration/report.md)"))
@pytest.mark.slow
def test_backtest_the_share_within_1_working_day_is_inside_its_band_every_held_out_month(validation):
    held = validation.holdout
    assert np.all(held.loc[held["measure"] == "pct_completed_within_1wd", "inside_band"])


@pytest.mark.slow
def test_backtest_staff_time_figures_of_issue_13(validation):
    """On the baseline (20 replications): no working day without a consultant social worker or
    a practice supervisor on duty that the filled posts could cover, and the share within 1
    working day's 95% band at most 15 points wide in every reported month."""
    f = issue13_figures(validation)
    assert f.loc["zero_on_duty", "coverable"] == 0, validation.zero_duty.to_string()
    c = validation.cells[validation.cells["measure"] == "pct_completed_within_1wd"]
    assert (c["band_width"] <= 15.0).all(), c.to_string()


@pytest.mark.xfail(strict=True, reason=(
    "the mean month-to-month change of the share within 1 working day within a replication is 2.2"
    " points (95% interval 1.5 to 2.8) against 5.0 reported: the late contacts are mostly those"
    " waiting on checks, a share that does not move from month to month (calibration/report.md)"))
@pytest.mark.slow
def test_backtest_the_share_moves_month_to_month_as_much_as_the_services(validation):
    change = validation.changes.set_index("measure").loc["pct_completed_within_1wd", "simulated"]
    assert 2.5 <= change <= 7.5


@pytest.mark.xfail(strict=True, reason=(
    "the fitted months' share within 1 working day is flat in the model (81.3, 80.6, 82.7) while"
    " the reported August (84.8) is the best of the three: August's judged leave (20%) lowers"
    " capacity as much as its lower demand raises it; 4.2 points off in August at the validation"
    " seed (calibration/report.md)"))
@pytest.mark.slow
def test_backtest_the_fitted_months_share_within_1_working_day_is_within_3_points(validation):
    c = validation.cells.query("measure == 'pct_completed_within_1wd' and period == 'fitted'")
    assert ((c["mean"] - c["reported"]).abs() <= 3.0).all(), c.to_string()


@pytest.mark.slow
def test_backtest_history_meets_the_reported_and_national_figures(validation):
    """With history acting (issue figures, 20 replications): children starting a plan who had
    been on one before 19-29% over the reported months (24% reported, seed 003 line 1624);
    S47 enquiries per referral and conferences per S47 inside England's ranges."""
    h = validation.history.set_index(["check", "period"])
    repeat = h.loc[("Children starting a plan who had been on one before (%)", "run")]
    assert 19.0 <= repeat["mean"] <= 29.0, repeat
    for check in ("S47 enquiries per referral", "Conferences per S47 enquiry"):
        row = h.loc[(check, "run")]
        assert row["low"] <= row["mean"] <= row["high"], row


@pytest.mark.xfail(strict=True, reason=(
    "re-referrals within 12 months: August's reported 22.6% is 0.13 points below the band (22.7 to"
    " 30.1; mean 25.9) at the validation seed; July and September are inside (calibration/report.md)"))
@pytest.mark.slow
def test_backtest_rereferrals_are_inside_the_band_every_fitted_month(validation):
    cells = validation.cells
    rerefer = cells[(cells["measure"] == "pct_rereferral_12m") & (cells["period"] == "fitted")]
    assert len(rerefer) == 3 and rerefer["inside_band"].all(), rerefer.to_string()


@pytest.mark.xfail(strict=True, reason="held-out coverage is 18/33 (55%): the reported October-December"
                   " falls in referral and S47 shares, the police advice mix and the improving assessment"
                   " timeliness are not in the model's inputs; see calibration/report.md")
@pytest.mark.slow
def test_backtest_holdout_coverage_meets_eighty_percent(validation):
    assert validation.coverage >= COVERAGE_THRESHOLD


def test_scaling_one_demand_group_moves_only_its_own_streams():
    base = load(ROOT / "scenarios" / "baseline.yaml")
    for group, factor in (("partner", 1.1), ("partner", 0.9), ("police", 1.1), ("police", 0.9)):
        sc = scaled_demand(base, group, factor)
        for y, m in ((2023, 6), (2023, 7), (2023, 11), (2023, 12), (2024, 1)):  # warm-up to cool-down
            for source, channel in STREAMS:
                want = factor if (source == "police") == (group == "police") else 1.0
                got = stream_volume(sc, source, channel, y, m) / stream_volume(base, source, channel, y, m)
                assert got == pytest.approx(want, rel=1e-12), (group, factor, source, channel, y, m)


def test_a_bad_demand_scaling_is_refused_in_one_line():
    base = load(ROOT / "scenarios" / "baseline.yaml")
    with pytest.raises(ValueError, match="demand group 'edt' is not one of partner, police"):
        scaled_demand(base, "edt", 1.1)
    with pytest.raises(ValueError, match="demand factor -0.1 must be above 0"):
        scaled_demand(base, "police", -0.1)


def test_central_difference_recovers_a_constant_elasticity_on_common_random_numbers():
    """Share = c_r x demand^e with a level c_r of its own in each replication: on common random
    numbers the level cancels, so every replication gives the same elasticity and the interval
    closes on it; the central difference of a power law is within 1% of e at +-10%."""
    e, step = -0.5, 0.1
    level = pd.Series([70.0, 80.0, 90.0, 85.0])
    res = paired_elasticity(level, level * (1 - step) ** e, level * (1 + step) ** e, step)
    assert res["elasticity"] == pytest.approx(e, rel=0.01)
    assert res["ci_high"] - res["ci_low"] == pytest.approx(0.0, abs=1e-9)
    down = (level * (1 - step) ** e).drop(index=2)  # a replication that failed in one run
    assert paired_elasticity(level, down, level * (1 + step) ** e, step)["reps"] == 3


def test_period_share_weights_each_month_by_its_contacts():
    monthly = pd.DataFrame({"rep": [0, 0, 1, 1], "month": ["2023-07", "2023-08"] * 2,
                            "contacts": [300.0, 100.0, 200.0, 200.0],
                            "pct_completed_within_1wd": [80.0, 40.0, 90.0, 70.0]})
    # rep 0: (240 + 40) / 400 contacts completed in time; rep 1: (180 + 140) / 400
    assert period_share(monthly).to_dict() == pytest.approx({0: 70.0, 1: 80.0})


def _reported() -> dict[tuple[str, str], float]:
    with (ROOT / "calibration" / "observed_monthly.csv").open(newline="") as f:
        return {(r["measure"], r["month"]): float(r["value"]) for r in csv.DictReader(f)}


@pytest.mark.slow
def test_each_held_out_cell_scores_the_replications_against_the_naive_forecast(validation):
    reported, cells, monthly = _reported(), validation.cells, validation.results.monthly
    assert np.allclose(cells["band_width"], cells["band_high"] - cells["band_low"])
    assert (cells["crps"] >= 0).all()
    held = cells[cells["period"] == "held out"]
    assert len(held) == 36  # 12 measures x 3 months
    for r in held.itertuples():
        x = monthly.loc[monthly["month"] == r.month, r.measure].dropna().to_numpy(dtype=float)
        brute = np.mean(np.abs(x - r.reported)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
        assert r.crps == pytest.approx(brute, rel=1e-9, abs=1e-9)
        naive = np.mean([reported[(r.measure, m)] for m in ("2023-07", "2023-08", "2023-09")])
        assert r.naive == pytest.approx(naive)
        assert r.crps_naive == pytest.approx(abs(naive - r.reported))
        assert r.skill == pytest.approx(1 - r.crps / r.crps_naive)
    assert cells.loc[cells["period"] == "fitted", "skill"].isna().all()  # no forecast of its own data


@pytest.mark.slow
def test_month_to_month_change_and_elasticities_are_reported_beside_the_service(validation):
    ch = validation.changes.set_index("measure")
    assert ch.at["pct_completed_within_1wd", "reported"] == pytest.approx(4.98)  # 24.9 points / 5
    assert (ch["simulated"] > 0).all() and (ch["ci_low"] <= ch["simulated"]).all()
    el = validation.elasticities.set_index("group")
    assert set(el.index) == {"partner", "police"}
    assert (el["reps"] == validation.results.reps).all()
    # more demand on the same staff decides fewer contacts within a working day, in every group
    assert (el["ci_high"] < 0).all(), el.to_string()
    assert (el["share_up"] < el["share"]).all() and (el["share"] < el["share_down"]).all()


@pytest.mark.slow
def test_the_report_states_the_formulas_and_names_every_measure_with_negative_skill(validation, tmp_path):
    text = write_report(validation, None, out_dir=tmp_path).read_text()
    assert "skill = 1 - CRPS_model / CRPS_naive" in text
    assert "CRPS = (1/n) sum_i |x_i - y|" in text
    assert "e_r = ((s_r(+step) - s_r(-step)) / s_r(0)) / (2 step)" in text
    neg = validation.scores.query("skill < 0")
    sentence = next(line for line in text.splitlines() if line.startswith("Skill is "))
    for label in neg["label"]:
        assert f"**{label}**" in sentence
    assert (tmp_path / "validation_changes.csv").is_file()
    assert (tmp_path / "validation_elasticities.csv").is_file()
