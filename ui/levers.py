"""The levers, grouped as the service talks about them, each showing unit, range and provenance.

Every widget reads its starting value from the scenario being edited and writes back through
`state.set_edit`, so the scenario document is always the single source of truth: leaving the
page and coming back, or downloading the YAML, shows exactly what will be run. Ranges are the
scenario's own plausible ranges, which the scenario schema also enforces.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from sim.experiments.levers import inactive_levers
from sim.measures.breakeven import break_even
from sim.scenario.loading import load
from sim.scenario.params import month_value
from sim.scenario.paths import PathError, get
from sim.scenario.schema import DURATION_PART_NAMES, ScenarioError, validate
from ui import params, state
from ui.params import ROLES, SHARE_KEY_NAMES, SOURCES, STREAMS, WEEKDAYS, Path_

GROUPS = ("Demand and channel mix", "PPN quality and police co-triage", "Staffing by role and month",
          "Office hours", "Conversation and screening times", "Outcome shares", "Run period")


def key(path: Path_) -> str:
    """The widget key of a lever: the generation of the scenario worked on, then the lever's path.

    A new generation (a load, an upload, an undo) gives every lever a new widget, so a value the
    browser still holds for the old one can never come back as a change (ui/state.py)."""
    return f"{state.LEVER_PREFIX}{state.work().gen}:" + ".".join(path)


def _short(text: str, n: int = 170) -> str:
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


def describe(node: dict, percent: bool = False) -> str:
    """One line under a lever: unit, plausible range and where the number came from."""
    unit = node.get("unit", "")
    parts = [f"Unit: {unit}" + (" (shown as %)" if percent else "")] if unit else []
    rng = node.get("range")
    if isinstance(rng, list | tuple) and len(rng) == 2:
        lo, hi = (100 * rng[0], 100 * rng[1]) if percent else rng
        parts.append(f"plausible range {lo:g} to {hi:g}")
    prov = node.get("provenance")
    if prov:
        parts.append(f"provenance: {params.PROVENANCE_WORDS.get(prov, prov)}")
    text = " · ".join(parts)
    if node.get("source"):
        text += f" — {_short(params.plain_source(node['source']))}"
    if node.get("note"):
        text += f" ({_short(params.plain_source(node['note']), 80)})"
    return text


def cap(text: str) -> str:
    """Capitalise the first letter only (so "PPNs" stays "PPNs")."""
    return text[:1].upper() + text[1:]


def _step(lo: float, hi: float, percent: bool) -> float:
    if percent:
        return 1.0
    width = max(hi - lo, 1e-9)
    return max(10 ** math.floor(math.log10(width)) / 10, 0.01)


def _fmt_for(step: float, value: float) -> str:
    """Enough decimals for both the step and the value itself (a fitted 7.61 must not show as 8)."""
    places = 0 if step >= 1 else (1 if step >= 0.1 else 2)
    while places < 4 and abs(round(value, places) - value) > 1e-9:
        places += 1
    return f"%.{places}f"


def _node(doc: dict, path: Path_) -> Any:
    """The setting at a path, or None if this scenario's schema has no such setting."""
    try:
        return get(doc, path)
    except PathError:
        return None


def number(doc: dict, node_path: Path_, label: str | None = None, field: str = "value",
           percent: bool = False, slider: bool = False) -> None:
    """A single number (a Scalar's value or a Monthly's default) within its plausible range."""
    node = _node(doc, node_path)
    if node is None:
        return
    lo, hi = (float(x) for x in node["range"])
    v = float(node[field])
    k = 100.0 if percent else 1.0
    step = _step(lo, hi, percent)
    lab = label or params.label(node_path)
    kwargs: dict[str, Any] = {"min_value": lo * k, "max_value": hi * k, "value": v * k, "step": step,
                              "key": key((*node_path, field)),
                              "help": params.plain_source(node.get("source") or "") or None}
    if slider:
        got = st.slider(lab + (" (%)" if percent else ""), format="%.0f%%" if percent else None, **kwargs)
    else:
        got = st.number_input(lab + (" (%)" if percent else ""), format=_fmt_for(step, v * k), **kwargs)
    state.set_edit((*node_path, field), round(float(got) / k, 6))
    st.caption(describe(node, percent))
    for line in beyond_range(node_path, field, lo, hi, k):
        st.caption(line)


