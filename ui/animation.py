"""The animated front door: one replication's day or week drawn with vidigi on plotly.

The standard log (sim/measures/vidigi_log.py) names each task; the picture groups them by the
team that does them, so each staff member has one place (a supervisor's screening, PPN or
direction are all "with a practice supervisor") and each queue is where a person would see
it. A decided contact is shown for `DWELL` minutes in the lane of its outcome before it
leaves, so a decision can be seen; the log itself has it leave at the decision.

`python -m ui.animation` times the build of a week of one replication (the figure the page
shows), from the replication's result to the finished plotly figure.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from vidigi.animation import add_synchronised_trace, generate_animation
from vidigi.prep import generate_animation_df, reshape_for_animations
from vidigi.utils import ArrivalPosition, EventPosition, ExitPosition, create_event_position_df

from sim.measures.process_map import directly_follows, is_departure
from sim.measures.vidigi_log import OPEN_AT_END, vidigi_log, window
from sim.model.results import RepResult

DWELL = 45  # minutes a decided contact stays in its outcome's lane in the picture
DAY_STEP, WEEK_STEP = 5, 30  # minutes between frames
STEP_MAX, WRAP = 45, 15  # contacts drawn one by one at a place (more are counted), a row's length
# the picture's place for each event of the log (its "_ends" rows say nothing a place does not)
PLACE = {
    "wait_conversation": "wait_csw", "conversation_begins": "csw",
    "wait_callback": "wait_callback",
    "wait_email_screen": "wait_ps", "wait_ppn_screen": "wait_ps", "wait_direction": "wait_ps",
    "email_screen_begins": "ps", "ppn_screen_begins": "ps", "direction_begins": "ps",
    "wait_dram": "wait_dram", "wait_da_screen": "wait_da", "da_screen_begins": "da",
    "wait_cotriage": "wait_cotriage", "cotriage_begins": "cotriage",
}
TEAM_OF_PLACE = {"csw": "csw", "ps": "ps", "da": "da_hub", "cotriage": "cotriage"}
OUTCOME_WORDS = {"info_advice": "information and advice", "early_help": "early help",
                 "referral": "referral", "nfa": "no further action"}
STAFF_WORDS = {"csw": "CSWs", "ps": "supervisors", "da_hub": "DA hub", "cotriage": "co-triage pairs"}
STEP_WORDS = {
    "arrival": "arrived", "wait_conversation": "waiting for a CSW (phone)",
    "conversation": "conversation with a CSW", "wait_callback": "hung up, to call back",
    "wait_email_screen": "email waiting for a supervisor", "email_screen": "email screened (supervisor)",
    "wait_ppn_screen": "PPN waiting for a supervisor", "ppn_screen": "PPN screened (supervisor)",
    "wait_direction": "waiting for a supervisor's direction", "direction": "direction (supervisor)",
    "wait_dram": "held for the daily meeting (DRAM)", "wait_da_screen": "waiting for the DA hub",
    "da_screen": "screened by the DA hub", "wait_cotriage": "waiting for co-triage",
    "cotriage": "co-triage (officer and supervisor)",
}
CHANNEL_WORDS = {"phone": "phone", "email": "email", "ppn_domestic": "domestic PPN",
                 "ppn_nondomestic": "other PPN"}
# each contact drawn as its channel (one trace a frame: colouring by channel would draw four,
# and take three times as long)
CHANNEL_ICONS = {"phone": "📞", "email": "📧", "domestic PPN": "🏠", "other PPN": "👮"}


def positions() -> pd.DataFrame:
    """Where each place is drawn: queues (bottom-right corner) and teams (their staff)."""
    at = [
        ArrivalPosition(x=60, y=660, label="Contacts arrive"),
        EventPosition(event="wait_csw", x=420, y=660, label="Waiting on the phone for a CSW"),
        EventPosition(event="csw", x=860, y=660, label="Talking with a CSW", resource="csw"),
        EventPosition(event="wait_callback", x=420, y=570, label="Hung up: will call back"),
        EventPosition(event="wait_ps", x=420, y=470, label="Supervisors' queue (emails, PPNs, directions)"),
        EventPosition(event="ps", x=860, y=470, label="With a practice supervisor", resource="ps"),
        EventPosition(event="wait_cotriage", x=420, y=370, label="Waiting for co-triage"),
        EventPosition(event="cotriage", x=860, y=370, label="Officer and supervisor co-triage",
                      resource="cotriage"),
        EventPosition(event="wait_dram", x=420, y=270,
                      label="Domestic PPNs held for the daily meeting (DRAM)"),
        EventPosition(event="wait_da", x=420, y=130, label="DA hub queue"),
        EventPosition(event="da", x=860, y=130, label="Screened by the DA hub", resource="da_hub"),
        *[EventPosition(event=f"decided_{o}", x=1210, y=660 - 100 * k, label=f"Decided: {w}")
          for k, (o, w) in enumerate(OUTCOME_WORDS.items())],
        EventPosition(event=f"decided_{OPEN_AT_END}", x=1210, y=260, label="Open when the run stops"),
        ExitPosition(x=1210, y=130, label="Left the front door"),
    ]
    return create_event_position_df(at)


def for_picture(log: pd.DataFrame) -> pd.DataFrame:
    """The log with each event at its place, and each decision shown for `DWELL` minutes."""
    keep = log["event_type"].isin(["arrival_departure", "queue", "resource_use"])
    out = log.loc[keep, ["entity_id", "event_type", "event", "time", "pathway", "resource_id",
                         "outcome"]].copy()
    out["event"] = out["event"].map(PLACE).fillna(out["event"])
    dep = out["event"] == "depart"
    decided = out.loc[dep].assign(event_type="queue", event="decided_" + out.loc[dep, "outcome"])
    out.loc[dep, "time"] += DWELL
    out = pd.concat([out, decided]).sort_values(["entity_id", "time"], kind="stable")
    out["pathway"] = out["pathway"].map(CHANNEL_WORDS)
    return out.reset_index(drop=True)


def on_duty(res: RepResult, first: date, last: date) -> pd.DataFrame:
    """Staff on duty each working day of [first, last], as the replication's rota has them."""
    r = res.rosters
    days = pd.to_datetime(r["day"]).dt.date
    return r.loc[(days >= first) & (days <= last)].reset_index(drop=True)


