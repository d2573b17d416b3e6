"""The "See the front door" page: a day or a week of one replication animated, two scenarios
one above the other on the same random numbers and the same frames, and the routes contacts
took (a process map)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from sim.measures.process_map import directly_follows
from sim.measures.vidigi_log import in_period, vidigi_log
from sim.model.replication import simulate
from sim.model.results import RepResult
from sim.scenario.loading import load
from sim.scenario.schema import POOL_SHORT_NAMES, Scenario, ScenarioError, validate
from ui import animation, state
from ui.pages.common import slug

NOTHING = "nothing (one scenario)"
DAY, WEEK = "A day", "A week (Monday to Sunday)"
DEFAULT_OTHER = "staffing_minus2.yaml"


@st.cache_resource(max_entries=6, show_spinner=False)
def _replication(scenario_json: str, seed: int) -> tuple[RepResult, pd.DataFrame]:
    """The scenario's first replication on this seed, and its event log (every contact)."""
    res = simulate(Scenario.model_validate_json(scenario_json), seed, 0)
    return res, vidigi_log(res, contacts=np.ones(len(res.contacts), dtype=bool))


@st.cache_resource(max_entries=6, show_spinner=False)
def _figure(scenario_json: str, seed: int, first: date, days: int) -> go.Figure:
    res, log = _replication(scenario_json, seed)
    return animation.animation(res, first, days, log=log)


def _other_scenarios() -> dict[str, Scenario | str]:
    """Scenarios to set beside the current one: the library's files and the saved ones."""
    out: dict[str, Scenario | str] = {}
    for name, path in state.scenario_files().items():
        try:
            out[name] = load(path)
        except ScenarioError as exc:
            out[name] = str(exc)
    for e in state.saved():
        try:
            out[f"{e.name} (saved)"] = validate(e.doc(), e.name)
        except ScenarioError as exc:
            out[f"{e.name} (saved)"] = str(exc)
    return out


def _first_day(sc: Scenario) -> date:
    """The first Monday of August in the period (the summer the service asks about), else the
    period's first Monday (once co-triage has started, in a scenario that has it)."""
    start, end = sc.run.start, sc.run.end
    if sc.cotriage.enabled:
        start = max(start, sc.cotriage.start.value)
    for first in (date(start.year, 8, 1), start):
        monday = first + timedelta(days=(7 - first.weekday()) % 7)
        if start <= monday <= end:
            return monday
    return sc.run.start


def _duty_words(res: RepResult, first: date, days: int) -> str:
    duty = animation.on_duty(res, first, first + timedelta(days=days - 1))
    if duty.empty:
        return "No working day in this window."
    parts = []
    for team in ("csw", "ps", "da_hub", "cotriage"):
        lo, hi = int(duty[team].min()), int(duty[team].max())
        if hi == 0:
            continue
        n = f"{lo}" if lo == hi else f"{lo} to {hi}"
        parts.append(f"{POOL_SHORT_NAMES.get(team, team)}: {n}")
    return "On duty (the rota of this replication" + (", fewest to most a day" if days > 1 else "") \
        + "): " + "; ".join(parts) + "."


def _show(name: str, sc: Scenario, seed: int, first: date, days: int) -> None:
    st.markdown(f"**{name}**")
    if not (sc.run.start <= first <= sc.run.end):
        st.warning(f"{first:%d %B %Y} is outside this scenario's period ({sc.run.start:%d %B %Y} to"
                   f" {sc.run.end:%d %B %Y}); choose a day inside both.")
        return
    key = sc.model_dump_json()
    with st.spinner(f"Drawing {name}..."):
        res, _ = _replication(key, seed)
        try:
            fig = _figure(key, seed, first, days)
        except ValueError as exc:
            st.warning(str(exc))
            return
    st.caption(_duty_words(res, first, days))
    st.plotly_chart(fig, width="stretch", key=f"anim-{name}")


def _process_map(name: str, sc: Scenario, seed: int) -> None:
    res, log = _replication(sc.model_dump_json(), seed)
    period = log[log["entity_id"].isin(res.contacts["id"][in_period(res)])]
    dfg = directly_follows(period)
    st.markdown(f"**{name}**: {int(in_period(res).sum()):,} contacts, {sc.run.start:%d %b %Y} to"
                f" {sc.run.end:%d %b %Y}")
    st.plotly_chart(animation.sankey(period), width="stretch", key=f"sankey-{name}")
    with st.expander("The routes as a table"):
        st.dataframe(dfg.rename(columns={"source": "from", "target": "to", "count": "contacts",
                                         "mean_minutes": "mean minutes", "median_minutes": "median minutes"}),
                     hide_index=True, width="stretch")
        st.download_button("Download the routes (CSV)", dfg.to_csv(index=False, float_format="%.4f"),
                           file_name=f"process_map_{slug(name.removesuffix('.yaml'))}_seed{seed}.csv",
                           mime="text/csv", key=f"routes-{name}")


def animation_page() -> None:
    ss = st.session_state
    doc, sc, err = state.current()
    st.title("See the front door at work")
    st.markdown(
        "One replication of the model (its first, on the seed in the sidebar) drawn as it runs:"
        " contacts arriving by channel (📞 phone, 📧 email, 🏠 domestic PPN, 👮 other PPN), waiting"
        " for a consultant social worker on the phone, in the supervisors' queue, held for the daily"
        " risk assessment meeting and at the DA hub, the staff on duty busy or free (each team's"
        " places are the most on duty in the window), and each decision leaving by its outcome."
        " A decided contact is shown in its outcome's lane for"
        f" {animation.DWELL} minutes. Frames run in office hours (from half an hour before opening"
        " to an hour after closing); what arrives at night or at the weekend is seen waiting at the"
        " next opening. One replication is one possible day, not the average: the Results page gives"
        " the averages and their intervals.")
    if err or sc is None:
        st.error(err or "The scenario cannot be run.")
        return
    others = _other_scenarios()
    names = [NOTHING, *others]
    left, mid, right = st.columns(3)
    other = left.selectbox("Set beside it", names, key="anim_other",
                           index=names.index(DEFAULT_OTHER) if DEFAULT_OTHER in names else 0,
                           help="Both run on the same seed, so they see the same contacts and the"
                                " same chance; only the scenario's changes differ.")
    span = mid.radio("Show", (DAY, WEEK), key="anim_span", horizontal=True)
    default = _first_day(sc)
    first = right.date_input("From", value=default, min_value=sc.run.start, max_value=sc.run.end,
                             key="anim_day", format="DD/MM/YYYY")
    days = 1 if span == DAY else 7
    if span == WEEK:
        first = first - timedelta(days=first.weekday())
    seed = int(ss.seed)
    shown = [(doc["name"], sc)]
    if other != NOTHING:
        o = others[other]
        if isinstance(o, str):
            st.error(f"{other} cannot be run: {o}")
        else:
            shown.append((other, o))
    # one above the other at the page's full width: side by side, the places' labels overlap
    for name, s in shown:
        _show(name, s, seed, first, days)
    st.subheader("The routes contacts took")
    st.markdown("Each band is a route from one step to the next, as wide as the contacts that took"
                " it, over the whole reported period of the same replication (the command line writes"
                " it as `process_map.csv`). Straight from arrival to a decision is the emergency duty"
                " team out of hours.")
    for tab, (name, s) in zip(st.tabs([name for name, _ in shown]), shown, strict=True):
        with tab:
            _process_map(name, s, seed)


# st.navigation (app.py) runs this file as the page itself, as its __main__
if __name__ == "__main__":
    animation_page()