@functools.lru_cache(maxsize=1)
def _library_docs() -> tuple[tuple[str, dict], ...]:
    """Every library scenario as a document, read once (the library does not change while the app runs)."""
    out = []
    for name, path in state.scenario_files().items():
        try:
            out.append((name, load(path).model_dump(mode="json")))
        except ScenarioError:
            continue
    return tuple(out)


def beyond_range(node_path: Path_, field: str, lo: float, hi: float, k: float = 1.0) -> list[str]:
    """Library scenarios that set this lever outside the box's range, with the range they give it,
    so a reader sees why the box stops where it does and where to go beyond it."""
    out = []
    for name, doc in _library_docs():
        node = _node(doc, node_path)
        if not isinstance(node, dict) or not isinstance(node.get(field), int | float):
            continue
        v = float(node[field])
        if lo - 1e-9 <= v <= hi + 1e-9:
            continue
        rlo, rhi = node["range"]
        out.append(f"This box allows {k * lo:g} to {k * hi:g}, this scenario's plausible range. {name} sets"
                   f" {k * v:g}, with its own range {k * rlo:g} to {k * rhi:g} and its own reason: load it"
                   " (above) to go beyond.")
    return out


def toggle(doc: dict, path: Path_, label: str | None = None, help_text: str | None = None) -> bool:
    if _node(doc, path) is None:
        return False
    got = st.toggle(label or params.label(path), value=bool(get(doc, path)), key=key(path), help=help_text)
    state.set_edit(path, bool(got))
    return bool(got)


def duration(doc: dict, node_path: Path_, label: str | None = None) -> None:
    """A task time: its average and how much it varies (coefficient of variation)."""
    node = _node(doc, node_path)
    if node is None:
        return
    st.markdown(f"**{label or params.label(node_path)}**")
    c1, c2 = st.columns(2)
    with c1:
        number(doc, (*node_path, "mean"), cap(DURATION_PART_NAMES["mean"]))
    with c2:
        if node["distribution"] == "exponential":
            st.caption("Variability: fixed (coefficient of variation 1) for this random shape.")
        else:
            number(doc, (*node_path, "cv"), cap(DURATION_PART_NAMES["cv"]))


def shares(doc: dict, node_path: Path_, rest: str, label: str | None = None) -> None:
    """Shares that must add up to 100%: all but one are set, the last takes the rest."""
    node = _node(doc, node_path)
    if node is None:
        return
    if label != "":
        st.markdown(f"**{label or params.label(node_path)}**")
    keys = [k for k in node["value"] if k != rest]
    cols = st.columns(len(keys) + 1)
    out: dict[str, float] = {}
    for col, k in zip(cols, keys, strict=False):
        lo, hi = node["range"][k]
        with col:
            got = st.number_input(
                f"{cap(SHARE_KEY_NAMES.get(k, k))} (%)", min_value=100.0 * lo,
                max_value=100.0 * hi, value=100.0 * node["value"][k], step=1.0, format="%.1f",
                key=key((*node_path, "value", k)),
                help=f"Plausible range {100 * lo:g}% to {100 * hi:g}%")
            out[k] = round(got / 100.0, 6)
    remainder = round(1.0 - sum(out.values()), 6)
    lo, hi = node["range"][rest]
    with cols[-1]:
        ok = lo - 1e-9 <= remainder <= hi + 1e-9
        st.metric(f"{cap(SHARE_KEY_NAMES.get(rest, rest))}: the rest", f"{100 * remainder:.1f}%",
                  help=f"Plausible range {100 * lo:g}% to {100 * hi:g}%")
        if not ok:
            st.caption(f":red[Outside its plausible range {100 * lo:g}% to {100 * hi:g}%]")
    ordered = {k: (remainder if k == rest else out[k]) for k in node["value"]}
    state.set_edit((*node_path, "value"), ordered)
    st.caption(describe({k: v for k, v in node.items() if k != "range"}, percent=True))


