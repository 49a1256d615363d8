"""Bias (interaction) tables: a rater scoring one criterion, or one school's work, unlike the
rest of their scores (FACETS Tables 13 and 14; Linacre, FACETS manual, "Bias/interaction
analysis"; Myford & Wolfe 2003, 2004, "Detecting and measuring rater effects using many-facet
Rasch measurement", J. Applied Measurement 4(4), 5(2); Eckes 2015, ch. 8).

For a pair (rater j, criterion i), or (rater j, school s of the sample), the interaction term b
is added to the model with every measure held at the fit:

    log(P(k) / P(k-1)) = theta_n - delta_i - lambda_j - tau_k + b_ji

and estimated by maximum likelihood over the pair's ratings, as FACETS does: Newton steps
b <- b + sum(x - E) / sum(W) from b = 0 (the first step is FACETS' initial estimate) until
sum(x - E) = 0. b > 0: the rater gives higher scores on that criterion (or to that school's
work) than their severity, the work and the criterion predict, that is more generous there;
b < 0 harsher. SE = 1 / sqrt(sum W) at b; t = b / SE on n - 1 degrees of freedom (FACETS'
t-test of the bias), p two-sided, and q the Benjamini-Hochberg adjustment of p over the
table. In rubric points, the effect is the observed minus the expected score averaged over the
pair's ratings (FACETS' "Obs-Exp Average"), which is the mean of E(eta + b) - E(eta) at the
estimate; its 95% interval is that curve at b -+ 1.96 SE, so it has the interval's coverage and
stays within the rubric.

Limits (as in FACETS): the sample measures are held fixed although they were fitted from the
same ratings, and absorb part of any interaction (little for rater x criterion, where a rater
gives one of a sample's ~15 ratings per criterion; up to a third for rater x school, where a
rater gives all five criteria of the samples), so rater x school sizes are understated.
Pairs whose ratings are all at the lowest or the highest score have no finite estimate and are
not tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from moderation.statistics.distributions import t_sf
from moderation.statistics.fair import Z95, expected_score
from moderation.statistics.multiplicity import benjamini_hochberg
from moderation.statistics.rasch import RaschFit, category_moments
from moderation.statistics.residuals import ModelRows
from moderation.statistics.table import BlindCodes

# Fewer ratings than this give a pair too few degrees of freedom to test (a project default,
# the same minimum as a score level's in Linacre 2002).
MIN_PAIR_RATINGS = 10
MAX_STEP = 1.0              # logits per Newton step, as in the fit
MAX_ITERATIONS = 100
TOLERANCE = 1e-6            # logits
BIAS_COLUMNS = ["rater", "element", "n", "bias", "bias_se", "t", "df", "p", "q", "effect",
                "effect_lo", "effect_hi"]


@dataclass(frozen=True)
class BiasTables:
    """The interaction tables of a fit: rater_criterion (element = criterion) and rater_school
    (element = the sample's school), each a DataFrame of BIAS_COLUMNS, one row per tested
    pair, sorted by |t| descending."""

    rater_criterion: pd.DataFrame
    rater_school: pd.DataFrame


def interaction_table(rows: ModelRows, rater_ids: pd.Index, element: np.ndarray,
                      element_ids: pd.Index, expected_points: np.ndarray) -> pd.DataFrame:
    """The bias table of rater x element over `rows` (see the module).

    element: per row, a code into element_ids, -1 where unknown (such rows are left out).
    expected_points: per row, the expected rubric score under the fit.
    Returns BIAS_COLUMNS for each pair with at least MIN_PAIR_RATINGS ratings and a score that
    is not all at one extreme; effect, effect_lo, effect_hi in rubric points.
    """
    known = element >= 0
    n_elements = max(element_ids.size, 1)
    pair, pairs = pd.factorize(rows.rater[known].astype(np.int64) * n_elements
                               + element[known])
    x = rows.x[known]
    n = np.bincount(pair, minlength=pairs.size)
    total = np.bincount(pair, weights=x, minlength=pairs.size)
    top = rows.n_categories - 1
    tested = (n >= MIN_PAIR_RATINGS) & (total > 0) & (total < top * n)
    keep = tested[pair]
    # Renumber the tested pairs 0..T-1 so every sum below runs over them only.
    pair, pairs, n = (np.cumsum(tested) - 1)[pair[keep]], pairs[tested], n[tested]
    x, eta = x[keep], rows.eta[known][keep]
    group = None if rows.group is None else rows.group[known][keep]
    before = expected_points[known][keep]
    bias, information = _solve(pair, pairs.size, x, eta, rows.thresholds, group)
    se = 1 / np.sqrt(information)
    t = bias / se
    p = 2 * t_sf(np.abs(t), n - 1)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(pair, weights=values, minlength=pairs.size) / n

    def points(shift: np.ndarray) -> np.ndarray:
        """Mean of E(eta + shift) - E(eta) over each pair's ratings, in rubric points."""
        return mean(expected_score(eta + shift[pair], rows.thresholds, rows.scores, group)
                    - before)

    table = pd.DataFrame({
        "rater": rater_ids[pairs // n_elements], "element": element_ids[pairs % n_elements],
        "n": n, "bias": bias, "bias_se": se, "t": t, "df": n - 1, "p": p,
        "q": benjamini_hochberg(p),
        # At the estimate sum E(eta + b) = sum x, so this is E(eta + b) - E(eta) too.
        "effect": mean(rows.scores[x] - before),
        "effect_lo": points(bias - Z95 * se), "effect_hi": points(bias + Z95 * se)})
    order = np.argsort(-np.abs(t), kind="stable")
    return table.iloc[order].reset_index(drop=True)[BIAS_COLUMNS]


def _solve(pair: np.ndarray, n: int, x: np.ndarray, eta: np.ndarray,
           thresholds: np.ndarray,
           group: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """b per pair solving sum(x - E(eta + b)) = 0 by Newton steps from 0, and sum(W) at b."""
    bias = np.zeros(n)
    for _ in range(MAX_ITERATIONS):
        expected, variance = category_moments(eta + bias[pair], thresholds, group)
        residual = np.bincount(pair, weights=x - expected, minlength=n)
        step = np.clip(residual / np.bincount(pair, weights=variance, minlength=n),
                       -MAX_STEP, MAX_STEP)
        bias += step
        if np.abs(step).max(initial=0.0) < TOLERANCE:
            break
    _, variance = category_moments(eta + bias[pair], thresholds, group)
    return bias, np.bincount(pair, weights=variance, minlength=n)


def bias_tables(ratings: pd.DataFrame, codes: BlindCodes, rows: ModelRows,
                fit: RaschFit) -> BiasTables:
    """Both tables of a converged fit of `ratings` (the validated table; codes its
    encode_blind, rows the fit's model_rows): rater x criterion, and rater x the sample's
    school, the one named on the sample's first blind rating (samples without one are left
    out of that table)."""
    first = np.zeros(codes.sample_ids.size, dtype=np.int64)
    first[codes.sample[::-1]] = np.arange(codes.sample.size)[::-1]   # the last write wins
    # The samples' rows taken first: not a Python string for each of a million ratings.
    school, school_ids = pd.factorize(ratings["sample_school"].iloc[codes.rows[first]])
    element = school[codes.sample[rows.position]]
    expected_points = expected_score(rows.eta, rows.thresholds, rows.scores, rows.group)
    return BiasTables(
        rater_criterion=interaction_table(rows, fit.raters.index, rows.criterion,
                                          fit.criteria.index, expected_points),
        rater_school=interaction_table(rows, fit.raters.index, element, pd.Index(school_ids),
                                       expected_points))


def bias_findings(tables: BiasTables, *, min_points: float, fdr: float) -> list[dict]:
    """The report's `bias` list: the pairs whose effect is at least min_points rubric points
    either way and whose q is below fdr, largest |effect| first within each kind."""
    found = []
    for kind, element, table in (("rater_criterion", "criterion", tables.rater_criterion),
                                 ("rater_school", "school", tables.rater_school)):
        clear = table.loc[(table["effect"].abs() >= min_points) & (table["q"] < fdr)]
        clear = clear.iloc[np.argsort(-clear["effect"].abs().to_numpy(), kind="stable")]
        found.extend({"kind": kind, "rater": row.rater, element: row.element, "n": int(row.n),
                      "effect": row.effect, "effect_ci95": [row.effect_lo, row.effect_hi],
                      "bias": row.bias, "bias_se": row.bias_se, "t": row.t, "df": int(row.df),
                      "p": row.p, "q": row.q}
                     for row in clear.itertuples(index=False))
    return found
