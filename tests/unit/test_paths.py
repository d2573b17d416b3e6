"""The one way to read and set a scenario setting by its path (sim.scenario.paths)."""

from __future__ import annotations

import copy

import pytest

from sim.experiments.levers import LEVERS
from sim.scenario.paths import PathError, assign, get, parts, set_value, set_values, with_values
from sim.scenario.schema import Scenario, ScenarioError, validate
from tests.helpers import baseline_doc


@pytest.fixture(scope="module")
def doc() -> dict:
    return baseline_doc()


def test_dotted_and_tuple_paths_name_the_same_setting(doc):
    node = doc["staff"]["ps"]["establishment"]["default"]
    assert get(doc, "staff.ps.establishment.default") == node
    assert get(doc, ("staff", "ps", "establishment", "default")) == node
    assert get(doc, ["staff", "ps", "establishment", "default"]) == node
    assert parts("staff.ps.establishment") == ("staff", "ps", "establishment")
    assert get(doc, ()) is doc


def test_get_returns_the_node_itself(doc):
    d = copy.deepcopy(doc)
    get(d, "staff.ps.establishment")["default"] = 99.0
    assert d["staff"]["ps"]["establishment"]["default"] == 99.0


def test_set_value_round_trips_and_leaves_the_input_untouched(doc):
    before = copy.deepcopy(doc)
    old = get(doc, "staff.ps.establishment.default")
    new = set_value(doc, "staff.ps.establishment.default", old + 3)
    assert get(new, "staff.ps.establishment.default") == old + 3
    assert doc == before
    assert new is not doc and new["staff"] is not doc["staff"]
    # everything else is as it was
    assert set_value(new, ("staff", "ps", "establishment", "default"), old) == before


def test_set_values_copies_the_values_given_and_applies_them_in_order(doc):
    value = {"2024-01": 5.0}
    new = set_values(doc, {"staff.ps.establishment.value": value,
                           "staff.ps.establishment.default": 1.0,
                           ("staff", "ps", "establishment", "default"): 2.0})
    value["2024-01"] = -1.0
    assert get(new, "staff.ps.establishment.value") == {"2024-01": 5.0}
    assert get(new, "staff.ps.establishment.default") == 2.0


def test_list_entries_are_reached_by_index(doc):
    days = get(doc, "calendar.working_weekdays")
    assert isinstance(days, list) and len(days) >= 2
    assert get(doc, "calendar.working_weekdays.1") == days[1]
    assert get(doc, ("calendar", "working_weekdays", 0)) == days[0]
    new = set_value(doc, "calendar.working_weekdays.0", 6)
    assert get(new, "calendar.working_weekdays.0") == 6 != days[0] == get(doc, "calendar.working_weekdays.0")
    with pytest.raises(PathError, match=r"list of \d+ entries and '-1' is not an index"):
        get(doc, "calendar.working_weekdays.-1")
    with pytest.raises(PathError, match="is not an index"):
        get(doc, f"calendar.working_weekdays.{len(days)}")


def test_a_tuple_entry_is_set_by_replacing_the_tuple():
    d = {"p": {"range": (1.0, 2.0)}}
    assign(d, "p.range.1", 5.0)
    assert d["p"]["range"] == (1.0, 5.0)


def test_an_unknown_path_names_the_first_missing_key_and_what_is_there(doc):
    with pytest.raises(PathError) as err:
        get(doc, "staff.pss.establishment.default")
    msg = str(err.value)
    assert msg.startswith("no setting staff.pss.establishment.default: staff has no key 'pss' (it has ")
    assert "csw" in msg and "ps" in msg and "\n" not in msg
    assert isinstance(err.value, KeyError) and isinstance(err.value, ScenarioError)
    with pytest.raises(PathError, match="the top level has no key 'stafff'"):
        get(doc, "stafff")
    with pytest.raises(PathError, match=r"run.seed is a single value \(int\), with no key 'x'"):
        get(doc, "run.seed.x")


def test_setting_a_key_that_is_not_there_is_refused_not_added(doc):
    with pytest.raises(PathError, match="establishment has no key 'defualt'"):
        set_value(doc, "staff.ps.establishment.defualt", 3.0)
    with pytest.raises(PathError, match="empty path"):
        set_value(doc, "", 3.0)


def test_with_values_gives_a_validated_scenario(doc):
    sc = validate(doc, "baseline")
    old = sc.staff["ps"].establishment.default
    for start in (sc, doc):
        out = with_values(start, {"staff.ps.establishment.default": old + 1})
        assert isinstance(out, Scenario)
        assert out.staff["ps"].establishment.default == old + 1
    assert sc.staff["ps"].establishment.default == old


def test_with_values_refuses_a_bad_value_in_one_line_naming_the_path(doc):
    with pytest.raises(ScenarioError) as err:
        with_values(doc, {"outcomes.conversation_referral_ratio.value": "lots"})
    msg = str(err.value)
    assert "\n" not in msg
    assert "outcomes.conversation_referral_ratio" in msg.split(":")[0]  # in the origin
    assert "outcomes.conversation_referral_ratio" in msg.split(":", 1)[1]  # and the schema's field


def test_with_values_refuses_a_bad_path_in_one_line_naming_it(doc):
    with pytest.raises(PathError) as err:
        with_values(doc, {"staff.ps.establishment.defualt": 3.0}, origin="my edit")
    msg = str(err.value)
    assert msg.startswith("my edit: no setting staff.ps.establishment.defualt: ") and "\n" not in msg


def test_a_lever_sets_its_settings_through_the_paths(doc):
    sc = validate(doc, "baseline")
    out = LEVERS["ps_posts"].apply(sc, 11.0)
    est = out.staff["ps"].establishment
    assert est.default == 11.0 and set(est.value.values()) <= {11.0}
    assert est.range[0] <= 11.0 <= est.range[1]