def months_table(doc: dict, table_key: str, columns: Sequence[tuple[Path_, str, bool]],
                 months: Sequence[str], note: str) -> None:
    """A month-by-month table for Monthly settings; a month equal to the default is not stored."""
    data = {}
    config = {}
    for node_path, col, percent in columns:
        node = get(doc, node_path)
        k = 100.0 if percent else 1.0
        data[col] = [k * month_value(node, m) for m in months]
        lo, hi = node["range"]
        config[col] = st.column_config.NumberColumn(col, min_value=k * lo, max_value=k * hi,
                                                    step=1.0 if percent or hi > 50 else 0.5,
                                                    format="%.1f", help=node.get("unit"))
    frame = pd.DataFrame(data, index=pd.Index(list(months), name="Month"))
    edited = st.data_editor(frame, key=key((table_key,)), column_config=config,
                            width="stretch", num_rows="fixed")
    st.caption(note)
    for node_path, col, percent in columns:
        node = get(doc, node_path)
        k = 100.0 if percent else 1.0
        values = dict(node["value"])
        for m, v in zip(months, edited[col].tolist(), strict=True):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            v = round(float(v) / k, 6)
            if params.same(v, month_value(node, m)):
                continue  # unchanged: the file's entry (even one equal to the default) stays
            if params.same(v, month_value(node, m, own=False)):  # the step or default around it
                values.pop(m, None)
            else:
                values[m] = v
        state.set_edit((*node_path, "value"), dict(sorted(values.items())))


def scale(doc: dict, node_path: Path_, label: str) -> None:
    """Change every month of a monthly count by a percentage (e.g. a 33% fall in police contacts)."""
    current = state.edits().get((*node_path, params.SCALE), 1.0)
    got = st.slider(label, min_value=-60, max_value=60, value=round(100 * (current - 1.0)), step=1,
                    format="%+d%%", key=key((*node_path, params.SCALE)),
                    help="Applied on top of the month-by-month figures below.")
    state.set_edit((*node_path, params.SCALE), round(1.0 + got / 100.0, 4))


# ---------------------------------------------------------------------------------------------
# the groups


def demand(doc: dict) -> None:
    st.markdown("How many contacts arrive, from whom and by which route. Moving partners' emails onto"
                " the phone (channel shift) means raising the shares made by phone.")
    c1, c2 = st.columns(2)
    with c1:
        scale(doc, ("demand", "contacts_monthly"), "Change all contacts in every month by")
    with c2:
        scale(doc, ("demand", "police_monthly"), "Change police contacts in every month by")
    with st.expander("Contacts month by month", expanded=False):
        months_table(doc, "demand.months",
                     [(("demand", "contacts_monthly"), "All contacts", False),
                      (("demand", "police_monthly"), "Police contacts", False)],
                     params.reported_months(doc),
                     "Reported figures (the Trust's report for July to December 2023); months outside the"
                     " table (warm-up and run-on) take the average. "
                     + describe(doc["demand"]["contacts_monthly"]))
        number(doc, ("demand", "contacts_monthly"), "All contacts in any month not listed", field="default")
        number(doc, ("demand", "police_monthly"), "Police contacts in any month not listed", field="default")
    cannot_act("demand.")
    st.markdown("**Share of each partner's contacts made by phone** (the rest email)")
    cols = st.columns(2)
    for i, src in enumerate(doc["demand"]["partner_phone_share"]):
        with cols[i % 2]:
            number(doc, ("demand", "partner_phone_share", src),
                   f"{cap(SOURCES.get(src, src))}: by phone", percent=True, slider=True)
    shares(doc, ("demand", "partner_sources"), "other_agency")
    shares(doc, ("demand", "police_channels"), "email")
    number(doc, ("demand", "out_of_hours_urgent_share"), percent=True, slider=True)


def ppn_and_cotriage(doc: dict) -> None:
    st.markdown("Better-written police protection notices (PPNs) take less screening and fewer end in"
                " information and advice. Co-triage: a police officer and a practice supervisor settle"
                " non-domestic PPNs together before they become front-door work.")
    number(doc, ("ppn", "quality"))
    cols = st.columns(2)
    others = [k for k in doc["ppn"] if k not in ("quality", "reference_quality")] + ["reference_quality"]
    for i, k in enumerate(others):
        with cols[i % 2]:
            number(doc, ("ppn", k))
    st.divider()
    toggle(doc, ("cotriage", "enabled"), None,
                "From its start date, non-domestic PPNs go to an officer and practice supervisor first.")
    start = date.fromisoformat(str(doc["cotriage"]["start"]["value"]))
    got = st.date_input(params.label(("cotriage", "start")), value=start,
                        key=key(("cotriage", "start", "value")),
                        help=params.plain_source(doc["cotriage"]["start"].get("source") or "") or None)
    state.set_edit(("cotriage", "start", "value"), got.isoformat())
    st.caption(describe(doc["cotriage"]["start"]))
    cannot_act("cotriage", "staff.cotriage")
    c1, c2 = st.columns(2)
    with c1:
        number(doc, ("staff", "cotriage", "establishment"),
               "Officers allotted (each pairs with a supervisor on duty)", field="default")
        number(doc, ("cotriage", "closed_share"), percent=True, slider=True)
        number(doc, ("cotriage", "days_not_covered"), percent=True, slider=True)
    with c2:
        number(doc, ("cotriage", "screen_effort_after"), percent=True, slider=True)
        number(doc, ("cotriage", "outcome_effects", "referral_to_advice"), percent=True, slider=True)
        toggle(doc, ("cotriage", "supervisors_from_ps_pool"))
    duration(doc, ("cotriage", "minutes"))
    _, sc, _ = state.current()
    if sc is not None:
        st.caption(f"Break-even: {break_even(sc).text()}.")


