"""Separation of a facet's measures: how many statistically distinct levels they make.

Wright & Masters (1982, pp. 92, 106) and the summary of each facet in FACETS (Linacre,
FACETS manual, Table 7, which also gives the fixed chi-square). For
the measures m_j of a facet with standard errors s_j:

    observed SD    the sample standard deviation of the m_j (divisor n - 1)
    RMSE           sqrt(mean(s_j^2)): the average measurement error
    true SD        sqrt(max(0, SD^2 - RMSE^2)): the spread once error is taken out
    separation G   true SD / RMSE
    strata H       (4G + 1) / 3: levels whose centres are three errors apart
    reliability    G^2 / (1 + G^2) = true variance / observed variance
    fixed chi-square   sum_j w_j (m_j - m_w)^2 with w_j = 1 / s_j^2 and m_w the weighted mean,
                   n - 1 degrees of freedom: the test that every element has the same measure

For raters a HIGH separation reliability means the raters differ in severity: it is the
opposite of agreement between raters (FACETS prints it as "Reliability (not inter-rater)").

FACETS prints the figures twice, from the population SD (divisor n) and from the sample SD
(divisor n - 1), and advises the population line only when the elements are every element
there could be (its examples: grade levels, genders). The raters of a round and the samples
of student work are a sample of the raters and the work the district's figures speak about,
so the sample SD is used: these figures equal FACETS' "Model, Sample" line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moderation.statistics.distributions import chi2_sf


@dataclass(frozen=True)
class Separation:
    """Separation figures of one facet (logits for mean, sd, rmse, true_sd)."""

    n: int
    mean: float
    sd: float
    rmse: float
    true_sd: float
    separation: float
    strata: float
    reliability: float
    chi_square: float
    df: int
    p: float


def separation(measures: np.ndarray, standard_errors: np.ndarray) -> Separation | None:
    """The separation figures of the finite measures with finite, positive standard errors.

    None when fewer than two elements qualify (no spread to speak of).
    """
    m = np.asarray(measures, dtype=float)
    se = np.asarray(standard_errors, dtype=float)
    keep = np.isfinite(m) & np.isfinite(se) & (se > 0)
    m, se = m[keep], se[keep]
    n = int(m.size)
    if n < 2:
        return None
    sd = float(np.std(m, ddof=1))
    rmse = float(np.sqrt(np.mean(se ** 2)))
    true_sd = float(np.sqrt(max(0.0, sd ** 2 - rmse ** 2)))
    g = true_sd / rmse
    weights = 1.0 / se ** 2
    weighted_mean = float(np.sum(weights * m) / np.sum(weights))
    chi_square = float(np.sum(weights * (m - weighted_mean) ** 2))
    return Separation(n=n, mean=float(np.mean(m)), sd=sd, rmse=rmse, true_sd=true_sd,
                      separation=g, strata=(4 * g + 1) / 3, reliability=g ** 2 / (1 + g ** 2),
                      chi_square=chi_square, df=n - 1,
                      p=float(chi2_sf(chi_square, n - 1)))
