"""The app's search over several levers with a dated start (ui/experiments.py frontier_section):
the start is offered as a lever with its latest month, said before the search, written in the
answer as the day the other levers start, and refused on the page when it has nothing to start."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sim.experiments import frontier as fr
from tests.app_helpers import go, open_app


def _set(at: AppTest, levers: dict[str, float], latest: str | None = None) -> AppTest:
    go(at, "Compare and target")
    at.radio(key="target_question").set_value("within_1wd_95")
    at.number_input(key="target_reps").set_value(2)
    at.multiselect(key="frontier_levers").set_value(list(levers)).run()
    for k, w in levers.items():
        at.number_input(key=f"frontier_weight:{k}").set_value(w)
    if latest is not None:
        at.selectbox(key="frontier_latest_start").set_value(latest)
    at.slider(key="frontier_values").set_value(2).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _words(at: AppTest) -> str:
    return "\n".join(str(x.value) for x in (*at.markdown, *at.caption, *at.error, *at.success, *at.warning))


@pytest.mark.slow
@pytest.mark.app
def test_a_dated_start_is_searched_and_shown_as_the_day_the_levers_start() -> None:
    at = _set(open_app(), {"ps_posts": 1.0, fr.START: 0.5}, latest="2023-10")
    said = _words(at)
    assert "start_month at 2 values from 2023-10 to 2023-07 (the whole run)" in said
    assert "The target is measured over the whole run" in said
    at.button(key="run_frontier").click().run()
    assert not at.exception, [e.value for e in at.exception]
    g = at.session_state.frontier.result.grid
    assert set(g[f"{fr.START}_from"]) <= {"2023-10-01", "whole run"}
    run = set(zip(g["ps_posts_steps"], g[f"{fr.START}_steps"], strict=True))
    assert (0, 0) in run and run <= {(0, 0), (6, 0), (6, 3)}  # 3 steps: October back to July
    assert (g["cost"] == g["ps_posts_steps"] + 0.5 * g[f"{fr.START}_steps"]).all()
    assert "start_month: alone it changes nothing" in _words(at)
    if g["on_frontier"].any():
        assert any("The other levers start from" in str(df.value.columns.tolist()) for df in at.dataframe)


@pytest.mark.app
def test_a_start_with_nothing_to_start_is_refused_on_the_page() -> None:
    at = _set(open_app(), {fr.START: 1.0})
    assert "This search cannot run: needs another lever to start" in _words(at)
    assert "run_frontier" not in [b.key for b in at.button]
