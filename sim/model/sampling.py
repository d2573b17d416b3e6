"""Turning pre-drawn uniforms into durations and outcomes, and the outcome tables they use.

Every random quantity is drawn as a uniform from its named stream before the simulation runs
(common random numbers); these functions map uniforms to values, so a change of setting moves
a value without reshuffling anyone's draws."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from sim.scenario.params import Duration
from sim.scenario.schema import CHANNELS, OUTCOMES, SOURCES, Scenario

IA, EH, REF, NFA = (OUTCOMES.index(o) for o in ("info_advice", "early_help", "referral", "nfa"))


def draw_durations(dist: Duration, u: np.ndarray) -> np.ndarray:
    """Turn uniforms into durations of the stated distribution, mean and cv (inverse CDF)."""
    m = dist.mean.value
    if dist.distribution == "fixed":
        return np.full(u.shape, m)
    if dist.distribution == "exponential":
        return -m * np.log1p(-u)
    s2 = np.log1p(dist.cv.value ** 2)
    return np.exp(np.log(m) - s2 / 2 + np.sqrt(s2) * ndtri(np.clip(u, 1e-12, 1 - 1e-12)))


def shifted(p: np.ndarray, k: int, new: float) -> np.ndarray:
    """Set share k to `new` and rescale the others so the shares still sum to 1."""
    new = float(np.clip(new, 0.0, 1.0))
    rest = 1.0 - p[k]
    out = p * ((1.0 - new) / rest) if rest > 0 else np.full_like(p, (1.0 - new) / (len(p) - 1))
    out[k] = new
    return out


def ppn_quality_shares(p: np.ndarray, sc: Scenario) -> np.ndarray:
    """PPN outcome shares at the scenario's PPN quality (the file states them at the reference).

    Better-written PPNs end less often in information and advice and less often in a referral
    made because risk could not be judged; those PPNs need no further action instead.
    """
    q = sc.ppn
    gain = q.quality.value - q.reference_quality.value
    p = p.copy()
    for k, effect in ((IA, q.info_advice_effect.value), (REF, q.referral_effect.value)):
        new = float(np.clip(p[k] * (1.0 - effect * gain), 0.0, 1.0))
        p[NFA] += p[k] - new
        p[k] = new
    if p[NFA] < 0:  # worse PPNs than the reference: take the extra from no further action first
        p = np.clip(p, 0.0, None)
        p /= p.sum()
    return p


def outcome_tables(sc: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Outcome shares per (source, channel): written contacts and phone conversations."""
    o = sc.outcomes
    written = np.zeros((len(SOURCES), len(CHANNELS), len(OUTCOMES)))
    for s, src in enumerate(SOURCES):
        for c, ch in enumerate(CHANNELS):
            if src == "police":
                key = {"ppn_domestic": "police_ppn_domestic",
                       "ppn_nondomestic": "police_ppn_nondomestic"}.get(ch, "police_other")
            else:
                key = src
            p = np.array([o.written[key].value[x] for x in OUTCOMES])
            if ch.startswith("ppn"):
                p = ppn_quality_shares(p, sc)
            written[s, c] = p
    phone = written.copy()
    for s in range(len(SOURCES)):
        for c in range(len(CHANNELS)):
            p = written[s, c]
            phone[s, c] = shifted(p, REF, p[REF] * o.conversation_referral_ratio.value)
    return written, phone


def pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Categorical draw per row from cumulative shares `cum` (n x k) and uniforms u (n)."""
    return np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[1] - 1).astype(np.int8)