def _inactive_now() -> list[tuple[str, str]]:
    """inactive_levers for the scenario as edited so far in this rerun, worked out once for each
    state of the edits (several levers ask in one rerun; each answer takes some 25 ms)."""
    w = state.work()
    memo_key = repr((id(w.original), sorted(w.edits.items(), key=repr)))
    memo = st.session_state.get("_inactive_memo")
    if memo is not None and memo[0] == memo_key:
        return memo[1]
    _, sc, _ = state.current()
    found: list[tuple[str, str]] = []
    if sc is not None:
        try:
            ref = validate(copy.deepcopy(w.original), "file")
        except ScenarioError:
            ref = None
        found = inactive_levers(sc, reference=ref)
    st.session_state["_inactive_memo"] = (memo_key, found)
    return found


def cannot_act(*prefixes: str) -> None:
    """Beside the levers: the settings under `prefixes` that cannot act in the run's period, by the
    command line's rule (sim.experiments.levers.inactive_levers), against the file loaded."""
    for path, why in _inactive_now():
        if path.startswith(prefixes):
            st.warning(f"**{params.label(tuple(path.split('.')))}**: {why}.", icon=":material/block:")


def staffing(doc: dict) -> None:
    st.markdown("Posts, vacancies, annual leave and sickness for each role. To model losing or gaining"
                " staff in a particular month (say two consultant social workers fewer from August), use"
                " the month-by-month table.")
    for pool in ("csw", "ps", "da_hub"):
        st.subheader(ROLES[pool])
        base = ("staff", pool)
        c1, c2, c3 = st.columns(3)
        with c1:
            number(doc, (*base, "establishment"), "Posts (any month not changed below)", field="default")
            number(doc, (*base, "sickness_rate"), "Days off sick", percent=True)
        with c2:
            number(doc, (*base, "vacancy_rate"), "Posts vacant", field="default", percent=True)
            number(doc, (*base, "productive_share"), "Time on front-door work", percent=True)
        with c3:
            number(doc, (*base, "leave_rate"), "Days on annual leave", field="default", percent=True)
            summer = state.edits().get((*base, "leave_rate", params.SUMMER), 0.0)
            got = st.slider("Extra leave in July and August (percentage points)", 0, 15,
                            value=round(100 * summer), step=1, key=key((*base, "leave_rate", params.SUMMER)),
                            help="The summer pattern: added to the leave share in July and August.")
            state.set_edit((*base, "leave_rate", params.SUMMER), round(got / 100.0, 4))
        posts_change(doc, pool)
        cannot_act(f"staff.{pool}.")
        with st.expander(f"{ROLES[pool]}: month by month"):
            months_table(doc, f"staff.{pool}.months",
                         [((*base, "establishment"), "Posts", False),
                          ((*base, "vacancy_rate"), "Vacant (%)", True),
                          ((*base, "leave_rate"), "On leave (%)", True)],
                         params.reported_months(doc),
                         "Months of the run; the warm-up months before them take the values above. Extra"
                         " summer leave is added on top of this table.")


