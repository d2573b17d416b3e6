"""Levers: the few settings users turn when they ask "what would it take?".

Each lever maps one number in the users' terms onto the scenario's own parameters, so the
target finder and the app share one definition. The plausible range of a lever is where the
search looks; it is stated here with its reasoning because it spans several file parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.scenario.paths import Path, get, with_values
from sim.scenario.schema import PARTNER_SOURCES, POOL_POST_NAMES, Scenario

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

    def apply(self, scenario: Scenario, value: float) -> Scenario:
        """The scenario with this lever at `value` (validated like any scenario)."""
        doc = scenario.model_dump(mode="python")
        return with_values(doc, self.edits(doc, float(value)),
                           f"{scenario.name} with {self.label} = {value:g}")


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
    Lever("csw_posts", POOL_POST_NAMES["csw"], "posts", 6.0, 20.0, +1,
          "the baseline's plausible range for the posts",
          lambda sc: sc.staff["csw"].establishment.default, _posts("csw")),
    Lever("ps_posts", POOL_POST_NAMES["ps"], "posts", 4.0, 14.0, +1,
          "the baseline's plausible range for the posts",
          lambda sc: sc.staff["ps"].establishment.default, _posts("ps")),
    Lever("cotriage_pairs", POOL_POST_NAMES["cotriage"], "pairs", 0.0, 3.0, +1,
          "none to three pairs (one is reported from January 2024)",
          lambda sc: sc.staff["cotriage"].establishment.default if sc.cotriage.enabled else 0.0,
          _cotriage),
)}
