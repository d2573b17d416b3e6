"""A first answer in seconds, and a session kept as one file (issue 16, items 4 and 5), through the
app as a user drives it (AppTest).

Expected figures come from `sim.experiments.runner.run_replications` run here at once, never from
the app's own code; each test uses a seed of its own, so that no earlier run in the shared cache
answers for it.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sim.experiments.runner import RunResults, run_replications
from sim.scenario.loading import load
from sim.scenario.schema import validate
from tests.app_helpers import fewer_posts, go, lever, open_app, set_lever
from tests.helpers import BASELINE
from ui import runs
from ui.pages import common

pytestmark = [pytest.mark.app, pytest.mark.slow]
PS_POSTS = "staff.ps.establishment.default"


def set_run(at: AppTest, reps: int, seed: int) -> AppTest:
    at.number_input(key="reps").set_value(reps).run()
    at.number_input(key="seed").set_value(seed).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("info", "caption", "markdown", "warning")
                     for e in getattr(at, kind))


def headline_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


# ---------------------------------------------------------------------------------------------
# progressive results


def test_progressive_results_end_on_the_figures_of_a_run_made_at_once(monkeypatch) -> None:
    shown: list[tuple[RunResults, int]] = []
    draw = common.show_partial

    def record(res: RunResults, total: int) -> None:
        shown.append((res, total))
        draw(res, total)

    monkeypatch.setattr(common, "show_partial", record)
    reps, seed = 6, 7_310_001
    at = set_run(open_app(), reps, seed)
    shown.clear()  # only this run's
    at.button(key="run:results").click().run()
    assert not at.exception, [e.value for e in at.exception]
    sc = load(BASELINE)
    at_once = run_replications(sc, reps=reps, seed=seed)
    final = at.session_state.ran.res
    pd.testing.assert_frame_equal(final.monthly, at_once.monthly)
    pd.testing.assert_frame_equal(final.summary, at_once.summary)
    # the first figures shown came from the first three replications, with the same seeds
    assert shown, "no figures were shown before the run finished"
    first, total = shown[0]
    assert (first.reps, total) == (3, reps)
    pd.testing.assert_frame_equal(first.summary, run_replications(sc, reps=3, seed=seed).summary)
    assert all(res.reps < reps for res, _ in shown)
    # the note said so while the run went on, and is gone with the full results
    assert "replications so far" not in page_text(at)
    assert any(f"{reps} replications, seed {seed}" in c.value and "first figures after 3 replications"
               in c.value for c in at.caption)


def test_the_note_stands_beside_the_first_figures_only_while_the_run_goes_on(monkeypatch) -> None:
    """What the partial view draws: the note naming how many replications it rests on."""
    notes: list[str] = []
    draw = common.show_partial

    def record(res: RunResults, total: int) -> None:
        draw(res, total)
        notes.append(f"{res.reps}/{total}")

    monkeypatch.setattr(common, "show_partial", record)
    info: list[str] = []
    real_info = common.st.info

    def spy(body, *args, **kwargs):
        info.append(str(body))
        return real_info(body, *args, **kwargs)

    monkeypatch.setattr(common.st, "info", spy)
    at = set_run(open_app(), 5, 7_310_002)
    notes.clear()
    at.button(key="run:results").click().run()
    assert notes and notes[0] == "3/5"
    assert "Based on 3 of 5 replications so far; the intervals will narrow" in " ".join(info)
    assert not any("so far" in i.value for i in at.info)


def test_a_repeat_question_is_answered_from_the_cache() -> None:
    at = set_run(open_app(), 3, 7_310_003)
    at.button(key="run:results").click().run()
    first = at.session_state.ran
    assert not first.from_cache
    set_run(at, 3, 7_310_004)   # another question, run, then the first one again
    at.button(key="run:results").click().run()
    assert at.session_state.ran.res.seed == 7_310_004
    set_run(at, 3, 7_310_003)
    again = at.session_state.ran
    assert again is not None and again.from_cache and again.res is first.res
    assert any("from the cache, at once" in c.value for c in at.caption)


# ---------------------------------------------------------------------------------------------
# the session as one file


def make_session() -> AppTest:
    """A changed, renamed, saved and run scenario beside the baseline, then the Downloads page."""
    at = go(open_app(), "Change the scenario")
    set_run(at, 3, 7_310_010)
    set_lever(at, PS_POSTS, fewer_posts("ps", 1))
    at.text_input(key=lever(at, "name")).input("one supervisor fewer").run()
    at.button(key="save_for_compare").click().run()
    at.button(key="run:levers").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return go(at, "Downloads")


def open_session(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="session_upload").set_value((name, data, "application/json")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_saved_session_reopens_with_the_same_scenarios_changes_and_figures() -> None:
    at = make_session()
    data = at.session_state.session_file
    work, saved = at.session_state.work, at.session_state.saved
    go(at, "Results")
    figures = headline_values(at)
    assert figures
    runs.shared_store.clear()  # nothing left to answer from but the file
    other = go(open_app(), "Downloads")
    open_session(other, "session.json", data)
    assert any("Opened the session" in s.value for s in other.success)
    ss = other.session_state
    assert ss.work.name == "one supervisor fewer" and ss.work.edits == work.edits
    assert ss.work.doc() == work.doc()
    assert [(e.name, e.edits) for e in ss.saved] == [(e.name, e.edits) for e in saved]
    assert (int(ss.reps), int(ss.seed)) == (3, 7_310_010)
    go(other, "Results")
    ran = other.session_state.ran
    assert ran is not None and ran.restored_from == "session.json"
    reference = run_replications(validate(work.doc(), "test"), reps=3, seed=7_310_010)
    pd.testing.assert_frame_equal(ran.res.monthly, reference.monthly)
    assert headline_values(other) == figures
    assert any("from the saved session file session.json" in c.value for c in other.caption)


def broken_files(good: bytes) -> dict[str, bytes]:
    """Session files a user might send by mistake or on purpose, each wrong in one way."""
    body = json.loads(good)

    def changed(edit) -> bytes:
        b = json.loads(good)
        edit(b)
        return json.dumps(b).encode("utf-8")

    csv = body["work"]["results"]["monthly_csv"]
    return {
        "cut short": good[: len(good) // 2],
        "too large": good + b"#" * 1_000_001,
        "not text": b"\xff\xfe" + good[:100],
        "a python object": b"format: !!python/object:os.system ['echo pwned']\n",
        "not a session": b"name: baseline\nrun: {reps: 20}\n",
        "an impossible change": changed(lambda b: b["work"]["changes"].append(
            {"path": ["staff", "ps", "establishment", "default"], "value": -40})),
        "a figure that is not finite": changed(lambda b: b["work"]["results"].update(
            monthly_csv=csv.replace(csv.splitlines()[1].split(",")[2], "inf", 1))),
        "a replication missing": changed(lambda b: b["work"]["results"].update(
            monthly_csv="\n".join(line for line in csv.splitlines() if not line.startswith("2,")))),
        "a script in a name": changed(lambda b: b["saved"][0]["changes"].append(
            {"path": ["no_such_setting<script>"], "value": 1})),
    }


def test_a_broken_or_hostile_session_file_changes_nothing_and_says_why_in_one_line() -> None:
    at = make_session()
    good = at.session_state.session_file
    before = (at.session_state.work.doc(), [(e.name, e.edits) for e in at.session_state.saved],
              int(at.session_state.reps), int(at.session_state.seed), at.session_state.ran.key)
    for what, data in broken_files(good).items():
        open_session(at, "bad.json", data)
        ss = at.session_state
        after = (ss.work.doc(), [(e.name, e.edits) for e in ss.saved], int(ss.reps), int(ss.seed),
                 ss.ran.key)
        assert after == before, what
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and errors[0].startswith("Session not opened: bad.json: "), (what, errors)
        assert "\n" not in errors[0] and "Traceback" not in errors[0], what
        assert "pwned" not in errors[0] and "<script>" not in errors[0] and "/work" not in errors[0], what
