"""The October-December story's fit: the no-change point of a reading is the baseline, and the
fit keeps every point and picks the best (issue "change over time", item 2)."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.experiments.story import CONFIG, StoryConfig, at_point, fit, load_story
from sim.io.observed import observed_monthly
from sim.measures.metrics import monthly
from sim.model.replication import simulate
from sim.scenario.loading import load
from tests.helpers import ROOT

SEED = 5


def test_a_reading_with_every_size_at_the_baseline_value_is_the_baseline():
    cfg = load_story(CONFIG)
    reading = cfg.readings[0]
    sc = load(ROOT / "scenarios" / "as_reported_2023.yaml")
    base = load(ROOT / "scenarios" / "baseline.yaml")
    same = (base.ppn.quality.value, base.outcomes.conversation_referral_ratio.value)
    assert [sc.changes[f.change].setting for f in reading.free] == ["ppn.quality",
                                                                    "outcomes.conversation_referral_ratio"]
    a = monthly(simulate(at_point(sc, reading, same), SEED, 0))
    b = monthly(simulate(base, SEED, 0))
    pd.testing.assert_frame_equal(a, b)  # dated changes to the value in force change nothing
    c = monthly(simulate(at_point(sc, reading, (0.9, 0.5)), SEED, 0))
    oct_ = c["month"] >= "2023-11"
    assert (c.loc[oct_, "pct_contacts_to_referral"] < b.loc[oct_, "pct_contacts_to_referral"]).all()


@pytest.mark.slow
def test_the_fit_keeps_every_point_and_picks_the_lowest_score():
    full = load_story(CONFIG)
    r = full.readings[1].model_copy(update={"free": (full.readings[1].free[0].model_copy(
        update={"values": (7.58, 9.58)}),)})
    cfg = StoryConfig.model_validate({**full.model_dump(), "reps": 2, "readings": [r.model_dump()]})
    rf = fit(r, cfg, CONFIG.parent)
    assert list(rf.grid["staff.ps.establishment"]) == [7.58, 9.58]
    obs = observed_monthly()
    for _, row in rf.grid.iterrows():  # the score is the sum of squared scaled errors
        total = sum(((row[f"{m} {mo}"] - obs.at[mo, m]) / spec["scale"]) ** 2
                    for m, spec in cfg.targets.items() for mo in cfg.months)
        assert row["score"] == pytest.approx(total)
    assert rf.best[0] == rf.grid.loc[rf.grid["score"].idxmin(), "staff.ps.establishment"]
    assert rf.edge["staff.ps.establishment"]  # of two values tried, the best is at an end
    more = rf.grid.set_index("staff.ps.establishment")
    timely = "pct_completed_within_1wd 2023-10"
    assert more.at[9.58, timely] > more.at[7.58, timely]
