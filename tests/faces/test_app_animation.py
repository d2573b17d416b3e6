"""The "See the front door" page draws its animations and process maps without an exception."""

from __future__ import annotations

import json

import pytest

from tests.app_helpers import go, open_app
from ui.pages.animation import DEFAULT_OTHER, NOTHING, WEEK


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _frame_names(spec: dict) -> list[str]:
    return [f["name"] for f in spec.get("frames", [])]


@pytest.mark.slow
@pytest.mark.app
def test_the_baseline_and_two_fewer_csws_side_by_side_on_an_august_day() -> None:
    at = go(open_app(), "See the front door")
    assert at.selectbox(key="anim_other").value == DEFAULT_OTHER
    specs = _charts(at)
    animations = [s for s in specs if s.get("frames")]
    sankeys = [s for s in specs if s["data"] and s["data"][0]["type"] == "sankey"]
    assert len(animations) == 2 and len(sankeys) == 2
    # the same day for both, in office hours, on real dates: Monday 7 August 2023
    assert _frame_names(animations[0]) == _frame_names(animations[1])
    clock = [a for a in animations[0]["layout"].get("sliders", [{}])[0].get("steps", [])]
    labels = " ".join(str(s.get("label", "")) for s in clock)
    assert "07 Aug 2023" in labels and "Mon" in labels
    captions = " ".join(c.value for c in at.caption)
    assert "On duty" in captions and "consultant social workers" in captions


@pytest.mark.slow
@pytest.mark.app
def test_a_week_of_police_cotriage_draws_the_cotriage_pair() -> None:
    at = open_app()
    go(at, "Change the scenario")
    at.selectbox(key="library_choice").set_value("police_cotriage.yaml").run()
    at.button(key="load_library").click().run()
    assert not at.exception, [e.value for e in at.exception]
    go(at, "See the front door")
    at.selectbox(key="anim_other").set_value(NOTHING).run()
    at.radio(key="anim_span").set_value(WEEK).run()
    assert not at.exception, [e.value for e in at.exception]
    specs = _charts(at)
    animations = [s for s in specs if s.get("frames")]
    assert len(animations) == 1
    assert "police co-triage" in " ".join(c.value for c in at.caption)
    # the co-triage pair's places are drawn: a week in the period, after co-triage starts
    text = json.dumps(animations[0])
    assert "Officer and supervisor co-triage" in text
