"""The Streamlit app, page by page, through Streamlit's AppTest (no browser needed).

Runs use few replications in one process (FRONT_DOOR_REPS, FRONT_DOOR_WORKERS) so the whole
file takes seconds; finished runs are cached across sessions, so later tests reuse them.
"""

from __future__ import annotations

import io
import os

import openpyxl
import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from sim.experiments.levers import LEVERS
from sim.experiments.runner import run_replications
from sim.experiments.sensitivity import judged_parameters
from sim.measures.metrics import MEASURES
from sim.scenario.loading import loads
from sim.scenario.schema import MAX_FILE_BYTES
from tests.app_helpers import fewer_posts, go, open_app, set_lever
from tests.app_helpers import lever as lever_key
from tests.helpers import ROOT, baseline_doc
from ui import excel, experiments, params, runs
from ui.pages import PAGES
from ui.pages.compare import escalation_table
from ui.state import to_yaml


def period_mean(at: AppTest, measure: str) -> float:
    return float(at.session_state.ran.res.monthly[measure].mean())


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.info] + [e.value for e in at.error] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


@pytest.fixture(scope="module")
def app() -> AppTest:
    return open_app()


@pytest.mark.app
def test_opens_ready_on_the_baseline_with_reported_figures_beside(app: AppTest) -> None:
    ran = app.session_state.ran
    assert ran is not None and ran.res.scenario.name == "baseline"
    assert ran.res.reps == int(os.environ["FRONT_DOOR_REPS"])
    words = texts(app)
    assert "What this is." in words and "What it is not." in words
    # the reported monthly average of % completed within 1 working day (July-December 2023)
    assert "reported 85.2%" in words
    labels = [m.label for m in app.metric]
    assert MEASURES["pct_completed_within_1wd"][0] in labels
    assert app.get("vega_lite_chart") or app.get("arrow_vega_lite_chart")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.app
def test_every_page_renders(app: AppTest, page: str) -> None:
    go(app, page)
    assert app.title[0].value
    go(app, "Results")


@pytest.mark.app
def test_levers_show_unit_range_and_provenance(app: AppTest) -> None:
    go(app, "Change the scenario")
    node = baseline_doc()["staff"]["ps"]["establishment"]
    ps = app.number_input(key=lever_key(app, "staff.ps.establishment.default"))
    assert (ps.value, ps.min, ps.max) == (node["default"], *node["range"])
    words = texts(app)
    assert words.count("plausible range") > 40
    for prov in ("reported by the service", "national statistic", "judgement"):
        assert f"provenance: {prov}" in words
    go(app, "Results")


@pytest.mark.slow
@pytest.mark.app
def test_fewer_practice_supervisors_lowers_completed_within_one_working_day() -> None:
    at = open_app()
    before = period_mean(at, "pct_completed_within_1wd")
    fewer = fewer_posts("ps", 3)
    go(at, "Change the scenario")
    set_lever(at, "staff.ps.establishment.default", fewer)
    assert at.session_state.work.edits == {("staff", "ps", "establishment", "default"): fewer}
    at.button(key="run:levers").click().run()
    assert not at.exception
    after = period_mean(at, "pct_completed_within_1wd")
    assert at.session_state.ran.res.scenario.staff["ps"].establishment.default == fewer
    assert after < before - 2, (before, after)
    # the changed number no longer claims to be what the file said
    node = at.session_state.ran.doc["staff"]["ps"]["establishment"]
    assert node["provenance"] == "judgement" and "changed in the app" in node["note"]


