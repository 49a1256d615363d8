"""Multiplicity control: minimum-effect tests and the Benjamini-Hochberg false discovery rate.

A district tests every rater at once. Judging each by its own |z| >= 3, or by "is it different
from the average at all", flags many raters whose real difference is too small to matter once
they have many ratings (with 300 ratings a 0.2-logit difference is already clear). So a finding
is tested against an interval null: H0 |effect| <= margin (the practical size), rejected in
favour of |effect| > margin (a minimum-effect test; Murphy & Myors 1999, "Testing the hypothesis
that treatments have negligible effects", J. Applied Psychology 84(2); Wellek 2010, Testing
Statistical Hypotheses of Equivalence and Noninferiority, 2nd ed.). Its p-value is the largest
over the null interval, reached at its edge: p = P(Z >= (|estimate| - margin) / SE). The
p-values of all raters are then adjusted by Benjamini & Hochberg (1995), "Controlling the false
discovery rate", J. Royal Statistical Society B 57(1), and a finding is reported when q is below
the false-discovery rate.
"""

from __future__ import annotations

import numpy as np

from moderation.statistics.distributions import normal_sf, t_sf


def minimum_effect_p(estimate, se, margin: float, df=None) -> np.ndarray:
    """One-sided p of H0 |effect| <= margin against |effect| > margin, normal approximation,
    or Student's t with `df` degrees of freedom (per estimate) where given: an SE estimated
    from few clusters is itself uncertain.

    NaN where the estimate or its SE is missing or the SE is not positive. With margin 0 it is
    half the usual two-sided p (the direction is the estimate's), so it is the usual
    "different from zero" test only at margin 0.
    """
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (np.abs(estimate) - margin) / se
        p = normal_sf(z) if df is None else t_sf(z, df)
    return np.where(np.isfinite(estimate) & np.isfinite(se) & (se > 0), p, np.nan)


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) over the finite entries of p; NaN stays
    NaN and does not count as a test. q_i = min over j with p_j >= p_i of p_j m / rank_j, at
    most 1; reporting q < FDR controls the expected share of false findings at FDR for
    independent (or positively dependent) tests."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    if tested.size == 0:
        return out
    values = p[tested]
    order = np.argsort(values, kind="stable")
    ranked = values[order] * values.size / np.arange(1, values.size + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted = np.empty_like(values)
    adjusted[order] = np.minimum(q, 1.0)
    out[tested] = adjusted
    return out
