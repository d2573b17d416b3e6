"""Opening the Streamlit app under AppTest, shared by the app's test files.

Runs use few replications in one process (FRONT_DOOR_REPS, FRONT_DOOR_WORKERS, read when
`ui.runs` is first imported, so this module is imported before `ui`).
"""

from __future__ import annotations

import os

os.environ.setdefault("FRONT_DOOR_REPS", "3")
os.environ.setdefault("FRONT_DOOR_WORKERS", "1")

from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.helpers import ROOT, baseline_doc  # noqa: E402

APP = str(ROOT / "app.py")
TIMEOUT = 120


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fewer_posts(pool: str, fewer: float) -> float:
    """The baseline's posts for a role less `fewer`, kept inside the plausible range."""
    node = baseline_doc()["staff"][pool]["establishment"]
    return float(max(node["range"][0], node["default"] - fewer))
