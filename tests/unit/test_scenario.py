"""Scenario files: the baseline is valid and sourced; bad input is refused in one clear line."""

from __future__ import annotations

import copy
import math
import subprocess
import sys

import pytest
import yaml
from pydantic import ValidationError

from sim.scenario.loading import load, loads
from sim.scenario.schema import ScenarioError, validate
from tests.helpers import BASELINE, ROOT, baseline_doc


def _walk(node, path=""):
    if isinstance(node, dict):
        if "provenance" in node:
            yield path, node
        else:
            for k, v in node.items():
                yield from _walk(v, f"{path}.{k}" if path else k)


def test_baseline_every_number_has_unit_range_and_provenance():
    doc = baseline_doc()
    params = list(_walk(doc))
    assert len(params) > 60
    for path, p in params:
        assert p["provenance"] in {"reported", "national", "judgement", "calibrated"}, path
        assert len(p["source"]) > 10, f"{path}: source must say where the number came from"
        is_date = hasattr(p.get("value"), "isoformat")
        assert is_date or "range" in p, f"{path}: a number without a plausible range"
        assert is_date or "unit" in p, f"{path}: a number without a unit"


def test_baseline_loads_immutable(baseline):
    assert baseline.name == "baseline"
    with pytest.raises(ValidationError):
        baseline.run.reps = 3


def _refused(mutate, *expected_words):
    doc = baseline_doc()
    mutate(doc)
    with pytest.raises(ScenarioError) as err:
        validate(doc, "bad.yaml")
    msg = str(err.value)
    assert "\n" not in msg, "the message must be one line"
    for w in expected_words:
        assert w in msg, f"{w!r} not in {msg!r}"
    return msg


def test_unknown_key_refused_naming_the_path():
    _refused(lambda d: d["staff"]["csw"].update(headcount=3), "staff.csw.headcount", "unknown")


def test_missing_key_refused():
    _refused(lambda d: d["service"].pop("direction_minutes"), "service.direction_minutes", "missing")


def test_wrong_type_refused_not_converted():
    _refused(lambda d: d["run"].update(reps="20"), "run.reps", "'20'")
    _refused(lambda d: d["abandonment"].update(enabled="yes"), "abandonment.enabled")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_refused(bad):
    _refused(lambda d: d["ppn"]["quality"].update(value=bad), "ppn.quality")


def test_out_of_plausible_range_refused_with_range():
    msg = _refused(lambda d: d["ppn"]["quality"].update(value=0.9), "ppn.quality", "0.9")
    assert "[0.1, 0.5]" in msg


def test_out_of_hard_limits_refused():
    def f(d):
        d["demand"]["out_of_hours_urgent_share"].update(value=1.5, range=[0, 2])
    _refused(f, "demand.out_of_hours_urgent_share", "between 0.0 and 1.0")


def test_shares_not_summing_to_one_refused():
    def f(d):
        d["demand"]["police_channels"]["value"]["phone"] = 0.10
    _refused(f, "demand.police_channels", "sum to")


def test_end_before_start_refused():
    _refused(lambda d: d["run"].update(end=d["run"]["start"].replace(month=1)), "run", "before start")


def test_office_closing_before_opening_refused():
    _refused(lambda d: d["calendar"]["office_close_hour"].update(value=8, range=[7, 20]),
             "calendar", "office_close_hour")


def test_police_more_than_all_contacts_refused():
    def f(d):
        d["demand"]["contacts_monthly"]["value"]["2023-07"] = 1600
        d["demand"]["police_monthly"]["value"]["2023-07"] = 1900
    _refused(f, "demand", "police_monthly 1900.0 for 2023-07 is more than contacts_monthly 1600")


def test_bad_month_key_refused():
    _refused(lambda d: d["staff"]["csw"]["leave_rate"]["value"].update({"2023-13": 0.2}),
             "staff.csw.leave_rate", "2023-13")


def test_malformed_yaml_and_non_mapping_refused():
    with pytest.raises(ScenarioError, match="not valid YAML at line"):
        loads("run: [1, 2\n")
    with pytest.raises(ScenarioError, match="must be a mapping"):
        loads("- a\n- b\n")
    with pytest.raises(ScenarioError, match="larger than"):
        loads("a: " + "x" * 2_000_000)


def test_unsafe_yaml_is_not_executed():
    with pytest.raises(ScenarioError, match="not valid YAML"):
        loads("!!python/object/apply:os.system ['echo hacked']\n")


def test_extends_merges_only_what_changes(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("extends: baseline.yaml\nname: fewer-supervisors\n"
                     "staff:\n  ps:\n    establishment:\n      default: 6\n")
    sc = load(child)
    assert sc.name == "fewer-supervisors"
    assert sc.staff["ps"].establishment.default == 6
    base = load(BASELINE)
    assert sc.staff["ps"].establishment.provenance == base.staff["ps"].establishment.provenance
    assert sc.staff["ps"].establishment.source == base.staff["ps"].establishment.source
    assert sc.staff["csw"] == base.staff["csw"]


def test_extends_loop_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="loop"):
        load(tmp_path / "a.yaml")


def test_cli_check_valid_and_invalid(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "sim", "check", str(BASELINE)], cwd=ROOT,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "valid scenario" in ok.stdout
    doc = copy.deepcopy(baseline_doc())
    doc["service"]["conversation_minutes"]["mean"]["value"] = -5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    res = subprocess.run([sys.executable, "-m", "sim", "check", str(bad)], cwd=ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert "service.conversation_minutes.mean" in lines[0] and "-5" in lines[0]
