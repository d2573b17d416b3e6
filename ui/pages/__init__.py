"""The app's pages, one module a page: results, levers, compare and target, the animated front
door, assumptions, downloads (`common` holds what they share).

Each page is a function of the session's state (ui/state.py), and each module runs that
function when `st.navigation` (app.py) runs its file as the page. Wording is for a service
manager, a police partner or an improvement lead: measures by their performance-pack names,
units on every number, uncertainty always shown.
"""

from __future__ import annotations

from collections.abc import Callable

from ui.pages.animation import animation_page
from ui.pages.assumptions import assumptions_page
from ui.pages.common import FILES, PAGES, navigation, sidebar_status
from ui.pages.compare import compare_page
from ui.pages.downloads import downloads_page
from ui.pages.results import results_page
from ui.pages.scenario import levers_page

DRAW: dict[str, Callable[[], None]] = {
    "Results": results_page, "Change the scenario": levers_page, "Compare and target": compare_page,
    "See the front door": animation_page, "Assumptions": assumptions_page, "Downloads": downloads_page,
}
__all__ = ["DRAW", "FILES", "PAGES", "navigation", "sidebar_status"]
