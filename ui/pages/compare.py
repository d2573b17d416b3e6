"""The Compare and target page: paired comparison of saved scenarios, the target finder and
the sensitivity tornado."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from sim.experiments.compare import PERIOD, aligned
from sim.measures.metrics import MEASURES
from sim.scenario.schema import Scenario, validate
from ui import charts, excel, experiments, runs, state
from ui.charts import POST_HOURS, fmt, unit_of
from ui.pages.common import (
    COMPARE_MEASURES,
    chart_block,
    estimate,
    inactive_levers,
    period_words,
    period_words_doc,
)


def posts_in_period(sc: Scenario) -> dict[str, float]:
    """Each role's established posts, averaged over the reported months (for overtime per post)."""
    months = pd.period_range(pd.Timestamp(sc.run.start), pd.Timestamp(sc.run.end), freq="M")
    return {pool: float(sum(staff.establishment.at(p.year, p.month) for p in months) / len(months))
            for pool, staff in sc.staff.items()}


def _compare_summary(table: pd.DataFrame, names: list[str],
                     posts: dict[str, dict[str, float]] | None = None) -> pd.DataFrame:
    """The board table: each measure's average over the months compared, and each scenario's
    paired difference from the reference with its 95% interval; overtime also per post."""
    t = table[table["month"] == PERIOD]
    rows = []
    for m in COMPARE_MEASURES:
        r = t[t["measure"] == m]
        if r.empty:
            continue
        label, unit = MEASURES[m][0], unit_of(m)
        row = {"measure": label, "unit": unit}
        for x in r.itertuples():
            if x.scenario == names[0]:
                row[x.scenario] = fmt(x.mean, unit)
            else:
                row[x.scenario] = (f"{fmt(x.mean, unit)}: {x.diff_from_first:+,.2f}"
                                   f" ({x.diff_ci_low:+,.2f} to {x.diff_ci_high:+,.2f})")
        rows.append(row)
        pool = m.removeprefix("overtime_hours_")
        if m.startswith("overtime_hours_") and posts:
            per = {"measure": f"{label}, per post", "unit": POST_HOURS}
            for x in r.itertuples():
                n = posts.get(x.scenario, {}).get(pool)
                per[x.scenario] = (f"{x.mean / n:,.2f} (95% interval {x.ci_low / n:,.2f} to"
                                   f" {x.ci_high / n:,.2f}; {n:g} posts)" if n else "not available")
            rows.append(per)
    return pd.DataFrame(rows)


def _on_remove(index: int) -> None:
    st.session_state.saved_message = state.remove_saved(index)


def _on_open(index: int) -> None:
    ss = st.session_state
    state.open_saved(index)
    ss.saved_message = f"Now working on a copy of '{state.work().name}' (Change the scenario page)."


def _on_add_library() -> None:
    ss = st.session_state
    ss.saved_message = " ".join(state.add_library(f) for f in ss.library_add)
    ss.library_add = []


def saved_panel() -> None:
    """The saved scenarios, each with its source, months and changes, to rename, open or remove."""
    ss = st.session_state
    saved = state.saved()
    st.markdown(f"**Saved for comparison ({len(saved)})**")
    if not saved:
        st.caption("None yet.")
    for i, e in enumerate(saved):
        chg = e.changes()
        n = len(chg)
        with st.expander(f"{e.name}: from {e.source}, {period_words_doc(e.original)}, "
                         + (f"{n} change{'s' if n != 1 else ''}" if n else "unchanged")):
            if n:
                st.dataframe(chg, hide_index=True, width="stretch")
            c1, c2, c3 = st.columns([3, 1, 1])
            with c1:
                st.text_input("Name", value=e.name, max_chars=80, key=f"rename_saved:{i}:{e.gen}",
                              on_change=_rename_from, args=(i, e.gen))
            with c2:
                st.button("Work on a copy", key=f"open_saved:{i}:{e.gen}", on_click=_on_open, args=(i,),
                          help="Load a copy of this one, with its changes, into Change the scenario.")
            with c3:
                st.button("Remove", key=f"remove_saved:{i}:{e.gen}", on_click=_on_remove, args=(i,))
    if ss.get("saved_message"):
        st.caption(ss.saved_message)


