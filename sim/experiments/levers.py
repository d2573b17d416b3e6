"""Levers: the few settings users turn when they ask "what would it take?", and the settings
that cannot act in a run's period (`inactive_levers`, one rule for the command line and the app).

Each lever maps one number in the users' terms onto the scenario's own parameters, so the
target finder and the app share one definition, with its step (`STEPS`: posts in whole posts)
and whether it can start on a date inside the run (written as dated changes, `apply_from`).
The plausible range of a lever is where the search looks; it is stated here with its reasoning
because it spans several file parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel

from sim.scenario.params import Monthly
from sim.scenario.paths import Path, get, with_values
from sim.scenario.schema import PARTNER_SOURCES, POOL_POST_NAMES, Scenario, validate

Edits = dict[Path, Any]


@dataclass(frozen=True)
class Lever:
    key: str
    label: str
    unit: str
    low: float
    high: float
    improves: int  # +1 if raising the lever is the change being sought, -1 if lowering it
    why_range: str
    current: Callable[[Scenario], float]
    edits: Callable[[Mapping, float], Edits]  # the settings (path -> value) for the lever at a value
    whole: bool = False  # moves in whole posts (or pairs) from the scenario's establishment
    datable: bool = True  # its settings can take a dated change (sim.scenario.changes.TIMED)

    def apply(self, scenario: Scenario, value: float) -> Scenario:
        """The scenario with this lever at `value` (validated like any scenario)."""
        doc = scenario.model_dump(mode="python")
        return with_values(doc, self.edits(doc, float(value)),
                           f"{scenario.name} with {self.label} = {value:g}")

    def apply_from(self, scenario: Scenario, value: float, day: date) -> Scenario:
        """The scenario with this lever at `value` from `day` on, written as dated changes (the
        file's own settings before it): the same settings `apply` sets for the whole run."""
        if not self.datable:
            raise ValueError(f"{self.key} cannot start on a date: {self.why_not_datable}")
        doc = scenario.model_dump(mode="python")
        edits = self.edits(doc, float(value))
        settings = [k[:-1] for k in edits if k[-1] == "range"]
        stray = [".".join(k) for k in edits if k[:-1] not in settings]
        if stray:  # a switch, not a setting with a value and range: a dated change cannot hold it
            raise ValueError(f"{self.key} cannot start on a date: it sets {', '.join(stray)}")
        label = f"{self.label} = {value:g} from {day}"
        doc["changes"] = [*doc.get("changes", []), *(
            {"setting": ".".join(p), "from_date": day,
             "value": edits.get((*p, "default"), edits.get((*p, "value"))), "range": edits[(*p, "range")],
             "provenance": "judgement", "source": f"the target search: {label}"} for p in settings)]
        return validate(doc, f"{scenario.name} with {label}")

    @property
    def why_not_datable(self) -> str:
        return ("co-triage is switched on, and its outcome effect read, once for the whole run (it has its"
                " own start date, cotriage.start)")


def _widened(rng: tuple[float, float], v: float) -> tuple[float, float]:
    return (min(rng[0], v), max(rng[1], v))


def _posts(pool: str) -> Callable[[Mapping, float], Edits]:
    def edits(doc: Mapping, v: float) -> Edits:
        est = ("staff", pool, "establishment")
        return {(*est, "value"): {m: v for m in get(doc, (*est, "value"))},
                (*est, "steps"): {m: v for m in get(doc, (*est, "steps"))}, (*est, "default"): v,
                (*est, "range"): _widened(get(doc, (*est, "range")), v)}
    return edits


def _phone_shift(doc: Mapping, v: float) -> Edits:
    """Move a share v of today's emailed partner contacts onto the phone."""
    out: Edits = {}
    for src in PARTNER_SOURCES:
        p = ("demand", "partner_phone_share", src)
        old = get(doc, (*p, "value"))
        out[(*p, "value")] = old + (1 - old) * v
        out[(*p, "range")] = (0.0, 1.0)
    return out


def _conversation(doc: Mapping, v: float) -> Edits:
    p = ("outcomes", "conversation_referral_ratio")
    return {(*p, "value"): v, (*p, "range"): _widened(get(doc, (*p, "range")), v)}


def _ppn_quality(doc: Mapping, v: float) -> Edits:
    p = ("ppn", "quality")
    return {(*p, "value"): v, (*p, "range"): _widened(get(doc, (*p, "range")), v)}


def _cotriage_effect(doc: Mapping, v: float) -> Edits:
    p = ("cotriage", "outcome_effects", "referral_to_advice")
    return {(*p, "value"): v, (*p, "range"): _widened(get(doc, (*p, "range")), v)}


def _cotriage(doc: Mapping, v: float) -> Edits:
    return {("cotriage", "enabled"): v > 0, **_posts("cotriage")(doc, v)}


LEVERS: dict[str, Lever] = {lv.key: lv for lv in (
    Lever("phone_shift", "share of emailed partner contacts moved to the phone", "share", 0.0, 1.0,
          +1, "from none to all of today's emails",
          lambda sc: 0.0, _phone_shift),
    Lever("conversation_effect", "referral ratio after a conversation", "ratio", 0.5, 1.0, -1,
          "1.0 is no effect; 0.5 would halve referrals from conversations, beyond the 30% the"
          " approach promises",
          lambda sc: sc.outcomes.conversation_referral_ratio.value, _conversation),
    Lever("ppn_quality", "quality of police protection notices", "index from 0 to 1", 0.1, 0.9, +1,
          "from the baseline's lowest plausible quality to the top of the ppn_quality scenario's"
          " range (0.9, close to a fully triaged notice); the training aims at 0.6",
          lambda sc: sc.ppn.quality.value, _ppn_quality),
    Lever("csw_posts", POOL_POST_NAMES["csw"], "posts", 6.0, 20.0, +1,
          "the baseline's plausible range for the posts",
          lambda sc: sc.staff["csw"].establishment.default, _posts("csw"), whole=True),
    Lever("ps_posts", POOL_POST_NAMES["ps"], "posts", 4.0, 14.0, +1,
          "the baseline's plausible range for the posts",
          lambda sc: sc.staff["ps"].establishment.default, _posts("ps"), whole=True),
    Lever("cotriage_effect", "share of co-triaged would-be referrals closed with advice to police",
          "share", 0.0, 0.5, +1, "the baseline's plausible range for the effect (no measured effect is"
          " reported); it acts only while co-triage runs",
          lambda sc: sc.cotriage.outcome_effects.referral_to_advice.value, _cotriage_effect,
          datable=False),
    Lever("cotriage_pairs", POOL_POST_NAMES["cotriage"], "pairs", 0.0, 3.0, +1,
          "none to three pairs (one is reported from January 2024)",
          lambda sc: sc.staff["cotriage"].establishment.default if sc.cotriage.enabled else 0.0,
          _cotriage, whole=True, datable=False),
)}


# One step of each lever (the unit its weight is per), and that step in words.
STEPS: dict[str, tuple[float, str]] = {
    "phone_shift": (0.1, "a tenth of today's emailed partner contacts moved to the phone"),
    "conversation_effect": (0.05, "0.05 off the referral ratio after a conversation"),
    "ppn_quality": (0.05, "0.05 on the PPN quality index"),
    "csw_posts": (1.0, "one whole consultant social worker post"),
    "ps_posts": (1.0, "one whole practice supervisor post"),
    "cotriage_effect": (0.05, "0.05 on the share of co-triaged would-be referrals closed with advice"),
    "cotriage_pairs": (1.0, "one whole police co-triage pair"),
}


def whole_steps(lever: Lever, start: float, values: int, step: float) -> tuple[int, ...]:
    """At most `values` whole steps of `step` from 0 (the scenario's value) to the last whole step
    inside the lever's range, evenly spread and always holding both ends."""
    end = lever.high if lever.improves > 0 else lever.low
    last = max(0, math.floor(lever.improves * (end - start) / step + 1e-9))
    n = min(values, last + 1)
    return tuple(sorted({round(i * last / (n - 1)) for i in range(n)})) if n > 1 else (0,)


# ---------------------------------------------------------------------------------------------
# settings that cannot act in a run's period ("no silent nothing")

Inactive = tuple[str, str]  # (dotted path of the setting, why it changes nothing, one sentence)


def run_months(sc: Scenario) -> list[str]:
    """The months of a scenario's run, as YYYY-MM."""
    return _months(sc.run.start, sc.run.end)


def _months(start: date, end: date) -> list[str]:
    return [f"{y:04d}-{m:02d}" for y, m in
            ((start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1)
             for k in range((end.year - start.year) * 12 + end.month - start.month + 1))]


def _monthly_settings(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Monthly]]:
    """Every month-by-month setting of a scenario, with its path."""
    if isinstance(node, Monthly):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _monthly_settings(getattr(node, name), (*path, name))
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _monthly_settings(value, (*path, str(key)))


