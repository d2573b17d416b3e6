"""Scores of a forecast given as replications: CRPS and its skill against a naive forecast.

Coverage alone rewards a wide band; the continuous ranked probability score (CRPS) judges
sharpness and calibration together, in the measure's own unit. For an ensemble x_1..x_m and
the reported value y (Gneiting and Raftery 2007, eq. 20):

    CRPS = mean_i |x_i - y| - 0.5 mean_{i,j} |x_i - x_j|

which is exactly the CRPS of the ensemble's empirical distribution (the integral of
(F(z) - 1{z >= y})^2 over z). The "fair" variant divides the second sum by m(m - 1) instead of
m^2, an unbiased estimate of the CRPS of the distribution the replications are drawn from.
A point forecast p has CRPS |p - y|.

Skill against a reference forecast: 1 - CRPS_model / CRPS_reference (1 perfect, 0 no better
than the reference, below 0 worse than it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _members(ensemble: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(ensemble, dtype=float).ravel()
    x = x[~np.isnan(x)]
    if x.size == 0:
        raise ValueError("an ensemble needs at least one value that is not missing")
    return x


def mean_pair_distance(x: np.ndarray, fair: bool = False) -> float:
    """Mean |x_i - x_j| over all ordered pairs (i = j included unless `fair`), in O(m log m)."""
    m = x.size
    s = np.sort(x)
    s = s - s[0]  # distances do not change; equal members give exactly 0
    # sum over i < j of (s_j - s_i) = sum_k (2k - m + 1) s_k for k = 0..m-1
    half = float(np.dot(2 * np.arange(m) - m + 1, s))
    pairs = m * (m - 1) if fair else m * m
    return 2 * half / pairs if pairs else 0.0


def crps_ensemble(ensemble: Sequence[float] | np.ndarray, observed: float, fair: bool = False) -> float:
    """CRPS of an ensemble (the replications) against one observed value, in its unit."""
    x = _members(ensemble)
    if fair and x.size < 2:
        raise ValueError(f"the fair CRPS needs at least 2 members, got {x.size}")
    return float(np.mean(np.abs(x - observed)) - 0.5 * mean_pair_distance(x, fair))


def crps_point(forecast: float, observed: float) -> float:
    """CRPS of a point forecast: its absolute error."""
    return abs(float(forecast) - float(observed))


def skill(score: float, reference: float) -> float:
    """Skill score 1 - score / reference; NaN when the reference is perfect (score 0)."""
    if reference == 0:
        return float("nan") if score == 0 else float("-inf")
    return 1.0 - score / reference


def mean_abs_change(series: Sequence[float] | np.ndarray) -> float:
    """Mean |x_{m+1} - x_m| over consecutive months of one series (NaN if fewer than 2)."""
    x = np.asarray(series, dtype=float)
    return float(np.nanmean(np.abs(np.diff(x)))) if x.size >= 2 else float("nan")
