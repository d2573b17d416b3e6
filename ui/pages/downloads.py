"""The Downloads page: the workbook, CSV files and the scenario as YAML."""

from __future__ import annotations

import streamlit as st

from sim.io.observed import observed_monthly
from ui import excel, params, state
from ui.pages.common import (
    slug,
)


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
                           file_name=f"front_door_{slug(ran.res.scenario.name)}.xlsx",
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
                           file_name=f"{slug(doc['name'])}.yaml", mime="application/x-yaml",
                           key="dl:yaml_downloads", on_click="ignore")
