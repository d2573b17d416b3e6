"""End to end in a real browser: `streamlit run app.py` on localhost, driven by Playwright.

Uses Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it) through the
playwright package without its own browser download. Skipped, saying why, where Chromium or
playwright is missing. The server is started on a free port on 127.0.0.1 and stopped at the end
(its whole process group, so the worker processes it started go too). Screenshots of the first
answer, the target finder and the tornado are saved in each test's temporary folder (printed
with `-s`). tests/test_app_load.py uses the server and page helpers here.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FIRST_ANSWER_LIMIT = 60.0  # seconds; about 10 on a quiet 2-core machine (the target)

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"),
]
sync_playwright = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
).sync_playwright


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, limit: float = 60.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer at {url} within {limit:.0f} s")


@contextmanager
def streamlit_server(env: dict[str, str], cwd: Path, log: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free port of 127.0.0.1, stopped with its whole process group."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with streamlit_server({"FRONT_DOOR_REPS": "10", "FRONT_DOOR_WORKERS": "2"}, ROOT, log) as url:
        yield url, log


def go(page, name: str) -> None:
    """Choose a page in the sidebar and wait until its title is drawn."""
    page.locator('[data-testid="stSidebar"]').get_by_text(name, exact=True).click()
    page.get_by_role("heading", name=TITLES[name]).first.wait_for(timeout=30_000)


TITLES = {"Results": "Bradford Integrated Front Door: what if?", "Change the scenario": "Change the scenario",
          "Compare and target": "Compare scenarios", "Assumptions": "Assumptions", "Downloads": "Downloads"}


def set_slider(page, label: str, steps: int) -> None:
    """Move a slider by whole steps with the keyboard (negative: down)."""
    thumb = page.get_by_role("slider", name=label)
    thumb.focus()
    for _ in range(abs(steps)):
        thumb.press("ArrowRight" if steps > 0 else "ArrowLeft")
    page.keyboard.press("Tab")


def set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")


def idle(page, limit: float = 60.0) -> None:
    """Wait until Streamlit has finished running the page's script."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=limit * 1000)


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