def frame_times(res: RepResult, first: date, days: int, step: int) -> list[tuple[int, int]]:
    """The picture's frames, as (from, to) minutes of each working day's office hours (from
    half an hour before opening to an hour after closing), `step` apart: nights and weekends
    are skipped, so what arrived then is seen waiting at the next opening."""
    cal, t0 = res.cal, res.cal.minutes_at(first)
    spans = []
    for d in range(days):
        day = t0 + 1440.0 * d
        if cal.is_open(day + cal.open_min):
            spans.append((int(day + cal.open_min - 30), int(day + cal.close_min + 60)))
    return spans


def animation(res: RepResult, first: date, days: int, log: pd.DataFrame | None = None,
              step: int | None = None) -> go.Figure:
    """One replication's `days` from `first`, animated in office hours (`frame_times`)."""
    cal = res.cal
    step = step or (DAY_STEP if days == 1 else WEEK_STEP)
    spans = frame_times(res, first, days, step)
    if not spans:
        raise ValueError(f"no working day from {first} for {days} days: the office is shut")
    origin_min = spans[0][0] // 1440 * 1440  # midnight of the first working day shown
    if log is None:
        log = vidigi_log(res, contacts=np.ones(len(res.contacts), dtype=bool))
    shown = window(log, spans[0][0], spans[-1][1])
    pic = for_picture(shown)
    pic["time"] = pic["time"] - origin_min  # the picture's clock counts from that midnight
    # each day's frames from the contacts present that day only: vidigi filters the log it is
    # given at every frame, so a shorter log is a quicker picture
    snaps = [reshape_for_animations(window(pic, a - origin_min, b - origin_min + 1),
                                    every_x_time_units=step, warm_up=a - origin_min,
                                    limit_duration=b - origin_min, step_snapshot_max=STEP_MAX,
                                    pathway_col_name="pathway") for a, b in spans]
    snaps = pd.concat(snaps, ignore_index=True)
    placed = generate_animation_df(snaps, positions(), step_snapshot_max=STEP_MAX,
                                   wrap_queues_at=WRAP, wrap_resources_at=WRAP,
                                   gap_between_entities=14, gap_between_resources=16,
                                   gap_between_queue_rows=22, gap_between_resource_rows=22)
    # vidigi adds `additional` (the count past the longest queue drawn) only when a queue is over it
    over = placed["additional"].notna() if "additional" in placed.columns else False
    one = ~over & ~placed["_phantom"].astype(bool)
    placed.loc[one, "icon"] = placed.loc[one, "pathway"].map(CHANNEL_ICONS)
    duty = on_duty(res, first, first + timedelta(days=days - 1))
    # a place for each member on duty: the rota's, and the management response's (lent CSWs,
    # the team manager) on the days it worked, whose places come after the day's posts
    used = shown[shown["resource_id"].notna()].groupby("pool")["resource_id"].max()
    staff = {team: max(int(duty[team].max()) if len(duty) else 0, int(used.get(team, 0)))
             for team in TEAM_OF_PLACE.values()}
    origin = cal.epoch + timedelta(minutes=origin_min)
    fig = generate_animation(
        placed, positions(), scenario=staff, plotly_height=720, entity_icon_size=14,
        resource_icon_size=14, text_size=13, gap_between_resource_rows=22, wrap_resources_at=WRAP,
        gap_between_resources=16, time_display_units="%a %d %b %Y %H:%M",
        start_date=origin.strftime("%Y-%m-%d"), frame_duration=250, frame_transition_duration=200,
        override_x_max=1450, override_y_max=720, hover_text_entity=None)
    times = sorted(placed["snapshot_time"].unique())
    if len(times) == len(fig.frames):
        words = [_status(res, origin_min + float(t)) for t in times]
        add_synchronised_trace(fig, lambda _name, i: go.Scatter(
            x=[40], y=[708], mode="text", text=[words[i]], textposition="middle right",
            textfont={"size": 13}, hoverinfo="skip", showlegend=False))
    return fig


