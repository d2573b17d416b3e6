"""What every page shares: the run controls and estimate, the sidebar, the headline figures and
the results block, and saving a scenario for comparison."""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.navigation.page import StreamlitPage

from sim.experiments.board_charts import monthly_png
from sim.experiments.compare import SUMMARY_ROWS, months_words, paired_differences
from sim.experiments.levers import inactive_levers as settings_inactive
from sim.experiments.runner import RunResults
from sim.io.observed import observed_monthly
from sim.measures.metrics import MEASURES
from sim.scenario.schema import Scenario, ScenarioError, setting_title, validate
from ui import charts, excel, params, progress, runs, state
from ui.charts import fmt

PAGES = ("Results", "Change the scenario", "Compare and target", "See the front door", "Assumptions",
         "Downloads")
# each page's file (relative to app.py) and icon, for st.navigation
FILES = {"Results": "ui/pages/results.py", "Change the scenario": "ui/pages/scenario.py",
         "Compare and target": "ui/pages/compare.py", "See the front door": "ui/pages/animation.py",
         "Assumptions": "ui/pages/assumptions.py", "Downloads": "ui/pages/downloads.py"}
ICONS = {"Results": ":material/monitoring:", "Change the scenario": ":material/tune:",
         "Compare and target": ":material/compare_arrows:", "See the front door": ":material/animation:",
         "Assumptions": ":material/fact_check:",
         "Downloads": ":material/download:"}
REPORTED_MEASURES = ("pct_completed_within_1wd", "pct_contacts_to_referral", "pct_police_info_advice",
                     "contacts", "police_contacts", "pct_strategy_to_s47", "police_info_advice")
HEADLINES = ("pct_completed_within_1wd", "pct_contacts_to_referral", "pct_police_info_advice",
             "pct_strategy_to_s47", "contacts", "abandoned_calls", "util_csw", "util_ps")
COMPARE_MEASURES = ("pct_completed_within_1wd", "pct_contacts_to_referral", "referrals",
                    "pct_police_info_advice", "strategy_meetings", "s47_enquiries", "abandoned_calls",
                    "wait_hours_csw", "wait_hours_ps", "util_csw", "util_ps", "overtime_hours_csw",
                    "overtime_per_post_csw", "overtime_hours_ps", "overtime_per_post_ps", "open_at_month_end",
                    "ps_task_hours", "ps_fte_saved", "referrals_avoided", "ps_pair_hours",
                    "cotriage_officer_hours")


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

PREVIEW_SECONDS = 0.25  # how often a run's figures so far are looked at and redrawn


def estimate(sc: Scenario, reps: int) -> float:
    return runs.estimate_seconds(sc, reps, runs.shared_timing())


