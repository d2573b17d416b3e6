"""The app's pages: results, levers, compare and target, assumptions, downloads.

Each page is a function of the session's state (ui/state.py); app.py only chooses which to
draw. Wording is for a service manager, a police partner or an improvement lead: measures by
their performance-pack names, units on every number, uncertainty always shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import streamlit as st

from sim.experiments.compare import PERIOD, paired_differences
from sim.experiments.runner import RunResults
from sim.io.observed import observed_monthly
from sim.measures.metrics import MEASURES
from sim.scenario.loading import load
from sim.scenario.schema import MAX_FILE_BYTES, Scenario, ScenarioError, validate
from ui import charts, excel, experiments, levers, params, runs, state
from ui.charts import fmt

PAGES = ("Results", "Change the scenario", "Compare and target", "Assumptions", "Downloads")
REPORTED_MEASURES = ("pct_completed_within_1wd", "pct_contacts_to_referral", "pct_police_info_advice",
                     "contacts", "police_contacts", "pct_strategy_to_s47", "police_info_advice")
HEADLINES = ("pct_completed_within_1wd", "pct_contacts_to_referral", "pct_police_info_advice",
             "pct_strategy_to_s47", "contacts", "abandoned_calls", "util_csw", "util_ps")
COMPARE_MEASURES = ("pct_completed_within_1wd", "pct_contacts_to_referral", "referrals",
                    "pct_police_info_advice", "strategy_meetings", "s47_enquiries", "abandoned_calls",
                    "wait_hours_csw", "wait_hours_ps", "util_csw", "util_ps", "overtime_hours_csw",
                    "overtime_hours_ps", "open_at_month_end")


def about(doc: dict) -> str:
    """The plain-English account of what the model is and is not (honest about calibration)."""
    table = params.assumptions(doc)
    n = len(table)
    fitted = int((table["provenance"] == "calibrated").sum())
    judged = int((table["provenance"] == "judgement").sum())
    fit = (f"{fitted} of its {n} settings have been fitted to the reported months"
           if fitted else "none of its settings has yet been fitted to the reported months, so staffing"
                          " and task times are first estimates")
    return (
        "**What this is.** A computer model of Bradford's Integrated Front Door for children's social care."
        " It takes the contacts the service reported for July to December 2023 and follows each one: phone"
        " conversations with consultant social workers, screening of emails and police protection notices"
        " (PPNs) by practice supervisors, the domestic abuse hub and, if switched on, police co-triage;"
        " then it counts what the monthly performance pack counts, such as the share of contacts completed"
        " within one working day and the share becoming referrals. Chance plays a part (when calls arrive,"
        " how long they take, who is on leave), so each run is repeated and every figure is shown with a"
        " 95% interval. **What it is not.** It is not a forecast, and it knows nothing about individual"
        " children: it uses published aggregate figures only and holds no personal data. Many of its"
        f" numbers are not reported by the service: {judged} are judgements and {fit}. Each is listed with"
        " its range and source on the Assumptions page. Differences between two scenarios run on the same"
        " random numbers (the Compare page) are more trustworthy than any single figure."
    )


# ---------------------------------------------------------------------------------------------
# running


def _estimate(sc: Scenario, reps: int) -> float:
    return runs.estimate_seconds(sc, reps, runs.shared_timing())


def run_now(sc: Scenario, doc: dict, seed: int, reps: int) -> state.Ran | None:
    """Run (or fetch from the cache) with a progress bar, and keep the result in the session."""
    bar = st.progress(0.0, text=f"Running {reps} replications of '{sc.name}'…")

    def step(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Replication {done} of {total} finished")

    try:
        res, seconds, hit = runs.run(sc, seed, reps, step)
    except RuntimeError as exc:  # every replication failed: say so, keep the page
        bar.empty()
        st.error(f"The run failed: {exc}")
        return None
    bar.empty()
    ran = state.Ran(runs.run_key(sc, seed, reps), res, doc, seconds, hit,
                    params.changes(st.session_state.original, doc))
    st.session_state.ran = ran
    return ran


def run_controls(sc: Scenario | None, doc: dict, where: str, label: str = "Run this scenario") -> None:
    """The estimate, a guard against long runs, and the Run button."""
    if sc is None:
        return
    ss = st.session_state
    reps, seed = int(ss.reps), int(ss.seed)
    if runs.cached(sc, seed, reps) is not None:
        st.caption(f"Results for this scenario with {reps} replications and seed {seed} are ready.")
        return
    secs = _estimate(sc, reps)
    long = secs > runs.LONG_RUN_SECONDS
    st.caption(f"{reps} replications will take {runs.say_seconds(secs)} on this machine.")
    ok = True
    if long:
        st.warning(f"This run will take {runs.say_seconds(secs)}. Lower the number of replications in the"
                   " sidebar for a quicker first look, or confirm below.")
        ok = st.checkbox("Yes, run it anyway", key=f"confirm_long:{where}")
    if st.button(label, type="primary", key=f"run:{where}", disabled=not ok) and run_now(sc, doc, seed, reps):
        st.rerun()


def sidebar(doc: dict, sc: Scenario | None, err: str | None) -> str:
    """Page choice, the scenario in use, and the run settings shared by every page."""
    ss = st.session_state
    with st.sidebar:
        st.title("Front door simulator")
        page = st.radio("Page", PAGES, key="page")
        st.divider()
        st.markdown(f"**Scenario:** {doc['name']}")
        n = len(ss.edits)
        made = f"; {n} change{'s' if n != 1 else ''} made here" if n else ""
        st.caption(f"Loaded from {ss.source}{made}")
        if err:
            st.error("The changed scenario cannot be run: see Change the scenario.")
        st.number_input("Replications", min_value=2, max_value=runs.MAX_REPS, step=1, key="reps",
                        help="Each replication is one run of the period with its own random chance. More"
                             " replications give narrower intervals and take longer.")
        st.number_input("Random number seed", min_value=0, max_value=state.MAX_SEED, step=1, key="seed",
                        help="The same seed gives the same answer; scenarios are compared on the same seed.")
        if sc is not None:
            secs = _estimate(sc, int(ss.reps))
            st.caption(f"A run takes {runs.say_seconds(secs)} ({runs.WORKERS} worker"
                       f"{'s' if runs.WORKERS > 1 else ''}).")
    return page


# ---------------------------------------------------------------------------------------------
# results


def _period(res: RunResults) -> pd.DataFrame:
    """Each measure's average over the run's months, with its 95% interval."""
    t = paired_differences([res], by_month=False)
    return t.set_index("measure")[["mean", "ci_low", "ci_high"]]


def _reported_average(measure: str, months: list[str]) -> float | None:
    obs = observed_monthly()
    if measure not in getattr(obs, "columns", []):
        return None
    v = obs.loc[obs.index.isin(months), measure].dropna()
    return float(v.mean()) if len(v) else None


def chart_block(chart, table: pd.DataFrame, text: str, name: str) -> None:
    """A chart with its words (a text alternative) and its data as a download."""
    st.altair_chart(chart, width="stretch", alt=text)
    st.caption(text)
    st.download_button("Download the data (CSV)", excel.csv_bytes(table), file_name=f"{name}.csv",
                       mime="text/csv", key=f"dl:{name}", on_click="ignore")


def headline(ran: state.Ran) -> None:
    res = ran.res
    per = _period(res)
    months = sorted(res.monthly["month"].unique())
    cols = st.columns(4)
    for i, m in enumerate(HEADLINES):
        label, unit = MEASURES[m]
        if m not in per.index:
            continue
        row = per.loc[m]
        rep = _reported_average(m, months)
        with cols[i % 4]:
            st.markdown(f"**{label}**")
            st.metric(label, fmt(row["mean"], unit), label_visibility="collapsed",
                      help=f"Average of the monthly figures over {months[0]} to {months[-1]}, {unit}.")
            line = f"95% interval {fmt(row['ci_low'], unit)} to {fmt(row['ci_high'], unit)}"
            line += f" · reported {fmt(rep, unit)}" if rep is not None else " · not reported"
            st.caption(line)


def backlog_line(res: RunResults) -> None:
    """When the scenario declares emails or PPNs open at the start: when they were all decided."""
    bl = res.backlog
    if bl is None:
        return
    say = st.warning if bl.not_cleared else st.info
    say(bl.message())


def show_results(ran: state.Ran) -> None:
    res, sc = ran.res, ran.res.scenario
    when = "from the cache, at once" if ran.from_cache else f"in {ran.seconds:.1f} seconds"
    st.subheader(f"Results: {sc.name}")
    st.caption(f"{res.reps} replications, seed {res.seed}, {sc.run.start:%d %b %Y} to {sc.run.end:%d %b %Y};"
               f" answered {when}. Figures are averages over replications; bands are 95% intervals.")
    for w in res.warnings:
        st.warning(w)
    for _, f in res.failures:
        st.error(f)
    backlog_line(res)
    headline(ran)
    obs = observed_monthly()
    tabs = st.tabs(["Against the reported figures", "Queues and waits", "Staff utilisation and overtime",
                    "From contacts to outcomes", "All measures"])
    with tabs[0]:
        st.markdown("The model's monthly figures (line, with its 95% band) beside what the service reported"
                    " (diamonds).")
        chosen = st.multiselect("Measures", [MEASURES[m][0] for m in MEASURES],
                                default=[MEASURES[m][0] for m in REPORTED_MEASURES[:6]], key="measures_shown")
        by_label = {v[0]: k for k, v in MEASURES.items()}
        cols = st.columns(2)
        for i, lab in enumerate(chosen):
            m = by_label[lab]
            with cols[i % 2]:
                chart_block(*charts.measure_vs_reported(res.summary, obs, m, res.reps), name=f"monthly_{m}")
    pools = ["csw", "ps", "da_hub"] + (["cotriage"] if sc.cotriage.enabled else [])
    with tabs[1]:
        st.markdown("Each kind of work has its own queue: phone calls wait for a consultant social worker;"
                    " emails, non-domestic PPNs and management direction wait for a practice supervisor;"
                    " domestic-abuse PPNs wait for the domestic abuse hub after the morning meeting.")
        c1, c2 = st.columns(2)
        with c1:
            chart_block(*charts.pools_chart(res.summary, "wait_hours_", pools, res.reps,
                                            "Average wait before work starts"), name="waits")
        with c2:
            chart_block(*charts.pools_chart(res.summary, "queue_", pools, res.reps,
                                            "Average number waiting"), name="queues")
        c1, c2 = st.columns(2)
        with c1:
            chart_block(*charts.measure_vs_reported(res.summary, obs, "abandoned_calls", res.reps),
                        name="abandoned_calls")
        with c2:
            chart_block(*charts.measure_vs_reported(res.summary, obs, "open_at_month_end", res.reps),
                        name="open_at_month_end")
    with tabs[2]:
        c1, c2 = st.columns(2)
        with c1:
            chart_block(*charts.pools_chart(res.summary, "util_", pools, res.reps,
                                            "Staff utilisation: busy share of on-duty office time"),
                        name="utilisation")
        with c2:
            chart_block(*charts.pools_chart(res.summary, "overtime_hours_", pools, res.reps,
                                            "Overtime: work finished after the office closes"),
                        name="overtime")
    with tabs[3]:
        chart_block(*charts.flow_chart(res.summary, res.reps), name="flow")
    with tabs[4]:
        table = excel.summary_table(res, obs)
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Download this table (CSV)", excel.csv_bytes(table), file_name="summary.csv",
                           mime="text/csv", key="dl:summary_tab", on_click="ignore")


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


def _on_load_library() -> None:
    ss = st.session_state
    name = ss.library_choice
    msg = state.load_file(name)
    ss.upload_message = ("error", msg) if msg else ("success", f"Loaded {name}.")


def _on_upload() -> None:
    ss = st.session_state
    up = ss.get("upload")
    if up is None:
        ss.upload_message = None
        return
    msg = state.accept_upload(up.name, up.getvalue())
    shown = state.upload_name(up.name)
    ss.upload_message = ("error", f"Upload refused: {msg}") if msg else ("success", f"Loaded {shown}.")


def _on_reset() -> None:
    state.reset_edits()
    st.session_state.upload_message = None


def scenario_panel() -> None:
    """Load from the library, upload, reset (callbacks, so they act before anything is drawn)."""
    ss = st.session_state
    files = state.scenario_files()
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Start from a scenario in the library**")
        st.selectbox("Scenario file", list(files), key="library_choice")
        st.button("Load this scenario", key="load_library", on_click=_on_load_library)
    with c2:
        st.markdown("**Or upload a scenario file (YAML)**")
        st.file_uploader("Scenario file", type=["yaml", "yml"], key="upload", on_change=_on_upload,
                         max_upload_size=max(1, MAX_FILE_BYTES // 1_000_000),
                         help=f"At most {MAX_FILE_BYTES:,} bytes. It is checked as the command line checks"
                              " it; if it is refused, nothing else changes.")
    if ss.get("upload_message"):
        kind, msg = ss.upload_message
        (st.error if kind == "error" else st.success)(msg)
    if ss.edits:
        st.button("Undo every change (back to the file)", key="reset_edits", on_click=_on_reset)


def levers_page() -> None:
    ss = st.session_state
    st.title("Change the scenario")
    st.markdown("Each lever shows its unit, the range it could plausibly take and where its number came"
                " from. Changes apply to the scenario you run, compare and download; the file itself is not"
                " changed.")
    scenario_panel()
    doc = state.plain_doc()
    name = st.text_input("Scenario name (used on charts and in comparisons)", value=doc["name"],
                         max_chars=80, key=levers.key(("name",)))
    state.set_edit(("name",), name.strip() or ss.original["name"])
    levers.render_all(doc)
    st.divider()
    doc, sc, err = state.current()
    if err:
        st.error(f"This scenario cannot be run: {err}")
    chg = params.changes(ss.original, doc)
    with st.expander(f"Changes from the file ({len(chg)})", expanded=bool(len(chg))):
        if chg.empty:
            st.caption("None yet.")
        else:
            st.dataframe(chg, hide_index=True, width="stretch")
    c1, c2, c3 = st.columns(3)
    with c1:
        st.download_button("Download this scenario (YAML)", state.to_yaml(doc).encode("utf-8"),
                           file_name=f"{_slug(doc['name'])}.yaml", mime="application/x-yaml",
                           key="dl:scenario_yaml", on_click="ignore", disabled=sc is None)
    with c2:
        if st.button("Save for comparison", key="save_for_compare", disabled=sc is None):
            st.session_state.save_message = save_current(doc)
        if ss.get("save_message"):
            st.caption(ss.save_message)
    with c3:
        run_controls(sc, doc, "levers")
    ran = ss.ran
    if sc is not None and ran is not None and ran.key == runs.run_key(sc, int(ss.seed), int(ss.reps)):
        st.success(f"Results for '{sc.name}' are on the Results page.")
        backlog_line(ran.res)
        headline(ran)


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip().lower())
    return keep.strip("_") or "scenario"


def save_current(doc: dict) -> str:
    saved: dict = st.session_state.saved
    name = doc["name"]
    if name in saved and saved[name] != doc:
        return (f"A different scenario is already saved as '{name}': give this one another name above"
                " and save again.")
    saved[name] = doc
    return f"Saved '{name}' for comparison ({len(saved)} saved)."


# ---------------------------------------------------------------------------------------------
# compare and target


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
        secs = sum(_estimate(s, reps) for s in todo)
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


def assumptions_page() -> None:
    ss = st.session_state
    doc, sc, _ = state.current()
    st.title("Assumptions")
    table = params.assumptions(doc)
    counts = table["provenance"].value_counts()
    st.markdown(
        f"Every setting of the scenario '{doc['name']}' ({len(table)} in all), with its value, unit, the"
        " range it could plausibly take and where it came from: "
        + ", ".join(f"{counts.get(p, 0)} {params.PROVENANCE_WORDS[p]}"
                    for p in ("reported", "national", "calibrated", "judgement", "setting"))
        + ". A setting changed in this app is marked as a judgement, with the file's value in its note.")
    c1, c2, c3 = st.columns(3)
    with c1:
        groups = st.multiselect("Groups", list(dict.fromkeys(table["group"])), key="assume_groups")
    with c2:
        provs = st.multiselect("Provenance", list(dict.fromkeys(table["provenance"])), key="assume_prov")
    with c3:
        text = st.text_input("Search", key="assume_search")
    shown = table
    if groups:
        shown = shown[shown["group"].isin(groups)]
    if provs:
        shown = shown[shown["provenance"].isin(provs)]
    if text:
        mask = shown.drop(columns=["path"]).apply(lambda c: c.astype(str).str.contains(text, case=False,
                                                                                       regex=False))
        shown = shown[mask.any(axis=1)]
    st.dataframe(shown.drop(columns=["path"]), hide_index=True, width="stretch", height=480,
                 column_config={"source": st.column_config.TextColumn(width="large"),
                                "value": st.column_config.TextColumn(width="medium")})
    st.download_button("Download every assumption (CSV)", excel.csv_bytes(table.drop(columns=["path"])),
                       file_name="assumptions.csv", mime="text/csv", key="dl:assumptions", on_click="ignore")
    st.divider()
    experiments.sensitivity_section(sc)
    st.divider()
    fit_section(ss.ran)


def fit_section(ran: state.Ran | None) -> None:
    st.subheader("How well the model reproduces the reported months")
    if ran is None:
        st.caption("Run a scenario to see its fit.")
        return
    obs = observed_monthly()
    s = excel.summary_table(ran.res, obs).dropna(subset=["reported"])
    if s.empty:
        st.caption("The run's months have no reported figures to compare with.")
        return
    s["inside"] = (s["reported"] >= s["95% interval low"]) & (s["reported"] <= s["95% interval high"])
    s["abs % error"] = 100 * (s["model average"] - s["reported"]).abs() / s["reported"].abs()
    fit = s.groupby(["measure", "unit"], sort=False).agg(
        months=("month", "count"), model_average=("model average", "mean"),
        reported_average=("reported", "mean"), mean_abs_pct_error=("abs % error", "mean"),
        months_inside_band=("inside", "sum")).reset_index()
    fit = fit.rename(columns={"model_average": "model average", "reported_average": "reported average",
                              "mean_abs_pct_error": "mean absolute % error",
                              "months_inside_band": "months reported inside the 95% band"})
    st.markdown(f"For the run of '{ran.res.scenario.name}' ({ran.res.reps} replications): per measure, the"
                " average gap between model and reported figures, and in how many months the reported figure"
                " falls inside the model's 95% band. A narrow band from few replications misses more often.")
    st.dataframe(fit.round(2), hide_index=True, width="stretch")
    report = state.ROOT / "calibration" / "report.md"
    if report.is_file():
        with st.expander("The calibration report"):
            st.markdown(report.read_text(encoding="utf-8")[:20_000])


# ---------------------------------------------------------------------------------------------
# downloads


def downloads_page() -> None:
    ss = st.session_state
    st.title("Downloads")
    doc, sc, _ = state.current()
    ran: state.Ran | None = ss.ran
    if ran is None:
        st.info("Run a scenario first (Results page); the scenario file and assumptions can be"
                " downloaded now.")
    else:
        st.markdown(f"Results of '{ran.res.scenario.name}' ({ran.res.reps} replications,"
                    f" seed {ran.res.seed}).")
    obs = observed_monthly()
    comp = ss.comparison
    assumptions = params.assumptions(ran.doc if ran is not None else doc)
    if ran is not None:
        sig = (ran.key, id(comp))
        if ss.get("xlsx_sig") != sig:
            meta = {"scenario": ran.res.scenario.name, "loaded from": ss.source,
                    "period": f"{ran.res.scenario.run.start} to {ran.res.scenario.run.end}",
                    "replications": ran.res.reps, "seed": ran.res.seed,
                    "run time (seconds)": round(ran.seconds, 1),
                    "warnings": "; ".join(ran.res.warnings) or "none"}
            if ran.res.backlog is not None:
                meta["backlog open at the start"] = ran.res.backlog.message()
            ss.xlsx = excel.workbook(excel.inputs_table(meta, ran.changes), excel.monthly_table(ran.res),
                                     excel.summary_table(ran.res, obs),
                                     excel.comparison_table(comp["table"] if comp else None), assumptions)
            ss.xlsx_sig = sig
        st.download_button("Excel workbook: inputs, monthly, summary, comparison, assumptions", ss.xlsx,
                           file_name=f"front_door_{_slug(ran.res.scenario.name)}.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key="dl:xlsx", type="primary", on_click="ignore")
        st.markdown("**CSV files**")
        st.download_button("Monthly measures, every replication (monthly.csv)",
                           excel.csv_bytes(excel.monthly_table(ran.res)), file_name="monthly.csv",
                           mime="text/csv", key="dl:monthly", on_click="ignore")
        st.download_button("Summary with 95% intervals and reported figures (summary.csv)",
                           excel.csv_bytes(excel.summary_table(ran.res, obs)), file_name="summary.csv",
                           mime="text/csv", key="dl:summary", on_click="ignore")
    if comp is not None:
        st.download_button("Comparison (comparison.csv)",
                           excel.csv_bytes(excel.comparison_table(comp["table"])), file_name="comparison.csv",
                           mime="text/csv", key="dl:comparison_csv", on_click="ignore")
    st.download_button("Assumptions (assumptions.csv)", excel.csv_bytes(assumptions.drop(columns=["path"])),
                       file_name="assumptions.csv", mime="text/csv", key="dl:assumptions_csv",
                       on_click="ignore")
    if sc is not None:
        st.download_button("The current scenario (YAML)", state.to_yaml(doc).encode("utf-8"),
                           file_name=f"{_slug(doc['name'])}.yaml", mime="application/x-yaml",
                           key="dl:yaml_downloads", on_click="ignore")


DRAW: dict[str, Callable[[], None]] = {
    "Results": results_page, "Change the scenario": levers_page, "Compare and target": compare_page,
    "Assumptions": assumptions_page, "Downloads": downloads_page,
}
