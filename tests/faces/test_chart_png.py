"""Chart images from the Results and Compare pages: built from the results on screen and named
for them (scenario, months, replications, seed)."""

from __future__ import annotations

import io

import pytest
from matplotlib.image import imread

from sim.experiments.compare import comparison_table
from sim.experiments.runner import run_replications
from sim.scenario.loading import load
from sim.scenario.schema import validate
from tests.helpers import BASELINE
from ui.pages import common, compare

pytestmark = pytest.mark.slow  # three replications
MEASURE = "pct_completed_within_1wd"


@pytest.fixture(scope="module")
def res():
    return run_replications(load(BASELINE), reps=3, seed=424_242)


def spy_on_png(monkeypatch, module) -> dict:
    """What `module.monthly_png` is called with (rows, names, title), filled in as it draws."""
    seen: dict = {}
    real = module.monthly_png

    def spy(rows, names, title, unit, reported=None):
        seen.update(rows=rows, names=names, title=title)
        return real(rows, names, title, unit, reported)

    monkeypatch.setattr(module, "monthly_png", spy)
    return seen


def test_a_chart_image_is_the_runs_monthly_means_titled_with_its_run(res, monkeypatch) -> None:
    seen = spy_on_png(monkeypatch, common)
    make, name = common.measure_png(res, MEASURE)
    png = make()
    image = imread(io.BytesIO(png), format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and image.shape[0] > 100 and image.shape[1] > 300
    assert name == "chart_pct_completed_within_1wd_baseline_2023-07_to_2023-12_3reps_seed424242.png"
    assert seen["title"].endswith("baseline, July to December 2023 (6 months), 3 replications, seed 424242")
    # the line is each month's average over the replications, as the monthly table has it
    means = res.monthly.groupby("month")[MEASURE].mean()
    got = seen["rows"].set_index("month")["mean"]
    assert list(got.index) == list(means.index)
    assert (got - means).abs().max() < 1e-9


def test_a_difference_chart_image_is_the_paired_difference_month_by_month(res, monkeypatch) -> None:
    doc = load(BASELINE).model_dump(mode="json")
    doc["name"] = "fewer"
    doc["staff"]["ps"]["establishment"]["default"] -= 2
    other = run_replications(validate(doc, "test"), reps=3, seed=424_242)
    table = comparison_table([res, other])
    comp = {"table": table, "names": ["baseline", "fewer"], "reps": 3, "seed": 424_242,
            "period": "July to December 2023 (6 months)", "months": sorted(res.monthly["month"].unique())}
    seen = spy_on_png(monkeypatch, compare)
    make, name = compare.difference_png(comp, MEASURE)
    assert make()[:8] == b"\x89PNG\r\n\x1a\n"
    assert name == (f"difference_{MEASURE}_baseline_vs_fewer_2023-07_to_2023-12_3reps_seed424242.png")
    assert seen["names"] == ["fewer"] and "3 replications, seed 424242" in seen["title"]
    # replication by replication on the same seeds: the scenario's month less the baseline's, averaged
    a = res.monthly.set_index(["rep", "month"])[MEASURE]
    b = other.monthly.set_index(["rep", "month"])[MEASURE]
    expected = (b - a).groupby(level="month").mean()
    got = seen["rows"].set_index("month")["mean"]
    assert (got - expected.reindex(got.index)).abs().max() < 1e-9
