"""End to end in a real browser: `streamlit run app.py` on localhost, driven by Playwright.

Uses Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it) through the
playwright package without its own browser download. Skipped, saying why, where Chromium or
playwright is missing. The server is started on a free port on 127.0.0.1 and stopped at the end
(its whole process group, so the worker processes it started go too). Screenshots of the first
answer, the target finder and the tornado are saved in each test's temporary folder (printed
with `-s`). The server and page helpers are in tests/browser_helpers.py.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import openpyxl
import pytest

from tests.app_helpers import fewer_posts
from tests.browser_helpers import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    go,
    idle,
    playwright,
    set_number,
    set_slider,
    streamlit_server,
)
from tests.helpers import ROOT

FIRST_ANSWER_LIMIT = 60.0  # seconds; about 10 on a quiet 2-core machine (the target)

pytestmark = BROWSER_MARKS
sync_playwright = playwright()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with streamlit_server({"FRONT_DOOR_REPS": "10", "FRONT_DOOR_WORKERS": "2"}, ROOT, log) as url:
        yield url, log


def test_baseline_answers_in_a_real_browser(server, tmp_path: Path) -> None:
    url, log = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2200})
            t0 = time.monotonic()
            page.goto(url)
            page.get_by_text("Results: baseline").wait_for(timeout=FIRST_ANSWER_LIMIT * 1000)
            first_answer = time.monotonic() - t0
            label = page.get_by_text("% of contacts completed within 1 working day").first
            label.wait_for(timeout=10_000)
            value = page.locator('[data-testid="stMetricValue"]').first.inner_text()
            assert re.fullmatch(r"\d{1,3}\.\d%", value.strip()), value
            page.get_by_text("reported 85.2%").first.wait_for(timeout=10_000)
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=20_000)
            time.sleep(1.0)  # let the charts finish drawing
            shot = tmp_path / "results.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log[-3000:]
    print(f"first baseline answer in the browser: {first_answer:.1f} s; screenshot {shot}")


def test_target_finder_and_tornado_in_a_real_browser(server, tmp_path: Path) -> None:
    url, log = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.goto(url)
            page.get_by_text("Results: baseline").wait_for(timeout=FIRST_ANSWER_LIMIT * 1000)
            go(page, "Compare and target")
            page.get_by_text("Lever to move").wait_for()
            page.get_by_label("Lever to move").click()  # the choice of lever
            page.get_by_role("option", name="Practice supervisor posts screening").click()
            idle(page)
            page.get_by_text("posts in this scenario. The search moves it up").wait_for(timeout=10_000)
            set_number(page, "Replications at each value tried", 3)
            idle(page)
            set_slider(page, "Values tried across the range", -2)  # 5 -> 3
            idle(page)
            set_slider(page, "Further values tried to pin the answer down", -2)  # 4 -> 2
            idle(page)
            page.get_by_text("up to 5 values of the lever, 3 replications each").wait_for(timeout=10_000)
            page.get_by_role("button", name="Find the smallest change").click()
            answer = page.get_by_text("by changing practice supervisor posts screening").first
            answer.wait_for(timeout=120_000)
            page.get_by_text("as the lever moves").first.wait_for(timeout=20_000)
            idle(page)
            page.get_by_text("What would it take?").scroll_into_view_if_needed()
            time.sleep(1.0)
            target_shot = tmp_path / "target_finder.png"
            page.screenshot(path=str(target_shot))

            go(page, "Assumptions")
            set_number(page, "Replications at each end of each range", 1)
            idle(page)
            page.get_by_role("button", name="Run the sensitivity analysis").click()
            page.get_by_text("which assumptions move it most").first.wait_for(timeout=120_000)
            idle(page)
            page.get_by_text("Which assumptions matter most").scroll_into_view_if_needed()
            time.sleep(1.0)
            tornado_shot = tmp_path / "tornado.png"
            page.screenshot(path=str(tornado_shot))
        finally:
            browser.close()
    assert target_shot.stat().st_size > 20_000 and tornado_shot.stat().st_size > 20_000
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log[-3000:]
    print(f"screenshots {target_shot} {tornado_shot}")


def test_the_service_managers_question_cold_in_a_real_browser(server, tmp_path: Path) -> None:
    """Two fewer consultant social workers: change the posts, save, compare with the baseline on
    the same random numbers, download the workbook and open it, as a service manager would."""
    url, log = server
    fewer = fewer_posts("csw", 2)
    name = "two fewer consultant social workers"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2200}, accept_downloads=True)
            page.goto(url)
            page.get_by_text("Results: baseline").wait_for(timeout=FIRST_ANSWER_LIMIT * 1000)
            go(page, "Compare and target")
            page.get_by_role("button", name="Save the current scenario ('baseline')").click()
            page.get_by_text("Saved 'baseline' for comparison").wait_for(timeout=20_000)
            go(page, "Change the scenario")
            page.get_by_role("tab", name="Staffing by role and month").click()
            box = page.get_by_label("Posts (any month not changed below)", exact=True).nth(0)
            box.fill(f"{fewer:g}")
            box.press("Enter")
            idle(page)
            title = page.get_by_label("Scenario name (used on charts and in comparisons)", exact=True)
            title.fill(name)
            title.press("Enter")
            idle(page)
            page.get_by_text("Changes from the file (2)").wait_for(timeout=20_000)
            page.get_by_role("button", name="Save for comparison").click()
            page.get_by_text(f"Saved '{name}' for comparison").wait_for(timeout=20_000)
            go(page, "Compare and target")
            page.get_by_role("button", name="Compare", exact=True).click()
            page.get_by_text("Paired differences, July to December 2023").wait_for(
                timeout=4 * FIRST_ANSWER_LIMIT * 1000)
            idle(page)
            page.screenshot(path=str(tmp_path / "compare.png"))
            go(page, "Downloads")
            page.get_by_text(f"Results of '{name}'").wait_for(timeout=20_000)
            with page.expect_download() as got:
                page.get_by_role("button", name=re.compile("^Excel workbook")).click()
            book_path = tmp_path / got.value.suggested_filename
            got.value.save_as(str(book_path))
            page.screenshot(path=str(tmp_path / "downloads.png"))
        finally:
            browser.close()
    book = openpyxl.load_workbook(book_path)
    inputs = {r[0]: r[1:] for r in book["Inputs"].iter_rows(values_only=True)}
    assert inputs["scenario"][0] == name and inputs["replications"][0] == 10
    assert inputs["changed: Consultant social workers: posts"][0] == pytest.approx(fewer)
    compared = {r[0] for r in book["Comparison"].iter_rows(min_row=2, values_only=True)}
    assert compared == {"baseline", name}
    assert "_2023-07_to_2023-12_10reps_" in book_path.name
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log[-3000:]
    print(f"service manager's question: workbook {book_path}; screenshots in {tmp_path}")