def run_now(sc: Scenario, doc: dict, seed: int, reps: int) -> state.Ran | None:
    """Run (or fetch from the cache, or join the run already going) and keep the result in the
    session, showing the first figures with their intervals as soon as a few replications have
    finished and refining them as the rest finish.

    The run goes on in the background (ui/progress.py), so a click that interrupts this page
    does not lose it: the next rerun finds it still going and shows it again."""
    hit = runs.cached(sc, seed, reps)
    if hit is not None:
        return _keep(sc, doc, seed, reps, hit, 0.0, True)
    job = runs.start(sc, seed, reps)
    with st.status(f"Running {reps} replications of '{sc.name}' ({period_words(sc)})…",
                   expanded=True) as box:
        bar = st.progress(0.0, text="Starting…")
        first = st.empty()
        shown, first_at, drawn = -1, None, None
        while True:
            finished = job.wait(PREVIEW_SECONDS)
            done = job.finished
            if done != shown and not finished:
                shown = done
                left = job.seconds_left(runs.WORKERS)
                bar.progress(done / reps, text=f"Replication {done} of {reps} finished"
                             + (f"; {runs.say_seconds(left)} left" if left is not None else ""))
                # redrawn every so often, not at every replication: gathering takes computing time
                # from the workers on a small machine; none once all are done (the full results follow)
                due = drawn is None or done - drawn >= max(2, reps // 5)
                part = job.partial() if done < reps and due else None
                if part is not None:
                    first_at = first_at or time.perf_counter() - job.started
                    drawn = part.reps
                    with first.container():
                        show_partial(part, reps)
            if finished:
                break
        first.empty()
        try:
            if runs.broken(job):
                res, seconds, hit = runs.run(sc, seed, reps)  # a fresh pool, run once more
            else:
                res, seconds, hit = runs.outcome(job), job.seconds, False
        except RuntimeError as exc:  # every replication failed: say so, keep the page
            box.update(label="The run failed", state="error")
            st.error(f"The run failed: {exc}")
            return None
        box.update(label=f"{reps} replications of '{sc.name}' finished in {seconds:.1f} seconds"
                         + first_words(first_at), state="complete", expanded=False)
    return _keep(sc, doc, seed, reps, res, seconds, hit, first_at)


def first_words(first_at: float | None) -> str:
    return (f"; first figures after {progress.FIRST_FIGURES_AFTER} replications, in {first_at:.1f}"
            " seconds" if first_at is not None else "")


def _keep(sc: Scenario, doc: dict, seed: int, reps: int, res: RunResults, seconds: float,
          hit: bool, first_at: float | None = None) -> state.Ran:
    w = state.work()
    ran = state.Ran(runs.run_key(sc, seed, reps), res, doc, seconds, hit, params.changes(w.original, doc),
                    w.source, first_seconds=first_at)
    st.session_state.ran = ran
    return ran


def show_partial(res: RunResults, total: int) -> None:
    """The headline figures of the replications finished so far, with the plain note that their
    intervals are still wide (the full results replace them when the run ends)."""
    st.info(progress.wide_note(res.reps, total), icon=":material/hourglass_top:")
    headline_figures(res)


def current_ran(sc: Scenario | None) -> state.Ran | None:
    """The session's results if they are the current scenario's with the current settings, else None.

    A finished run of exactly this scenario, seed and replications in the shared cache counts too
    (another page or session ran it), so the answer never depends on which page asked."""
    ss = st.session_state
    if sc is None:
        return None
    reps, seed = int(ss.reps), int(ss.seed)
    key = runs.run_key(sc, seed, reps)
    ran: state.Ran | None = ss.ran
    if ran is not None and ran.key == key:
        return ran
    hit = runs.cached(sc, seed, reps)
    restored = ""
    if hit is None:
        hit = (ss.get("restored") or {}).get(key)
        if hit is None:
            return None
        restored = ss.get("restored_from") or "a session file"
    w = state.work()
    doc = w.doc()
    ss.ran = state.Ran(key, hit, doc, 0.0, True, params.changes(w.original, doc), w.source, restored)
    return ss.ran


def run_controls(sc: Scenario | None, doc: dict, where: str, label: str = "Run this scenario") -> None:
    """The estimate, a guard against long runs, and the Run button.

    The button is always drawn in the same place (disabled once the results are ready), so a
    click that arrives while the page redraws after an edit still lands on it."""
    if sc is None:
        st.button(label, type="primary", key=f"run:{where}", disabled=True)
        return
    ss = st.session_state
    reps, seed = int(ss.reps), int(ss.seed)
    ready = runs.cached(sc, seed, reps) is not None
    ok = not ready
    if ready:
        st.caption(f"Results for '{sc.name}' with {reps} replications and seed {seed} are ready.")
    else:
        secs = estimate(sc, reps)
        st.caption(f"{reps} replications will take {runs.say_seconds(secs)} on this machine.")
        ok = runs.long_run_confirmed(secs, "Lower the number of replications in the sidebar for a"
                                     " quicker first look, or confirm below.", where)
    if st.button(label, type="primary", key=f"run:{where}", disabled=not ok) and run_now(sc, doc, seed, reps):
        st.rerun()


def navigation() -> tuple[StreamlitPage, DeltaGenerator]:
    """The pages (st.navigation, one st.Page a file), and a place below them in the sidebar for
    the scenario and run settings, filled in after the page has drawn (so after its levers have
    recorded their changes)."""
    nav = st.navigation([st.Page(FILES[t], title=t, icon=ICONS[t], default=t == "Results") for t in PAGES])
    with st.sidebar:
        return nav, st.container()


def sidebar_status(box: DeltaGenerator) -> None:
    """The scenario worked on, its changes and the run settings, as they stand after this rerun."""
    ss = st.session_state
    doc, sc, err = state.current()
    w = state.work()
    n = len(w.changes())
    with box:
        st.markdown(f"**Scenario:** {doc['name']}")
        made = f"; {n} change{'s' if n != 1 else ''} made here" if n else "; no changes"
        st.caption(f"Loaded from {w.source}{made}. Period: {period_words_doc(doc)}.")
        if err:
            st.error("The changed scenario cannot be run: see Change the scenario.")
        if ss.saved:
            st.caption(f"Saved for comparison: {', '.join(e.name for e in ss.saved)}.")
        st.number_input("Replications", min_value=2, max_value=runs.MAX_REPS, step=1, key="reps",
                        help="Each replication is one run of the period with its own random chance. More"
                             " replications give narrower intervals and take longer. A scenario file"
                             " suggests its own number (its run.reps), which the command line uses too.")
        st.number_input(params.label(("run", "seed")), min_value=0, max_value=state.MAX_SEED, step=1,
                        key="seed",
                        help="The same seed gives the same answer; scenarios are compared on the same seed.")
        if sc is not None:
            secs = estimate(sc, int(ss.reps))
            st.caption(f"A run takes {runs.say_seconds(secs)} ({runs.WORKERS} worker"
                       f"{'s' if runs.WORKERS > 1 else ''}).")


def period_words_doc(doc: dict) -> str:
    """The reported months of a scenario document, in words."""
    return months_words(params.reported_months(doc))


def period_words(sc: Scenario) -> str:
    return months_words(params.reported_months({"run": {"start": str(sc.run.start), "end": str(sc.run.end)}}))


def inactive_levers(sc: Scenario, reference: Scenario | None = None) -> list[str]:
    """Settings that cannot act within the reported period, each in one sentence naming it: the
    command line's rule (sim.experiments.levers.inactive_levers), against `reference`."""
    out = []
    for path, why in settings_inactive(sc, reference=reference):
        hint = (" Move its start into the period or extend the period (Run period tab)."
                if path.startswith("cotriage") and sc.cotriage.enabled else "")
        out.append(f"**{setting_title(path.split('.'))}** (`{path}`): {why}.{hint}")
    return out


def file_reference() -> Scenario | None:
    """The scenario as its file has it (the reference for what an edit changes), if it is valid."""
    try:
        return validate(copy.deepcopy(state.work().original), "file")
    except ScenarioError:
        return None


def flag_inactive(sc: Scenario, reference: Scenario | None = None) -> None:
    for line in inactive_levers(sc, reference if reference is not None else file_reference()):
        st.warning(line, icon=":material/block:")


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


def chart_block(chart, table: pd.DataFrame, text: str, name: str,
                png: tuple[Callable[[], bytes], str] | None = None) -> None:
    """A chart with its words (a text alternative), its data as a download and, given `png`
    (a maker and a file name), the chart as an image to paste into a paper."""
    st.altair_chart(chart, width="stretch", alt=text)
    st.caption(text)
    st.download_button("Download the data (CSV)", excel.csv_bytes(table), file_name=f"{name}.csv",
                       mime="text/csv", key=f"dl:{name}", on_click="ignore")
    if png is not None:
        make, file_name = png
        st.download_button("Download the chart (PNG)", make, file_name=file_name, mime="image/png",
                           key=f"png:{name}", on_click="ignore")


def run_words(res: RunResults) -> str:
    """Whose figures a chart shows: scenario, months, replications and seed."""
    sc = res.scenario
    return f"{sc.name}, {period_words(sc)}, {res.reps} replications, seed {res.seed}"


def measure_png(res: RunResults, measure: str) -> tuple[Callable[[], bytes], str]:
    """One measure by month with its 95% band and the reported figures, as a PNG made when its
    button is clicked, titled and named with the run it comes from."""
    sc = res.scenario

    def make() -> bytes:
        t = paired_differences([res])
        rows = t[(t["measure"] == measure) & ~t["month"].isin(SUMMARY_ROWS)]
        obs = observed_monthly()
        reported = obs[measure] if measure in getattr(obs, "columns", []) else None
        label, unit = MEASURES[measure]
        return monthly_png(rows, [sc.name], f"{label}: {run_words(res)}", unit, reported)

    return make, (f"chart_{measure}_{slug(sc.name)}_{sc.run.start:%Y-%m}_to_{sc.run.end:%Y-%m}"
                  f"_{res.reps}reps_seed{res.seed}.png")


def headline(ran: state.Ran) -> None:
    headline_figures(ran.res)


def headline_figures(res: RunResults) -> None:
    """The headline measures, each with its 95% interval and the reported figure."""
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


_MADE: OrderedDict[tuple, tuple] = OrderedDict()
_MADE_LOCK = threading.Lock()
MADE_ITEMS = 512  # charts kept: about 20 for each run shown


def made(ran: state.Ran, what: tuple, make: Callable[[], tuple]) -> tuple:
    """A results chart (chart, data, words) made once for a finished run and kept, so a repeat
    answer is drawn without building its charts again. Keyed by the run's cache key, which names
    the whole scenario, seed and replications; results opened from a session file are never kept
    (their figures are that file's, and must not be shown to another session)."""
    if ran.restored_from:
        return make()
    key = (ran.key, *what)
    with _MADE_LOCK:
        hit = _MADE.get(key)
        if hit is not None:
            _MADE.move_to_end(key)
            return hit
    out = make()
    with _MADE_LOCK:
        _MADE[key] = out
        while len(_MADE) > MADE_ITEMS:
            _MADE.popitem(last=False)
    return out


def show_results(ran: state.Ran) -> None:
    res, sc = ran.res, ran.res.scenario
    when = (f"from the saved session file {ran.restored_from} (run earlier, not run again here)"
            if ran.restored_from else "from the cache, at once" if ran.from_cache
            else f"in {ran.seconds:.1f} seconds{first_words(ran.first_seconds)}")
    st.subheader(f"Results: {sc.name}, {period_words(sc)}")
    n = len(ran.changes)
    st.caption(f"Months reported: {period_words(sc)} ({sc.run.start:%d %b %Y} to {sc.run.end:%d %b %Y});"
               f" {res.reps} replications, seed {res.seed}; from {ran.source or 'the scenario'}"
               + (f" with {n} change{'s' if n != 1 else ''}" if n else ", unchanged")
               + f"; answered {when}. Figures are averages over replications; bands are 95% intervals.")
    flag_inactive(sc)
    for w in res.warnings:
        st.warning(w)
    for _, f in res.failures:
        st.error(f)
    backlog_line(res)
    headline(ran)
    obs = observed_monthly()
    # the measures chosen are kept while their tab is closed (and not drawn)
    shown = st.session_state.get("measures_shown", [MEASURES[m][0] for m in REPORTED_MEASURES[:6]])
    st.session_state.measures_shown = shown
    tabs = st.tabs(["Against the reported figures", "Queues and waits", "Staff utilisation and overtime",
                    "From contacts to outcomes", "All measures"], key="result_tabs", on_change="rerun")
    with tabs[0]:
        if tabs[0].open is not False:  # only the open tab is drawn (they rerun on a switch)
            st.markdown("The model's monthly figures (line, with its 95% band) beside what the service"
                        " reported (diamonds).")
            chosen = st.multiselect("Measures", [MEASURES[m][0] for m in MEASURES], key="measures_shown")
            by_label = {v[0]: k for k, v in MEASURES.items()}
            cols = st.columns(2)
            for i, lab in enumerate(chosen):
                m = by_label[lab]
                with cols[i % 2]:
                    chart_block(*made(ran, ("monthly", m), lambda m=m: charts.measure_vs_reported(
                        res.summary, obs, m, res.reps)), name=f"monthly_{m}", png=measure_png(res, m))
    pools = ["csw", "ps", "da_hub"] + (["cotriage"] if sc.cotriage.enabled else [])
    with tabs[1]:
        if tabs[1].open is not False:  # only the open tab is drawn (they rerun on a switch)
            st.markdown("Each kind of work has its own queue: phone calls wait for a consultant social"
                        " worker; emails, non-domestic PPNs and management direction wait for a practice"
                        " supervisor; domestic-abuse PPNs wait for the domestic abuse hub after the morning"
                        " meeting.")
            c1, c2 = st.columns(2)
            with c1:
                chart_block(*made(ran, ("waits",), lambda: charts.pools_chart(
                    res.summary, "wait_hours_", pools, res.reps, "Average wait before work starts")),
                            name="waits")
            with c2:
                chart_block(*made(ran, ("queues",), lambda: charts.pools_chart(
                    res.summary, "queue_", pools, res.reps, "Average number waiting")), name="queues")
            c1, c2 = st.columns(2)
            with c1:
                chart_block(*made(ran, ("monthly", "abandoned_calls"), lambda: charts.measure_vs_reported(
                    res.summary, obs, "abandoned_calls", res.reps)),
                            name="abandoned_calls")
            with c2:
                chart_block(*made(ran, ("monthly", "open_at_month_end"), lambda: charts.measure_vs_reported(
                    res.summary, obs, "open_at_month_end", res.reps)),
                            name="open_at_month_end")
    with tabs[2]:
        if tabs[2].open is not False:  # only the open tab is drawn (they rerun on a switch)
            c1, c2 = st.columns(2)
            with c1:
                chart_block(*made(ran, ("utilisation",), lambda: charts.pools_chart(
                    res.summary, "util_", pools, res.reps,
                    "Staff utilisation: busy share of on-duty office time")),
                            name="utilisation")
            with c2:
                chart_block(*made(ran, ("overtime",), lambda: charts.pools_chart(
                    res.summary, "overtime_hours_", pools, res.reps,
                    "Overtime: work finished after the office closes")),
                            name="overtime")
    with tabs[3]:
        if tabs[3].open is not False:  # only the open tab is drawn (they rerun on a switch)
            chart_block(*made(ran, ("flow",), lambda: charts.flow_chart(res.summary, res.reps)), name="flow")
    with tabs[4]:
        if tabs[4].open is not False:  # only the open tab is drawn (they rerun on a switch)
            table = excel.summary_table(res, obs)
            st.dataframe(table, hide_index=True, width="stretch")
            st.download_button("Download this table (CSV)", excel.csv_bytes(table), file_name="summary.csv",
                               mime="text/csv", key="dl:summary_tab", on_click="ignore")


def slug(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip().lower())
    return keep.strip("_") or "scenario"


# ---------------------------------------------------------------------------------------------
# compare and target
