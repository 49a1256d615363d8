"""The blind ratings a converged Rasch fit measured, each with what the model expects of it.

FACETS writes the same per rating to its residual file (observed, expected, variance;
Linacre, FACETS manual, "Residualfile="). The rating-scale diagnostics (`categories.py`) and the
bias/interaction tables (`bias.py`) are sums of these rows, grouped by a criterion, a category
or a pair of elements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moderation.statistics.rasch import RaschFit, category_moments
from moderation.statistics.table import BlindCodes


@dataclass(frozen=True)
class ModelRows:
    """One entry per blind rating whose sample, criterion and rater all have a measure.

    position: index of the rating in the BlindCodes arrays (codes.rows[position] is its row
        in the ratings table).
    rater, sample, criterion: positions in fit.raters, fit.samples and fit.criteria.
    x: the category 0..m-1, the position of the score in fit.categories.
    eta: theta - delta - lambda from the fit's measures (logits).
    expected, variance: the expected category at eta and its model variance.
    is_active: none of the rating's elements is extreme; fit statistics use these rows only,
        as FACETS does (an extreme element's measure comes from the 0.3-point adjustment).
    thresholds: the fit's tau_k; scores: the rubric score of each category.
    group: None under the rating-scale model; under partial credit, thresholds is the fit's
        criterion_thresholds (a row per criterion, in fit.criteria's order) and group each
        rating's row in it (its criterion), as category_moments takes them.
    """

    position: np.ndarray
    rater: np.ndarray
    sample: np.ndarray
    criterion: np.ndarray
    x: np.ndarray
    eta: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    is_active: np.ndarray
    thresholds: np.ndarray
    scores: np.ndarray
    group: np.ndarray | None = None

    @property
    def n_categories(self) -> int:
        return self.scores.size


def model_rows(codes: BlindCodes, fit: RaschFit) -> ModelRows:
    """The measured blind ratings of `codes` (encode_blind of the table fitted) under `fit`,
    which must have converged (status "ok"); see ModelRows."""
    facets = [(fit.raters, "severity", codes.rater_ids, codes.rater),
              (fit.samples, "measure", codes.sample_ids, codes.sample),
              (fit.criteria, "difficulty", codes.criterion_ids, codes.criterion)]
    positions, measures, extremes = [], [], []
    for table, name, ids, code in facets:
        # Codes index the ids of encode_blind; the fit's tables may list them in another order.
        where = table.index.get_indexer(ids)[code]
        value = np.append(table[name].to_numpy(dtype=float), np.nan)[where]
        positions.append(where)
        measures.append(value)
        extremes.append(np.append(table["is_extreme"].to_numpy(dtype=bool), True)[where])
    categories = np.asarray(fit.categories)
    x = np.searchsorted(categories, codes.score)
    known = categories[np.minimum(x, categories.size - 1)] == codes.score
    severity, theta, difficulty = measures
    eta = theta - difficulty - severity
    keep = np.flatnonzero(np.isfinite(eta) & known)
    if fit.criterion_thresholds is None:
        thresholds, group = fit.thresholds.to_numpy(dtype=float), None
    else:
        thresholds = fit.criterion_thresholds.to_numpy(dtype=float)
        group = positions[2][keep]
    expected, variance = category_moments(eta[keep], thresholds, group)
    return ModelRows(position=keep, rater=positions[0][keep], sample=positions[1][keep],
                     criterion=positions[2][keep], x=x[keep], eta=eta[keep],
                     expected=expected, variance=variance,
                     is_active=~(extremes[0] | extremes[1] | extremes[2])[keep],
                     thresholds=thresholds, scores=categories.astype(float), group=group)
