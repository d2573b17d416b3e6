"""The Results page: the scenario's measures beside the reported figures, with 95% bands."""

from __future__ import annotations

import streamlit as st

from ui import params, runs, state
from ui.pages.common import (
    about,
    run_controls,
    run_now,
    show_results,
)


def results_page() -> None:
    ss = st.session_state
    doc, sc, err = state.current()
    st.title("Bradford Integrated Front Door: what if?")
    st.markdown(about(doc))
    if doc.get("description"):
        st.caption(f"Scenario '{doc['name']}': {doc['description'].strip()}")
    if err:
        st.error(err)
    reps, seed = int(ss.reps), int(ss.seed)
    if ss.ran is not None:
        ss.auto_ran = True  # only a session's very first answer comes without asking
    if sc is not None:
        hit = runs.cached(sc, seed, reps)
        if hit is not None and (ss.ran is None or ss.ran.key != runs.run_key(sc, seed, reps)):
            ss.ran = state.Ran(runs.run_key(sc, seed, reps), hit, doc, 0.0, True,
                               params.changes(ss.original, doc))
        elif hit is None and not ss.get("auto_ran"):
            ss.auto_ran = True   # the first answer comes without asking
            run_now(sc, doc, seed, reps)
    ran: state.Ran | None = ss.ran
    if ran is not None and sc is not None and ran.key != runs.run_key(sc, seed, reps):
        st.info(f"The scenario or run settings have changed since these results were run (for"
                f" '{ran.res.scenario.name}'). Run the current scenario to update them.")
        run_controls(sc, doc, "results", "Run the current scenario")
    elif ran is None:
        run_controls(sc, doc, "results")
    if ran is not None:
        show_results(ran)


# ---------------------------------------------------------------------------------------------
# levers
