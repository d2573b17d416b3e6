"""The board report downloaded from the running app in a real browser, then opened with every
network request refused: it must draw whole (its charts too) from the one file. The PDF button,
whose file is made only when clicked, gives a PDF. Skipped, saying why, without Chromium or
playwright (as tests/faces/test_app_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

from sim.experiments import board_pdf
from tests.browser_helpers import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    go,
    idle,
    playwright,
    streamlit_server,
)
from tests.helpers import ROOT

pytestmark = BROWSER_MARKS
sync_playwright = playwright()


def test_the_downloaded_report_opens_whole_with_no_network(tmp_path: Path) -> None:
    log = tmp_path / "streamlit.log"
    with streamlit_server({"FRONT_DOOR_REPS": "3", "FRONT_DOOR_WORKERS": "1"}, ROOT, log) as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2200}, accept_downloads=True)
            page.goto(url)
            page.get_by_text("Results: baseline").wait_for(timeout=120_000)
            go(page, "Downloads")
            idle(page)
            with page.expect_download() as got:
                page.get_by_role("button", name=re.compile(r"^Board report \(one HTML")).click()
            report = tmp_path / got.value.suggested_filename
            got.value.save_as(str(report))
            if board_pdf.available():
                with page.expect_download(timeout=60_000) as got_pdf:
                    page.get_by_role("button", name="Board report (PDF)").click()
                pdf = tmp_path / got_pdf.value.suggested_filename
                got_pdf.value.save_as(str(pdf))
                assert pdf.suffix == ".pdf" and pdf.read_bytes().startswith(b"%PDF-")

            offline = browser.new_page()
            asked: list[str] = []

            def refuse(route) -> None:
                asked.append(route.request.url)
                route.abort()

            offline.route(re.compile(r"^(?!file:|data:).*"), refuse)
            offline.goto(report.as_uri())
            offline.wait_for_load_state("load")
            drawn = offline.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
            headings = offline.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
        finally:
            browser.close()
    assert report.suffix == ".html" and report.name.startswith("board_report_baseline_")
    assert asked == []  # nothing but the file itself was asked for
    assert drawn and all(w and w > 100 for w in drawn)  # every chart decoded from inside the file
    assert headings[0] == "The question" and headings[-1] == "How to reproduce this report"
    assert "Traceback" not in log.read_text(errors="replace")
