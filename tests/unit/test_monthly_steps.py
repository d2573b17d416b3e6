"""Monthly settings written as steps: a level from a month on that stays until a later step,
with single `value` months as exceptions on top (issue "the house", item 8)."""

from __future__ import annotations

import itertools

import pytest

from sim.scenario.loading import load, loads
from sim.scenario.params import Monthly, month_value
from sim.scenario.paths import with_values
from sim.scenario.schema import ScenarioError
from tests.helpers import BASELINE

SOURCED = {"unit": "posts", "provenance": "judgement", "source": "the test's own numbers"}
MONTHS = [(y, m) for y in (2022, 2023, 2024, 2025) for m in range(1, 13)]


def _monthly(**fields) -> Monthly:
    return Monthly(**{"default": 12, "range": (0, 20), **SOURCED, **fields})


def test_a_step_holds_from_its_month_until_the_next_step():
    posts = _monthly(steps={"2023-08": 10, "2024-04": 11})
    assert posts.at(2023, 7) == posts.default  # before the first step
    assert [posts.at(2023, m) for m in range(8, 13)] == [10] * 5
    assert [posts.at(2024, m) for m in range(1, 4)] == [10] * 3
    assert posts.at(2024, 4) == 11 and posts.at(2030, 1) == 11  # the last step never ends


def test_steps_in_any_order_mean_the_same():
    a = _monthly(steps={"2023-08": 10, "2024-04": 11})
    b = _monthly(steps={"2024-04": 11, "2023-08": 10})
    assert [a.at(*ym) for ym in MONTHS] == [b.at(*ym) for ym in MONTHS]


def test_value_alone_keeps_its_meaning_a_month_not_listed_takes_the_default():
    posts = _monthly(value={"2023-08": 10, "2023-09": 10})
    assert posts.at(2023, 8) == posts.at(2023, 9) == 10
    assert posts.at(2023, 10) == posts.at(2023, 7) == posts.default


def test_a_value_month_is_an_exception_on_top_of_the_steps():
    posts = _monthly(steps={"2023-08": 10}, value={"2023-12": 8, "2023-06": 9})
    assert posts.at(2023, 6) == 9 and posts.at(2023, 5) == posts.default
    assert posts.at(2023, 11) == 10 and posts.at(2023, 12) == 8
    assert posts.at(2024, 1) == 10  # back to the step's level, not to the default


@pytest.mark.parametrize("fields", [
    {},
    {"value": {"2023-08": 3}},
    {"steps": {"2023-08": 3}},
    {"steps": {"2023-08": 3, "2024-02": 5}, "value": {"2023-08": 4, "2024-03": 6, "2022-01": 1}},
])
def test_the_document_form_reads_the_same_as_the_setting(fields):
    posts = _monthly(**fields)
    doc = posts.model_dump()
    assert [month_value(doc, f"{y:04d}-{m:02d}") for y, m in MONTHS] == [posts.at(*ym) for ym in MONTHS]
    without = {**doc, "value": {}}
    assert ([month_value(doc, f"{y:04d}-{m:02d}", own=False) for y, m in MONTHS]
            == [Monthly.model_validate(without).at(*ym) for ym in MONTHS])


def test_levels_name_every_value_a_month_can_take():
    posts = _monthly(steps={"2023-08": 10}, value={"2023-12": 8})
    assert sorted(posts.levels()) == [8, 10, 12]
    assert set(posts.at(*ym) for ym in MONTHS) <= set(posts.levels())


# --- in a file ----------------------------------------------------------------------------------

def _child(tmp_path, establishment: str, name: str = "child"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"extends: baseline.yaml\nname: {name}\nstaff:\n  csw:\n    establishment:\n"
                    f"{establishment}", encoding="utf-8")
    return path


@pytest.mark.parametrize("steps", ['{"2023-08": 10}', "{2023-08: 10}", '\n        "2023-08": 10',
                                   "\n        2023-08: 10"])