def _status(res: RepResult, t: float) -> str:
    """The office's state at minute t and who is on duty that day, as the rota has them."""
    cal = res.cal
    day = cal.epoch + timedelta(days=int(t // 1440))
    row = res.rosters[pd.to_datetime(res.rosters["day"]).dt.date == day]
    state = "Office open" if cal.is_open(t) else "Office closed"
    if row.empty:
        return state
    r = row.iloc[0]
    duty = [f"{int(r[team])} {word}" for team, word in STAFF_WORDS.items() if int(r[team]) > 0]
    return f"{state}; on duty today: {', '.join(duty)}"


def sankey(log: pd.DataFrame) -> go.Figure:
    """The directly-follows map as a Sankey: each route's width is its count of contacts."""
    dfg = directly_follows(log)
    nodes = list(dict.fromkeys([*dfg["source"], *dfg["target"]]))
    index = {n: i for i, n in enumerate(nodes)}
    label = [f"decided: {OUTCOME_WORDS.get(n.split(': ', 1)[1], 'still open when the run stops')}"
             if is_departure(n) else STEP_WORDS.get(n, n) for n in nodes]
    return go.Figure(go.Sankey(
        node={"label": label, "pad": 12},
        link={"source": dfg["source"].map(index), "target": dfg["target"].map(index),
              "value": dfg["count"],
              "customdata": dfg["median_minutes"].round(0),
              "hovertemplate": "%{source.label} to %{target.label}: %{value} contacts,"
                               " median %{customdata} min<extra></extra>"}))


def bench() -> float:
    """Seconds to draw a week of one baseline replication (from Monday 7 August 2023), from its
    result to the finished figure (the event log included); a day's too, for comparison."""
    # here: only the benchmark runs a replication itself
    from sim.model.replication import simulate
    from sim.scenario.loading import LIBRARY, load

    res = simulate(load(LIBRARY / "baseline.yaml"), 12345, 0)
    took = 0.0
    for days, what in ((7, "a week"), (1, "a day")):
        t, cpu = time.perf_counter(), time.process_time()
        fig = animation(res, date(2023, 8, 7), days)
        wall = time.perf_counter() - t
        took = took or wall
        print(f"{what} of one replication: {len(fig.frames)} frames in {wall:.1f} s"
              f" ({time.process_time() - cpu:.1f} s of processor time)")
    return took


if __name__ == "__main__":
    bench()
