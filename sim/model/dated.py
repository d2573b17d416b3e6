"""The run as spells of settings, and reading a setting from the spell in force.

A scenario's dated changes (sim.scenario.changes) cut the run into spells in each of which every
setting holds one value: a `Timeline` holds each spell's first day and validated scenario.
Contacts take the settings in force when they arrive, staff rosters those of their day, a
referral's pathway those of its referral, so a month's entry of a monthly setting and a dated
change from the first of that month are one thing to the model and give the same numbers. With
no dated changes there is one spell and every function here returns exactly what reading the
scenario directly would.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from sim.model.calendar import WorkCalendar
from sim.scenario import changes
from sim.scenario.schema import Scenario, ScenarioError, validate


@dataclass(frozen=True)
class Timeline:
    """The run as spells: `starts[k]` is the first day of spell k (the first is `date.min`),
    `scenarios[k]` the scenario in force through it."""

    starts: tuple[date, ...]
    scenarios: tuple[Scenario, ...]

    def index(self, day: date) -> int:
        """The spell in force on `day`."""
        return bisect.bisect_right(self.starts, day) - 1

    def on(self, day: date) -> Scenario:
        """The scenario in force on `day`."""
        return self.scenarios[self.index(day)]

    @property
    def constant(self) -> bool:
        return len(self.scenarios) == 1


def build(sc: Scenario) -> Timeline:
    """The spells of a scenario's run and the validated scenario of each (one if no changes)."""
    if not sc.changes:
        return Timeline((date.min,), (sc,))
    starts = [date.min, *changes.spell_starts(sc)]
    scenarios = [sc]
    for day in starts[1:]:
        try:
            scenarios.append(validate(changes.doc_on(sc, day), f"{sc.name} on {day}"))
        except ScenarioError as exc:
            acting = [j for j, ch in enumerate(sc.changes) if ch.from_date <= day]
            named = [j for j in acting if f" {sc.changes[j].setting}" in str(exc)]
            i = (named or acting)[-1]  # the change the message names, else the latest in force
            raise ScenarioError(f"{changes.label_of(i, sc.changes[i])}: {exc}") from None
    return Timeline(tuple(starts), tuple(scenarios))


_BUILT: dict[int, tuple[Scenario, Timeline]] = {}


def timeline(sc: Scenario) -> Timeline:
    """`build`, kept for the scenario object so the parts of one replication build it once."""
    hit = _BUILT.get(id(sc))
    if hit is not None and hit[0] is sc:
        return hit[1]
    tl = build(sc)
    if len(_BUILT) > 64:
        _BUILT.clear()
    _BUILT[id(sc)] = (sc, tl)
    return tl


def spell_of_times(tl: Timeline, cal: WorkCalendar, minutes: np.ndarray) -> np.ndarray:
    """The spell in force at each time (minutes since the epoch; before the epoch, or NaN, the
    first spell: histories and work open at the start take the settings the run starts with)."""
    if tl.constant:
        return np.zeros(len(minutes), dtype=np.int64)
    edges = np.array([(d - cal.epoch).days * 1440.0 for d in tl.starts[1:]])
    t = np.where(np.isnan(minutes), -np.inf, minutes)
    return np.searchsorted(edges, t, side="right").astype(np.int64)


def spell_of_days(tl: Timeline, days: Sequence[date]) -> np.ndarray:
    """The spell in force on each day."""
    if tl.constant:
        return np.zeros(len(days), dtype=np.int64)
    return np.array([tl.index(d) for d in days], dtype=np.int64)


def values(tl: Timeline, spell: np.ndarray, get: Callable[[Scenario], float]) -> float | np.ndarray:
    """One number per item (its spell's setting); the number itself when there is one spell."""
    if tl.constant:
        return get(tl.scenarios[0])
    return np.array([get(s) for s in tl.scenarios])[spell]


def by_spell(tl: Timeline, spell: np.ndarray, fn: Callable[[Scenario, np.ndarray], np.ndarray],
             n: int) -> np.ndarray:
    """fn(scenario, items) for the items of each spell, put together in item order (fn is
    elementwise in the items, so one spell gives what fn gives on all of them)."""
    if tl.constant:
        return fn(tl.scenarios[0], np.arange(n))
    out: np.ndarray | None = None
    for k, s in enumerate(tl.scenarios):
        idx = np.flatnonzero(spell == k)
        if out is not None and not len(idx):
            continue
        part = fn(s, idx)
        if out is None:
            out = np.empty((n, *part.shape[1:]), dtype=part.dtype)
        out[idx] = part
    assert out is not None
    return out