@pytest.mark.app
@pytest.mark.slow
def test_a_repeat_answer_comes_from_the_cache() -> None:
    # the property is that no replication runs again; wall time is not asserted on a shared machine
    open_app()  # makes sure the baseline is cached
    at = open_app()  # a new session asking the same question
    assert at.session_state.ran.from_cache


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    go(at, "Change the scenario")
    at.file_uploader(key="upload").set_value((name, data, "application/x-yaml")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.app
@pytest.mark.slow
def test_a_malformed_upload_shows_the_error_and_changes_nothing() -> None:
    at = open_app()
    go(at, "Change the scenario")
    set_lever(at, "staff.csw.establishment.default", fewer_posts("csw", 2))
    upload(at, "broken.yaml", b"name: [not closed\nrun: {")
    errors = [e.value for e in at.error]
    assert any("Upload refused" in e and "not valid YAML" in e for e in errors), errors
    assert at.session_state.work.original["name"] == "baseline"
    fewer = fewer_posts("csw", 2)
    assert at.session_state.work.edits == {("staff", "csw", "establishment", "default"): fewer}


@pytest.mark.app
@pytest.mark.slow
def test_an_invalid_scenario_upload_names_the_field() -> None:
    doc = baseline_doc()
    doc["staff"]["csw"]["establishment"]["default"] = 99
    at = upload(open_app(), "too_many.yaml", yaml.safe_dump(doc).encode())
    errors = " ".join(e.value for e in at.error)
    assert "staff.csw.establishment" in errors and "plausible range" in errors
    assert (at.session_state.work.original["staff"]["csw"]["establishment"]["default"]
            == baseline_doc()["staff"]["csw"]["establishment"]["default"])


@pytest.mark.app
def test_an_oversized_upload_is_refused_unread() -> None:
    at = upload(open_app(), "huge.yaml", b"#" * (MAX_FILE_BYTES + 1))
    errors = " ".join(e.value for e in at.error)
    assert "larger than" in errors and "not read" in errors
    assert at.session_state.work.original["name"] == "baseline"


def session_snapshot(at: AppTest) -> dict:
    ss = at.session_state
    return {"original": ss.work.original, "source": ss.work.source, "edits": dict(ss.work.edits),
            "gen": ss.work.gen, "ran": ss.ran.key, "saved": [(e.name, e.doc()) for e in ss.saved],
            "seed": ss.seed, "reps": ss.reps}


@pytest.mark.slow
@pytest.mark.app
def test_a_downloaded_scenario_uploads_again() -> None:
    at = open_app()
    go(at, "Change the scenario")
    at.text_input(key=lever_key(at, "name")).input("six supervisors").run()
    set_lever(at, "staff.ps.establishment.default", fewer_posts("ps", 1))
    # the download button holds exactly this text
    text = to_yaml(params.apply_edits(at.session_state.work.original, at.session_state.work.edits))
    assert loads(text).staff["ps"].establishment.default == fewer_posts("ps", 1)  # as `sim check` reads it
    fresh = upload(open_app(), "six_supervisors.yaml", text.encode())
    assert any("Loaded six_supervisors.yaml" in s.value for s in fresh.success)
    assert fresh.session_state.work.original["name"] == "six supervisors"
    posts = fresh.session_state.work.original["staff"]["ps"]["establishment"]["default"]
    assert posts == fewer_posts("ps", 1)


@pytest.mark.slow
@pytest.mark.app
def test_every_library_scenario_loads_into_the_levers_unchanged() -> None:
    at = go(open_app(), "Change the scenario")
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        at.selectbox(key="library_choice").set_value(path.name).run()
        at.button(key="load_library").click().run()
        assert not at.exception, (path.name, [e.value for e in at.exception])
        assert any(f"Loaded {path.name}" in s.value for s in at.success), [e.value for e in at.error]
        # drawing every lever from the file changes nothing until a lever is moved
        assert at.session_state.work.source == path.name and at.session_state.work.edits == {}, path.name


@pytest.mark.slow
@pytest.mark.app
def test_compare_gives_paired_differences() -> None:
    at = open_app()
    go(at, "Compare and target")
    at.button(key="save_here").click().run()
    go(at, "Change the scenario")
    at.text_input(key=lever_key(at, "name")).input("two fewer consultant social workers").run()
    set_lever(at, "staff.csw.establishment.default", fewer_posts("csw", 2))
    at.button(key="save_for_compare").click().run()
    go(at, "Compare and target")
    assert [e.name for e in at.session_state.saved] == ["baseline", "two fewer consultant social workers"]
    at.button(key="run_compare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.session_state.comparison["table"]
    row = table[(table["scenario"] == "two fewer consultant social workers")
                & (table["measure"] == "abandoned_calls") & (table["month"] == "all months")].iloc[0]
    assert row["diff_from_first"] > 0 and row["diff_ci_low"] <= row["diff_from_first"] <= row["diff_ci_high"]
    assert len(at.dataframe) >= 1
    words = texts(at)
    assert "difference from 'baseline'" in words


@pytest.mark.slow
@pytest.mark.app
def test_compare_with_the_front_door_before_the_approach_shows_children_escalating() -> None:
    """Comparing the baseline with the front door before the approach adds the escalation table:
    the reduction in referrals, 1 - baseline / before per replication, averaged (not a ratio of
    means), as computed here from the runs' own monthly tables."""
    at = open_app()
    go(at, "Compare and target")
    at.button(key="save_here").click().run()
    go(at, "Change the scenario")
    at.selectbox(key="library_choice").set_value("pre_conversations.yaml").run()
    at.button(key="load_library").click().run()
    at.button(key="save_for_compare").click().run()
    go(at, "Compare and target")
    assert [e.name for e in at.session_state.saved] == ["baseline", "pre_conversations"]
    at.button(key="run_compare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    comp = at.session_state.comparison
    assert comp["escalation"] is not None
    assert "Children escalating to statutory intervention" in texts(at)
    results = [runs.shared_store().get(k) for k in comp["keys"]]
    per = {r.scenario.name: r.monthly.groupby("rep")["referrals"].mean() for r in results}
    expected = float((100 * (1 - per["baseline"] / per["pre_conversations"])).mean())
    shown = escalation_table(comp["escalation"])
    cell = shown.loc[shown["measure"] == MEASURES["referrals"][0], "reduction (95% interval)"].iloc[0]
    assert cell.startswith(f"{expected:.1f}%"), (cell, expected)


def set_target(at: AppTest, question: str, lever: str, reps: int, coarse: int, fine: int) -> AppTest:
    go(at, "Compare and target")
    at.radio(key="target_question").set_value(question)
    at.selectbox(key="target_lever").set_value(lever)
    at.number_input(key="target_reps").set_value(reps)
    at.slider(key="target_coarse").set_value(coarse)
    at.slider(key="target_fine").set_value(fine).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
@pytest.mark.app
def test_target_finder_estimates_then_answers_then_remembers() -> None:
    at = set_target(open_app(), "within_1wd_95", "ps_posts", reps=2, coarse=3, fine=0)
    words = texts(at)
    lever = LEVERS["ps_posts"]
    # the lever's range and its reasoning, and the time it will take, before anything runs
    assert f"plausible range {lever.low:g} to {lever.high:g} {lever.unit}: {lever.why_range}" in words
    assert "This will take about" in words and "up to 3 values of the lever, 2 replications each" in words
    assert at.session_state.get("target") is None
    at.button(key="run_target").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state.target
    grid = run.result.grid
    assert len(grid) == 3 and not run.from_cache
    assert grid["mean"].iloc[-1] > grid["mean"].iloc[0]  # more supervisors, more done within a day
    said = [m.value for m in at.success] + [m.value for m in at.warning]
    assert run.result.message() in said and "by changing practice supervisor posts screening" in said[-1]
    assert any(d.label.endswith("(target.csv)") for d in at.get("download_button"))
    assert len(at.dataframe) >= 1
    # the same question again: from the cache, at once
    at.button(key="run_target").click().run()
    assert at.session_state.target.from_cache and at.session_state.target.result is run.result
    # the choices survive a visit to another page
    go(at, "Results")
    go(at, "Compare and target")
    assert at.selectbox(key="target_lever").value == "ps_posts"
    assert at.number_input(key="target_reps").value == 2


@pytest.mark.slow
@pytest.mark.app
def test_the_30_percent_question_is_measured_against_before_the_approach() -> None:
    at = set_target(open_app(), "referrals_30pct", "conversation_effect", reps=2, coarse=2, fine=0)
    assert "plus the same replications of the front door before the conversations approach" in texts(at)
    at.button(key="run_target").click().run()
    assert not at.exception, [e.value for e in at.exception]
    res = at.session_state.target.result
    assert res.target.key == "referrals_30pct" and "30% fewer referrals" in res.message()
    grid = res.grid
    # referrals relative to before the approach: a ratio near 1, lower with a stronger conversation effect
    assert 0.3 < grid["mean"].iloc[0] < 2.0
    assert grid.sort_values("value")["mean"].is_monotonic_increasing


@pytest.mark.app
@pytest.mark.slow
def test_a_long_target_search_says_so_before_starting() -> None:
    at = set_target(open_app(), "within_1wd_95", "csw_posts", reps=400, coarse=9, fine=6)
    assert "This will take" in " ".join(w.value for w in at.warning)
    assert at.button(key="run_target").disabled
    at.checkbox(key="confirm_long:target").check().run()
    assert not at.button(key="run_target").disabled


@pytest.mark.slow
@pytest.mark.app
def test_tornado_on_chosen_assumptions_in_plain_words() -> None:
    at = go(open_app(), "Assumptions")
    chosen = ["staff.csw.productive_share", "service.conversation_minutes.mean"]
    at.number_input(key="sens_reps").set_value(1)
    at.multiselect(key="sens_pick").set_value(chosen).run()
    words = texts(at)
    assert "2 assumptions, each at both ends of its range, 1 replication each" in words
    assert "5 replications to run, which will take about" in words
    at.button(key="run_sensitivity").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state.sensitivity
    t = run.table[run.table["measure"] == "pct_completed_within_1wd"].set_index("parameter")
    assert set(t.index) == set(chosen) and run.ran == 2
    # longer conversations: fewer contacts done within a day; more time on the phones: more
    conv, csw = t.loc["service.conversation_minutes.mean"], t.loc["staff.csw.productive_share"]
    assert conv["at_high"] < conv["base"] < conv["at_low"] and csw["at_low"] < csw["base"] < csw["at_high"]
    assert set(t["setting"]) == {"Length of a phone conversation: average",
                                 "Consultant social workers: share of on-duty time on front-door work"}
    captions = [c.value for c in at.caption]
    assert any("The assumptions that move it most" in c and "Length of a phone conversation" in c
               for c in captions)
    assert any(d.label.endswith("(tornado.csv)") for d in at.get("download_button"))
    # asked again in a new session: every row from the shared cache
    again = go(open_app(), "Assumptions")
    again.number_input(key="sens_reps").set_value(1)
    again.multiselect(key="sens_pick").set_value(chosen).run()
    assert "all ready from earlier" in texts(again)
    again.button(key="run_sensitivity").click().run()
    assert again.session_state.sensitivity.ran == 0
    assert again.session_state.sensitivity.table.equals(run.table)


@pytest.mark.app
@pytest.mark.slow
def test_every_assumption_at_once_says_how_long_first() -> None:
    at = go(open_app(), "Assumptions")
    at.radio(key="sens_scope").set_value("Every judged assumption").run()
    n = len(experiments.assumptions_to_vary(at.session_state.ran.res.scenario))
    assert f"{n} assumptions, each at both ends of its range" in texts(at)
    assert "This will take about" in " ".join(w.value for w in at.warning)
    assert at.button(key="run_sensitivity").disabled


def test_every_judged_assumption_has_a_plain_english_name(baseline) -> None:
    names = experiments.assumptions_to_vary(baseline)
    assert len(names) == len(judged_parameters(baseline))
    for path, name in names.items():
        assert "_" not in name and path not in name and name[0].isupper() and "(another)" not in name, name


@pytest.mark.app
@pytest.mark.slow
def test_assumptions_page_lists_every_parameter() -> None:
    at = go(open_app(), "Assumptions")
    table = at.dataframe[0].value
    doc = baseline_doc()
    assert len(table) == sum(1 for _ in params.walk(doc))
    assert {"value", "unit", "plausible range", "provenance", "source"} <= set(table.columns)
    assert {"reported", "national", "judgement"} <= set(table["provenance"])
    # the calibration fit is shown beside it
    assert any("mean absolute % error" in list(d.value.columns) for d in at.dataframe[1:])


@pytest.mark.app
@pytest.mark.slow
def test_downloads_page_offers_the_workbook_and_csvs() -> None:
    at = go(open_app(), "Downloads")
    labels = [b.label for b in at.get("download_button")]
    assert any("Excel workbook" in lab for lab in labels)
    assert sum("CSV" in lab or ".csv" in lab for lab in labels) >= 3
    book = openpyxl.load_workbook(io.BytesIO(at.session_state.xlsx))
    assert {"Inputs", "Monthly", "Summary", "Comparison", "Assumptions"} <= set(book.sheetnames)


@pytest.mark.app
def test_a_long_run_says_so_before_starting() -> None:
    at = open_app()
    at.sidebar.number_input(key="reps").set_value(400).run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "This will take" in warnings
    assert at.button(key="run:results").disabled


# ---------------------------------------------------------------------------------------------
# the helpers behind the pages


def test_every_setting_has_a_plain_english_name() -> None:
    for path, _ in params.walk(baseline_doc()):
        name = params.label(path)
        assert "_" not in name and name[0].isupper(), (path, name)


def test_workbook_sheets_use_plain_english_headings(baseline) -> None:
    res = run_replications(baseline, reps=2, seed=1)
    monthly = excel.monthly_table(res)
    assert f"{MEASURES['pct_completed_within_1wd'][0]} (%)" in monthly.columns
    summary = excel.summary_table(res, pd.DataFrame())
    data = excel.workbook(excel.inputs_table({"scenario": "baseline"}, pd.DataFrame(
        columns=["setting", "file value", "value used", "unit"])), monthly, summary,
        excel.comparison_table(None), params.assumptions(baseline.model_dump(mode="json")))
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Read me", "Inputs", "Monthly", "Summary", "Comparison", "Assumptions"]
    assert book["Monthly"].max_row == len(monthly) + 1


def test_edits_apply_scale_and_summer_leave() -> None:
    doc = baseline_doc()
    doc["run"]["start"], doc["run"]["end"] = str(doc["run"]["start"]), str(doc["run"]["end"])
    out = params.apply_edits(doc, {("demand", "police_monthly", params.SCALE): 0.67,
                                   ("staff", "csw", "leave_rate", params.SUMMER): 0.05})
    assert out["demand"]["police_monthly"]["value"]["2023-12"] == pytest.approx(706 * 0.67)
    leave = doc["staff"]["csw"]["leave_rate"]
    summer = {m: out["staff"]["csw"]["leave_rate"]["value"][m] for m in ("2023-07", "2023-08")}
    assert summer == {m: pytest.approx(leave["value"].get(m, leave["default"]) + 0.05)
                      for m in ("2023-07", "2023-08")}
    assert "note" not in leave or "changed in the app" not in leave["note"]  # the original is untouched
