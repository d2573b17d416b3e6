"""Opening the Streamlit app under AppTest, shared by the app's test files.

Runs use few replications in one process (FRONT_DOOR_REPS, FRONT_DOOR_WORKERS, read when
`ui.runs` is first imported, so this module is imported before `ui`).
"""

from __future__ import annotations

import os
import re

os.environ.setdefault("FRONT_DOOR_REPS", "3")
os.environ.setdefault("FRONT_DOOR_WORKERS", "1")

from streamlit.testing.v1 import AppTest  # noqa: E402

from tests.helpers import ROOT, baseline_doc  # noqa: E402
from ui.pages import FILES  # noqa: E402

APP = str(ROOT / "app.py")
TIMEOUT = 120


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def go(at: AppTest, page: str) -> AppTest:
    """Open a page as the sidebar's navigation does (st.navigation runs the page's file)."""
    at.switch_page(FILES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fewer_posts(pool: str, fewer: float) -> float:
    """The baseline's posts for a role less `fewer`, kept inside the plausible range."""
    node = baseline_doc()["staff"][pool]["establishment"]
    return float(max(node["range"][0], node["default"] - fewer))


def lever(at: AppTest, dotted: str) -> str:
    """The widget key of a lever as the page draws it now: "lever:", a generation, then its path.

    Found among the widgets on the page (not rebuilt from the app's own rule), so a test of
    the keys' generations still finds the lever whatever the rule."""
    found = [w.key for kind in ("number_input", "text_input", "slider", "toggle", "date_input", "selectbox")
             for w in getattr(at, kind) if isinstance(getattr(w, "key", None), str)
             and re.fullmatch(rf"lever:(\d+:)?{re.escape(dotted)}", w.key)]
    assert len(found) == 1, (dotted, found)
    return found[0]


def set_lever(at: AppTest, dotted: str, value: float) -> AppTest:
    """Type a number into a lever of the scenario worked on, as a user would, and rerun."""
    at.number_input(key=lever(at, dotted)).set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    return at