def test_step_months_read_alike_quoted_or_not_in_flow_or_block_style(tmp_path, steps):
    sc = load(_child(tmp_path, f"      steps: {steps}\n"))
    est = sc.staff["csw"].establishment
    assert est.steps == {"2023-08": 10}
    assert est.at(2023, 7) == est.default and est.at(2024, 6) == 10


def test_a_steps_setting_in_a_child_file_keeps_the_base_files_value_months(tmp_path):
    sc = load(_leave_child(tmp_path))
    base = load(BASELINE).staff["csw"].leave_rate
    leave = sc.staff["csw"].leave_rate
    assert leave.value == base.value
    assert leave.at(2023, 8) == base.at(2023, 8)  # a base month stays an exception
    assert leave.at(2023, 9) == 0.05 and leave.at(2023, 11) == 0.05


def _leave_child(tmp_path):
    path = tmp_path / "leave.yaml"
    path.write_text('extends: baseline.yaml\nname: leave\nstaff:\n  csw:\n    leave_rate:\n'
                    '      steps: {"2023-09": 0.05}\n', encoding="utf-8")
    return path


def test_empty_steps_in_a_child_file_clear_the_base_files_steps(tmp_path):
    _child(tmp_path, '      steps: {"2023-08": 10}\n', "stepped")
    cleared = tmp_path / "cleared.yaml"
    cleared.write_text("extends: stepped.yaml\nname: cleared\nstaff:\n  csw:\n    establishment:\n"
                       "      steps: {}\n", encoding="utf-8")
    assert load(tmp_path / "stepped.yaml").staff["csw"].establishment.at(2023, 9) == 10
    assert load(cleared).staff["csw"].establishment == load(BASELINE).staff["csw"].establishment


def test_a_monthly_setting_may_give_steps_without_value(tmp_path):
    """A file that states a monthly setting whole need not write `value: {}` beside its steps."""
    doc = load(BASELINE).model_dump(mode="python")
    node = doc["staff"]["csw"]["establishment"]
    node.pop("value")
    node["steps"] = {"2023-08": 10}
    est = with_values(doc, {}).staff["csw"].establishment
    assert est.value == {} and est.at(2023, 8) == 10


# --- refusals: one line naming the setting, the value and what is allowed ----------------------

