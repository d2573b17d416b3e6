"""The target finder and sensitivity analysis, used when the simulator provides them.

Both live in `sim.experiments` once written. Until then the app says plainly that they are not
available rather than showing made-up numbers; when they arrive they are called with the
arguments their signatures accept, so the pages need no change.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd

import sim.experiments as experiments

NOT_YET = ("{what} is not available in this version of the simulator yet, so no numbers are shown"
           " here. Meanwhile, the Compare page answers the same question by hand: save the scenario at"
           " a few values of the lever and compare them on the same random numbers.")

# Levers the target finder may move: path in the scenario, and the name users know it by.
TARGET_LEVERS: dict[str, str] = {
    "staff.csw.establishment": "Consultant social worker posts",
    "staff.ps.establishment": "Practice supervisor and manager posts",
    "demand.partner_phone_share": "Share of partner contacts made by phone",
    "outcomes.conversation_referral_ratio": "Effect of a conversation on the chance of referral",
    "cotriage.closed_share": "Share of PPNs settled at police co-triage",
    "ppn.quality": "Quality of police protection notices",
}
QUESTIONS: dict[str, tuple[str, str, float | None]] = {
    # question: (measure, direction, target or None for "30% below the current run")
    "95% of contacts completed within 1 working day": ("pct_completed_within_1wd", "at least", 95.0),
    "30% fewer contacts becoming referrals": ("pct_contacts_to_referral", "at most", None),
}


def target_finder() -> Callable[..., Any] | None:
    return getattr(experiments, "find_target", None)


def sensitivity_fn() -> Callable[..., Any] | None:
    return getattr(experiments, "sensitivity", None)


def call_supported(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call with the keyword arguments the function accepts (all of them if it takes **kwargs)."""
    sig = inspect.signature(fn)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return fn(**kwargs)
    return fn(**{k: v for k, v in kwargs.items() if k in sig.parameters})


def as_table(result: Any) -> pd.DataFrame:
    """Whatever the experiment returned, as a table to show and download."""
    if isinstance(result, pd.DataFrame):
        return result
    if isinstance(result, tuple) and result and isinstance(result[0], pd.DataFrame):
        return result[0]
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    if isinstance(result, dict):
        return pd.DataFrame([{"item": k, "value": str(v)} for k, v in result.items()])
    return pd.DataFrame({"result": [str(result)]})