def _rename_from(index: int, gen: int) -> None:
    ss = st.session_state
    key = f"rename_saved:{index}:{gen}"
    ss.saved_message = state.rename_saved(index, ss[key])
    ss[key] = state.saved()[index].name  # a refused name does not stay in the box


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
            ss.save_message = state.save_work()
        if ss.get("save_message"):
            st.caption(ss.save_message)
    with c2:
        files = state.scenario_files()
        st.multiselect("Add scenarios from the library", list(files), key="library_add")
        st.button("Add", key="add_library", disabled=not ss.get("library_add"), on_click=_on_add_library)
    saved_panel()
    saved = state.saved()
    if len(saved) < 2:
        st.info("Save at least two scenarios to compare them: for example the baseline and a copy with two"
                " fewer consultant social workers (change it on the Change the scenario page, give it a new"
                " name, and save it).")
    else:
        names = [e.name for e in saved]
        by_name = {e.name: e for e in saved}
        if ss.get("compare_ref") not in names:
            ss.compare_ref = names[0]
        ref = st.selectbox("Compare against (the reference)", names, key="compare_ref")
        seen = ss.get("compare_seen", set())  # a newly saved scenario joins the comparison
        ss.compare_others = [n for n in [*ss.get("compare_others", []), *(n for n in names if n not in seen)]
                             if n in names and n != ref]
        ss.compare_seen = set(names)
        others = st.multiselect("Scenarios to compare with it", [n for n in names if n != ref],
                                key="compare_others")
        chosen = [ref, *others]
        scs = [validate(by_name[n].doc(), n) for n in chosen]
        shifted = alignment_words(scs)
        reps, seed = int(ss.reps), int(ss.seed)
        todo = [s for s in aligned(scs) if runs.cached(s, seed, reps) is None]
        secs = sum(estimate(s, reps) for s in todo)
        st.caption(f"{len(chosen)} scenarios, {reps} replications each, seed {seed}, compared on"
                   f" {period_words(scs[0])}: "
                   + (f"{runs.say_seconds(secs)} to run {len(todo)} of them." if todo else "all ready."))
        if shifted:
            st.warning(shifted)
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
            table, results = runs.compare(scs, seed, reps, step)
            bar.empty()
            ss.comparison = {"table": table, "names": chosen, "reps": reps, "seed": seed,
                             "seconds": time.perf_counter() - t0, "period": period_words(scs[0]),
                             "aligned": shifted,
                             "posts": {r.scenario.name: posts_in_period(r.scenario) for r in results},
                             "keys": [runs.run_key(r.scenario, seed, reps) for r in results],
                             "sources": {n: by_name[n].source for n in chosen},
                             "changes": {n: by_name[n].changes() for n in chosen},
                             "inactive": [x for r in results for x in inactive_levers(r.scenario)]}
    comp = ss.comparison
    if comp is not None:
        show_comparison(comp)
    st.divider()
    experiments.target_section(sc)


def alignment_words(scs: list[Scenario]) -> str:
    """What `aligned` (the command line's rule) does to these scenarios' periods, in words; "" if nothing."""
    ref = scs[0]
    moved = [s for s in scs[1:] if (s.run.start, s.run.end) != (ref.run.start, ref.run.end)]
    if not moved:
        return ""
    parts = [f"'{s.name}' ({period_words(s)} in its file)" for s in moved]
    return (f"Not every scenario covers the same months. As `python -m sim compare` does, each is run on the"
            f" reference's months, {period_words(ref)} ({ref.run.start:%d %b %Y} to {ref.run.end:%d %b %Y}),"
            f" so that the months pair up: " + "; ".join(parts) + ". Its figures here are therefore not its"
            " file's own period.")


def show_comparison(comp: dict) -> None:
    table, names = comp["table"], comp["names"]
    st.subheader(f"Paired differences, {comp['period']}")
    for line in comp.get("inactive", []):
        st.warning(line)
    if comp.get("aligned"):
        st.caption(comp["aligned"])
    st.caption(f"Months compared: {comp['period']}. {comp['reps']} replications each, seed {comp['seed']},"
               f" in {comp['seconds']:.1f} seconds."
               f" Each cell: the scenario's monthly average, then its difference from '{names[0]}' with the"
               " 95% interval in brackets (percentage measures differ in percentage points).")
    st.dataframe(_compare_summary(table, names, comp.get("posts")), hide_index=True, width="stretch")
    st.caption("Overtime is the whole team's hours worked after the office closes, in an average month;"
               " the per-post rows divide each scenario's figure by its own established posts (so a team"
               " with fewer posts can show less overtime in all and more per post).")
    label_to_key = {MEASURES[m][0]: m for m in COMPARE_MEASURES}
    pick = st.selectbox("Measure to chart", list(label_to_key), key="compare_measure")
    m = label_to_key[pick]
    c1, c2 = st.columns([3, 2])
    with c1:  # month by month first, so a summer dip is not averaged away
        chart_block(*charts.difference_by_month_chart(table, m, names[0]), name=f"difference_by_month_{m}")
    with c2:
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


# st.navigation (app.py) runs this file as the page itself, as its __main__
if __name__ == "__main__":
    compare_page()
