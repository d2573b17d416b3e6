"""Dated changes: checking them, and the scenario document in force on a day.

A scenario's `changes:` entries say that a setting takes a new value from a date, or moves to it
in equal daily steps between two dates (sim.scenario.params.Change). This module checks each
entry against the whole scenario, one line naming the entry when it cannot be used, and gives
the days on which some setting changes (`spell_starts`) and the document in force on a day
(`doc_on`); sim.model.dated turns them into the run's spells, each with its validated
scenario. The model reads every setting it uses from the spell in force (a contact's settings
from its arrival, a staff roster's from its day, a referral's from its referral), so a month's
entry of a monthly setting and a dated change from the first of that month are the same thing
to the model and give the same numbers.

A change on a monthly setting holds from its date on in place of the months the file states;
a ramp starts from the value in force on its first date. Settings read once for the whole run
(the run's own settings, the calendar, work open at the start, how far histories reach, the
targets the measures count against, meeting and assessment capacities) refuse a dated change
and say so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sim.scenario import docpaths as paths
from sim.scenario.errors import ScenarioError
from sim.scenario.params import Change, Monthly, Scalar, Shares, Vector

Scenario = Any  # a validated sim.scenario.schema.Scenario (that module imports this one)
Validate = Callable[[dict, str], Any]

# The settings a dated change can reach: a dotted path must start with one of these. Each is
# read by the model from the spell in force where it acts (see the module docstring).
TIMED = (
    "demand.", "staff.", "service.", "ppn.", "abandonment.patience_minutes.",
    "abandonment.callback_share", "abandonment.callback_delay_minutes.", "da_hub.dram_hour",
    "cotriage.minutes.", "cotriage.closed_share", "cotriage.screen_effort_after", "outcomes.",
    "downstream.strategy_share_of_referrals", "downstream.s47_share_of_strategy",
    "downstream.strategy_meetings.injury_share", "downstream.strategy_meetings.chairs.",
    "downstream.icpc.share_of_s47", "downstream.icpc.plan_share", "downstream.icpc.chairs.",
    "downstream.assessments.share_of_referrals", "downstream.assessments.outcomes",
    "downstream.assessments.team.", "downstream.assessments.caseload_limit",
    "children.returns.",
)
TIMED_TEXT = ("demand, staffing (any pool, and the downstream chairs and assessment team), task"
              " times, PPN quality, callers who hang up, the DRAM hour, co-triage times and shares,"
              " outcomes of contacts, the shares after a referral, the assessment caseload limit and"
              " returns")


def _timed(path: str) -> bool:
    return any(path == p.rstrip(".") or path.startswith(p) for p in TIMED)


def _node(sc: Scenario, keys: tuple[str, ...]) -> Any:
    """The parameter object at `keys` in the validated scenario."""
    node: Any = sc
    for k in keys:
        node = node[k] if isinstance(node, dict) else getattr(node, k)
    return node


def _current(param: Any, day: date) -> Any:
    """The value a parameter holds on `day`, in the shape a change gives it."""
    if isinstance(param, Monthly):
        return param.at(day.year, day.month)
    if isinstance(param, Shares):
        return dict(param.value)
    return param.value


def _hull(a: Any, b: Any) -> Any:
    """The smallest range holding both ranges (per share for named ranges)."""
    if isinstance(a, dict):
        return {k: _hull(a[k], b[k]) for k in a}
    return (min(a[0], b[0]), max(a[1], b[1]))


def _between(v0: Any, v1: Any, f: float) -> Any:
    """The value a share `f` of the way from v0 to v1 (entry by entry)."""
    if isinstance(v1, dict):
        return {k: v0[k] + (v1[k] - v0[k]) * f for k in v1}
    if isinstance(v1, tuple):
        return tuple(a + (b - a) * f for a, b in zip(v0, v1, strict=True))
    return v0 + (v1 - v0) * f


def _clip(value: Any, rng: Any) -> Any:
    """A ramp's value kept inside its range (float rounding must not step outside it)."""
    if isinstance(value, dict):
        return {k: min(max(v, rng[k][0]), rng[k][1]) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(min(max(v, rng[0]), rng[1]) for v in value)
    return min(max(value, rng[0]), rng[1])


def _as_node(param: Any, change: Change, value: Any, rng: Any) -> dict:
    """The setting's document node holding `value` from the change on."""
    meta = {"unit": change.unit or param.unit, "provenance": change.provenance,
            "source": change.source, "note": change.note}
    if isinstance(param, Monthly):
        return {"value": {}, "default": value, "range": tuple(rng), "steps": {}, **meta}
    if isinstance(param, Vector):
        return {"value": tuple(value), "range": tuple(rng), **meta}
    if isinstance(param, Shares):
        return {"value": dict(value), "range": {k: tuple(r) for k, r in rng.items()}, **meta}
    return {"value": value, "range": tuple(rng), **meta}


def label_of(i: int, ch: Change) -> str:
    """How every refusal names a change: its place in the list, its setting and its dates."""
    when = f"from {ch.from_date}" + (f" to {ch.to_date}" if ch.to_date else "")
    return f"changes.{i} ({ch.setting} {when})"


def _check_shape(param: Any, ch: Change) -> str | None:
    """Why the change's value cannot be this setting's, or None."""
    if isinstance(param, Shares):
        if not isinstance(ch.value, dict) or set(ch.value) != set(param.value):
            return f"this setting is a set of shares; give value and range for each of {sorted(param.value)}"
    elif isinstance(param, Vector):
        if not isinstance(ch.value, tuple) or len(ch.value) != len(param.value):
            k = len(param.value)
            return f"this setting is a profile of {k} weights; give value as a list of {k}"
    elif isinstance(ch.value, dict | tuple):
        return "this setting is one number; give value as a number"
    return None


def check(sc: Scenario, validate: Validate) -> None:
    """Refuse, with one line naming the entry, a dated change the scenario cannot take."""
    spans: dict[str, list[tuple[date, date, int]]] = {}
    for i, ch in enumerate(sc.changes):
        label = label_of(i, ch)
        keys = paths.parts(ch.setting)
        try:
            paths.get(sc.model_dump(mode="python"), keys)
        except paths.PathError as exc:
            raise ScenarioError(f"{label}: {exc}") from None
        if not _timed(ch.setting):
            raise ScenarioError(f"{label}: this setting is read once for the whole run and cannot take"
                                f" a dated change; settings that can: {TIMED_TEXT}")
        param = _node(sc, keys)
        if not isinstance(param, Scalar | Monthly | Shares | Vector):
            raise ScenarioError(f"{label}: not a single number, monthly number, profile or set of"
                                f" shares (name the part that is, for example {ch.setting}.mean)")
        problem = _check_shape(param, ch)
        if problem:
            raise ScenarioError(f"{label}: {problem}")
        last = ch.to_date or ch.from_date
        for a, b, j in spans.get(ch.setting, []):
            if a <= last and ch.from_date <= b:
                raise ScenarioError(f"{label}: overlaps changes.{j} of the same setting; give each"
                                    " setting's changes one after another")
        spans.setdefault(ch.setting, []).append((ch.from_date, last, i))
        try:  # the value against the setting's own limits and the rest of the scenario
            validate(doc_on(sc, last, only=ch), "scenario")
        except ScenarioError as exc:
            raise ScenarioError(f"{label}: {str(exc).removeprefix('scenario: ')}") from None
    # every change in force together, on each day one starts or ends (between those days
    # settings move linearly, so a scenario valid at both ends of a stretch is valid inside it)
    for day in sorted({d for ch in sc.changes for d in (ch.from_date, ch.to_date) if d is not None}):
        try:
            validate(doc_on(sc, day), "scenario")
        except ScenarioError as exc:
            i = max(j for j, ch in enumerate(sc.changes) if day in (ch.from_date, ch.to_date))
            raise ScenarioError(f"{label_of(i, sc.changes[i])}: with the changes in force on {day}:"
                                f" {str(exc).removeprefix('scenario: ')}") from None


def check_dates(sc: Scenario, origin: str) -> None:
    """Refuse a file whose dated changes fall outside its own run, with one line naming the entry.

    Checked where a file is read (sim.scenario.loading), not on every validation: a run whose
    period is moved afterwards (`--start`/`--end`, `compare --align`, a month's check) keeps
    its changes, and those outside the new period are named by `inactive_levers` instead."""
    for i, ch in enumerate(sc.changes):
        last = ch.to_date or ch.from_date
        if not sc.run.start <= ch.from_date <= sc.run.end or last > sc.run.end:
            raise ScenarioError(f"{origin}: {label_of(i, ch)}: its dates must lie in the file's run,"
                                f" {sc.run.start} to {sc.run.end}")


def _before(sc: Scenario, ch: Change) -> tuple[Any, Any]:
    """The value and range the setting holds on the change's first date, before it acts: the
    end of the latest earlier change of the same setting, else the file's own value."""
    earlier = [c for c in sc.changes if c.setting == ch.setting and c.from_date < ch.from_date]
    if earlier:
        last = max(earlier, key=lambda c: c.from_date)
        return last.value, last.range
    param = _node(sc, paths.parts(ch.setting))
    return _current(param, ch.from_date), param.range


def doc_on(sc: Scenario, day: date, only: Change | None = None) -> dict:
    """The scenario document with every change in force on `day` applied (or `only` that one,
    at its full value)."""
    doc = sc.model_dump(mode="python")
    doc["changes"] = []
    for ch in [only] if only is not None else sorted(sc.changes, key=lambda c: c.from_date):
        if only is None and ch.from_date > day:
            continue
        keys = paths.parts(ch.setting)
        param = _node(sc, keys)
        if only is not None or ch.to_date is None:
            value, rng = ch.value, ch.range
        else:
            v0, r0 = _before(sc, ch)
            f = (day - ch.from_date).days / (ch.to_date - ch.from_date).days
            rng = _hull(r0, ch.range)
            value = ch.value if f >= 1 else _clip(_between(v0, ch.value, f), rng)
        paths.assign(doc, keys, _as_node(param, ch, value, rng))
    return doc


def spell_starts(sc: Scenario) -> list[date]:
    """The days on which some setting takes a new value: each step's day, each day of a ramp."""
    days: set[date] = set()
    for ch in sc.changes:
        if ch.to_date is None:
            days.add(ch.from_date)
        else:
            n = (ch.to_date - ch.from_date).days
            days.update(ch.from_date + timedelta(days=k) for k in range(1, n + 1))
    return sorted(days)
