"""The Assumptions page: every number with its provenance and source, and how well the
baseline fits the reported months."""

from __future__ import annotations

import streamlit as st

from sim.io.observed import observed_monthly
from ui import excel, experiments, params, state


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
            st.markdown(params.plain_source(report.read_text(encoding="utf-8")[:20_000]))


# ---------------------------------------------------------------------------------------------
# downloads


# st.navigation (app.py) runs this file as the page itself, as its __main__
if __name__ == "__main__":
    assumptions_page()
