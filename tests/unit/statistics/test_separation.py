"""Separation of rater severities and sample measures (Wright & Masters 1982; FACETS Table 7)."""

import math

import numpy as np
import pytest
from scipy import stats

from moderation.statistics.rasch import fit_many_facet_rasch
from moderation.statistics.separation import separation
from seed_data.synthetic import DistrictParams, generate_district


def test_separation_of_four_measures_by_hand():
    measures = [-0.6, -0.2, 0.2, 1.0]
    errors = [0.2, 0.2, 0.4, 0.4]

    result = separation(np.array(measures), np.array(errors))

    mean = sum(measures) / 4                                          # 0.1
    sd = math.sqrt(sum((m - mean) ** 2 for m in measures) / 3)        # sample SD, n - 1
    rmse = math.sqrt((0.04 + 0.04 + 0.16 + 0.16) / 4)                 # sqrt(0.1)
    true_sd = math.sqrt(sd ** 2 - rmse ** 2)
    g = true_sd / rmse
    weights = [1 / e ** 2 for e in errors]                            # 25, 25, 6.25, 6.25
    weighted_mean = sum(w * m for w, m in zip(weights, measures, strict=True)) / sum(weights)
    chi_square = sum(w * (m - weighted_mean) ** 2 for w, m in zip(weights, measures, strict=True))
    assert (result.n, result.df) == (4, 3)
    assert result.mean == pytest.approx(mean)
    assert result.sd == pytest.approx(sd)
    assert result.rmse == pytest.approx(rmse)
    assert result.true_sd == pytest.approx(true_sd)
    assert result.separation == pytest.approx(g)
    assert result.strata == pytest.approx((4 * g + 1) / 3)
    assert result.reliability == pytest.approx(g ** 2 / (1 + g ** 2))
    assert result.reliability == pytest.approx(true_sd ** 2 / sd ** 2)
    assert result.chi_square == pytest.approx(chi_square)
    assert result.p == pytest.approx(stats.chi2.sf(chi_square, 3))


def test_the_facets_manual_table_7_example():
    # FACETS' Table 7 example (12 readers): S.D. (Sample) .20, RMSE .08 give "Model, Sample:
    # Adj (True) S.D. .18 Separation 2.28 Strata 3.38 Reliability .84". Two measures with these
    # SD and SEs reproduce it to the manual's rounding.
    half = 0.20 / math.sqrt(2)
    result = separation(np.array([-half, half]), np.array([0.08, 0.08]))

    assert result.sd == pytest.approx(0.20)
    assert result.true_sd == pytest.approx(0.18, abs=0.005)
    assert result.separation == pytest.approx(2.28, abs=0.02)
    assert result.strata == pytest.approx(3.38, abs=0.03)
    assert result.reliability == pytest.approx(0.84, abs=0.005)


def test_measures_spread_less_than_their_error_have_no_separation():
    result = separation(np.array([0.0, 0.1, -0.1]), np.array([0.5, 0.5, 0.5]))

    assert result.true_sd == 0.0
    assert (result.separation, result.reliability) == (0.0, 0.0)
    assert result.strata == pytest.approx(1 / 3)
    assert result.p > 0.9


def test_fewer_than_two_usable_measures_give_none():
    assert separation(np.array([0.3]), np.array([0.1])) is None
    assert separation(np.array([0.3, np.nan]), np.array([0.1, 0.1])) is None
    assert separation(np.array([0.3, 0.5]), np.array([0.1, 0.0])) is None


@pytest.mark.parametrize("severity_sd, low, high", [(0.0, 0.0, 0.3), (0.5, 0.85, 1.0)])
def test_rater_reliability_of_separation_is_high_when_raters_differ(severity_sd, low, high):
    # Without planted differences between raters the fixed chi-square should not reject and the
    # reliability of separation is near 0; with them it is near 1 (raters reliably different).
    params = DistrictParams(n_schools=20, raters_per_school=6, samples=2000, drift_fraction=0.0,
                            severity_sd=severity_sd, lenient_fraction=0.0, harsh_fraction=0.0)
    data, _ = generate_district(params, seed=3)
    raters = fit_many_facet_rasch(data).raters

    result = separation(raters["severity"].to_numpy(), raters["severity_se"].to_numpy())

    assert low <= result.reliability <= high
    # The spread net of error estimates the planted one (measured: 0.51 with sd 0.5; 0.03).
    assert result.true_sd == pytest.approx(severity_sd, abs=0.1)
    assert (result.p > 0.01) if severity_sd == 0 else (result.p < 1e-6)
