"""Rating-scale diagnostics: Andrich thresholds and how each criterion uses the score levels.

What FACETS shows in its Table 8 (Linacre, FACETS manual, "Table 8 Category statistics";
Linacre 2002, "Optimizing rating scale category effectiveness", J. Applied Measurement 3(1);
Eckes 2015, ch. 6): for each score level its count and percent, the average measure of the
ratings given at it ("Avge Meas": the mean of theta - delta - lambda over them) beside the
average the model expects ("Exp. Meas"), the outfit mean-square of the ratings at it, and the
Rasch-Andrich threshold of the step into it. Linacre's guidelines: at least 10 ratings per
level, average measures advancing with the level, thresholds advancing (disordered thresholds
mean a level is never the most probable one: raters do not use it as a distinct step), and a
category outfit below 2.

Under the rating-scale model the fit has one rating scale for all criteria. Each criterion's
own thresholds are then estimated here as in the partial-credit model (FACETS' "#" model),
with the sample, criterion and rater measures held at the rating-scale fit, so a criterion
whose levels work differently shows it without refitting the whole model. Under the
partial-credit model the criteria's thresholds are the fit's own, and every expected figure
uses the criterion's thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from moderation.statistics.rasch import RaschFit
from moderation.statistics.residuals import ModelRows

# Linacre (2002), guideline 1: fewer than 10 ratings in a level make its threshold and
# average measure unstable.
MIN_CATEGORY_RATINGS = 10
MAX_STEP = 1.0              # logits per Newton step, as in the fit
MAX_ITERATIONS = 50
TOLERANCE = 1e-6            # logits
BIN_WIDTH = 0.01            # logits: ratings are grouped by eta for the thresholds (_Cells)
RARE = ("Score {score} was given {count} times on this criterion, fewer than the {minimum} a "
        "level needs for a stable threshold and average measure (Linacre 2002): read them "
        "with care, or consider whether the level is needed.")
UNUSED = ("Score {score} was never given on this criterion, so the criterion's own thresholds "
          "cannot be estimated (a step into a level nobody uses has no finite threshold).")
FIGURE_COLUMNS = ["percent", "average_measure", "expected_average_measure", "outfit",
                  "expected_outfit", "threshold", "threshold_se"]
FLAG_COLUMNS = ["disordered_average", "disordered_threshold"]
CATEGORY_COLUMNS = ["count", *FIGURE_COLUMNS, *FLAG_COLUMNS]


def scale_thresholds(fit: RaschFit, rows: ModelRows) -> pd.DataFrame:
    """The fit's shared Andrich thresholds by score (the step into that score), with SEs;
    under partial credit each criterion's, indexed by criterion and score.

    SE: from the information of the thresholds with the other measures held fixed (the
    inverse of the m-1 x m-1 information matrix over the non-extreme ratings), times the
    fit's JMLE bias correction as for every other SE of the fit.
    """
    if rows.group is not None:
        threshold, se = _own_thresholds(fit, rows)
        index = pd.MultiIndex.from_product([fit.criteria.index, fit.thresholds.index],
                                           names=["criterion", "score"])
        return pd.DataFrame({"threshold": threshold.ravel(), "threshold_se": se.ravel()},
                            index=index)
    active = rows.is_active
    cells = _Cells.of(np.zeros(int(active.sum()), dtype=np.int64), rows.eta[active],
                      rows.x[active], 1, rows.n_categories)
    _, information = cells.score_and_information(_offsets(rows.thresholds)[None, :])
    se = _standard_errors(information)[0] * fit.bias_correction
    return pd.DataFrame({"threshold": fit.thresholds.to_numpy(dtype=float),
                         "threshold_se": se}, index=fit.thresholds.index)


def criterion_categories(fit: RaschFit, rows: ModelRows) -> pd.DataFrame:
    """Table 8 per criterion: one row per (criterion, score) of the fitted categories.

    Indexed by criterion (fit.criteria's ids) and score; columns CATEGORY_COLUMNS.
    count and percent: the measured blind ratings of the criterion at the score.
    average_measure: mean eta of those ratings; expected_average_measure: sum eta P(k | eta) /
    sum P(k | eta) over all the criterion's ratings (what the average would be if the data fit
    the model). outfit: mean of (x - E)^2 / W over the non-extreme ratings at the score
    (FACETS' category OUTFIT MnSq); expected_outfit: its value under the model, sum P(k) (k -
    E)^2 / W / sum P(k) over the non-extreme ratings. It is not 1: ratings at an end level are
    unexpected more often (measured on a district simulated from the model: 1.2 to 1.9 at the
    end levels, 0.6 to 0.9 in the middle), so compare the outfit with it.
    threshold and threshold_se: the criterion's own (partial-credit) Andrich threshold of the
    step into the score, centred at 0 like the shared ones and with the fit's bias
    correction; NaN for the lowest score and for every score of a criterion that left a level
    unused in its non-extreme ratings. disordered_average: the average measure is not above
    the one of the score below; disordered_threshold: the threshold is not above the one of
    the step below.

    Observed figures are sums over the ratings; the expected ones and the thresholds are
    computed on the ratings grouped by criterion and eta to BIN_WIDTH logits (`_Cells`).
    """
    m, n = rows.n_categories, fit.criteria.index.size
    cell = rows.criterion * m + rows.x
    active = rows.is_active

    def observed(weights: np.ndarray | None, where: np.ndarray | slice) -> np.ndarray:
        return np.bincount(cell[where], weights=None if weights is None else weights[where],
                           minlength=n * m).reshape(n, m)

    count = observed(None, slice(None))
    # One row of offsets for all criteria, or under partial credit one per criterion.
    offsets = _offsets(rows.thresholds).reshape(-1, m)
    every = _Cells.of(rows.criterion, rows.eta, rows.x, n, m)
    fitted = _Cells.of(rows.criterion[active], rows.eta[active], rows.x[active], n, m)
    expected_count = every.expected(offsets, np.ones(every.eta.size))
    would_be = fitted.squared_residuals(offsets)      # (cells, m): z^2 were the rating at k
    if rows.group is None:
        threshold, threshold_se = fitted.partial_credit(rows.thresholds)
        threshold, threshold_se = (threshold * fit.bias_correction,
                                   threshold_se * fit.bias_correction)
    else:
        threshold, threshold_se = _own_thresholds(fit, rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        average = observed(rows.eta, slice(None)) / count
        table = {
            "count": count,
            "percent": 100 * count / count.sum(axis=1, keepdims=True),
            "average_measure": average,
            "expected_average_measure": every.expected(offsets, every.eta) / expected_count,
            "outfit": (observed((rows.x - rows.expected) ** 2 / rows.variance, active)
                       / observed(None, active)),
            "expected_outfit": (fitted.expected(offsets, would_be)
                                / fitted.expected(offsets, np.ones(fitted.eta.size))),
            "threshold": _lowest_without(threshold),
            "threshold_se": _lowest_without(threshold_se),
        }
    table["disordered_average"] = _not_advancing(average)
    table["disordered_threshold"] = _not_advancing(table["threshold"])
    index = pd.MultiIndex.from_product([fit.criteria.index, list(fit.categories)],
                                       names=["criterion", "score"])
    return pd.DataFrame({name: values.ravel() for name, values in table.items()},
                        index=index)[CATEGORY_COLUMNS]


@dataclass(frozen=True)
class _Cells:
    """Ratings grouped by (group, eta rounded to BIN_WIDTH logits): each cell's group, mean
    eta and count per category. The likelihood of the thresholds with eta fixed depends on
    the ratings only through these, up to the spread of eta within a cell (at most
    BIN_WIDTH / 2; its effect on a threshold is of order BIN_WIDTH^2, far below any SE), and
    a district's million ratings fall into a few thousand cells."""

    group: np.ndarray
    eta: np.ndarray
    counts: np.ndarray          # (cells, m)
    n_groups: int

    @classmethod
    def of(cls, group: np.ndarray, eta: np.ndarray, x: np.ndarray, n_groups: int,
           m: int) -> _Cells:
        if eta.size == 0:
            return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, m)), n_groups)
        step = np.floor((eta - eta.min()) / BIN_WIDTH).astype(np.int64)
        key, first = pd.factorize(group.astype(np.int64) * (int(step.max()) + 1) + step)
        size = first.size
        counts = np.bincount(key * m + x, minlength=size * m).reshape(size, m)
        total = counts.sum(axis=1)
        eta_sum = np.bincount(key, weights=eta, minlength=size)
        cell_group = np.zeros(size, dtype=np.int64)
        cell_group[key] = group
        return cls(cell_group, eta_sum / total, counts.astype(float), n_groups)

    def probabilities(self, offsets: np.ndarray) -> np.ndarray:
        """(cells, m) category probabilities at each cell's eta, offsets per group."""
        m = self.counts.shape[1]
        logits = self.eta[:, None] * np.arange(m) - offsets[np.minimum(self.group,
                                                                       offsets.shape[0] - 1)]
        logits -= logits.max(axis=1, keepdims=True)
        probability = np.exp(logits)
        return probability / probability.sum(axis=1, keepdims=True)

    def expected(self, offsets: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per group and category, sum over ratings of values * P(k): values per cell, or
        per cell and category (cells, m)."""
        weights = self.probabilities(offsets) * self.counts.sum(axis=1, keepdims=True)
        weights *= values if values.ndim == 2 else values[:, None]
        return _per_group(self.group, weights, self.n_groups)

    def squared_residuals(self, offsets: np.ndarray) -> np.ndarray:
        """(cells, m): (k - E)^2 / W at each cell's eta."""
        probability = self.probabilities(offsets)
        k = np.arange(probability.shape[1])
        mean = probability @ k
        variance = probability @ k ** 2 - mean ** 2
        return (k - mean[:, None]) ** 2 / variance[:, None]

    def score_and_information(self, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per group, the gradient of the log-likelihood in the thresholds (expected minus
        observed ratings at or above each step: d log P(x) / d tau_k = P(X >= k) - [x >= k])
        and its information matrix (Cov([X >= j], [X >= k]) summed over the group's ratings,
        with [X >= j][X >= k] = [X >= max(j, k)]). offsets: (groups, m)."""
        total = self.counts.sum(axis=1)
        at_least = _at_least(self.probabilities(offsets))
        observed = _at_least(self.counts)
        steps = at_least.shape[1]
        score = _per_group(self.group, total[:, None] * at_least - observed, self.n_groups)
        information = np.empty((self.n_groups, steps, steps))
        for j in range(steps):
            for k in range(j, steps):
                value = np.bincount(self.group, minlength=self.n_groups,
                                    weights=total * (at_least[:, k]
                                                     - at_least[:, j] * at_least[:, k]))
                information[:, j, k] = information[:, k, j] = value
        return score, information

    def partial_credit(self, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each group's Andrich thresholds (groups x m-1, centred) and SEs, by Newton-Raphson
        on the partial-credit likelihood with every eta fixed, from the thresholds `start`.
        A group without a rating at some level has no finite thresholds: NaN."""
        complete = (_per_group(self.group, self.counts, self.n_groups) > 0).all(axis=1)
        tau = np.tile(start, (self.n_groups, 1))
        for _ in range(MAX_ITERATIONS):
            score, information = self.score_and_information(_offsets(tau))
            step = np.zeros_like(tau)
            step[complete] = np.linalg.solve(information[complete],
                                             score[complete][..., None])[..., 0]
            step = np.clip(step, -MAX_STEP, MAX_STEP)
            tau += step
            if np.abs(step).max(initial=0.0) < TOLERANCE:
                break
        _, information = self.score_and_information(_offsets(tau))
        se = np.full(tau.shape, np.nan)
        se[complete] = _standard_errors(information[complete])
        tau = tau - tau.mean(axis=1, keepdims=True)
        tau[~complete] = np.nan
        return tau, se


def _own_thresholds(fit: RaschFit, rows: ModelRows) -> tuple[np.ndarray, np.ndarray]:
    """A partial-credit fit's thresholds (criteria x m-1, as fitted) and their SEs, as
    `scale_thresholds` takes them for the shared scale but from each criterion's ratings."""
    active = rows.is_active
    cells = _Cells.of(rows.criterion[active], rows.eta[active], rows.x[active],
                      fit.criteria.index.size, rows.n_categories)
    _, information = cells.score_and_information(_offsets(rows.thresholds))
    se = np.full(rows.thresholds.shape, np.nan)
    # Criteria with non-extreme ratings use every level (else the fit is rating-scale).
    measured = np.bincount(cells.group, minlength=se.shape[0]) > 0
    se[measured] = _standard_errors(information[measured]) * fit.bias_correction
    return fit.criterion_thresholds.to_numpy(dtype=float), se


def _offsets(tau: np.ndarray) -> np.ndarray:
    """Cumulative thresholds 0, tau_1, tau_1 + tau_2, ... (last axis m), so that log P(k) =
    k eta - offsets[k] + const."""
    tau = np.asarray(tau, dtype=float)
    zero = np.zeros(tau.shape[:-1] + (1,))
    return np.concatenate([zero, np.cumsum(tau, axis=-1)], axis=-1)


def _at_least(values: np.ndarray) -> np.ndarray:
    """(cells, m) -> (cells, m-1): the sum over categories k and above, for k = 1..m-1."""
    return np.cumsum(values[:, ::-1], axis=1)[:, ::-1][:, 1:]


def _per_group(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sums of the rows of `values` (cells, c) per group, as (n, c)."""
    return np.stack([np.bincount(group, weights=column, minlength=n) for column in values.T],
                    axis=1)


def _standard_errors(information: np.ndarray) -> np.ndarray:
    """sqrt of the diagonal of the inverse of each (steps x steps) information matrix."""
    return np.sqrt(np.diagonal(np.linalg.inv(information), axis1=-2, axis2=-1))


def _lowest_without(steps: np.ndarray) -> np.ndarray:
    """(n, m-1) step figures as (n, m): the lowest score has no step into it."""
    return np.column_stack([np.full(steps.shape[0], np.nan), steps])


def _not_advancing(values: np.ndarray) -> np.ndarray:
    """Per cell, whether the value is not above the last finite value to its left (False
    where either is missing)."""
    previous = pd.DataFrame(values).T.ffill().shift(1).T.to_numpy()
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & np.isfinite(previous) & (values <= previous)


def criteria_entries(fit: RaschFit, rows: ModelRows) -> list[dict]:
    """rasch.criteria of the report: per criterion its difficulty, fit and categories."""
    categories = criterion_categories(fit, rows)
    entries = []
    for criterion, row in fit.criteria.iterrows():
        levels = categories.loc[criterion]
        entries.append({
            "criterion": criterion,
            **{name: row[name] for name in ("difficulty", "difficulty_se", "infit", "outfit",
                                             "infit_z", "outfit_z")},
            "n_ratings": int(row["n_ratings"]),
            **{name: bool(levels[name].any()) for name in FLAG_COLUMNS},
            "categories": [_category_entry(score, level)
                           for score, level in levels.iterrows()]})
    return entries


def _category_entry(score: int, level: pd.Series) -> dict:
    count = int(level["count"])
    if count == 0:
        message = UNUSED.format(score=score)
    elif count < MIN_CATEGORY_RATINGS:
        message = RARE.format(score=score, count=count, minimum=MIN_CATEGORY_RATINGS)
    else:
        message = None
    return {"score": int(score), "count": count,
            **{name: level[name] for name in FIGURE_COLUMNS},
            **{name: bool(level[name]) for name in FLAG_COLUMNS},
            "message": message}
