"""A directly-follows process map of one replication, from its vidigi event log.

Each contact's steps in order: `arrival`, each wait (`wait_conversation`) and each task begun
(`conversation`; its end is the start of what follows, so it is not a step of its own), and
the decision it left with (`depart: referral`, ..., `depart: open_at_end`; straight from
`arrival` is the emergency duty team out of hours). A row counts how many times one step was
directly followed by another and how long that took, so an analyst can check the routes and
their volumes against the service's own map. Every contact starts at `arrival` and ends at one
`depart: ...` step, so the flows out of `arrival`, and those into the departures, both equal
the number of contacts, and every other step has as many flows in as out.
"""

from __future__ import annotations

import pandas as pd

ARRIVAL = "arrival"
DEPART = "depart: "
COLUMNS = ("source", "target", "count", "mean_minutes", "median_minutes")


def steps(log: pd.DataFrame) -> pd.DataFrame:
    """The log's steps in each entity's order (the log is in that order already)."""
    s = log[log["event_type"] != "resource_use_end"]
    step = s["event"].str.removesuffix("_begins")
    step = step.where(s["event"] != "depart", DEPART + s["outcome"].astype(str))
    return pd.DataFrame({"entity_id": s["entity_id"].to_numpy(), "step": step.to_numpy(),
                         "time": s["time"].to_numpy()})


def directly_follows(log: pd.DataFrame) -> pd.DataFrame:
    """Counts of each step directly followed by another, with the minutes between them."""
    s = steps(log)
    nxt = s.groupby("entity_id", sort=False).shift(-1)
    pairs = pd.DataFrame({"source": s["step"], "target": nxt["step"],
                          "minutes": nxt["time"] - s["time"]}).dropna(subset=["target"])
    out = (pairs.groupby(["source", "target"], sort=True)["minutes"]
           .agg(count="size", mean_minutes="mean", median_minutes="median").reset_index())
    out["count"] = out["count"].astype(int)
    return out.sort_values(["count", "source", "target"], ascending=[False, True, True],
                           ignore_index=True)[list(COLUMNS)]


def is_departure(step: str) -> bool:
    return step.startswith(DEPART)
