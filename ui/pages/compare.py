"""The Compare and target page: paired comparison of saved scenarios, the target finder and
the sensitivity tornado."""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from sim.experiments.board_charts import monthly_png
from sim.experiments.compare import LABELS, PERIOD, SUMMARY_ROWS, TOTAL, aligned, check_periods, moved
from sim.experiments.escalation import against_before, reduction_cell, reported_reviews
from sim.measures.posts import FTE_HOURS_A_MONTH, fte
from sim.scenario.schema import Scenario, validate
from ui import charts, excel, experiments, runs, state
from ui.charts import fmt, unit_of
from ui.pages.common import (
    COMPARE_MEASURES,
    chart_block,
    estimate,
    inactive_levers,
    period_words,
    period_words_doc,
    slug,
)

# The board table: what a service manager and a police partner put in a paper, in hours, posts and
# counts. (measure, row label, sign): a sign of -1 shows the reference minus the scenario (hours
# saved); the comparison's own savings (posts saved, referrals avoided) are already that way round.
BOARD: tuple[tuple[str, str, int], ...] = (
    ("ps_task_hours", "Supervisor hours saved on front-door tasks", -1),
    ("ps_fte_saved", "Supervisor time saved, as full-time posts", 1),
    ("ps_pair_hours", "Supervisor hours added in co-triage pairs", 1),
    ("cotriage_officer_hours", "Police officer hours added in co-triage pairs", 1),
    ("referrals_avoided", "Referrals avoided", 1),
    ("abandoned_calls", "Calls abandoned: change", 1),
    ("overtime_hours_ps", "Supervisors' overtime, whole team: change", 1),
    ("overtime_per_post_ps", "Supervisors' overtime, per filled post: change", 1),
    ("overtime_hours_csw", "Social workers' overtime, whole team: change", 1),
    ("overtime_per_post_csw", "Social workers' overtime, per filled post: change", 1),
)
# only shown when some scenario has co-triage at work
COTRIAGE_ROWS = ("ps_pair_hours", "cotriage_officer_hours")


def _cell(x, sign: int) -> str:
    """A difference and its 95% interval, the reference less the scenario when `sign` < 0."""
    d, lo, hi = x.diff_from_first, x.diff_ci_low, x.diff_ci_high
    if sign < 0:
        d, lo, hi = -d, -hi, -lo
    if not pd.notna(d):
        return "not available"
    return f"{d:+,.2f} ({lo:+,.2f} to {hi:+,.2f})"


def board_table(table: pd.DataFrame, ref: str, name: str) -> pd.DataFrame:
    """The board table of one scenario: its difference from the reference over the whole period
    (totals) and a month on average, each with its paired 95% interval; the reference's own
    figure a month beside it (for posts saved, its supervisor task hours as posts; for referrals
    avoided, its referrals). One table a scenario, so a long name never pushes a column off."""
    shown = table[table["month"].isin(SUMMARY_ROWS)]
    active = shown[shown["measure"].isin(COTRIAGE_ROWS)]["mean"].abs().max()
    rows = []
    for m, label, sign in BOARD:
        if m in COTRIAGE_ROWS and not (active and active > 0):
            continue
        unit = LABELS[m][1]
        r = shown[shown["measure"] == m]
        if r.empty:
            continue
        row = {"measure": label, "unit": unit}
        # the reference's own figure a month: for a saving, the measure it is saved from
        base = {"ps_fte_saved": "ps_task_hours", "referrals_avoided": "referrals"}.get(m, m)
        own = shown[(shown["measure"] == base) & (shown["scenario"] == ref) & (shown["month"] == PERIOD)]
        v = float(own["mean"].iloc[0]) if len(own) else float("nan")
        row[f"'{ref}' a month"] = fmt(fte(v) if m == "ps_fte_saved" else v, unit)
        for month, col in ((TOTAL, "over the period"), (PERIOD, "a month on average")):
            x = r[(r["scenario"] == name) & (r["month"] == month)]
            row[col] = _cell(x.iloc[0], sign) if len(x) else "a month only (no total)"
        rows.append(row)
    return pd.DataFrame(rows)


