"""A dated change the scenario cannot take is refused with one line naming the entry."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from sim.model.dated import build
from sim.scenario.schema import ScenarioError, validate
from tests.helpers import ROOT, baseline_doc


def _with(*changes: dict):
    doc = baseline_doc()
    doc["changes"] = list(changes)
    return validate(doc, "test")


def _change(**over) -> dict:
    out = {"setting": "ppn.quality", "from_date": date(2023, 10, 16), "value": 0.5,
           "range": [0.3, 0.8], "provenance": "judgement", "source": "the test's own change"}
    out.update(over)
    return out


@pytest.mark.parametrize(("over", "words"), [
    ({"setting": "ppn.qualty"}, "no setting ppn.qualty: ppn has no key 'qualty'"),
    ({"setting": "run.warmup_days"}, "read once for the whole run"),
    ({"setting": "downstream.icpc.conferences_per_chair_per_day"}, "read once for the whole run"),
    ({"setting": "service.email_screen_minutes"}, "name the part that is"),
    ({"to_date": date(2023, 10, 1)}, "to_date 2023-10-01 must be after from_date 2023-10-16"),
    ({"value": 0.9}, "value 0.9 is outside its stated plausible range [0.3, 0.8]"),
    ({"value": 1.5, "range": [0, 2]}, "a share must be between 0.0 and 1.0"),
    ({"value": [0.5, 0.5]}, "this setting is one number"),
    ({"setting": "demand.police_channels", "value": 0.5},
     "this setting is a set of shares"),
    ({"setting": "demand.police_monthly", "value": 5900.0, "range": [0, 6000]},
     "is more than contacts_monthly"),
])
def test_a_bad_change_is_refused_in_one_line_naming_the_entry(over, words):
    with pytest.raises(ScenarioError) as err:
        _with(_change(setting="service.direction_minutes.mean", value=20.0, range=[5.0, 60.0]),
              _change(**over))
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("test: changes.1 (")
    assert words in text


def test_two_changes_of_one_setting_may_not_overlap():
    with pytest.raises(ScenarioError, match=r"changes.1 .* overlaps changes.0 of the same setting"):
        _with(_change(to_date=date(2023, 11, 30)), _change(from_date=date(2023, 11, 1), value=0.6))


def test_shares_move_together_and_still_sum_to_one_along_a_ramp():
    doc = baseline_doc()
    shares = doc["demand"]["police_channels"]["value"]
    keys = sorted(shares)
    new = {k: (1.0 if k == keys[0] else 0.0) for k in keys}
    sc = _with(_change(setting="demand.police_channels", value=new,
                       range={k: [0.0, 1.0] for k in keys}, from_date=date(2023, 10, 1),
                       to_date=date(2023, 10, 11)))
    tl = build(sc)
    assert len(tl.scenarios) == 11  # the first spell and one a day of the ramp
    for s in tl.scenarios:
        assert sum(s.demand.police_channels.value.values()) == pytest.approx(1.0)
    mid = tl.on(date(2023, 10, 6)).demand.police_channels.value[keys[0]]
    assert mid == pytest.approx(shares[keys[0]] + (1.0 - shares[keys[0]]) * 0.5)
    assert tl.on(date(2023, 9, 30)).demand.police_channels.value == shares


def test_a_file_with_a_bad_change_fails_check_with_exit_2_and_one_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("extends: baseline.yaml\nname: bad\nchanges:\n  - setting: ppn.quality\n"
                 "    from_date: 2025-01-01\n    value: 0.5\n    range: [0.3, 0.8]\n"
                 "    provenance: judgement\n    source: training\n", encoding="utf-8")
    base = (ROOT / "scenarios" / "baseline.yaml").read_text("utf-8")
    (tmp_path / "baseline.yaml").write_text(base, "utf-8")
    cal = tmp_path / "calibrated"
    cal.mkdir()
    for p in (ROOT / "scenarios" / "calibrated").glob("baseline*.yaml"):
        (cal / p.name).write_text(p.read_text("utf-8"), "utf-8")
    out = subprocess.run([sys.executable, "-m", "sim", "check", str(f)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 2
    lines = [x for x in (out.stdout + out.stderr).splitlines() if x.strip()]
    assert len(lines) == 1 and "changes.0 (ppn.quality from 2025-01-01)" in lines[0], lines


def test_each_dated_change_is_listed_with_its_setting_dates_value_and_source():
    from sim.experiments.documents import parameter_rows, setting_changes

    base = baseline_doc()
    sc = _with(_change(to_date=date(2023, 11, 30)),
               _change(setting="staff.ps.establishment", value=9.0, range=[5.0, 12.0]))
    rows = [r for r in parameter_rows(sc.model_dump(mode="json")) if r["path"].startswith("changes.")]
    assert [r["path"] for r in rows] == ["changes.0", "changes.1"]
    assert "Quality of police protection notices" in rows[0]["setting"]
    assert "from 2023-10-16" in rows[0]["setting"] and "2023-11-30" in rows[0]["setting"]
    assert rows[1]["value"] == "9" and rows[1]["unit"] == base["staff"]["ps"]["establishment"]["unit"]
    assert rows[0]["source"] == "the test's own change" and rows[0]["provenance"] == "judgement"
    listed = setting_changes(validate(base, "b").model_dump(mode="json"), sc.model_dump(mode="json"))
    assert sum("(staff.ps.establishment), from 2023-10-16" in r["setting"] for r in listed) == 1


def test_a_ramp_ends_exactly_at_its_value_and_never_steps_outside_its_range():
    sc = _with(_change(from_date=date(2023, 10, 1), to_date=date(2023, 11, 30), value=0.9,
                       range=[0.3, 0.9]))
    tl = build(sc)
    assert tl.on(date(2023, 11, 30)).ppn.quality.value == 0.9  # not 0.9000000000000001
    assert tl.on(date(2023, 12, 31)).ppn.quality.value == 0.9
    assert all(0.3 <= s.ppn.quality.value <= 0.9 for s in tl.scenarios)


def test_changes_valid_alone_but_not_together_are_refused_naming_the_later_one():
    with pytest.raises(ScenarioError) as err:
        _with(_change(setting="demand.police_monthly", value=2500.0, range=[0.0, 6000.0],
                      from_date=date(2023, 10, 1)),
              _change(setting="demand.contacts_monthly", value=2000.0, range=[1500.0, 6000.0],
                      from_date=date(2023, 11, 1)))
    text = str(err.value)
    assert text.startswith("test: changes.1 (demand.contacts_monthly from 2023-11-01): with the changes"
                           " in force on 2023-11-01:")
    assert "is more than contacts_monthly" in text and "\n" not in text


@pytest.mark.parametrize("dates", ["from_date: 2024-02-01", "from_date: 2023-12-01\n    to_date: 2024-01-05"])
def test_a_file_whose_change_falls_outside_its_own_run_is_refused(dates):
    from sim.scenario.loading import loads

    text = ("extends: baseline.yaml\nname: late\nchanges:\n  - setting: ppn.quality\n"
            f"    {dates}\n    value: 0.5\n    range: [0.3, 0.8]\n    provenance: judgement\n"
            "    source: training\n")
    with pytest.raises(ScenarioError) as err:
        loads(text, "late.yaml")
    assert str(err.value).startswith("late.yaml: changes.0 (ppn.quality from ")
    assert str(err.value).endswith("its dates must lie in the file's run, 2023-07-01 to 2023-12-31")


def test_a_run_moved_before_a_change_keeps_it_and_says_it_changes_nothing():
    from sim.experiments.levers import inactive_levers

    sc = _with(_change(from_date=date(2023, 10, 16)))
    july = sc.with_run(start=date(2023, 7, 1), end=date(2023, 7, 31))
    assert july.changes == sc.changes  # kept, not dropped
    said = dict(inactive_levers(july))
    assert "changes.0" in said and "starts after the period ends (31 July 2023)" in said["changes.0"]
    assert "changes.0" not in dict(inactive_levers(sc))
