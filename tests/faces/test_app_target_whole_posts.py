"""The app's one-lever target finder (ui/experiments.py target_section) proposes whole posts:
every value it tries and the value it shows is the scenario's establishment plus whole posts."""

from __future__ import annotations

import math
import re

import pytest

from sim.experiments.levers import LEVERS
from sim.scenario.loading import load
from tests.app_helpers import go, open_app
from tests.helpers import BASELINE


def _whole_from(v: float, start: float) -> bool:
    return math.isclose(v - start, round(v - start), abs_tol=1e-9)


@pytest.mark.slow
@pytest.mark.app
def test_the_target_finder_shows_whole_supervisor_posts() -> None:
    at = go(open_app(), "Compare and target")
    at.radio(key="target_question").set_value("within_1wd_95")
    at.selectbox(key="target_lever").set_value("ps_posts")
    at.number_input(key="target_reps").set_value(2)
    at.slider(key="target_coarse").set_value(3)
    at.slider(key="target_fine").set_value(2).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("one whole practice supervisor post" in str(c.value) for c in at.caption)
    at.button(key="run_target").click().run()
    assert not at.exception, [e.value for e in at.exception]
    res = at.session_state.target.result
    start = LEVERS["ps_posts"].current(load(BASELINE))  # the app opens on the baseline
    assert res.start == pytest.approx(start)
    assert all(_whole_from(v, start) for v in res.grid["value"]), (start, res.grid["value"].tolist())
    shown = [str(m.value) for m in (*at.success, *at.warning) if "95% of contacts" in str(m.value)]
    assert shown, "no answer shown"
    if res.met:  # the proposal on the page is a whole number of posts added to the establishment
        assert _whole_from(res.value_confident, start)
        m = re.search(r"met with 95% confidence at ([\d.]+) posts \((\d+) whole posts? added to ([\d.]+)\)",
                      shown[0])
        assert m, shown[0]
        assert float(m.group(3)) == pytest.approx(start)
        assert float(m.group(1)) == pytest.approx(start + int(m.group(2)))
    else:
        assert "not met" in shown[0]
