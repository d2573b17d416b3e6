"""One replication's journeys as an event log in the schema of the `vidigi` package (2.x).

The log is long (one row per event) where `events.csv` is wide (one row per contact), so
standard tools can animate it or mine its process: vidigi's `animate_activity_log` and
`discover_dfg`, or any process-mining tool that reads a case id, an activity and a time.

* A contact is an entity (`entity_id`, the model's contact number); its channel is the
  `pathway`; `run_number` is the replication.
* `arrival` and `depart` (`event_type` `arrival_departure`) open and close every entity. The
  departure is the decision (EDT, screening, conversation, direction or co-triage settling
  it); a contact still open when the simulation stops departs at the stop, with `outcome`
  `open_at_end`, so every entity departs exactly once.
* A wait is a `queue` event named `wait_<task>`: for a consultant social worker on the phone
  (`wait_conversation`), for the practice supervisors (`wait_email_screen`,
  `wait_ppn_screen`, `wait_direction`), for the DA hub (`wait_da_screen`), for the officer and
  supervisor pair (`wait_cotriage`), for the next daily risk assessment meeting (`wait_dram`)
  and, after a caller hangs up, to call back (`wait_callback`).
* A task in hand is `resource_use` (`<task>_begins`) and `resource_use_end` (`<task>_ends`)
  by one staff member: `resource_id` is the member's place among their team's members on
  duty the day the task began (1 to that day's count, the stages' `place` plus one; a
  co-triage discussion's, its supervisor's place, the pairs' being the lowest), as vidigi draws
  a team's members in places 1 to the most on duty; `pool` is the team and `staff` the member
  by their number in the team (`csw-3`, the same member every day, where the place is the same
  only within a day). A task still in hand when the simulation stops ends at the stop.
* `time` is minutes since the simulation's epoch (midnight at the start of the warm-up);
  `timestamp` the same instant as a date and time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.results import RepResult

COLUMNS = ("entity_id", "event_type", "event", "time", "pathway", "run_number", "resource_id",
           "timestamp", "pool", "staff", "source", "outcome")
EVENT_TYPES = ("arrival_departure", "queue", "resource_use", "resource_use_end")
OPEN_AT_END = "open_at_end"
# order of a stage's rows when they share an instant: waiting, then served, then ended
_QUEUE, _BEGINS, _ENDS, _CALLBACK = range(4)


def in_period(res: RepResult) -> np.ndarray:
    """The contacts that arrived in the reported period: those `events.csv` lists."""
    sc, cal, arrival = res.scenario, res.cal, res.contacts["arrival"].to_numpy()
    t0, t1 = cal.minutes_at(sc.run.start), cal.minutes_at(sc.run.end) + 1440.0
    return (arrival >= t0) & (arrival < t1)


def vidigi_log(res: RepResult, contacts: np.ndarray | None = None) -> pd.DataFrame:
    """The event log of the contacts selected by the boolean mask `contacts` (default: those
    that arrived in the reported period), one row per event, each entity's rows in order."""
    c = res.contacts
    keep = in_period(res) if contacts is None else np.asarray(contacts, dtype=bool)
    ids = c["id"].to_numpy()[keep]
    stop = float(res.cal.horizon)
    parts = [_contact_rows(c.loc[keep], stop), _stage_rows(res, ids, stop)]
    log = pd.concat([p for p in parts if len(p)], ignore_index=True)
    log = log.sort_values(["entity_id", "block", "sub"], kind="stable", ignore_index=True)
    channel = c.set_index("id")["channel"]
    source = c.set_index("id")["source"]
    log["pathway"] = channel.reindex(log["entity_id"]).to_numpy()
    log["source"] = source.reindex(log["entity_id"]).to_numpy()
    log["run_number"] = res.rep
    log["resource_id"] = log["resource_id"].astype("Int64")
    log["timestamp"] = pd.to_datetime(res.cal.to_datetime(log["time"].to_numpy()))
    return log[list(COLUMNS)]


