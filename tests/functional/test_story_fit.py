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
    posts = full.readings[1].free[0]
    sc = load((CONFIG.parent / full.readings[1].scenario).resolve())
    ch = sc.changes[posts.change]
    assert ch.setting == "staff.ps.establishment" and posts.field == "value"
    # the fewest and the most posts the reading tries (whole posts apart, inside the change's
    # range), starting on the scenario's own date
    lo, hi = min(posts.values), max(posts.values)
    assert hi > lo and hi - lo == pytest.approx(round(hi - lo))
    r = full.readings[1].model_copy(update={"free": (posts.model_copy(update={"values": (lo, hi)}),)})
    cfg = StoryConfig.model_validate({**full.model_dump(), "reps": 2, "readings": [r.model_dump()]})
    rf = fit(r, cfg, CONFIG.parent)
    assert list(rf.grid["staff.ps.establishment"]) == [lo, hi]
    obs = observed_monthly()
    for _, row in rf.grid.iterrows():  # the score is the sum of squared scaled errors
        total = sum(((row[f"{m} {mo}"] - obs.at[mo, m]) / spec["scale"]) ** 2
                    for m, spec in cfg.targets.items() for mo in cfg.months)
        assert row["score"] == pytest.approx(total)
    assert rf.best[0] == rf.grid.loc[rf.grid["score"].idxmin(), "staff.ps.establishment"]
    assert rf.edge["staff.ps.establishment"]  # of two values tried, the best is at an end
    # more posts decide more within a working day in every fitted month they act from its first
    # day, and change nothing before they start
    more = rf.grid.set_index("staff.ps.establishment")
    start = f"{ch.from_date:%Y-%m}"
    acting = [mo for mo in cfg.months if mo > start or (mo == start and ch.from_date.day == 1)]
    assert acting, (start, cfg.months)
    for mo in cfg.months:
        timely = f"pct_completed_within_1wd {mo}"
        if mo in acting:
            assert more.at[hi, timely] > more.at[lo, timely], mo
        elif mo < start:
            assert more.at[hi, timely] == more.at[lo, timely], mo
