"""Driving the app in a real browser, shared by the browser test files: the Chromium to use,
`streamlit run app.py` on a free port of 127.0.0.1, and page helpers for Playwright pages.

Nothing here imports playwright at import time; each test file takes `BROWSER_MARKS` as its
`pytestmark` and `sync_playwright = playwright()`, which skips the file, saying why, where
Chromium or playwright is missing.
"""

from __future__ import annotations

import os
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


# the marks of every browser test file: slow, and skipped where Debian's Chromium is missing
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)"),
]


def playwright():
    """playwright's `sync_playwright`, or skip the calling test file where the package is missing."""
    return pytest.importorskip(
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
