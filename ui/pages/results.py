"""The Results page: the scenario's measures beside the reported figures, with 95% bands."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sim.experiments.compare import PERIOD, TOTAL, paired_differences
from sim.measures.metrics import MEASURES, month_fractions
from sim.measures.posts import FTE_HOURS_A_MONTH, fte
from ui import runs, state
from ui.charts import fmt
from ui.pages.common import (
    about,
    current_ran,
    flag_inactive,
    period_words,
    run_controls,
    run_now,
    show_results,
)

# the service's time in hours and posts, and overtime per person: the units a manager budgets in
TIME_MEASURES = ("ps_task_hours", "ps_pair_hours", "cotriage_officer_hours", "overtime_hours_csw",
                 "overtime_per_post_csw", "overtime_hours_ps", "overtime_per_post_ps", "abandoned_calls",
                 "referrals")


def _with_interval(x, unit: str, scale=lambda v: v) -> str:
    return f"{fmt(scale(x['mean']), unit)} (95% interval {fmt(scale(x['ci_low']), unit)} to" \
           f" {fmt(scale(x['ci_high']), unit)})"


def time_table(ran: state.Ran) -> pd.DataFrame:
    """Hours, posts and counts: a month on average and over the period, with 95% intervals."""
    res = ran.res
    t = pd.concat([paired_differences([res], by_month=False),
                   paired_differences([res], by_month=False, total=True)], ignore_index=True)
    frac = month_fractions(res.scenario.run.start, res.scenario.run.end)
    whole = sum(frac.values())
    mean = whole / len(frac)
    cotriage = t[(t["measure"] == "cotriage_officer_hours") & (t["month"] == PERIOD)]["mean"].max() > 0
    rows = []
    for m in TIME_MEASURES:
        if m in ("ps_pair_hours", "cotriage_officer_hours") and not cotriage:
            continue
        label, unit = MEASURES[m]
        r = t[t["measure"] == m].set_index("month")
        total = _with_interval(r.loc[TOTAL], unit) if TOTAL in r.index else "a month only (no total)"
        rows.append({"measure": label, "unit": unit, "over the period": total,
                     "a month on average": _with_interval(r.loc[PERIOD], unit)})
        if m == "ps_task_hours":  # posts over the period: its hours over a post's for those months
            rows.append({"measure": f"{label}, as full-time posts", "unit": "full-time posts",
                         "a month on average": _with_interval(r.loc[PERIOD], "", lambda v: fte(v, mean)),
                         "over the period": _with_interval(r.loc[TOTAL], "", lambda v: fte(v, whole))})
    return pd.DataFrame(rows)


def time_section(ran: state.Ran) -> None:
    st.subheader(f"Time, posts and counts, {period_words(ran.res.scenario)}")
    st.dataframe(time_table(ran), hide_index=True, width="stretch")
    st.caption("Supervisor hours are time on front-door tasks (screening, direction and co-triage"
               " discussions) that the period's contacts took, not time on duty; as posts, over"
               f" {FTE_HOURS_A_MONTH.value:g} hours a month for one full-time post"
               f" ({FTE_HOURS_A_MONTH.source})."
               " Overtime is hours worked after the office closes: the whole team's, and per filled post"
               " (posts less vacancies). Totals add up each replication's months first; the intervals"
               " are 95% intervals over the replications.")


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
    elif ran is None and sc is not None and runs.running(sc, seed, reps) is not None:
        ran = run_now(sc, doc, seed, reps)  # a run this page was showing when a click interrupted it
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
    time_section(ran)


# st.navigation (app.py) runs this file as the page itself, as its __main__
if __name__ == "__main__":
    results_page()
