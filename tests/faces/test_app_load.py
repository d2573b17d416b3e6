"""Several users at once: the app on localhost with three browser sessions working in parallel.

Bounded: one server on a free port of 127.0.0.1 (nothing leaves the machine), three Playwright
contexts (separate sessions, as three people in three browsers) plus one that only reads pages,
a fixed list of actions, and a time limit on every wait. Each session changes a different lever,
names its scenario and runs it while the others run theirs; then each must show its own
scenario's name and exactly the figures that scenario gives when run here on its own (results
kept apart), every page must answer within PAGE_LIMIT seconds while the runs share the workers
(the app stays responsive: a fourth session reads every page meanwhile), and the server must
write no file: it runs in an empty working
folder with its own empty temporary folder, which must hold nothing of the app's afterwards.

Uses Debian's Chromium like tests/faces/test_app_browser.py, and is skipped, saying why, without it.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.browser_helpers import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    TITLES,
    go,
    idle,
    playwright,
    streamlit_server,
)
from tests.helpers import baseline_doc

pytestmark = BROWSER_MARKS
sync_playwright = playwright()

REPS = 2
PAGE_LIMIT = 30.0  # seconds for any page to be drawn in full, even while three runs share two workers
RUN_LIMIT = 120.0  # seconds for the three runs together
# (scenario name, lever tab, lever label, which of the inputs with that label, value, edited path)
SESSIONS = [
    ("eight consultant social workers", "Staffing by role and month", "Posts (any month not changed below)",
     0, 8, ("staff", "csw", "establishment", "default")),
    ("ten practice supervisors", "Staffing by role and month", "Posts (any month not changed below)",
     1, 10, ("staff", "ps", "establishment", "default")),
    ("better police notices", "PPN quality and police co-triage", "Quality of police protection notices",
     0, 0.5, ("ppn", "quality", "value")),
]


def timed_go(page, name: str, times: list[tuple[str, float]], who: str) -> None:
    t0 = time.monotonic()
    go(page, name)
    idle(page, PAGE_LIMIT)
    times.append((f"{who}: {name}", time.monotonic() - t0))


def expected_within_1wd(name: str, path: tuple[str, ...], value: float) -> str:
    """The headline figure the session must show, from the same scenario run here on its own."""
    from sim.experiments.compare import paired_differences
    from sim.experiments.runner import run_replications
    from sim.scenario.schema import validate
    from ui import params
    from ui.charts import fmt

    doc = baseline_doc()
    sc = validate(params.apply_edits(doc, {("name",): name, path: float(value)}), name)
    res = run_replications(sc, reps=REPS, seed=int(doc["run"]["seed"]))
    per = paired_differences([res], by_month=False).set_index("measure")
    return fmt(per.loc["pct_completed_within_1wd", "mean"], "%")


def test_three_sessions_at_once_keep_their_results_apart(tmp_path: Path) -> None:
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    log = tmp_path / "streamlit.log"
    env = {"FRONT_DOOR_REPS": str(REPS), "FRONT_DOOR_WORKERS": "2", "TMPDIR": str(tmp)}
    times: list[tuple[str, float]] = []
    shown: dict[str, tuple[str, str]] = {}
    with streamlit_server(env, cwd, log) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            pages = [browser.new_context(viewport={"width": 1300, "height": 1600}).new_page()
                     for _ in SESSIONS]
            t0 = time.monotonic()
            for page in pages:  # three people open the app at once
                page.goto(url)
            for i, page in enumerate(pages):
                page.get_by_text("Results: baseline").wait_for(timeout=RUN_LIMIT * 1000)
                times.append((f"session {i + 1}: first answer", time.monotonic() - t0))
            for i, (page, (name, tab, label, nth, value, _)) in enumerate(zip(pages, SESSIONS, strict=True)):
                timed_go(page, "Change the scenario", times, f"session {i + 1}")
                page.get_by_role("tab", name=tab).click()
                box = page.get_by_label(label, exact=True).nth(nth)
                box.fill(str(value))
                box.press("Enter")
                idle(page, PAGE_LIMIT)
                title = page.get_by_label("Scenario name (used on charts and in comparisons)", exact=True)
                title.fill(name)
                title.press("Enter")
                idle(page, PAGE_LIMIT)
            for page in pages:  # all three run at the same time
                page.get_by_role("button", name="Run this scenario").click()
            # meanwhile a fourth person reads every page
            reader = browser.new_context(viewport={"width": 1300, "height": 1600}).new_page()
            t1 = time.monotonic()
            reader.goto(url)
            reader.get_by_role("heading", name=TITLES["Results"]).wait_for(timeout=PAGE_LIMIT * 1000)
            times.append(("reader: Results", time.monotonic() - t1))
            for name in list(TITLES)[1:]:
                timed_go(reader, name, times, "reader")
            for i, (page, (name, *_)) in enumerate(zip(pages, SESSIONS, strict=True)):
                page.get_by_text(f"Results for '{name}' are on the Results page.").wait_for(
                    timeout=RUN_LIMIT * 1000)
                times.append((f"session {i + 1}: its own run", time.monotonic() - t1))
            for i, (page, (name, *_)) in enumerate(zip(pages, SESSIONS, strict=True)):
                timed_go(page, "Results", times, f"session {i + 1}")
                heading = page.locator("h3", has_text="Results: ").first.inner_text()
                value = page.locator('[data-testid="stMetricValue"]').first.inner_text()
                shown[name] = (heading.strip(), value.strip())
            timed_go(reader, "Results", times, "reader")  # the reader's own answer is untouched
            reader.get_by_text("Results: baseline").wait_for(timeout=PAGE_LIMIT * 1000)
        finally:
            browser.close()
            report = "\n".join(f"{what:45s} {secs:6.1f} s" for what, secs in times)
            print(f"\n{report}")
    # every page answered within the bound, even while the runs were going on
    slow = [(w, round(s, 1)) for w, s in times
            if "run" not in w and "first answer" not in w and s > PAGE_LIMIT]
    assert not slow, report
    assert all(s < RUN_LIMIT for _, s in times), report
    # each session shows its own scenario, with the figures that scenario gives on its own
    for name, _, _, _, value, path in SESSIONS:
        heading, figure = shown[name]
        # each heading names its scenario and the months it covers
        assert heading == f"Results: {name}, July to December 2023 (6 months)", (name, heading)
        assert figure == expected_within_1wd(name, path, value), (name, figure)
    # the server wrote nothing: no file in its working folder, none of its own in its temporary one
    assert list(cwd.iterdir()) == []
    left = [x.name for x in tmp.iterdir() if not x.name.startswith("pymp-")]  # the worker pool's socket
    assert left == [], left
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log and "Exception" not in server_log, server_log[-3000:]