def _compare_summary(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Every measure: its average over the months compared, and each scenario's paired difference
    from the reference with its 95% interval."""
    t = table[table["month"] == PERIOD]
    rows = []
    for m in COMPARE_MEASURES:
        r = t[t["measure"] == m]
        if r.empty:
            continue
        label, unit = LABELS[m][0], unit_of(m)
        row = {"measure": label, "unit": unit}
        for x in r.itertuples():
            if x.scenario == names[0]:
                row[x.scenario] = fmt(x.mean, unit)
            else:
                row[x.scenario] = (f"{fmt(x.mean, unit)}: {x.diff_from_first:+,.2f}"
                                   f" ({x.diff_ci_low:+,.2f} to {x.diff_ci_high:+,.2f})")
        rows.append(row)
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
        align = False
        if shifted:  # the command line's rule: refused, unless every one is moved onto the reference's
            st.warning(shifted)
            align = st.checkbox(f"Run every scenario on the reference's months, {period_words(scs[0])}"
                                " (as `python -m sim compare --align`)", key="compare_align")
        reps, seed = int(ss.reps), int(ss.seed)
        todo = [s for s in (aligned(scs) if align else scs) if runs.cached(s, seed, reps) is None]
        secs = sum(estimate(s, reps) for s in todo)
        st.caption(f"{len(chosen)} scenarios, {reps} replications each, seed {seed}, compared on"
                   f" {period_words(scs[0])}: "
                   + (f"{runs.say_seconds(secs)} to run {len(todo)} of them." if todo else "all ready."))
        ok = not shifted or align
        ok = ok and runs.long_run_confirmed(secs, "Lower the replications in the sidebar for a quicker"
                                            " look, or confirm below.", "compare")
        if st.button("Compare", type="primary", disabled=not (ok and others), key="run_compare"):
            bar = st.progress(0.0, text="Starting…")

            def step(i: int, n: int, done: int, total: int) -> None:
                bar.progress((i + done / total) / n,
                             text=f"Scenario {i + 1} of {n} ('{chosen[i]}'): replication {done} of {total}")

            t0 = time.perf_counter()
            table, results = runs.compare(scs, seed, reps, step, align=align)
            bar.empty()
            _, said = check_periods(scs, align=True)
            first = results[0].scenario
            months = sorted(m for m in table["month"].unique() if m not in SUMMARY_ROWS)
            ss.comparison = {"table": table, "names": chosen, "reps": reps, "seed": seed,
                             "seconds": time.perf_counter() - t0, "period": period_words(first),
                             "days": (first.run.start, first.run.end), "months": months,
                             "aligned": ("Moved onto the reference's months: " + "; ".join(said) + ".")
                             if said else "",
                             "keys": [runs.run_key(r.scenario, seed, reps) for r in results],
                             "sources": {n: by_name[n].source for n in chosen},
                             "changes": {n: by_name[n].changes() for n in chosen},
                             "inactive": [f"'{r.scenario.name}': {x}" for k, r in enumerate(results)
                                          for x in inactive_levers(r.scenario, first if k else None)],
                             "escalation": against_before(results)}
    comp = ss.comparison
    if comp is not None:
        show_comparison(comp)
    st.divider()
    experiments.target_section(sc)


def escalation_table(esc: pd.DataFrame) -> pd.DataFrame:
    """The reductions against the front door before the approach, as the page shows them."""
    return pd.DataFrame({"scenario": esc["scenario_name"],
                         "measure": esc["measure"].map(lambda m: LABELS[m][0] if m in LABELS else m),
                         "before": esc["before"].round(1), "with the scenario": esc["scenario"].round(1),
                         "reduction (95% interval)": [
                             reduction_cell(r.reduction_pct, r.reduction_ci_low, r.reduction_ci_high, "%")
                             for r in esc.itertuples()]})


def escalation_block(esc: pd.DataFrame) -> None:
    """Children escalating to statutory intervention, against the front door before the approach."""
    st.markdown("**Children escalating to statutory intervention, against the front door before the"
                " conversations approach**")
    st.dataframe(escalation_table(esc), hide_index=True, width="stretch", key="escalation")
    st.caption("A month on average over the months compared. Reduction: 1 - scenario / before in each"
               " replication, on the same random numbers, with its 95% interval over the replications (a"
               " negative reduction is a rise). Children reaching an S47 enquiry or a plan are counted by the"
               " month of their referral. The approach promises about 30% fewer children escalating (seed 003"
               " line 375).")
    with st.expander("What the reviews reported (not the same quantity)"):
        rev = reported_reviews()
        st.dataframe(rev[["review", "measures", "reduction_pct", "source"]].rename(
            columns={"measures": "what it measures", "reduction_pct": "reduction %"}),
            hide_index=True, width="stretch")


def alignment_words(scs: list[Scenario]) -> str:
    """Which scenarios cover other months than the reference, in words; "" if none."""
    ref = scs[0]
    shifted = moved(scs)
    if not shifted:
        return ""
    parts = [f"'{s.name}' covers {period_words(s)} ({s.run.start:%d %b %Y} to {s.run.end:%d %b %Y})"
             for s in shifted]
    return (f"Not every scenario covers the reference's months: '{ref.name}' covers {period_words(ref)}"
            f" ({ref.run.start:%d %b %Y} to {ref.run.end:%d %b %Y}), while " + "; ".join(parts) + "."
            " Months must pair up to be compared: choose scenarios with the same months, or tick the box"
            " below to run each one on the reference's months (its figures are then not its file's own"
            " period).")


def _months_named(months: list[str]) -> str:
    return ", ".join(f"{pd.Timestamp(m + '-01'):%b %Y}" for m in months)


def difference_png(comp: dict, measure: str) -> tuple[Callable[[], bytes], str]:
    """The month-by-month paired differences of the comparison on screen as a PNG (made when its
    button is clicked), titled and named with the scenarios, months, replications and seed."""
    table, names = comp["table"], comp["names"]
    label, unit = LABELS[measure][0], unit_of(measure)
    unit_d = "percentage points" if unit.startswith("%") else unit

    def make() -> bytes:
        d = table[(table["measure"] == measure) & ~table["month"].isin(SUMMARY_ROWS)
                  & (table["scenario"] != names[0])]
        rows = d[["scenario", "month"]].assign(mean=d["diff_from_first"], ci_low=d["diff_ci_low"],
                                               ci_high=d["diff_ci_high"])
        title = (f"{label}: difference from '{names[0]}' ({unit_d}); {comp['period']}, {comp['reps']}"
                 f" replications, seed {comp['seed']}")
        return monthly_png(rows, names[1:], title, f"difference ({unit_d})")

    months = comp.get("months") or ["", ""]
    return make, (f"difference_{measure}_{'_vs_'.join(slug(n) for n in names)}_{months[0]}_to_{months[-1]}"
                  f"_{comp['reps']}reps_seed{comp['seed']}.png")


def show_comparison(comp: dict) -> None:
    table, names = comp["table"], comp["names"]
    st.subheader(f"Paired differences, {comp['period']}")
    for line in comp.get("inactive", []):  # above the result: what changes nothing in these months
        st.warning(line, icon=":material/block:")
    if comp.get("aligned"):
        st.caption(comp["aligned"])
    first, last = comp.get("days", (None, None))
    days = f" ({first:%d %b %Y} to {last:%d %b %Y})" if first else ""
    st.caption(f"Months compared: {comp['period']}{days}: {_months_named(comp.get('months', []))}."
               f" {comp['reps']} replications each, seed {comp['seed']}, in {comp['seconds']:.1f} seconds.")
    st.markdown("**For the board: hours, posts and counts**")
    for name in names[1:]:
        st.markdown(f"'{name}' against '{names[0]}'")
        st.dataframe(board_table(table, names[0], name), hide_index=True, width="stretch",
                     key=f"board:{name}")
    st.caption(
        f"Each cell: the difference from '{names[0]}', replication by replication on the same random"
        " numbers, with its 95% interval: a month on average over the months compared, and in total over"
        " the whole period (each replication's months added up first); the 95% interval in brackets."
        " Saved and avoided are the reference's figure less the scenario's, so a positive number is a"
        " saving; added and change are the scenario's less the reference's. Full-time posts: the hours over"
        f" {FTE_HOURS_A_MONTH.value:g} hours a month for one post ({FTE_HOURS_A_MONTH.source}); over the"
        " period, the period's hours over a post's hours for those months. Supervisor hours count time on"
        " front-door tasks (screening, direction, co-triage discussions), not time on duty without a task."
        " Overtime is hours worked after the office closes, in the month: the whole team's, and per filled"
        " post (posts less vacancies), so a team with fewer people can show less overtime in all and more"
        " per person.")
    if (table["measure"].isin(["ps_pair_hours"]) & (table["mean"] > 0)).any():
        st.caption("Co-triage: each pair on duty is an officer and a practice supervisor for the whole day,"
                   " busy or not; when the pair's supervisor comes from the supervisors' rota those hours"
                   " are taken from screening, so set the supervisor hours saved against the supervisor"
                   " hours in pairs.")
    if comp.get("escalation") is not None:
        escalation_block(comp["escalation"])
    label_to_key = {LABELS[m][0]: m for m in COMPARE_MEASURES}
    pick = st.selectbox("Measure to chart", list(label_to_key), key="compare_measure")
    m = label_to_key[pick]
    c1, c2 = st.columns([3, 2])
    with c1:  # month by month first, so a summer dip is not averaged away
        chart_block(*charts.difference_by_month_chart(table, m, names[0]), name=f"difference_by_month_{m}",
                    png=difference_png(comp, m))
    with c2:
        chart_block(*charts.difference_chart(table, m, names[0]), name=f"difference_{m}")
    by_month = table[(table["measure"] == m) & ~table["month"].isin(SUMMARY_ROWS)]
    with st.expander("By month"):
        st.dataframe(by_month[["scenario", "month", "mean", "ci_low", "ci_high", "diff_from_first",
                               "diff_ci_low", "diff_ci_high"]].rename(columns={
            "mean": "average", "ci_low": "95% low", "ci_high": "95% high",
            "diff_from_first": f"difference from '{names[0]}'", "diff_ci_low": "difference 95% low",
            "diff_ci_high": "difference 95% high"}), hide_index=True, width="stretch")
    with st.expander("Every measure, a month on average", expanded=False):
        st.caption(f"Each cell: the scenario's monthly average, then its difference from '{names[0]}' with"
                   " the 95% interval in brackets (percentage measures differ in percentage points).")
        st.dataframe(_compare_summary(table, names), hide_index=True, width="stretch")
    st.download_button("Download the whole comparison (CSV)", excel.csv_bytes(excel.comparison_table(table)),
                       file_name="comparison.csv", mime="text/csv", key="dl:comparison", on_click="ignore")


# ---------------------------------------------------------------------------------------------
# assumptions


# st.navigation (app.py) runs this file as the page itself, as its __main__
if __name__ == "__main__":
    compare_page()