def posts_change(doc: dict, pool: str) -> None:
    """Staffing as a manager says it: "+/- N whole posts of this role from month X (to month Y)"."""
    path = ("staff", pool, "establishment", params.POSTS)
    months = params.reported_months(doc)
    if not months:
        return
    now = state.edits().get(path) or {"change": 0, "from": months[0], "to": months[-1]}
    c1, c2, c3 = st.columns(3)
    with c1:
        change = st.number_input(f"{ROLES[pool]}: whole posts to add (or take away, as a minus)",
                                 min_value=-20, max_value=20, value=int(now["change"]), step=1,
                                 key=key(path + ("change",)),
                                 help="Added to the posts of every month from the first month chosen to the"
                                      " last, on top of the month-by-month table below.")
    with c2:
        first = months.index(now["from"]) if now["from"] in months else 0
        start = st.selectbox("From month", months, index=first, format_func=month_words,
                             key=key(path + ("from",)))
    with c3:
        last = months.index(now["to"]) if now["to"] in months else len(months) - 1
        end = st.selectbox("To month (inclusive)", months, index=last, format_func=month_words,
                           key=key(path + ("to",)))
    state.set_edit(path, {"change": int(change), "from": start, "to": end})
    if change and start > end:
        st.warning(f"The first month ({month_words(start)}) is after the last ({month_words(end)}): no month"
                   " is changed.")


def month_words(month: str) -> str:
    """'2023-08' as 'August 2023'."""
    return f"{date.fromisoformat(month + '-01'):%B %Y}"


def office_hours(doc: dict) -> None:
    st.markdown("When the front door is open. Out of hours, urgent contacts go to the emergency duty"
                " team and the rest wait for the next opening.")
    c1, c2 = st.columns(2)
    with c1:
        number(doc, ("calendar", "office_open_hour"))
    with c2:
        number(doc, ("calendar", "office_close_hour"))
    days = list(doc["calendar"]["working_weekdays"])
    got = st.multiselect("Working days of the week", list(WEEKDAYS), default=[WEEKDAYS[d] for d in days],
                         key=key(("calendar", "working_weekdays")))
    state.set_edit(("calendar", "working_weekdays"), sorted(WEEKDAYS.index(d) for d in got))
    number(doc, ("da_hub", "dram_hour"))
    st.divider()
    toggle(doc, ("abandonment", "enabled"), "Callers hang up if not answered in time")
    duration(doc, ("abandonment", "patience_minutes"))
    number(doc, ("abandonment", "callback_share"), percent=True, slider=True)


def task_times(doc: dict) -> None:
    st.markdown("How long each piece of work takes. None of these is reported by the service; each is a"
                " judgement with its range.")
    for p in ("conversation_minutes", "email_screen_minutes", "ppn_screen_minutes", "direction_minutes",
              "da_screen_minutes"):
        duration(doc, ("service", p))


def outcome_shares(doc: dict) -> None:
    st.markdown("What contacts end in. A conversation lowers the chance of referral compared with the"
                " same concern written down; the written shares are by source.")
    number(doc, ("outcomes", "conversation_referral_ratio"))
    for stream in doc["outcomes"]["written"]:
        with st.expander(f"Outcomes of written contacts from {STREAMS.get(stream, stream)}"):
            shares(doc, ("outcomes", "written", stream), "nfa", label="")
    st.divider()
    c1, c2 = st.columns(2)
    with c1:
        number(doc, ("downstream", "strategy_share_of_referrals"), percent=True, slider=True)
    with c2:
        number(doc, ("downstream", "s47_share_of_strategy"), percent=True, slider=True)
    duration(doc, ("downstream", "strategy_delay_hours"))


def run_period(doc: dict) -> None:
    st.markdown("The months the results cover. The reported figures cover July to December 2023; a run"
                " may go further (co-triage started in January 2024), with demand carried forward at the"
                " average of the reported months.")
    c1, c2 = st.columns(2)
    for col, field, lab in ((c1, "start", "First reported day"), (c2, "end", "Last reported day")):
        with col:
            got = st.date_input(lab, value=date.fromisoformat(str(doc["run"][field])),
                                key=key(("run", field)))
            state.set_edit(("run", field), got.isoformat())
    number(doc, ("run", "warmup_days"))


def render_all(doc: dict) -> None:
    """Every lever group, each on its own tab."""
    # tracked state (a key and on_change), so the open tab survives every rerun; all tabs still run
    tabs = st.tabs(list(GROUPS), key="lever_groups", on_change="rerun")
    for tab, fn in zip(tabs, (demand, ppn_and_cotriage, staffing, office_hours, task_times, outcome_shares,
                              run_period), strict=True):
        with tab:
            fn(doc)
