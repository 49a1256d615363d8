"""Fair averages: the Rasch measures back in rubric points (Linacre, FACETS manual, "Fair
average"; Fair score = Mean, FACETS' default).

An element's fair average is the score it is expected to give or get when every other facet
is at its average: a rater's is the expected score of an average sample on an average
criterion scored by that rater, under the fitted rating scale. It answers "what would this
rater have given if every rater had scored the same, average work?", so a rater's fair average
minus the average rater's is their severity in score points, which is what a teacher can read.
The averages are the means of the measured, non-extreme elements of each facet (FACETS omits
extreme elements from them).

Expected score: sum_k score_k P(k | eta) with eta = theta - delta - lambda and the fit's
thresholds; score_k are the rubric scores of the fitted categories (a level nobody used has
none). Under the partial-credit model a criterion's fair average uses its own thresholds, and
the "average criterion" of the raters' and samples' fair averages has the criteria's average
thresholds (the fit's `thresholds`).

Interval of a rater's difference from the average rater: the expected-score curve is
decreasing in severity, so the interval is the curve at severity -+ 1.96 SE, minus the average
rater's fair average. Being the image of the severity interval, it has exactly its coverage, stays
within the rubric's range and bends as the curve does near the ends, where a delta-method
interval (the slope at the severity times 1.96 SE) would be symmetric and could pass the lowest
or highest level. The average rater's own fair average is taken as known: rater severities
are centred at their mean, so its error is that of a mean over all raters, small beside one
rater's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from moderation.statistics.category_model import category_probabilities
from moderation.statistics.rasch import RaschFit

Z95 = 1.959963984540054


@dataclass(frozen=True)
class FairAverages:
    """Fair averages of a fit, in rubric points; NaN throughout unless the fit converged.

    raters: by rater, fair_average, fair_average_difference (minus the average rater's; > 0
        lenient: gives more points than the average rater), fair_average_difference_lo and _hi
        (its 95% interval).
    samples, criteria: fair_average by sample / criterion.
    average_rater: the fair average of a rater of mean severity (of an average sample on an
        average criterion).
    """

    raters: pd.DataFrame
    samples: pd.Series
    criteria: pd.Series
    average_rater: float


def expected_score(eta: np.ndarray, thresholds: np.ndarray, scores: np.ndarray,
                   group: np.ndarray | None = None) -> np.ndarray:
    """The expected rubric score at each eta: sum_k scores[k] P(k | eta). thresholds and
    group as category_model.category_moments takes them (group: one per eta, for a table)."""
    eta = np.atleast_1d(np.asarray(eta, dtype=float))
    probability = category_probabilities(eta.ravel(), np.asarray(thresholds, dtype=float),
                                         None if group is None else np.ravel(group))
    return (np.asarray(scores, dtype=float) @ probability).reshape(eta.shape)


def fair_averages(fit: RaschFit) -> FairAverages:
    """The fair averages of the raters, samples and criteria of a fit (see the module)."""
    rater_ids, sample_ids = fit.raters.index, fit.samples.index
    criterion_ids = fit.criteria.index
    if fit.status != "ok":
        nan = np.full(rater_ids.size, np.nan)
        return FairAverages(
            raters=pd.DataFrame({name: nan for name in _RATER_NAMES}, index=rater_ids),
            samples=pd.Series(np.nan, index=sample_ids, name="fair_average"),
            criteria=pd.Series(np.nan, index=criterion_ids, name="fair_average"),
            average_rater=float("nan"))
    tau = fit.thresholds.to_numpy()
    scores = np.asarray(fit.categories, dtype=float)
    theta = _mean(fit.samples, "measure")
    delta = _mean(fit.criteria, "difficulty")
    lam = _mean(fit.raters, "severity")

    def score(eta: np.ndarray, table: np.ndarray = tau) -> np.ndarray:
        """Expected scores at eta; table: the thresholds, or one row of them per eta."""
        values = np.asarray(eta, dtype=float)
        out = np.full(values.shape, np.nan)
        finite = np.isfinite(values)
        group = None if table.ndim == 1 else np.flatnonzero(finite)
        out[finite] = expected_score(values[finite], table, scores, group)
        return out

    average = float(score(np.array([theta - delta - lam]))[0])
    severity = fit.raters["severity"].to_numpy(dtype=float)
    se = fit.raters["severity_se"].to_numpy(dtype=float)
    rater_fair = score(theta - delta - severity)
    raters = pd.DataFrame({
        "fair_average": rater_fair,
        "fair_average_difference": rater_fair - average,
        # Harsher (higher severity) means fewer points: the upper severity bound is the low end.
        "fair_average_difference_lo": score(theta - delta - (severity + Z95 * se)) - average,
        "fair_average_difference_hi": score(theta - delta - (severity - Z95 * se)) - average,
    }, index=rater_ids)
    samples = pd.Series(score(fit.samples["measure"].to_numpy(dtype=float) - delta - lam),
                        index=sample_ids, name="fair_average")
    own = tau if fit.criterion_thresholds is None else fit.criterion_thresholds.to_numpy()
    criteria = pd.Series(score(theta - fit.criteria["difficulty"].to_numpy(dtype=float) - lam,
                               own), index=criterion_ids, name="fair_average")
    return FairAverages(raters=raters, samples=samples, criteria=criteria,
                        average_rater=average)


def fair_average_at(fit: RaschFit, severity) -> np.ndarray:
    """The fair average of a rater of the given severities (logits; NaN where not finite or
    the fit did not converge): an average sample on an average criterion, as in
    `fair_averages`. Used to put a drift step in rubric points (before and after)."""
    severity = np.atleast_1d(np.asarray(severity, dtype=float))
    out = np.full(severity.shape, np.nan)
    if fit.status != "ok":
        return out
    eta = _mean(fit.samples, "measure") - _mean(fit.criteria, "difficulty") - severity
    finite = np.isfinite(eta)
    out[finite] = expected_score(eta[finite], fit.thresholds.to_numpy(),
                                 np.asarray(fit.categories, dtype=float))
    return out


_RATER_NAMES = ("fair_average", "fair_average_difference", "fair_average_difference_lo",
                "fair_average_difference_hi")


def _mean(table: pd.DataFrame, name: str) -> float:
    """The mean measure of the measured, non-extreme elements (all measured ones if every
    element is extreme)."""
    measured = table[name].notna() & ~table["is_extreme"].astype(bool)
    values = table.loc[measured, name] if measured.any() else table[name].dropna()
    return float(values.mean())