def _idle_entries(setting: Monthly, months: list[str]) -> list[tuple[str, str, float]]:
    """Each dated entry that sets no month of the period: (kind, month, value)."""
    inside = set(months)
    out = [("value", k, v) for k, v in setting.value.items() if k not in inside]
    steps = sorted(setting.steps)
    used = set()
    for m in months:
        if m in setting.value:
            continue
        earlier = [k for k in steps if k <= m]
        if earlier:
            used.add(earlier[-1])
    out += [("steps", k, setting.steps[k]) for k in steps if k not in used]
    return out


def _entry_words(idle: list[tuple[str, str, float]], setting: Monthly, start: date, end: date) -> str:
    """One sentence for a setting's entries that set no month of the period."""
    parts = []
    single = [m for k, m, _ in idle if k == "value"]
    if single:
        parts.append(f"its value{'s' if len(single) > 1 else ''} for {_list(single)}"
                     f" {'are' if len(single) > 1 else 'is'} outside the period ({start} to {end})")
    late = [(m, v) for k, m, v in idle if k == "steps" and m > f"{end:%Y-%m}"]
    if late:
        parts.append("its step" + ("s" if len(late) > 1 else "") + " "
                     + _list([f"to {v:g} from {m}" for m, v in late])
                     + f" {'start' if len(late) > 1 else 'starts'} after the period ends ({end})")
    for k, m, v in idle:
        if k == "steps" and m <= f"{end:%Y-%m}":
            later = min(x for x in setting.steps if x > m)
            parts.append(f"its step to {v:g} from {m} is replaced by the step from {later} before the"
                         f" period starts ({start})")
    return "; ".join(parts)


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _differs(a: Monthly, b: Monthly) -> bool:
    return (a.default, a.value, a.steps) != (b.default, b.value, b.steps)


