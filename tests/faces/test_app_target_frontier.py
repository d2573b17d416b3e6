"""The app's search over several levers (ui/experiments.py frontier_section): it says the work
before it starts, answers with the frontier and each lever alone, and refuses what it cannot run."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sim.experiments import frontier as fr
from sim.experiments.levers import LEVERS
from sim.scenario.loading import load
from tests.app_helpers import go, open_app
from tests.helpers import BASELINE, whole_posts_to


def set_frontier(at: AppTest, question: str, levers: dict[str, float], reps: int, values: int) -> AppTest:
    go(at, "Compare and target")
    at.radio(key="target_question").set_value(question)
    at.number_input(key="target_reps").set_value(reps)
    at.multiselect(key="frontier_levers").set_value(list(levers)).run()
    for k, w in levers.items():
        at.number_input(key=fr_weight(k)).set_value(w)
    at.slider(key="frontier_values").set_value(values).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fr_weight(k: str) -> str:
    return f"frontier_weight:{k}"


def words(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


@pytest.mark.slow
@pytest.mark.app
def test_two_levers_answer_with_the_frontier_and_each_lever_alone() -> None:
    # the app opens on the baseline: PS posts from its calibrated establishment to the last whole
    # post inside the lever's range (7.58 to 13.58 at 7.58), CSW posts from 12 to 20
    ps0 = load(BASELINE).staff["ps"].establishment.default
    ps1 = ps0 + whole_posts_to(LEVERS["ps_posts"].high, ps0)
    at = set_frontier(open_app(), "within_1wd_95", {"ps_posts": 1.0, "csw_posts": 2.0}, reps=2, values=2)
    said = f"4 points (ps_posts at 2 values from {ps0:g} to {ps1:g}; csw_posts at 2 values from 12 to 20)"
    assert said in words(at)
    at.button(key="run_frontier").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run = at.session_state.frontier
    g = run.result.grid
    assert 1 <= len(g) <= 4 and len(g) + run.result.skipped == 4
    assert set(g["ps_posts"].round(2)) <= {round(ps0, 2), round(ps1, 2)} and set(g["csw_posts"]) <= {12, 20}
    assert (g[g["on_frontier"]]["met"]).all()
    assert "Each lever alone" in words(at) and "ps_posts: alone" in words(at)
    assert any(d.label.endswith("(target.csv)") for d in at.get("download_button"))
    # again: from the cache
    at.button(key="run_frontier").click().run()
    assert at.session_state.frontier.from_cache and at.session_state.frontier.result is run.result


@pytest.mark.app
def test_a_search_over_the_cap_is_refused_on_the_page() -> None:
    at = set_frontier(open_app(), "within_1wd_95", {"ps_posts": 1.0, "csw_posts": 1.0, "phone_shift": 1.0},
                      reps=30, values=3)
    assert "This search cannot run" in words(at) and f"the {fr.MAX_POINT_REPS} a search may run" in words(at)
    assert "run_frontier" not in [b.key for b in at.button]
