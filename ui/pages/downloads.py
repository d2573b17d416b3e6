"""The Downloads page: the workbook, CSV files and the scenario as YAML.

Every file here is built from the current scenario's current results (the same scenario,
changes, replications and seed as the page shows), never from an earlier run; each says which.
"""

from __future__ import annotations

import streamlit as st

from sim.io.observed import observed_monthly
from ui import board, excel, params, session, state
from ui.pages.common import current_ran, period_words, slug


def run_facts(ran: state.Ran) -> dict[str, object]:
    """What produced these results, for the Inputs sheet and the page (numbers stay numbers)."""
    sc = ran.res.scenario
    facts: dict[str, object] = {
        "scenario": sc.name, "loaded from": ran.source or "the scenario file",
        "months reported": period_words(sc), "first reported day": sc.run.start,
        "last reported day": sc.run.end, "replications": int(ran.res.reps), "seed": int(ran.res.seed),
        "number of changes from the scenario file": len(ran.changes),
        "run time (seconds)": (f"from the saved session file {ran.restored_from} (run earlier)"
                               if ran.restored_from else "from the cache (run earlier)" if ran.from_cache
                               else round(ran.seconds, 1)),
        "warnings": "; ".join(ran.res.warnings) or "none"}
    if ran.res.backlog is not None:
        facts["backlog open at the start"] = ran.res.backlog.message()
    return facts


def file_name(ran: state.Ran, what: str, ext: str) -> str:
    """A download's name says whose results it holds: scenario, months, replications and seed."""
    sc = ran.res.scenario
    return (f"{what}_{slug(sc.name)}_{sc.run.start:%Y-%m}_to_{sc.run.end:%Y-%m}_{ran.res.reps}reps"
            f"_seed{ran.res.seed}.{ext}")


def matching_comparison(ran: state.Ran) -> dict | None:
    """The session's comparison if it holds these very results (same scenario, seed, replications)."""
    comp = st.session_state.comparison
    if comp is None or ran.key not in comp.get("keys", []):
        return None
    return comp


def downloads_page() -> None:
    st.title("Downloads")
    doc, sc, _ = state.current()
    ran = current_ran(sc)
    if ran is None:
        st.info("The current scenario has no results with these settings yet: run it (Results page). Until"
                " then only the scenario file and its assumptions can be downloaded, so that no download"
                " holds another scenario's figures.")
    else:
        n = len(ran.changes)
        st.markdown(f"Results of '{ran.res.scenario.name}' from {ran.source or 'the scenario file'}"
                    + (f" with {n} change{'s' if n != 1 else ''}" if n else ", unchanged")
                    + f": {period_words(ran.res.scenario)}, {ran.res.reps} replications,"
                      f" seed {ran.res.seed}.")
    obs = observed_monthly()
    assumptions = params.assumptions(ran.doc if ran is not None else doc)
    comp = matching_comparison(ran) if ran is not None else None
    if ran is not None:
        sig = (ran.key, id(comp), len(ran.changes))
        if st.session_state.get("xlsx_sig") != sig:
            st.session_state.xlsx = excel.workbook(
                excel.inputs_table(run_facts(ran), ran.changes), excel.monthly_table(ran.res),
                excel.summary_table(ran.res, obs), excel.comparison_table(comp["table"] if comp else None),
                assumptions)
            st.session_state.xlsx_sig = sig
        st.download_button("Excel workbook: inputs, monthly, summary, comparison, assumptions",
                           st.session_state.xlsx, file_name=file_name(ran, "front_door", "xlsx"),
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key="dl:xlsx", type="primary", on_click="ignore")
        if st.session_state.comparison is not None and comp is None:
            st.caption("The workbook's Comparison sheet is empty: the comparison in this session was not"
                       " run on these results (another scenario version, seed or number of replications).")
        # the board report: these results (and the comparison holding them), nothing re-run
        page = board.report_bytes(ran, comp)
        st.download_button("Board report (one HTML file to forward or print: the answers with intervals,"
                           " month-by-month charts, the assumptions that matter, the fit)", page,
                           file_name=file_name(ran, "board_report", "html"), mime="text/html",
                           key="dl:board_report", on_click="ignore")
        if (make_pdf := board.pdf_maker(page)) is not None:
            st.download_button("Board report (PDF)", make_pdf,
                               file_name=file_name(ran, "board_report", "pdf"), mime="application/pdf",
                               key="dl:board_report_pdf", on_click="ignore")
        st.caption("The board report covers " + (f"the comparison of {', '.join(comp['names'])}" if comp
                   else f"'{ran.res.scenario.name}' alone (compare scenarios on the Compare page to put"
                        " their differences in it)") + ".")
        st.markdown("**CSV files**")
        st.download_button("Monthly measures, every replication (monthly.csv)",
                           excel.csv_bytes(excel.monthly_table(ran.res)),
                           file_name=file_name(ran, "monthly", "csv"),
                           mime="text/csv", key="dl:monthly", on_click="ignore")
        st.download_button("Summary with 95% intervals and reported figures (summary.csv)",
                           excel.csv_bytes(excel.summary_table(ran.res, obs)),
                           file_name=file_name(ran, "summary", "csv"),
                           mime="text/csv", key="dl:summary", on_click="ignore")
    whole = st.session_state.comparison
    if whole is not None:
        st.download_button(f"Comparison of {', '.join(whole['names'])} ({whole['period']}, {whole['reps']}"
                           f" replications, seed {whole['seed']}) (comparison.csv)",
                           excel.csv_bytes(excel.comparison_table(whole["table"])),
                           file_name="comparison.csv",
                           mime="text/csv", key="dl:comparison_csv", on_click="ignore")
    st.download_button("Assumptions (assumptions.csv)", excel.csv_bytes(assumptions.drop(columns=["path"])),
                       file_name="assumptions.csv", mime="text/csv", key="dl:assumptions_csv",
                       on_click="ignore")
    if sc is not None:
        st.download_button("The current scenario (YAML)", state.to_yaml(doc).encode("utf-8"),
                           file_name=f"{slug(doc['name'])}.yaml", mime="application/x-yaml",
                           key="dl:yaml_downloads", on_click="ignore")
    st.divider()
    session_section()


