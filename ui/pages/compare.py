"""The Compare and target page: paired comparison of saved scenarios, the target finder and
the sensitivity tornado."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from sim.experiments.compare import PERIOD
from sim.measures.metrics import MEASURES
from sim.scenario.loading import load
from sim.scenario.schema import ScenarioError, validate
from ui import charts, excel, experiments, runs, state
from ui.charts import fmt
from ui.pages.common import (
    COMPARE_MEASURES,
    chart_block,
    estimate,
    save_current,
)


def _compare_summary(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    t = table[table["month"] == PERIOD]
    rows = []
    for m in COMPARE_MEASURES:
        r = t[t["measure"] == m]
        if r.empty:
            continue
        label, unit = MEASURES[m]
        row = {"measure": label, "unit": unit}
        for x in r.itertuples():
            if x.scenario == names[0]:
                row[x.scenario] = fmt(x.mean, unit)
            else:
                row[x.scenario] = (f"{fmt(x.mean, unit)}: {x.diff_from_first:+,.2f}"
                                   f" ({x.diff_ci_low:+,.2f} to {x.diff_ci_high:+,.2f})")
        rows.append(row)
    return pd.DataFrame(rows)


def compare_page() -> None:
    ss = st.session_state
    st.title("Compare scenarios")
    st.markdown("Scenarios are run on the same random numbers: replication 1 of each sees the same calls at"
                " the same moments, and so on. The difference is taken replication by replication, so it"
                " shows the effect of the change itself, with a 95% interval; an interval that does not"
                " include zero is a difference chance alone would rarely produce.")
    doc, sc, err = state.current()
    c1, c2 = st.columns(2)
    with c1:
        if st.button(f"Save the current scenario ('{doc['name']}')", disabled=sc is None, key="save_here"):
            st.session_state.save_message = save_current(doc)
        if ss.get("save_message"):
            st.caption(ss.save_message)
    with c2:
        files = state.scenario_files()
        pick = st.multiselect("Add scenarios from the library", list(files), key="library_add")
        if st.button("Add", key="add_library", disabled=not pick):
            for f in pick:
                try:
                    d = load(files[f]).model_dump(mode="json")
                except ScenarioError as exc:
                    st.error(str(exc))
                    continue
                st.caption(save_current(d))
    saved: dict = ss.saved
    if len(saved) < 2:
        st.info("Save at least two scenarios to compare them: for example the baseline and a copy with two"
                " fewer consultant social workers (change it on the Change the scenario page, give it a new"
                " name, and save it).")
    else:
        names = list(saved)
        ref = st.selectbox("Compare against (the reference)", names, key="compare_ref")
        others = st.multiselect("Scenarios to compare with it", [n for n in names if n != ref],
                                default=[n for n in names if n != ref], key="compare_others")
        chosen = [ref, *others]
        scs = [validate(saved[n], n) for n in chosen]
        reps, seed = int(ss.reps), int(ss.seed)
        todo = [s for s in scs if runs.cached(s, seed, reps) is None]
        secs = sum(estimate(s, reps) for s in todo)
        st.caption(f"{len(chosen)} scenarios, {reps} replications each, seed {seed}: "
                   + (f"{runs.say_seconds(secs)} to run {len(todo)} of them." if todo else "all ready."))
        ok = True
        if secs > runs.LONG_RUN_SECONDS:
            st.warning(f"This comparison will take {runs.say_seconds(secs)}; lower the replications in the"
                       " sidebar for a quicker look, or confirm.")
            ok = st.checkbox("Yes, run it anyway", key="confirm_long:compare")
        if st.button("Compare", type="primary", disabled=not (ok and others), key="run_compare"):
            bar = st.progress(0.0, text="Starting…")

            def step(i: int, n: int, done: int, total: int) -> None:
                bar.progress((i + done / total) / n,
                             text=f"Scenario {i + 1} of {n} ('{chosen[i]}'): replication {done} of {total}")

            t0 = time.perf_counter()
            table, _ = runs.compare(scs, seed, reps, step)
            bar.empty()
            ss.comparison = {"table": table, "names": chosen, "reps": reps, "seed": seed,
                             "seconds": time.perf_counter() - t0}
    comp = ss.comparison
    if comp is not None:
        show_comparison(comp)
    st.divider()
    experiments.target_section(sc)


def show_comparison(comp: dict) -> None:
    table, names = comp["table"], comp["names"]
    st.subheader("Paired differences")
    st.caption(f"{comp['reps']} replications each, seed {comp['seed']}, in {comp['seconds']:.1f} seconds."
               f" Each cell: the scenario's monthly average, then its difference from '{names[0]}' with the"
               " 95% interval in brackets (percentage measures differ in percentage points).")
    st.dataframe(_compare_summary(table, names), hide_index=True, width="stretch")
    label_to_key = {MEASURES[m][0]: m for m in COMPARE_MEASURES}
    pick = st.selectbox("Measure to chart", list(label_to_key), key="compare_measure")
    m = label_to_key[pick]
    chart_block(*charts.difference_chart(table, m, names[0]), name=f"difference_{m}")
    by_month = table[(table["measure"] == m) & (table["month"] != PERIOD)]
    with st.expander("By month"):
        st.dataframe(by_month[["scenario", "month", "mean", "ci_low", "ci_high", "diff_from_first",
                               "diff_ci_low", "diff_ci_high"]].rename(columns={
            "mean": "average", "ci_low": "95% low", "ci_high": "95% high",
            "diff_from_first": f"difference from '{names[0]}'", "diff_ci_low": "difference 95% low",
            "diff_ci_high": "difference 95% high"}), hide_index=True, width="stretch")
    st.download_button("Download the whole comparison (CSV)", excel.csv_bytes(excel.comparison_table(table)),
                       file_name="comparison.csv", mime="text/csv", key="dl:comparison", on_click="ignore")


# ---------------------------------------------------------------------------------------------
# assumptions
