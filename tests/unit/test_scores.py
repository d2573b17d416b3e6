"""CRPS and skill against independent references: the normal closed form, the integral
definition, a single member, and the properties a proper score must have."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from sim.measures.scores import crps_ensemble, crps_point, mean_abs_change, skill


def normal_crps(mu: float, sigma: float, y: float) -> float:
    """Gneiting and Raftery (2007): sigma * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))."""
    z = (y - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))


@pytest.mark.parametrize("y", [80.0, 84.0, 91.5])
@pytest.mark.parametrize("fair", [False, True])
def test_a_large_normal_sample_approaches_the_closed_form(y, fair):
    mu, sigma = 82.0, 4.0
    x = np.random.default_rng(7).normal(mu, sigma, 200_000)
    assert crps_ensemble(x, y, fair=fair) == pytest.approx(normal_crps(mu, sigma, y), rel=0.01)


def test_ensemble_crps_is_the_integral_of_the_squared_cdf_difference():
    x = np.array([3.0, 7.5, 1.0, 4.2, 9.9, 4.2])
    y = 5.0

    def integrand(z: float) -> float:
        return (np.mean(x <= z) - float(z >= y)) ** 2

    edges = np.unique(np.concatenate([x, [y]]))
    by_hand = sum(integrate.quad(integrand, a, b)[0] for a, b in zip(edges[:-1], edges[1:], strict=True))
    assert crps_ensemble(x, y) == pytest.approx(by_hand, abs=1e-9)


def test_the_fair_variant_scales_the_spread_term_by_m_over_m_minus_one():
    x = np.array([2.0, 5.0, 11.0])
    spread = np.mean(np.abs(x[:, None] - x[None, :]))  # over all 9 ordered pairs, 6 of them non-zero
    assert crps_ensemble(x, 4.0) == pytest.approx(np.mean(np.abs(x - 4.0)) - 0.5 * spread)
    assert crps_ensemble(x, 4.0, fair=True) == pytest.approx(np.mean(np.abs(x - 4.0)) - 0.5 * spread * 9 / 6)


def test_a_single_member_scores_its_absolute_error():
    assert crps_ensemble([83.2], 89.4) == pytest.approx(6.2)
    assert crps_point(83.2, 89.4) == pytest.approx(6.2)
    with pytest.raises(ValueError, match="at least 2 members, got 1"):
        crps_ensemble([83.2], 89.4, fair=True)


def test_crps_is_never_negative_and_zero_only_for_an_exact_point():
    g = np.random.default_rng(3)
    for _ in range(200):
        x = g.normal(0, g.uniform(0.1, 5), g.integers(1, 30))
        assert crps_ensemble(x, g.normal(0, 3)) >= 0
    assert crps_ensemble([4.0, 4.0, 4.0], 4.0) == 0.0


def test_crps_of_a_point_observed_is_least_near_the_ensemble_median():
    x = np.random.default_rng(11).exponential(3.0, 401)  # skewed: median 0.3 sd below the mean
    ys = np.linspace(x.min(), x.max(), 2001)
    best = ys[np.argmin([crps_ensemble(x, y) for y in ys])]
    assert abs(best - np.median(x)) < 0.05 * np.std(x)
    assert abs(best - np.mean(x)) > 0.15 * np.std(x)


def test_missing_members_are_left_out_and_an_empty_ensemble_is_refused():
    assert crps_ensemble([1.0, np.nan, 3.0], 2.0) == pytest.approx(crps_ensemble([1.0, 3.0], 2.0))
    with pytest.raises(ValueError, match="at least one value"):
        crps_ensemble([np.nan], 2.0)


def test_skill_is_one_for_a_perfect_forecast_and_zero_for_the_reference_itself():
    naive = crps_point(82.0, 89.4)
    assert skill(crps_ensemble([89.4] * 5, 89.4), naive) == 1.0
    assert skill(naive, naive) == 0.0
    assert skill(2 * naive, naive) == pytest.approx(-1.0)
    assert math.isnan(skill(0.0, 0.0))
    assert skill(1.0, 0.0) == -math.inf


def test_mean_month_to_month_change_of_the_reported_share():
    # % completed within 1 working day, July to December 2023 (calibration/observed_monthly.csv)
    assert mean_abs_change([78.9, 84.8, 80.0, 83.7, 89.4, 94.2]) == pytest.approx(24.9 / 5)
    assert math.isnan(mean_abs_change([80.0]))
