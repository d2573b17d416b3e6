"""The Change the scenario page: load, upload or undo, the levers, and saving for comparison.

Load, upload and undo are callbacks, so they act on the scenario worked on before anything is
drawn; the state rules are in ui/state.py."""

from __future__ import annotations

import streamlit as st

from sim.scenario.schema import MAX_FILE_BYTES
from ui import levers, state
from ui.pages.common import (
    backlog_line,
    current_ran,
    flag_inactive,
    headline,
    period_words_doc,
    run_controls,
    slug,
)


def _on_load_library() -> None:
    ss = st.session_state
    name = ss.library_choice
    msg = state.load_file(name)
    ss.upload_message = ("error", msg) if msg else ("success", f"Loaded {name}.")
    ss.save_message = None


def _on_upload() -> None:
    ss = st.session_state
    up = ss.get("upload")
    if up is None:
        ss.upload_message = None
        return
    msg = state.accept_upload(up.name, up.getvalue())
    shown = state.upload_name(up.name)
    ss.upload_message = ("error", f"Upload refused: {msg}") if msg else ("success", f"Loaded {shown}.")
    if not msg:
        ss.save_message = None


def _on_reset() -> None:
    state.reset_edits()
    st.session_state.upload_message = None
    st.session_state.save_message = None


def scenario_panel() -> None:
    """Load from the library or upload (callbacks, so they act before anything is drawn)."""
    ss = st.session_state
    files = state.scenario_files()
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Start from a scenario in the library**")
        st.selectbox("Scenario file", list(files), key="library_choice")
        st.button("Load this scenario", key="load_library", on_click=_on_load_library,
                  help="Replaces the scenario you are working on (not the saved ones) with this file.")
    with c2:
        st.markdown("**Or upload a scenario file (YAML)**")
        st.file_uploader("Scenario file", type=["yaml", "yml"], key="upload", on_change=_on_upload,
                         max_upload_size=max(1, MAX_FILE_BYTES // 1_000_000),
                         help=f"At most {MAX_FILE_BYTES:,} bytes. It is checked as the command line checks"
                              " it; if it is refused, nothing else changes.")
    if ss.get("upload_message"):
        kind, msg = ss.upload_message
        (st.error if kind == "error" else st.success)(msg)


def levers_page() -> None:
    ss = st.session_state
    st.title("Change the scenario")
    st.markdown("Each lever shows its unit, the range it could plausibly take and where its number came"
                " from. Changes apply to the scenario you run, compare and download; the file itself is not"
                " changed.")
    scenario_panel()
    w = state.work()
    doc = state.plain_doc()
    st.caption(f"Working on '{w.name}', from {w.source}; months reported: {period_words_doc(doc)}.")
    name = st.text_input("Scenario name (used on charts and in comparisons)", value=doc["name"],
                         max_chars=80, key=levers.key(("name",)))
    state.set_edit(("name",), name.strip() or w.original["name"])
    levers.render_all(doc)
    st.divider()
    doc, sc, err = state.current()
    if err:
        st.error(f"This scenario cannot be run: {err}")
    chg = w.changes()
    with st.expander(f"Changes from the file ({len(chg)})", expanded=bool(len(chg))):
        if chg.empty:
            st.caption("None yet.")
        else:
            st.dataframe(chg, hide_index=True, width="stretch")
    # below the levers, so it is there in the very rerun that records the first change
    st.button("Undo every change (back to the file)", key="reset_edits", on_click=_on_reset,
              disabled=chg.empty)
    c1, c2, c3 = st.columns(3)
    with c1:
        st.download_button("Download this scenario (YAML)", state.to_yaml(doc).encode("utf-8"),
                           file_name=f"{slug(doc['name'])}.yaml", mime="application/x-yaml",
                           key="dl:scenario_yaml", on_click="ignore", disabled=sc is None)
    with c2:
        if st.button("Save for comparison", key="save_for_compare", disabled=sc is None):
            ss.save_message = state.save_work()
        if ss.get("save_message"):
            st.caption(ss.save_message)
    with c3:
        run_controls(sc, doc, "levers")
    ran = current_ran(sc)
    if sc is not None and ran is not None:
        st.success(f"Results for '{sc.name}' are on the Results page. Months reported:"
                   f" {period_words_doc(doc)}.")
        flag_inactive(sc)
        backlog_line(ran.res)
        headline(ran)


# st.navigation (app.py) runs this file as the page itself, as its __main__
if __name__ == "__main__":
    levers_page()