def _contact_rows(c: pd.DataFrame, stop: float) -> pd.DataFrame:
    """Each contact's arrival, departure and (a domestic PPN) hold for the daily meeting."""
    ids = c["id"].to_numpy()
    arrival = c["arrival"].to_numpy(dtype=float)
    decided = c["decided"].to_numpy(dtype=float)
    open_end = ~np.isfinite(decided)
    outcome = np.where(open_end, OPEN_AT_END, c["outcome"].to_numpy(dtype=object))
    held = (c["channel"].to_numpy() == "ppn_domestic") & ~c["edt"].to_numpy(dtype=bool)
    n, h = len(ids), int(held.sum())
    return pd.DataFrame({
        "entity_id": np.concatenate((ids, ids, ids[held])),
        "event_type": ["arrival_departure"] * (2 * n) + ["queue"] * h,
        "event": ["arrival"] * n + ["depart"] * n + ["wait_dram"] * h,
        "time": np.concatenate((arrival, np.where(open_end, stop, decided), arrival[held])),
        "resource_id": np.full(2 * n + h, np.nan),
        "pool": [""] * (2 * n) + ["da_hub"] * h,
        "staff": [""] * (2 * n + h),
        "outcome": np.concatenate((np.full(n, "", dtype=object), outcome, np.full(h, "", dtype=object))),
        "block": np.concatenate((np.full(n, -1), np.full(n, np.iinfo(np.int32).max), np.full(h, -1))),
        "sub": np.concatenate((np.zeros(n), np.zeros(n), np.ones(h))),
    })


def _stage_rows(res: RepResult, ids: np.ndarray, stop: float) -> pd.DataFrame:
    """Each task's wait, start and end, and each hung-up call's wait to call back."""
    s = res.stages[np.isin(res.stages["contact"].to_numpy(), ids)]
    s = s.sort_values(["contact", "enqueued"], kind="stable", ignore_index=True)
    if s.empty:
        return pd.DataFrame()
    contact = s["contact"].to_numpy()
    kind = s["kind"].to_numpy(dtype=object)
    pool = s["pool"].to_numpy(dtype=object)
    start, end = s["start"].to_numpy(dtype=float), s["end"].to_numpy(dtype=float)
    abandoned = s["abandoned"].to_numpy(dtype=bool)
    place = s["place"].to_numpy(dtype=np.int64) + 1
    member = s["server"].to_numpy(dtype=np.int64) + 1
    block = s.groupby("contact").cumcount().to_numpy()
    # a caller who hung up waits to call back if their next task is another call, or if they
    # were still waiting to call back when the simulation stopped
    nxt = np.roll(kind, -1)
    last = np.roll(contact, -1) != contact
    last[-1] = True
    waiting_at_end = res.contacts.set_index("id")["open_state"].reindex(contact).to_numpy(dtype=str)
    callback = abandoned & np.where(last, np.char.find(waiting_at_end, "awaiting_callback") >= 0,
                                    nxt == "conversation")
    served = np.isfinite(start)
    frames = [
        _rows(contact, "queue", np.char.add("wait_", kind.astype(str)), s["enqueued"].to_numpy(),
              pool, None, block, _QUEUE, np.ones(len(s), dtype=bool)),
        _rows(contact, "resource_use", np.char.add(kind.astype(str), "_begins"), start, pool,
              (place, member), block, _BEGINS, served),
        _rows(contact, "resource_use_end", np.char.add(kind.astype(str), "_ends"),
              np.where(np.isfinite(end), end, stop), pool, (place, member), block, _ENDS, served),
        _rows(contact, "queue", np.full(len(s), "wait_callback"), end, np.full(len(s), "csw"),
              None, block, _CALLBACK, callback),
    ]
    return pd.concat(frames, ignore_index=True)


def _rows(contact: np.ndarray, event_type: str, event: np.ndarray, time: np.ndarray,
          pool: np.ndarray, who: tuple[np.ndarray, np.ndarray] | None, block: np.ndarray, sub: int,
          mask: np.ndarray) -> pd.DataFrame:
    """`who`: each row's member as (place on duty, number in the team), both from 1."""
    n = int(mask.sum())
    rid = np.full(n, np.nan) if who is None else who[0][mask].astype(float)
    staff = (np.full(n, "", dtype=object) if who is None
             else np.char.add(np.char.add(pool[mask].astype(str), "-"), who[1][mask].astype(str)))
    return pd.DataFrame({"entity_id": contact[mask], "event_type": event_type, "event": event[mask],
                         "time": time[mask], "resource_id": rid, "pool": pool[mask], "staff": staff,
                         "outcome": "", "block": block[mask], "sub": np.full(n, sub)})


def window(log: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    """The whole history of every entity present at some instant of [start, end): the pre-filter
    an animation of that window needs (an entity's earlier rows say where it is)."""
    ad = log[log["event_type"] == "arrival_departure"]
    arrive = ad[ad["event"] == "arrival"].set_index("entity_id")["time"]
    depart = ad[ad["event"] == "depart"].set_index("entity_id")["time"]
    present = arrive.index[(arrive < end) & (depart.reindex(arrive.index) >= start)]
    return log[log["entity_id"].isin(present)].reset_index(drop=True)
