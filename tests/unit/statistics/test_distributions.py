"""The engine's distribution functions give scipy.stats' values exactly, NaN where it does."""

import numpy as np
from scipy import stats

from moderation.statistics import distributions

X = np.array([-40.0, -3.0, -0.5, 0.0, 0.7, 2.5, 40.0, np.inf, np.nan])
Q = np.array([0.0, 1e-12, 0.025, 0.5, 0.975, 1.0, 1.5, np.nan])
DF = np.array([0.0, -1.0, 0.5, 1.0, 4.0, 29.0, 1e6, np.nan])


def test_normal_functions_match_scipy_stats():
    np.testing.assert_array_equal(distributions.normal_pdf(X), stats.norm.pdf(X))
    np.testing.assert_array_equal(distributions.normal_logpdf(X), stats.norm.logpdf(X))
    np.testing.assert_array_equal(distributions.normal_cdf(X), stats.norm.cdf(X))
    np.testing.assert_array_equal(distributions.normal_sf(X), stats.norm.sf(X))
    np.testing.assert_array_equal(distributions.normal_ppf(Q), stats.norm.ppf(Q))
    np.testing.assert_array_equal(distributions.normal_isf(Q), stats.norm.isf(Q))


def test_t_chi_square_and_f_match_scipy_stats_including_invalid_degrees_of_freedom():
    x, df = X[:, None], DF[None, :]
    q = Q[:, None]
    np.testing.assert_array_equal(distributions.t_sf(x, df), stats.t.sf(x, df))
    np.testing.assert_array_equal(distributions.t_isf(q, df), stats.t.isf(q, df))
    np.testing.assert_array_equal(distributions.chi2_sf(np.abs(x), df),
                                  stats.chi2.sf(np.abs(x), df))
    np.testing.assert_array_equal(distributions.f_ppf(q, df, df.T), stats.f.ppf(q, df, df.T))


def test_a_scalar_gives_a_scalar():
    assert np.ndim(distributions.normal_isf(0.025)) == 0
    assert np.ndim(distributions.t_isf(0.025, 5.0)) == 0
    assert float(distributions.t_sf(2.0, 10)) == float(stats.t.sf(2.0, 10))
