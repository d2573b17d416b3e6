"""Children, families and their histories: who each contact is about, and who comes back.

The front door's contacts arrive as independent streams, each with its outcome fixed by its own
random numbers. Which child a contact is about is decided here, after the run, from the
contacts' own times, outcomes and per-contact random numbers, so it never changes what the
front door did:

* **Concerns and siblings.** A concern is one family's worry reaching the front door; it names
  one or more siblings, and each sibling is a contact of its own (as the service records them).
  The contacts of one stream (source x channel) with the same front-door outcome are taken in
  arrival order and cut into concerns whose sizes are drawn from `children.concern_size`, so
  siblings share their source, channel and outcome and arrive close together.
* **Coming back.** When a family's episode ends (the decision, or the end of the assessment,
  child in need plan or child protection plan), the family comes back with a probability set by
  how the episode ended, after a random gap, either as a referral or as another contact (both by
  the outcome of the last episode). A family due back takes the next concern of that kind that
  arrives and is not already taken (first due, first served), so the number and outcomes of
  contacts stay exactly those of the front door while the history decides who they are about.
* **Warm start.** Before the simulation starts, `children.history_months` of concerns are
  generated from rates (the scenario's monthly contacts, its outcome shares, concern sizes and
  downstream shares), so children referred in July 2023 can have a referral in the previous 12
  months.

Everything random comes from named streams (sim/model/rng.py): each simulated contact carries its own
draws (CHILD_DRAWS); the history has its own stream.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sim.scenario.schema import CONCERN_SIZES
from sim.scenario.schema import RETURN_CATEGORIES as CATEGORIES  # noqa: F401 - index order of categories

MAX_SIBLINGS = 8  # children per family index block (concern sizes are at most 4)
REREFERRAL_WINDOW_DAYS = 365  # "within 12 months of the previous referral"


def sizes_from(u: np.ndarray, shares: dict[str, float]) -> np.ndarray:
    """Children named in a concern (1 to 4) from uniforms and the concern-size shares."""
    cum = np.cumsum([shares[k] for k in CONCERN_SIZES])
    return np.minimum(np.searchsorted(cum, u, side="right"), 3).astype(np.int64) + 1


def group_concerns(key: np.ndarray, time: np.ndarray, size: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut contacts into concerns: consecutive contacts of one group (key) in time order.

    Within a group, the j-th concern names `size` of the group's j-th contact children (the
    last concern of a group takes what is left). Returns, per contact, the concern index
    (concerns numbered by the time of their first contact) and the contact's position in its
    concern; and per concern the index of its first contact.
    """
    n = len(key)
    if n == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    order = np.lexsort((time, key))
    ks = key[order]
    first = np.concatenate(([True], ks[1:] != ks[:-1]))
    g_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))  # group start of each position
    g_end = np.concatenate((np.flatnonzero(first)[1:], [n]))[np.cumsum(first) - 1]
    s = size[order].astype(np.int64)
    cum = np.cumsum(s)
    before = np.where(g_start > 0, cum[g_start - 1], 0)
    # the concern started by the group's j-th size begins after the sizes before it
    starts = g_start + (cum - s - before)
    ok = starts < g_end
    is_head = np.zeros(n, dtype=bool)
    is_head[starts[ok]] = True
    sorted_concern = np.cumsum(is_head) - 1
    heads = np.flatnonzero(is_head)
    position = np.arange(n) - heads[sorted_concern]
    concern = np.empty(n, dtype=np.int64)
    pos = np.empty(n, dtype=np.int64)
    concern[order] = sorted_concern
    pos[order] = position
    head = order[heads]
    # renumber concerns by the arrival time of their first contact
    rank = np.empty(len(head), dtype=np.int64)
    by_time = np.argsort(time[head], kind="stable")
    rank[by_time] = np.arange(len(head))
    return rank[concern], pos, head[by_time]


def history_days(epoch: date, months: int) -> int:
    """Days from the start of the generated history to the simulation start (epoch)."""
    y, m = epoch.year, epoch.month - int(months)
    while m < 1:
        y, m = y - 1, m + 12
    return (epoch - date(y, m, min(epoch.day, 28))).days


def match_returns(t: np.ndarray, cls: np.ndarray, due: np.ndarray, due_cls: np.ndarray
                  ) -> np.ndarray:
    """For each concern, the concern whose family it is a return of (-1: a new family).

    `t`, `cls`: each concern's time and kind (1 referral, 0 other contact). `due`, `due_cls`:
    for each concern, when its family is due back (NaN: not coming back) and as which kind.
    Within each kind, families due back take the next arriving concerns of that kind, first
    due first served: after arrival j the number of matched returns is
    M_j = min(M_{j-1} + 1, D(t_j)), with D(t) the returns due by time t, whose solution is
    M_j = j + 1 + min(0, min_{i<=j}(D(t_i) - i - 1)); arrival j is a return iff M_j > M_{j-1},
    and it takes the M_j-th due return.
    """
    pred = np.full(len(t), -1, dtype=np.int64)
    for c in (0, 1):
        arr = np.flatnonzero(cls == c)
        arr = arr[np.argsort(t[arr], kind="stable")]
        dues = np.flatnonzero((due_cls == c) & np.isfinite(due))
        dues = dues[np.argsort(due[dues], kind="stable")]
        if len(arr) == 0 or len(dues) == 0:
            continue
        d_count = np.searchsorted(due[dues], t[arr], side="right")
        j = np.arange(len(arr))
        m = j + 1 + np.minimum(0, np.minimum.accumulate(d_count - j - 1))
        prev = np.concatenate(([0], m[:-1]))
        took = m > prev
        pred[arr[took]] = dues[m[took] - 1]
    return pred


def family_roots(pred: np.ndarray) -> np.ndarray:
    """Follow each concern's chain of returns back to the family's first concern."""
    root = np.where(pred < 0, np.arange(len(pred)), pred)
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def previous_referral_gap(child: np.ndarray, when: np.ndarray) -> np.ndarray:
    """For each referral (child, time): minutes since the same child's previous referral."""
    order = np.lexsort((when, child))
    c, w = child[order], when[order]
    gap = np.full(len(child), np.nan)
    same = np.concatenate(([False], c[1:] == c[:-1]))[:len(c)]
    g = np.full(len(c), np.nan)
    g[same] = w[same] - np.concatenate(([np.nan], w[:-1]))[same]
    gap[order] = g
    return gap


def earlier_plan(child: np.ndarray, order: np.ndarray, plan_start: np.ndarray, when: np.ndarray
                 ) -> np.ndarray:
    """For each case (child, `order` time): whether an earlier case of the same child (earlier
    by `order`, the referral time) had a child protection plan start before `when`.

    `plan_start` is NaN for a case without a plan. A family's concerns follow one another
    (a family comes back only after its episode ends), so an earlier referral's plan is the
    child's history and a later one's is not.
    """
    n = len(child)
    if n == 0:
        return np.zeros(0, dtype=bool)
    idx = np.lexsort((order, child))
    c = child[idx]
    ps = np.where(np.isfinite(plan_start), plan_start, np.inf)[idx]
    first = np.concatenate(([True], c[1:] != c[:-1]))
    prev = np.concatenate(([np.inf], ps[:-1]))
    prev[first] = np.inf  # nothing before a child's first case
    group = np.cumsum(first)
    earliest = pd.Series(prev).groupby(group).cummin().to_numpy()
    out = np.empty(n, dtype=bool)
    out[idx] = earliest < when[idx]
    return out
