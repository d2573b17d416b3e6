"""Sensitivity: every judged number is found and swung across its own range."""

from __future__ import annotations

import pytest

from sim.experiments.sensitivity import judged_parameters, one_at_a_time, sobol
from sim.scenario.loading import load
from sim.scenario.schema import validate
from tests.helpers import variant


@pytest.fixture(scope="module")
def short():
    return variant(start="2023-09-01", end="2023-09-30")


def test_every_judged_number_is_listed_with_its_range(short):
    params = {p.name: p for p in judged_parameters(short)}
    assert "service.conversation_minutes.mean" in params
    assert "staff.csw.establishment" in params
    assert "outcomes.conversation_referral_ratio" in params
    assert not any(n.startswith("run.") for n in params)
    assert all(p.low <= p.value <= p.high for p in params.values())
    reported = {"staff.da_hub.establishment", "demand.contacts_monthly"}
    assert not reported & set(params), "reported numbers are not judgements"


def test_range_ends_give_valid_scenarios(short):
    doc = short.model_dump(mode="python")
    for p in judged_parameters(short):
        for end in (p.low, p.high):
            validate(p.set(doc, end), p.name)


@pytest.mark.slow
def test_one_at_a_time_swings_point_the_expected_way(short):
    only = ["staff.csw.establishment", "service.email_screen_minutes.mean",
            "outcomes.conversation_referral_ratio"]
    t = one_at_a_time(short, reps=2, only=only,
                      measures=("pct_completed_within_1wd", "pct_contacts_to_referral"))
    assert set(t["parameter"]) == set(only)
    email = t[(t["parameter"] == "service.email_screen_minutes.mean")
              & (t["measure"] == "pct_completed_within_1wd")].iloc[0]
    assert email["at_high"] < email["base"] < email["at_low"]  # longer screening, later decisions
    conv = t[(t["parameter"] == "outcomes.conversation_referral_ratio")
             & (t["measure"] == "pct_contacts_to_referral")].iloc[0]
    assert conv["at_low"] < conv["base"] < conv["at_high"]
    assert (t["swing"] >= 0).all()


@pytest.mark.slow
def test_sobol_indices_rank_the_influential_parameter(short):
    params = [p for p in judged_parameters(short)
              if p.name in ("outcomes.conversation_referral_ratio", "da_hub.dram_hour")]
    s = sobol(short, params, n=8, measures=("pct_contacts_to_referral",))
    assert s.attrs["runs"] == 8 * (len(params) + 2)
    conv = s[s["parameter"] == "outcomes.conversation_referral_ratio"].iloc[0]
    dram = s[s["parameter"] == "da_hub.dram_hour"].iloc[0]
    assert conv["total"] > dram["total"]


@pytest.mark.slow
def test_sensitivity_cli_writes_its_tables_as_one_set(tmp_path):
    import subprocess
    import sys

    import pandas as pd

    from tests.helpers import ROOT

    scen = tmp_path / "short.yaml"
    scen.write_text("extends: baseline.yaml\nrun:\n  start: 2023-09-01\n  end: 2023-09-30\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "sobol.csv").write_text("from an earlier run\n")
    name = judged_parameters(load(scen))[0].name
    res = subprocess.run([sys.executable, "-m", "sim", "sensitivity", str(scen), "--reps", "2",
                          "--only", name, "--out", str(out), "--executor", "serial"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert set(pd.read_csv(out / "tornado.csv")["parameter"]) == {name}
    # an earlier run's Sobol table does not stay beside this run's tornado
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["tornado.csv"]
