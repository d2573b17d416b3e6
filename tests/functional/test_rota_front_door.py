"""The rota in the running front door (sim/model/frontdoor.py Pool): a member starts work only
on a day on duty, never inside a block of the day away they were free for, and the run's rota
table counts a day below cover rather than hiding it."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
import pytest

from sim.model.frontdoor import FrontDoorModel
from tests.helpers import variant

SHORT = {"warmup_days": {"value": 28}, "cooldown_days": {"value": 7}}
SERVING = ("csw", "ps", "da_hub")


def _run(overrides: dict, seed: int = 3, **run):
    sc = variant({"run": SHORT, **overrides}, **(run or {"start": "2023-07-01", "end": "2023-07-31"}))
    model = FrontDoorModel(sc, seed, 0)
    return model, model.run()


def _blocks_run(blocks: int, share: float | None):
    over = {"staff": {p: {"rota": {"away_blocks": {"value": blocks}},
                          **({"productive_share": {"value": share, "range": [0, 1]}} if share else {})}
                      for p in SERVING}}
    return _run(over)


def _tasks_by_member(model: FrontDoorModel, res, pool: str) -> dict[int, list[tuple[int, float, float]]]:
    """Each member's tasks started in the run: (working day, start, end; end inf if still open)."""
    st, closes = res.stages, model.cal.closes
    mine = st[(st["pool"] == pool) & np.isfinite(st["start"]) & (st["server"] >= 0)]
    out: dict[int, list[tuple[int, float, float]]] = {}
    for start, end, sid in zip(mine["start"], mine["end"], mine["server"], strict=True):
        out.setdefault(int(sid), []).append((bisect_right(closes, start), float(start),
                                             np.inf if np.isnan(end) else float(end)))
    return out


def test_a_member_starts_work_only_on_a_day_on_duty_in_office_hours():
    """... or in the overtime the management response granted them after that day's close."""
    model, res = _blocks_run(2, None)
    opens, closes = model.cal.opens, model.cal.closes
    started = overtime = 0
    for pool in SERVING:
        on, granted = model.pools[pool].on, model.pools[pool].overtime
        for sid, tasks in _tasks_by_member(model, res, pool).items():
            for k, start, _ in tasks:
                if k > 0 and start < closes[k - 1] + granted.get((k - 1, sid), 0.0):
                    overtime += 1  # started in the overtime granted on the day before
                    assert on[k - 1][sid]
                    continue
                assert on[k][sid], f"{pool} member {sid} started a task on working day {k} off duty"
                assert opens[k] <= start < closes[k]
                started += 1
    assert started > 1000 and overtime < started / 10


def _blocks_and_tasks(model: FrontDoorModel, res):
    """Each block of each serving member's day, with that member's task starts and ends."""
    for pool in SERVING:
        p = model.pools[pool]
        for sid, tasks in _tasks_by_member(model, res, pool).items():
            starts = np.array([s for _, s, _ in tasks])
            ends = np.array([e for _, _, e in tasks])
            for k, row in enumerate(p.blocks):
                for due, length in row[sid]:
                    yield pool, sid, k, due, length, starts, ends


@pytest.mark.parametrize(("blocks", "share"), [(2, None), (3, 0.45)])
def test_a_member_never_starts_a_task_inside_a_block_they_were_free_for(blocks, share):
    """A block due while the member is between tasks runs from its due time for its length."""
    model, res = _blocks_run(blocks, share)
    checked = 0
    for pool, sid, k, due, length, starts, ends in _blocks_and_tasks(model, res):
        if np.any((starts < due) & (ends > due)):  # in a task when it fell due
            continue
        inside = starts[(starts >= due) & (starts < due + length - 1e-9)]
        assert not len(inside), (
            f"{pool} member {sid} started a task at {inside[0]:.1f} inside the block"
            f" {due:.1f}+{length:.1f} of working day {k}")
        checked += 1
    assert checked > 500


def test_a_block_due_while_busy_is_taken_in_full_once_the_task_in_hand_is_done():
    model, res = _blocks_run(3, 0.45)
    checked = 0
    for pool, sid, k, due, length, starts, ends in _blocks_and_tasks(model, res):
        hand = np.flatnonzero((starts < due) & (ends > due))
        if not len(hand) or not np.isfinite(ends[hand[0]]):
            continue
        done = ends[hand[0]]
        inside = starts[(starts >= done) & (starts < done + length - 1e-9)]
        assert not len(inside), (
            f"{pool} member {sid} started a task at {inside[0]:.1f}, inside the block"
            f" due {due:.1f} taken from {done:.1f} for {length:.1f} (working day {k})")
        checked += 1
    assert checked > 200


def test_the_run_counts_each_day_below_cover_in_its_rota_table():
    """August at 5 consultant posts less 15% vacancy: 5 posts held, below the cover of 6, every
    day; the table's cover_kept is on duty >= min_cover, day by day."""
    over = {"staff": {"csw": {"establishment": {"value": {"2023-08": 5}, "default": 12, "range": [0, 20]}}}}
    model, res = _run(over, start="2023-07-01", end="2023-08-31")
    r = res.rota
    csw = r[r["pool"] == "csw"]
    august = (csw["day"] >= np.datetime64("2023-08-01")) & (csw["day"] <= np.datetime64("2023-08-31"))
    assert august.sum() >= 20 and not csw.loc[august, "cover_kept"].any()
    for pool in ("csw", "ps", "da_hub"):
        t = r[r["pool"] == pool]
        kept = t["on_duty"].to_numpy() >= t["min_cover"].to_numpy()
        assert np.array_equal(t["cover_kept"].to_numpy(), kept)
        assert np.array_equal(t["on_duty"].to_numpy(), np.asarray(model.pools[pool].duty))
