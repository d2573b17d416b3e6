"""The Downloads page's board report: built from the results on screen, one HTML file."""

from __future__ import annotations

import re

import pytest

from tests.app_helpers import go, open_app


@pytest.mark.app
@pytest.mark.slow
def test_the_board_report_button_gives_the_results_on_screen_as_html() -> None:
    at = go(open_app(), "Downloads")
    labels = [b.label for b in at.get("download_button")]
    assert any(lab.startswith("Board report") for lab in labels), labels
    page = at.session_state.board_report.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    ran = at.session_state.ran
    # the headline figure is the run's own: the mean over replications of each one's monthly average
    m = ran.res.monthly
    expected = m.groupby("rep")["pct_completed_within_1wd"].mean().mean()
    got = re.search(r'data-measure="pct_completed_within_1wd" data-scenario="baseline" data-mean="([^"]+)"',
                    page)
    assert got is not None
    assert float(got.group(1)) == pytest.approx(expected, rel=1e-12)
    assert f"--reps {ran.res.reps} --seed {ran.res.seed}" in page
    assert "scenarios/baseline.yaml" in page
    # no sensitivity analysis was run in this session: the report says so rather than invent one
    assert "No sensitivity analysis of" in page
    from sim.experiments import board_pdf

    assert any(lab == "Board report (PDF)" for lab in labels) == board_pdf.available()


@pytest.mark.app
@pytest.mark.slow
def test_the_board_report_carries_the_comparison_on_screen() -> None:
    at = go(open_app(), "Compare and target")
    at.multiselect(key="library_add").set_value(["baseline.yaml", "staffing_minus2.yaml"]).run()
    at.button(key="add_library").click().run()
    at.button(key="run_compare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.session_state.comparison["table"]
    go(at, "Downloads")
    page = at.session_state.board_report.decode("utf-8")
    row = table[(table["scenario"] == "staffing_minus2") & (table["measure"] == "abandoned_calls")
                & (table["month"] == "all months")].iloc[0]
    got = re.search(r'data-measure="abandoned_calls" data-scenario="staffing_minus2"'
                    r' data-diff="([^"]+)"', page)
    assert got is not None and float(got.group(1)) == row["diff_from_first"]
    assert "12 before 2023-08; from 2023-08: 10" in page  # what staffing_minus2 changes, in words
    assert "python -m sim report scenarios/baseline.yaml scenarios/staffing_minus2.yaml" in page
    assert any("comparison of baseline, staffing_minus2" in c.value for c in at.caption)


@pytest.mark.app
@pytest.mark.slow
def test_the_board_report_ranks_assumptions_by_the_sessions_own_sensitivity_run() -> None:
    at = go(open_app(), "Assumptions")
    at.number_input(key="sens_reps").set_value(1)
    at.multiselect(key="sens_pick").set_value(["service.conversation_minutes.mean"]).run()
    at.button(key="run_sensitivity").click().run()
    assert not at.exception, [e.value for e in at.exception]
    go(at, "Downloads")
    page = at.session_state.board_report.decode("utf-8")
    assert "From the sensitivity analysis run in this session (Assumptions page) on" in page
    assert "1 judged assumption, 1 replication at each end of each range" in page
    assert "Length of a phone conversation: average" in page  # the one assumption varied, by name