def _cotriage_acts(sc: Scenario, end: date) -> bool:
    return sc.cotriage.enabled and sc.cotriage.start.value <= end


def _leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, Mapping):
        for k, v in node.items():
            yield from _leaves(v, (*path, str(k)))
    else:
        yield path, node


def _changed_settings(sc: Scenario, ref: Scenario, block: tuple[str, ...], depth: int) -> list[str]:
    """The settings (paths `depth` keys deep) under `block` whose values differ from the reference's."""
    mine = dict(_leaves(get(sc.model_dump(mode="json"), block), block))
    theirs = dict(_leaves(get(ref.model_dump(mode="json"), block), block))
    changed = {".".join(p[:depth]) for p in mine.keys() | theirs.keys() if mine.get(p) != theirs.get(p)}
    return sorted(changed)


def inactive_levers(scenario: Scenario, start: date | None = None, end: date | None = None,
                    reference: Scenario | None = None) -> list[Inactive]:
    """The settings that cannot act inside the reported period `start`..`end` (the scenario's
    own by default), each with a sentence saying why: co-triage that is off or starts after the
    end, and a month-by-month setting that differs from the reference's but not in any month of
    the period (its differing months, or steps, all outside it).

    Co-triage switched on but starting after the end is always listed. Otherwise only what
    differs from the `reference` (what the reference shares is not this scenario's change: a
    file's leave for months it does not run, say); without one (a file that extends none),
    nothing else."""
    start = start or scenario.run.start
    end = end or scenario.run.end
    months = _months(start, end)
    out: list[Inactive] = []
    ct = scenario.cotriage
    if ct.enabled and ct.start.value > end:  # whatever the reference: this run has none of it
        out.append(("cotriage.start", f"police co-triage is switched on but starts on"
                    f" {ct.start.value:%d %B %Y}, after the period ends ({end:%d %B %Y}): it"
                    " changes nothing in these results"))
    elif reference is not None and not ct.enabled and not _cotriage_acts(reference, end):
        for path in [*_changed_settings(scenario, reference, ("cotriage",), 2),
                     *_changed_settings(scenario, reference, ("staff", "cotriage"), 3)]:
            out.append((path, f"differs from '{reference.name}' but police co-triage is switched off"
                              " (cotriage.enabled) in both, so it changes nothing in these results"))
    for i, ch in enumerate(scenario.changes):  # a dated change the period does not reach
        if ch.from_date > end:
            out.append((f"changes.{i}", f"the dated change of {ch.setting} from {ch.from_date:%d %B %Y}"
                        f" starts after the period ends ({end:%d %B %Y}): it changes nothing in"
                        " these results"))
    if reference is None:
        return out
    theirs = dict(_monthly_settings(reference))
    ym = [(int(m[:4]), int(m[5:])) for m in months]
    for path, setting in _monthly_settings(scenario):
        ref = theirs.get(path)
        if ref is None or not _differs(setting, ref):
            continue
        if any(setting.at(y, m) != ref.at(y, m) for y, m in ym):
            continue  # it acts in some month of the period
        idle = [(k, m, v) for k, m, v in _idle_entries(setting, months) if getattr(ref, k).get(m) != v]
        words = (_entry_words(idle, setting, start, end) if idle else
                 "its value in every month of the period is the reference's")
        out.append((".".join(path), f"differs from '{reference.name}' only outside the period: {words},"
                    " so this changes nothing in these results"))
    return out
