"""The Results page: the scenario's measures beside the reported figures, with 95% bands."""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.pages.common import (
    about,
    current_ran,
    flag_inactive,
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
    ran = current_ran(sc)
    if ran is None and sc is not None and not ss.get("auto_ran"):
        ss.auto_ran = True   # only a session's very first answer comes without asking
        ran = run_now(sc, doc, seed, reps)
    if ss.ran is not None:
        ss.auto_ran = True
    if ran is None:
        old: state.Ran | None = ss.ran
        if old is not None:
            st.info(f"The scenario or run settings have changed since the last results (for"
                    f" '{old.res.scenario.name}', {old.res.reps} replications, seed {old.res.seed}); they"
                    " are not shown, so that no figure here belongs to another scenario. Run the current"
                    " scenario to see its results.")
        if sc is not None:
            flag_inactive(sc)
        run_controls(sc, doc, "results",
                     "Run the current scenario" if old is not None else "Run this scenario")
        return
    show_results(ran)


# st.navigation (app.py) runs this file as the page itself, as its __main__
if __name__ == "__main__":
    results_page()
