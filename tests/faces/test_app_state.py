"""The session's scenarios through the app, as a user drives it (AppTest): each sequence that once
leaked a change, trapped a saved "baseline" or hid a period (issue 16, faults 1 to 3 and 5).

Every expected value comes from outside the app's code: the scenario files themselves, a run of
`sim.experiments.runner.run_replications`, or the numbers typed in.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from sim.experiments.runner import run_replications
from sim.measures.breakeven import break_even
from sim.scenario.loading import load
from sim.scenario.params import month_value
from sim.scenario.schema import validate
from tests.app_helpers import go, lever, open_app, set_lever
from tests.helpers import ROOT, baseline_doc
from ui.pages.downloads import file_name

LIBRARY = ROOT / "scenarios"
QUALITY = "ppn.quality.value"
PS_POSTS = "staff.ps.establishment.default"

pytestmark = pytest.mark.app


def changes_listed(at: AppTest) -> list[str]:
    """The settings named in the "Changes from the file" table of the Change the scenario page."""
    for exp in at.expander:
        if exp.label.startswith("Changes from the file"):
            frames = exp.dataframe
            return list(frames[0].value["setting"]) if len(frames) else []
    raise AssertionError("no 'Changes from the file' expander")


def rename(at: AppTest, name: str) -> AppTest:
    at.text_input(key=lever(at, "name")).input(name).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sidebar_text(at: AppTest) -> str:
    return "\n".join([m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption])


def load_library(at: AppTest, name: str) -> AppTest:
    go(at, "Change the scenario")
    at.selectbox(key="library_choice").set_value(name).run()
    at.button(key="load_library").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="upload").set_value((name, data, "application/x-yaml")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---------------------------------------------------------------------------------------------
# fault 1: edits leak across Load, Undo and Upload


def test_a_change_saved_then_load_then_rename_lists_only_the_rename() -> None:
    at = go(open_app(), "Change the scenario")
    set_lever(at, QUALITY, 0.5)
    assert changes_listed(at) == ["Quality of police protection notices"] or len(changes_listed(at)) == 1
    rename(at, "better notices")
    at.button(key="save_for_compare").click().run()
    load_library(at, "baseline.yaml")
    assert at.number_input(key=lever(at, QUALITY)).value == baseline_doc()["ppn"]["quality"]["value"]
    rename(at, "a fresh look")
    assert changes_listed(at) == ["Scenario name"]
    assert at.session_state.work.doc()["ppn"]["quality"]["value"] == baseline_doc()["ppn"]["quality"]["value"]
    # the saved one keeps its own change
    saved = at.session_state.saved
    assert [e.name for e in saved] == ["better notices"] and saved[0].doc()["ppn"]["quality"]["value"] == 0.5


def test_undo_then_rename_does_not_bring_the_change_back() -> None:
    at = go(open_app(), "Change the scenario")
    set_lever(at, PS_POSTS, 13)
    assert len(changes_listed(at)) == 1
    at.button(key="reset_edits").click().run()
    assert at.number_input(key=lever(at, PS_POSTS)).value == baseline_doc()["staff"]["ps"]["establishment"][
        "default"]
    rename(at, "renamed after undo")
    assert changes_listed(at) == ["Scenario name"]
    assert at.session_state.work.edits == {("name",): "renamed after undo"}


def test_a_broken_upload_after_a_good_one_changes_nothing() -> None:
    at = go(open_app(), "Change the scenario")
    upload(at, "staffing_plus2.yaml", (LIBRARY / "staffing_plus2.yaml").read_bytes())
    assert at.session_state.work.name == "staffing_plus2" and changes_listed(at) == []
    upload(at, "broken.yaml", b"name: [not closed\nrun: {")
    assert any("Upload refused" in e.value for e in at.error)
    assert at.session_state.work.name == "staffing_plus2" and at.session_state.work.edits == {}
    assert changes_listed(at) == []
    words = sidebar_text(at)
    assert "**Scenario:** staffing_plus2" in words and "no changes" in words and "1 change" not in words


def test_the_sidebar_shows_the_name_and_changes_of_this_rerun() -> None:
    at = go(open_app(), "Change the scenario")
    rename(at, "three changes")
    assert "**Scenario:** three changes" in sidebar_text(at)
    set_lever(at, PS_POSTS, 9)
    set_lever(at, QUALITY, 0.4)
    assert len(changes_listed(at)) == 3
    assert "3 changes made here" in sidebar_text(at)


# ---------------------------------------------------------------------------------------------
# fault 2: the saved-"baseline" trap


def test_an_edited_baseline_cannot_be_saved_as_baseline_and_the_library_one_can_always_be_added() -> None:
    at = go(open_app(), "Change the scenario")
    set_lever(at, QUALITY, 0.5)
    at.button(key="save_for_compare").click().run()
    assert at.session_state.saved == []
    assert any("name of a library scenario" in c.value for c in at.caption)
    go(at, "Compare and target")
    at.multiselect(key="library_add").set_value(["baseline.yaml"]).run()
    at.button(key="add_library").click().run()
    assert [e.name for e in at.session_state.saved] == ["baseline"]
    go(at, "Change the scenario")
    rename(at, "better notices")
    at.button(key="save_for_compare").click().run()
    go(at, "Compare and target")
    assert [e.name for e in at.session_state.saved] == ["baseline", "better notices"]
    at.button(key="run_compare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.session_state.comparison["table"]
    base = table[(table["scenario"] == "baseline") & (table["measure"] == "pct_completed_within_1wd")
                 & (table["month"] == "all months")].iloc[0]
    # the "baseline" column is the library file's, run independently on the same seed and replications
    alone = run_replications(load(LIBRARY / "baseline.yaml"), reps=int(at.session_state.reps),
                             seed=int(at.session_state.seed))
    assert base["mean"] == pytest.approx(alone.monthly["pct_completed_within_1wd"].mean(), rel=1e-9)
    # overtime in the team's hours a month and per filled post, the posts read from the baseline file
    staff = baseline_doc()["staff"]["csw"]
    months = [f"2023-{m:02d}" for m in range(7, 13)]
    filled = {m: month_value(staff["establishment"], m) * (1 - month_value(staff["vacancy_rate"], m))
              for m in months}
    over = table[(table["scenario"] == "baseline") & (table["measure"] == "overtime_hours_csw")
                 & table["month"].isin(months)].set_index("month")["mean"]
    per_post = sum(over[m] / filled[m] for m in months) / len(months)
    board = next(d.value for d in at.dataframe if "measure" in d.value.columns
                 and "baseline" in d.value.columns)
    rows = board.set_index("measure")
    team = rows.loc["Overtime worked by consultant social workers, hours a month (whole team)"]
    assert team["unit"] == "hours a month, the whole team"
    per = rows.loc["Overtime of consultant social workers, hours a month per filled post"]
    assert per["unit"] == "hours a month per filled post" and per["baseline"] == f"{per_post:,.2f}"


def test_a_saved_scenario_can_be_renamed_and_removed() -> None:
    at = go(open_app(), "Compare and target")
    at.multiselect(key="library_add").set_value(["baseline.yaml", "ppn_quality.yaml"]).run()
    at.button(key="add_library").click().run()
    assert [e.name for e in at.session_state.saved] == ["baseline", "ppn_quality"]
    gen = at.session_state.saved[1].gen
    at.text_input(key=f"rename_saved:1:{gen}").input("better notices").run()
    assert [e.name for e in at.session_state.saved] == ["baseline", "better notices"]
    # a library name is the library file's alone
    at.text_input(key=f"rename_saved:1:{gen}").input("baseline").run()
    assert [e.name for e in at.session_state.saved] == ["baseline", "better notices"]
    gen0 = at.session_state.saved[0].gen
    at.button(key=f"remove_saved:0:{gen0}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.name for e in at.session_state.saved] == ["better notices"]
    assert at.session_state.saved[0].doc()["ppn"]["quality"]["value"] == 0.6  # ppn_quality.yaml's
    assert at.session_state.work.name == "baseline" and at.session_state.work.edits == {}


# ---------------------------------------------------------------------------------------------
# fault 3: silent periods


def test_cotriage_starting_after_the_run_is_flagged_beside_the_lever_and_above_the_results() -> None:
    at = go(open_app(), "Change the scenario")
    at.toggle(key=lever(at, "cotriage.enabled")).set_value(True).run()
    end = baseline_doc()["run"]["end"]
    start = baseline_doc()["cotriage"]["start"]["value"]
    assert str(start) > str(end)
    assert any("after the period ends (31 December 2023)" in w.value for w in at.warning)
    at.button(key="run:levers").click().run()
    go(at, "Results")
    flags = [w.value for w in at.warning if "co-triage" in w.value.lower()]
    assert flags and "changes nothing in these results" in flags[0]


def test_the_cotriage_levers_show_the_break_even_of_the_settings_as_edited() -> None:
    at = go(open_app(), "Change the scenario")
    at.toggle(key=lever(at, "cotriage.enabled")).set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    doc = baseline_doc()
    doc["cotriage"]["enabled"] = True
    expected = break_even(validate(doc, "test"))
    shown = [c.value for c in at.caption if c.value.startswith("Break-even:")]
    assert shown == [f"Break-even: {expected.text()}."]
    assert f"more than {expected.max_cotriage_minutes:.1f} min" in shown[0]


def test_compare_says_which_months_it_compared_and_that_it_moved_a_period() -> None:
    at = go(open_app(), "Compare and target")
    at.multiselect(key="library_add").set_value(["baseline.yaml", "baseline_2024.yaml"]).run()
    at.button(key="add_library").click().run()
    words = " ".join(w.value for w in at.warning)
    assert "July to December 2023 (6 months)" in words
    assert "'baseline_2024' covers January to June 2024" in words
    # the command line's rule: refused until every scenario is put on the reference's months
    assert at.button(key="run_compare").disabled
    at.checkbox(key="compare_align").check().run()
    at.button(key="run_compare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    comp = at.session_state.comparison
    months = set(comp["table"].loc[~comp["table"]["month"].isin(["all months", "period total"]), "month"])
    assert months == {f"2023-{m:02d}" for m in range(7, 13)}  # the reference's months, from its file
    assert any("'baseline_2024' moved from 2024-01-01 to 2024-06-30 (its file) to 2023-07-01 to 2023-12-31"
               in c.value for c in at.caption)
    assert any(s.value.startswith("Paired differences, July to December 2023") for s in at.subheader)
    assert any("Months compared: July to December 2023 (6 months)" in c.value for c in at.caption)


# ---------------------------------------------------------------------------------------------
# fault 5: downloads that do not match


def test_downloads_never_offer_results_of_an_earlier_version() -> None:
    at = go(open_app(), "Change the scenario")
    set_lever(at, PS_POSTS, 9)
    go(at, "Downloads")
    labels = [b.label for b in at.get("download_button")]
    assert not any("Excel workbook" in lab for lab in labels)
    assert any("has no results with these settings yet" in i.value for i in at.info)


def test_the_workbook_says_what_was_run_with_numbers_as_numbers() -> None:
    at = go(open_app(), "Change the scenario")
    set_lever(at, PS_POSTS, 9)
    at.button(key="run:levers").click().run()
    go(at, "Downloads")
    book = openpyxl.load_workbook(io.BytesIO(at.session_state.xlsx))
    rows = {r[0]: r[1:] for r in book["Inputs"].iter_rows(values_only=True)}
    changed = rows["changed: Practice supervisors and managers: posts"]
    assert changed[0] == 9 and changed[1] == baseline_doc()["staff"]["ps"]["establishment"]["default"]
    assert rows["replications"][0] == int(at.session_state.reps)
    assert rows["seed"][0] == baseline_doc()["run"]["seed"]
    assert rows["months reported"][0] == "July to December 2023 (6 months)"
    assert rows["number of changes from the scenario file"][0] == 1
    assert isinstance(rows["replications"][0], int)
    summary = book["Summary"]
    assert all(isinstance(c.value, float | int) for c in next(summary.iter_cols(min_col=4, max_col=4,
                                                                               min_row=2, max_row=20)))


def test_library_files_exist_for_these_tests() -> None:
    for name in ("baseline.yaml", "baseline_2024.yaml", "ppn_quality.yaml", "staffing_plus2.yaml"):
        assert Path(LIBRARY / name).is_file()


# ---------------------------------------------------------------------------------------------
# fault 4: a click swallowed


def test_the_run_button_is_there_before_the_first_edit_and_one_click_runs_it() -> None:
    at = go(open_app(), "Change the scenario")
    button = at.button(key="run:levers")
    assert button.disabled  # the baseline's results are ready: the button waits, in its place
    set_lever(at, PS_POSTS, 11)  # a value no other test runs, so its results are not cached yet
    assert not at.button(key="run:levers").disabled
    at.button(key="run:levers").click().run()
    assert not at.exception, [e.value for e in at.exception]
    ran = at.session_state.ran
    assert ran.res.scenario.staff["ps"].establishment.default == 11
    assert "1 change made here" in sidebar_text(at)


def test_downloads_say_whose_results_they_hold() -> None:
    at = go(open_app(), "Downloads")
    reps, seed = int(at.session_state.reps), baseline_doc()["run"]["seed"]
    labels = [b.label for b in at.get("download_button")]
    assert any("Excel workbook" in lab for lab in labels)
    assert any("July to December 2023 (6 months)" in m.value and f"{reps} replications" in m.value
               and f"seed {seed}" in m.value for m in at.markdown)


def test_a_download_file_is_named_for_its_results() -> None:
    ran = SimpleNamespace(res=SimpleNamespace(scenario=load(LIBRARY / "baseline.yaml"), reps=7, seed=11))
    # baseline.yaml reports July to December 2023
    assert file_name(ran, "summary", "csv") == "summary_baseline_2023-07_to_2023-12_7reps_seed11.csv"


# ---------------------------------------------------------------------------------------------
# staffing as a manager says it


def test_whole_posts_from_a_month_change_those_months_only() -> None:
    at = go(open_app(), "Change the scenario")
    posts = "staff.csw.establishment.*posts"
    at.number_input(key=lever(at, f"{posts}.change")).set_value(-2).run()
    at.selectbox(key=lever(at, f"{posts}.from")).set_value("2023-09").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("cannot be run" in e.value for e in at.error), [e.value for e in at.error]
    node = baseline_doc()["staff"]["csw"]["establishment"]
    got = at.session_state.work.doc()["staff"]["csw"]["establishment"]
    for m in (f"2023-{k:02d}" for k in range(7, 13)):
        file_value = node["value"].get(m, node["default"])
        expected = file_value - 2 if m >= "2023-09" else file_value
        assert got["value"].get(m, got["default"]) == pytest.approx(expected), m
    assert got["default"] == node["default"]  # warm-up months keep the file's posts
    assert changes_listed(at) == ["Consultant social workers: posts"]
    assert "1 change made here" in sidebar_text(at)
