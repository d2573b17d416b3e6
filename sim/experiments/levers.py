"""Levers: the few settings users turn when they ask "what would it take?".

Each lever maps one number in the users' terms onto the scenario's own parameters, so the
target finder and the app share one definition. The plausible range of a lever is where the
search looks; it is stated here with its reasoning because it spans several file parameters.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from sim.scenario.schema import PARTNER_SOURCES, Scenario, validate


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
    set_doc: Callable[[dict, float], None]

    def apply(self, scenario: Scenario, value: float) -> Scenario:
        """The scenario with this lever at `value` (validated like any scenario)."""
        doc = copy.deepcopy(scenario.model_dump(mode="python"))
        self.set_doc(doc, float(value))
        return validate(doc, f"{scenario.name} with {self.label} = {value:g}")


def _set_posts(pool: str) -> Callable[[dict, float], None]:
    def set_doc(doc: dict, v: float) -> None:
        est = doc["staff"][pool]["establishment"]
        est["value"] = {m: v for m in est["value"]}
        est["default"] = v
        est["range"] = (min(est["range"][0], v), max(est["range"][1], v))
    return set_doc


def _set_phone_shift(doc: dict, v: float) -> None:
    """Move a share v of today's emailed partner contacts onto the phone."""
    for src in PARTNER_SOURCES:
        p = doc["demand"]["partner_phone_share"][src]
        p["value"] = p["value"] + (1 - p["value"]) * v
        p["range"] = (0.0, 1.0)


def _set_conversation(doc: dict, v: float) -> None:
    p = doc["outcomes"]["conversation_referral_ratio"]
    p["value"] = v
    p["range"] = (min(p["range"][0], v), max(p["range"][1], v))


def _set_cotriage(doc: dict, v: float) -> None:
    doc["cotriage"]["enabled"] = v > 0
    _set_posts("cotriage")(doc, v)


LEVERS: dict[str, Lever] = {lv.key: lv for lv in (
    Lever("phone_shift", "share of emailed partner contacts moved to the phone", "share", 0.0, 1.0,
          +1, "from none to all of today's emails",
          lambda sc: 0.0, _set_phone_shift),
    Lever("conversation_effect", "referral ratio after a conversation", "ratio", 0.5, 1.0, -1,
          "1.0 is no effect; 0.5 would halve referrals from conversations, beyond the 30% the"
          " approach promises",
          lambda sc: sc.outcomes.conversation_referral_ratio.value, _set_conversation),
    Lever("csw_posts", "consultant social worker posts", "posts", 6.0, 20.0, +1,
          "the baseline's plausible range for the posts",
          lambda sc: sc.staff["csw"].establishment.default, _set_posts("csw")),
    Lever("ps_posts", "practice supervisor posts screening", "posts", 4.0, 14.0, +1,
          "the baseline's plausible range for the posts",
          lambda sc: sc.staff["ps"].establishment.default, _set_posts("ps")),
    Lever("cotriage_pairs", "police co-triage officer and supervisor pairs", "pairs", 0.0, 3.0, +1,
          "none to three pairs (one is reported from January 2024)",
          lambda sc: sc.staff["cotriage"].establishment.default if sc.cotriage.enabled else 0.0,
          _set_cotriage),
)}