@pytest.mark.parametrize(("text", "words"), [
    ('      steps: {"2023-13": 10}\n', ["staff.csw.establishment.steps", "'2023-13'", "YYYY-MM"]),
    ('      steps: {"2023-8": 10}\n', ["staff.csw.establishment.steps", "'2023-8'", "YYYY-MM"]),
    ('      steps: {"2023-08": 25}\n', ["staff.csw.establishment.steps", "25", "2023-08", "[6.0, 20.0]"]),
    ('      steps: {"2023-08": "10"}\n', ["staff.csw.establishment.steps.2023-08", "'10'"]),
    ("      steps: {2023-08-01: 10}\n", ["staff.csw.establishment.steps", "2023-08-01", "YYYY-MM"]),
    ("      value: {202308: 10}\n", ["staff.csw.establishment.value", "202308", "YYYY-MM"]),
    ("      steps: [10, 11]\n", ["staff.csw.establishment.steps", "dict"]),
    ('      steps: {"2023-08": 10, "2023-08": 11}\n', ["staff.csw.establishment.steps.2023-08", "twice"]),
])
def test_a_bad_step_is_refused_in_one_line(tmp_path, text, words):
    with pytest.raises(ScenarioError) as err:
        load(_child(tmp_path, text))
    msg = str(err.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


def test_a_step_beyond_the_hard_limit_is_refused():
    doc = load(BASELINE).model_dump(mode="python")
    doc["staff"]["csw"]["vacancy_rate"].update(steps={"2023-08": 1.5}, range=[0, 2])
    with pytest.raises(ScenarioError, match=r"staff\.csw\.vacancy_rate: .*1\.5 is not allowed: a share"):
        with_values(doc, {})


# --- editing through the dotted paths (levers, sensitivity, the app) --------------------------

@pytest.fixture
def stepped(tmp_path):
    return load(_child(tmp_path, '      steps: {"2023-08": 10}\n'))


def test_editing_value_on_a_steps_setting_sets_single_months_over_the_steps(stepped):
    path = ("staff", "csw", "establishment")
    edited = with_values(stepped, {(*path, "value"): {"2023-10": 14}}).staff["csw"].establishment
    assert edited.steps == {"2023-08": 10}
    assert edited.at(2023, 10) == 14
    assert edited.at(2023, 9) == edited.at(2023, 11) == 10


def test_editing_steps_and_default_through_paths(stepped):
    est = with_values(stepped, {"staff.csw.establishment.steps": {"2023-08": 9, "2023-11": 13},
                                "staff.csw.establishment.default": 11}).staff["csw"].establishment
    assert [est.at(2023, m) for m in (7, 8, 10, 11, 12)] == [11, 9, 9, 13, 13]


def test_every_monthly_setting_of_a_dumped_scenario_has_steps_to_set():
    """A setting without steps in its file still has `steps: {}` in its document form, so an
    edit can add steps to any monthly setting by its path."""
    sc = load(BASELINE)
    doc = sc.model_dump(mode="python")
    edited = with_values(doc, {"staff.ps.leave_rate.steps": {"2024-01": 0.1}})
    assert edited.staff["ps"].leave_rate.at(2024, 3) == 0.1
    assert edited.staff["ps"].leave_rate.at(2023, 8) == sc.staff["ps"].leave_rate.at(2023, 8)


def test_a_path_into_a_misspelt_steps_key_says_what_is_there(stepped):
    with pytest.raises(ScenarioError, match="no key 'step'.*steps"):
        with_values(stepped, {"staff.csw.establishment.step": {"2023-08": 9}})


def test_steps_round_trip_through_the_json_document():
    """The app keeps documents as JSON (`model_dump(mode="json")`): steps survive it."""
    posts = _monthly(steps={"2023-08": 10}, value={"2024-01": 3})
    again = Monthly.model_validate(posts.model_dump(mode="json"))
    assert again == posts
    assert all(again.at(*ym) == posts.at(*ym) for ym in itertools.islice(MONTHS, 0, None, 5))


def test_an_uploaded_scenario_may_give_steps():
    sc = loads('extends: baseline\nname: upload\nstaff:\n  csw:\n    establishment:\n'
               '      steps: {"2023-08": 10}\n', "upload.yaml")
    assert sc.staff["csw"].establishment.at(2023, 12) == 10


@pytest.mark.parametrize("fields", [
    {},
    {"value": {"2023-12": 3}},
    {"steps": {"2023-08": 3, "2024-02": 5}, "value": {"2023-08": 4, "2023-12": 6, "2022-01": 1}},
])
def test_the_change_months_are_where_the_value_can_change(fields):
    """A check at the change months (and the default) sees every value any month takes, and
    between two change months the value does not change."""
    posts = _monthly(**fields)
    change = {(int(k[:4]), int(k[5:])) for k in posts.change_months()}
    assert all(posts.at(*ym) == posts.at(*prev) for prev, ym in itertools.pairwise(MONTHS)
               if ym not in change)
    assert {posts.at(*ym) for ym in MONTHS} <= {posts.default} | {posts.at(*ym) for ym in change}
    assert ("2024-01" in posts.change_months()) == ("2023-12" in posts.value)  # December to January


def test_police_contacts_above_all_contacts_in_a_step_month_are_refused():
    doc = load(BASELINE).model_dump(mode="python")
    doc["demand"]["contacts_monthly"]["steps"] = {"2024-01": 1600}
    doc["demand"]["police_monthly"]["steps"] = {"2024-01": 1900}
    with pytest.raises(ScenarioError, match="police_monthly 1900.0 for 2024-01 is more than"):
        with_values(doc, {})