def _on_open_session() -> None:
    """Open a session file (a callback, so it acts before anything is drawn); a refused file
    changes nothing and is answered in one line."""
    ss = st.session_state
    up = ss.get("session_upload")
    if up is None:
        return
    try:
        opened = session.loads(up.name, up.getvalue())
    except session.SessionError as exc:
        ss.session_message = ("error", f"Session not opened: {exc}")
        return
    ss.session_message = ("success", session.restore(opened, up.name))
    ss.upload_message = ss.save_message = None
    ss.session_opened = True


@st.fragment  # a file refused reruns this section alone; one opened reruns the whole app
def session_section() -> None:
    """Save the whole session as one file, or open one saved earlier."""
    ss = st.session_state
    if ss.pop("session_opened", False):
        st.rerun()  # every page and the sidebar now show the opened session
    st.markdown("**This session as one file**")
    reps, seed = int(ss.reps), int(ss.seed)
    data, left_out = session.dump(state.work(), state.saved(), reps, seed, session.session_results())
    ss.session_file = data  # the very bytes offered below
    st.download_button("Save this session (one file: the scenarios, their changes and their results)", data,
                       file_name=f"front_door_session_{reps}reps_seed{seed}.json",
                       mime="application/json", key="dl:session", on_click="ignore")
    n = 1 + len(state.saved())
    st.caption(f"Holds the scenario worked on and {n - 1} saved for comparison, each with its changes, and"
               f" the results of those run with {reps} replications and seed {seed}."
               + (f" Left out to keep the file under {session.MAX_SESSION_BYTES:,} bytes: the results of"
                  f" {', '.join(left_out)}." if left_out else ""))
    st.file_uploader("Open a saved session", type=["json"], key="session_upload",
                     on_change=_on_open_session,
                     max_upload_size=max(1, session.MAX_SESSION_BYTES // 1_000_000),
                     help=f"A file saved here, at most {session.MAX_SESSION_BYTES:,} bytes. It replaces the"
                          " scenarios of this session; if it is refused, nothing changes.")
    if ss.get("session_message"):
        kind, msg = ss.session_message
        (st.error if kind == "error" else st.success)(msg)


# st.navigation (app.py) runs this file as the page itself, as its __main__
if __name__ == "__main__":
    downloads_page()
