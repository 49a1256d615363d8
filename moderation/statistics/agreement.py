"""Agreement matrices per criterion: rater score x agreed score, and first x second reading.

Two square count tables per criterion, with the rubric's levels as rows and columns (the
observed scores when no levels are given):

- `confusion`: on anchor and validity papers, each latest blind score (rows) against the unit's
  agreed (reference) score (columns). Read down a column: how a paper of that agreed level was
  scored. This is the confusion matrix of operational scoring programmes' rater-accuracy
  reports (the "agreement with true scores" tables of Engelhard 1996, "Evaluating rater
  accuracy in performance assessments", J. Educational Measurement 33(1)).
- `readings`: for each unit (sample, criterion) with two or more blind ratings, the earliest
  reading (rows) against the second (columns) by scored_at, unknown times first, then table
  order: the first-reading/second-reading table of double-marking studies. Its chance-corrected
  summary is Cohen's (1968) weighted kappa with quadratic weights, and its large-sample
  interval from the variance of Fleiss, Cohen & Everitt (1969), "Large sample standard errors
  of kappa and weighted kappa", Psychological Bulletin 72(5), 323-327.

Exact agreement is the share on the diagonal; adjacent, the share at most one score point
apart (as in reliability.pair_agreement).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from moderation.statistics.fair import Z95
from moderation.statistics.levels import ScoreLevels
from moderation.statistics.reliability import anchored_scores
from moderation.statistics.table import BlindCodes

KAPPA_WEIGHTS = "quadratic"


def agreement_matrix(rows: np.ndarray, columns: np.ndarray, levels: np.ndarray,
                     names: tuple[str, str] = ("score", "agreed")) -> dict:
    """The levels x levels counts of (rows[i], columns[i]) score pairs.

    levels: sorted scores that label rows and columns (every score must be one of them).
    Returns {levels, counts (rows x columns), n, exact, adjacent, most_confused}: exact and
    adjacent are shares of n (None when n is 0); most_confused lists the off-diagonal cells
    with a count, most frequent first (ties by row, then column score), as
    {names[0]: row score, names[1]: column score, "n"}.
    """
    levels = np.asarray(levels, dtype=np.int64)
    size = levels.size
    cell = np.searchsorted(levels, rows) * size + np.searchsorted(levels, columns)
    counts = np.bincount(cell, minlength=size * size).reshape(size, size)
    n = int(counts.sum())
    apart = np.abs(levels[:, None] - levels[None, :])
    off = np.argwhere((counts > 0) & (apart > 0))
    order = np.lexsort((off[:, 1], off[:, 0], -counts[off[:, 0], off[:, 1]]))
    return {"levels": levels.tolist(), "counts": counts.tolist(), "n": n,
            "exact": float(np.trace(counts) / n) if n else None,
            "adjacent": float(counts[apart <= 1].sum() / n) if n else None,
            "most_confused": [{names[0]: int(levels[i]), names[1]: int(levels[j]),
                               "n": int(counts[i, j])} for i, j in off[order]]}


def weighted_kappa(counts: np.ndarray) -> tuple[float | None, float | None]:
    """Cohen's (1968) weighted kappa of a square table with quadratic agreement weights
    w_ij = 1 - (i - j)^2 / (V - 1)^2 over level positions, and its large-sample standard error
    (Fleiss, Cohen & Everitt 1969, eq. 13):

        var = [sum p_ij (w_ij - (wbar_i. + wbar_.j)(1 - k))^2 - (k - p_e (1 - k))^2]
              / (n (1 - p_e)^2)

    with wbar_i. = sum_j p_.j w_ij and wbar_.j = sum_i p_i. w_ij. (None, None) when kappa is
    undefined (fewer than two levels, no pairs, or chance agreement already 1).
    """
    counts = np.asarray(counts, dtype=float)
    n = counts.sum()
    size = counts.shape[0]
    if size < 2 or n == 0:
        return None, None
    position = np.arange(size)
    weights = 1 - (position[:, None] - position[None, :]) ** 2 / (size - 1) ** 2
    p = counts / n
    row, column = p.sum(axis=1), p.sum(axis=0)
    observed = float((weights * p).sum())
    chance = float(row @ weights @ column)
    if chance >= 1:
        return None, None
    kappa = (observed - chance) / (1 - chance)
    row_weight, column_weight = weights @ column, row @ weights
    spread = (weights - (row_weight[:, None] + column_weight[None, :]) * (1 - kappa)) ** 2
    variance = (((p * spread).sum() - (kappa - chance * (1 - kappa)) ** 2)
                / (n * (1 - chance) ** 2))
    return float(kappa), float(np.sqrt(max(variance, 0.0)))


def first_second_readings(codes: BlindCodes, scored_at: pd.Series) -> tuple[np.ndarray, ...]:
    """Per unit with two or more latest blind ratings: its criterion code, the earliest score
    and the second score, by scored_at (unknown times first, then table order).

    scored_at: the validated table's scored_at column (codes.rows index into it).
    """
    time = pd.DatetimeIndex(scored_at).as_unit("us").asi8[codes.rows]
    order = _unit_time_order(codes.unit, time)
    unit = codes.unit[order]
    score = codes.score[order]
    first = np.flatnonzero(np.r_[True, unit[1:] != unit[:-1]])
    paired = first[(first + 1 < unit.size) & (unit[np.minimum(first + 1, unit.size - 1)]
                                              == unit[first])]
    return codes.unit_criterion[unit[paired]], score[paired], score[paired + 1]


def _unit_time_order(unit: np.ndarray, time: np.ndarray) -> np.ndarray:
    """The order by unit, then time (NaT, the smallest int64, first, as table.latest counts
    unknown times), then table order (the codes are in table order, and the sorts are stable).

    One sort of unit * span + time rank when that fits in an int64 (a term of whole seconds in
    microseconds does for millions of units), else two; the sort is most of the cost here.
    """
    known = time != np.iinfo(np.int64).min
    start = time[known].min(initial=0)
    offset = np.where(known, time - start + 1, 0)
    span = int(offset.max(initial=0)) + 1
    if int(unit.max(initial=0)) < np.iinfo(np.int64).max // span:
        return np.argsort(unit.astype(np.int64) * span + offset, kind="stable")
    by_time = np.argsort(time, kind="stable")
    return by_time[np.argsort(unit[by_time], kind="stable")]


def criterion_matrices(ratings: pd.DataFrame, codes: BlindCodes,
                       levels: ScoreLevels | None) -> dict[str, dict]:
    """Per criterion of the table (in table order): {"confusion": the rater score x agreed
    score matrix on anchor and validity papers, "readings": the first x second reading
    matrix with weighted_kappa, weighted_kappa_se, weighted_kappa_ci95 and kappa_weights}.

    codes: the latest blind ratings of `ratings` (table.encode_blind).
    Levels are the rubric's for the criterion, else the blind and agreed scores observed on
    it.
    """
    # Only the blind ratings of samples with a reference score (a handful of anchors).
    referenced = ratings.loc[ratings["kind"] == "reference", "sample"].unique()
    on_anchors = np.isin(codes.sample, codes.sample_ids.get_indexer(referenced))
    anchored = anchored_scores(ratings, ratings.iloc[codes.rows[on_anchors]])
    criterion, first, second = first_second_readings(codes, ratings["scored_at"])
    out = {}
    for name in pd.unique(ratings["criterion"]):
        scored = anchored.loc[anchored["criterion"] == name]
        code = codes.criterion_ids.get_indexer([name])[0]
        given = None if levels is None else levels.of(name)
        scale = np.asarray(given) if given is not None else np.union1d(
            codes.score[codes.criterion == code], scored["agreed"].to_numpy())
        pairs = criterion == code
        readings = agreement_matrix(first[pairs], second[pairs], scale, ("first", "second"))
        kappa, se = weighted_kappa(np.array(readings["counts"]))
        readings |= {"weighted_kappa": kappa, "weighted_kappa_se": se,
                     "weighted_kappa_ci95": _interval(kappa, se),
                     "kappa_weights": KAPPA_WEIGHTS}
        out[name] = {"confusion": agreement_matrix(scored["score"].to_numpy(),
                                                   scored["agreed"].to_numpy(), scale),
                     "readings": readings}
    return out


def _interval(kappa: float | None, se: float | None) -> list[float] | None:
    if kappa is None or se is None or se == 0:
        return None
    return [max(kappa - Z95 * se, -1.0), min(kappa + Z95 * se, 1.0)]
