"""No silent nothing: the settings that cannot act inside a run's period, named with the reason
(sim.experiments.levers.inactive_levers, the one rule the command line and the app use)."""

from __future__ import annotations

from datetime import date

import pytest

from sim.experiments.levers import inactive_levers
from sim.scenario.loading import library_files, load
from sim.scenario.paths import with_values


@pytest.fixture(scope="module")
def base():
    return load(library_files()["baseline.yaml"])


def _steps(sc, steps: dict[str, float], value: dict[str, float] | None = None):
    est = ("staff", "ps", "establishment")
    edits = {(*est, "steps"): steps, (*est, "range"): (0.0, 30.0)}
    if value is not None:
        edits[(*est, "value")] = value
    return with_values(sc, edits)


def test_cotriage_switched_on_but_starting_after_the_end_is_named_with_its_date(base):
    on = with_values(base, {("cotriage", "enabled"): True})  # police_cotriage's start, 22 Jan 2024
    for ref in (None, base):
        assert inactive_levers(on, reference=ref) == [(
            "cotriage.start", "police co-triage is switched on but starts on 22 January 2024, after the"
            " period ends (31 December 2023): it changes nothing in these results")]
    # a period that reaches the start: it acts, nothing to say
    assert inactive_levers(on, date(2024, 1, 1), date(2024, 3, 31), reference=base) == []


def test_cotriage_settings_changed_while_it_is_off_in_both_are_named(base):
    longer = with_values(base, {("cotriage", "minutes", "mean", "value"): 30.0,
                                ("cotriage", "minutes", "mean", "range"): (5.0, 60.0)})
    assert [p for p, _ in inactive_levers(longer, reference=base)] == ["cotriage.minutes"]
    assert inactive_levers(longer) == []  # no reference, nothing to differ from


def test_a_step_after_the_end_is_named_and_one_inside_the_period_is_not(base):
    late = _steps(base, {"2024-03": 12.0})
    assert inactive_levers(late, reference=base) == [(
        "staff.ps.establishment", "differs from 'baseline' only outside the period: its step to 12 from"
        " 2024-03 starts after the period ends (2023-12-31), so this changes nothing in these results")]
    assert inactive_levers(_steps(base, {"2023-10": 12.0}), reference=base) == []
    # a step replaced by another before the period starts, and a single month outside it
    early = _steps(base, {"2023-01": 12.0, "2023-03": base.staff["ps"].establishment.default},
                   value={"2024-02": 3.0})
    [(path, why)] = inactive_levers(early, reference=base)
    assert path == "staff.ps.establishment"
    assert "its value for 2024-02 is outside the period (2023-07-01 to 2023-12-31)" in why
    assert "its step to 12 from 2023-01 is replaced by the step from 2023-03 before the period starts" in why


def test_what_the_reference_shares_is_not_named(base):
    # every library file on its own period, against the file it would be compared with
    for name, path in library_files().items():
        sc = load(path)
        assert inactive_levers(sc) == [], name
        assert inactive_levers(sc, reference=sc) == [], name
    # the 2024 police scenario moved onto the baseline's months: its demand and co-triage act nowhere
    police = load(library_files()["police_cotriage.yaml"])
    named = [p for p, _ in inactive_levers(police, base.run.start, base.run.end, reference=base)]
    assert named == ["cotriage.start", "demand.contacts_monthly", "demand.police_monthly"]
