"""Inter-rater reliability: Krippendorff's alpha with a bootstrap interval, and pair agreement.

The unit of reliability is a (sample, criterion) pair; only blind ratings count (a class
teacher's local score and an anchor's reference score are not independent judgements). The
data arrive as value counts: a units x values array whose row u counts how many raters gave
each value to unit u, so no raters x units matrix is ever built.

Reference: Krippendorff, *Computing Krippendorff's Alpha-Reliability* (2011): coincidences,
the difference functions per level, alpha = 1 - D_o / D_e; thresholds from *Content Analysis*,
2nd ed. (2004).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import krippendorff
import numpy as np
import pandas as pd

from moderation.statistics.table import BlindCodes, latest

LEVELS = ("nominal", "ordinal", "interval", "ratio")
# Krippendorff (2004): rely on alpha >= .800; .667 <= alpha < .800 for tentative conclusions.
ALPHA_THRESHOLDS = (0.667, 0.800)
DEFAULT_BOOTSTRAP = 1000
# One pairable unit gives a number but no spread: its bootstrap resamples are all the same.
MIN_PAIRABLE_UNITS = 2
# Cells per bootstrap chunk, so memory stays at a few tens of MB for any number of patterns.
MAX_CHUNK_CELLS = 4_000_000
# The package builds dense units x V x V arrays (about four at once) and takes about 0.1 s per
# million cells: beyond this size (e.g. 30,000 units on a 4-point scale; a district's criterion
# has 60,000) the point estimate comes from the same coincidences summed per pattern, which
# the tests hold equal to the package's to 1e-12, in milliseconds.
MAX_PACKAGE_CELLS = 500_000
# Random odd multipliers that hash a row of counts into one int64 (wrapping); collisions are
# checked for, so the hash only has to be fast, not perfect.
ROW_HASH = np.random.default_rng(20240611).integers(1, 2 ** 62, size=4096) * 2 + 1


class LevelOfMeasurementError(ValueError):
    """Scores that the chosen level of measurement cannot describe: the ratio level on scores
    both below and above zero. The message says so in plain words and what to use instead."""


def check_ratio_scores(values: np.ndarray) -> None:
    """Refuse the ratio level for scores on both sides of zero.

    A ratio scale has a true zero and no negative values (Krippendorff 2011). Its difference
    ((c - k) / (c + k))^2 divides by zero for c = -k: R's irr::kripp.alpha returns NaN for such
    data, and the `krippendorff` package, like a formula that skips the zero divisions, returns
    a number (1.0 when every unit holds c and -c). All scores <= 0 or all >= 0 are fine.
    """
    if values.size and values.min() < 0 < values.max():
        raise LevelOfMeasurementError(
            f"the ratio level needs scores on one side of zero (a ratio scale has a true zero), "
            f"but these run from {_number(values.min())} to {_number(values.max())}; use "
            "--level interval (or ordinal) for such scores")


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float | np.floating) else str(value)


@dataclass(frozen=True)
class UnitValues:
    """Value counts of the units: counts[u, v] raters gave value_domain[v] to unit u.

    counts: (U, V) int64, one row per unit with at least one blind rating.
    value_domain: (V,) sorted distinct scores.
    unit_criterion: (U,) criterion code of each unit.
    """

    counts: np.ndarray
    value_domain: np.ndarray
    unit_criterion: np.ndarray

    def of_criterion(self, code: int) -> np.ndarray:
        return self.counts[self.unit_criterion == code]


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's alpha with its percentile bootstrap interval.

    status: "ok"; "undefined" when every pairable value is the same (no expected disagreement);
        "insufficient" when fewer than MIN_PAIRABLE_UNITS units have two or more ratings.
    alpha, ci95: None unless status is ok (ci95 also None without replicates).
    p_below: for each threshold, the share of bootstrap replicates below it.
    n_units: pairable units (two or more ratings); n_values: pairable ratings in them.
    n_replicates: bootstrap replicates with a defined alpha.
    """

    status: str
    level: str
    alpha: float | None = None
    ci95: tuple[float, float] | None = None
    p_below: dict[float, float] = field(default_factory=dict)
    n_units: int = 0
    n_values: int = 0
    n_replicates: int = 0


@dataclass(frozen=True)
class Agreement:
    """Share of rater pairs within a unit who gave the same score (exact) or scores at most one
    point apart (adjacent), each unit weighted by its number of ratings (see pair_agreement);
    n_pairs: the pairs compared; None without pairs."""

    exact: float | None
    adjacent: float | None
    n_pairs: int


def unit_values(codes: BlindCodes) -> UnitValues:
    """Count, per unit, how many raters gave each value (np.bincount over the long table)."""
    value_domain, value = np.unique(codes.score, return_inverse=True)
    n_values = max(value_domain.size, 1)
    counts = np.bincount(codes.unit * n_values + value, minlength=codes.n_units * n_values)
    return UnitValues(counts=counts.reshape(codes.n_units, n_values),
                      value_domain=value_domain, unit_criterion=codes.unit_criterion)


def krippendorff_alpha(counts: np.ndarray, value_domain: np.ndarray, level: str = "ordinal", *,
                       n_bootstrap: int = DEFAULT_BOOTSTRAP,
                       rng: np.random.Generator | None = None,
                       thresholds: tuple[float, ...] = ALPHA_THRESHOLDS) -> AlphaResult:
    """Krippendorff's alpha of (U, V) value counts at a level of measurement, with uncertainty.

    Units with fewer than two ratings are not pairable and are ignored (Krippendorff 2011).
    The point estimate is the `krippendorff` package's, from value counts with an explicit
    value domain (from the coincidences directly when the package's dense intermediate would
    exceed MAX_PACKAGE_CELLS). The interval resamples units with all their ratings
    (percentile bootstrap, n_bootstrap replicates; Hayes & Krippendorff 2007, "Answering the
    call for a standard reliability measure for coding data"; docs/methods.md); p_below[t] is
    the share of replicates below t. Replicates in which alpha is undefined are left out.

    Raises LevelOfMeasurementError for the ratio level when the pairable values lie on both
    sides of zero (see check_ratio_scores).
    """
    pairable = counts[counts.sum(axis=1) >= 2]
    # With no scores at all the counts keep one empty column (unit_values) for no value.
    if level == "ratio" and value_domain.size:
        check_ratio_scores(value_domain[pairable.sum(axis=0) > 0])
    base = {"level": level, "n_units": pairable.shape[0], "n_values": int(pairable.sum())}
    if pairable.shape[0] < MIN_PAIRABLE_UNITS:
        return AlphaResult(status="insufficient", **base)
    patterns, multiplicity = _distinct_rows(pairable)
    contributions = unit_coincidences(patterns)
    coincidences = (multiplicity @ contributions).reshape(value_domain.size, value_domain.size)
    if not np.isfinite(alpha_from_coincidences(coincidences, value_domain, level)):
        return AlphaResult(status="undefined", **base)
    point = _point_alpha(pairable, value_domain, level, coincidences)
    replicates = bootstrap_alpha(contributions, multiplicity, value_domain, level,
                                 n_bootstrap=n_bootstrap, rng=rng)
    replicates = replicates[np.isfinite(replicates)]
    if replicates.size == 0:
        return AlphaResult(status="ok", alpha=point, **base)
    low, high = np.quantile(replicates, [0.025, 0.975])
    return AlphaResult(status="ok", alpha=point, ci95=(float(low), float(high)),
                       p_below={t: float(np.mean(replicates < t)) for t in thresholds},
                       n_replicates=replicates.size, **base)


def _point_alpha(pairable: np.ndarray, value_domain: np.ndarray, level: str,
                 coincidences: np.ndarray) -> float:
    if pairable.shape[0] * value_domain.size ** 2 > MAX_PACKAGE_CELLS:
        return float(alpha_from_coincidences(coincidences, value_domain, level))
    return float(krippendorff.alpha(value_counts=pairable, value_domain=value_domain,
                                    level_of_measurement=level))


def unit_coincidences(counts: np.ndarray) -> np.ndarray:
    """Each unit's contribution to the coincidence matrix, flattened: (U, V * V).

    Unit u with m_u pairable values adds (c c^T - diag(c)) / (m_u - 1) (Krippendorff 2011);
    summed over units this is the coincidence matrix o.
    """
    m = counts.sum(axis=1, keepdims=True).astype(float)
    outer = counts[:, :, None] * counts[:, None, :]
    diagonal = np.arange(counts.shape[1])
    outer[:, diagonal, diagonal] -= counts
    return (outer.reshape(counts.shape[0], -1) / np.maximum(m - 1, 1))


def alpha_from_coincidences(coincidences: np.ndarray, value_domain: np.ndarray,
                            level: str) -> np.ndarray:
    """Alpha from coincidence matrices (..., V, V), vectorised over the leading axes.

    alpha = 1 - (n - 1) sum(o * d) / (n_v^T d n_v), with n_v the marginals and n their total
    (Krippendorff 2011; the diagonal of d is 0, so e * d sums to n_v^T d n_v / (n - 1)).
    NaN where alpha is undefined (no expected disagreement).
    """
    marginals = coincidences.sum(axis=-1)
    n = marginals.sum(axis=-1)
    distance = _distances(marginals, value_domain, level)
    observed = (coincidences * distance).sum(axis=(-2, -1))
    expected = np.einsum("...i,...ij,...j->...", marginals, distance, marginals)
    ratio = np.divide((n - 1) * observed, expected, out=np.full_like(observed, np.nan),
                      where=expected > 0)
    return 1 - ratio


def bootstrap_alpha(contributions: np.ndarray, multiplicity: np.ndarray,
                    value_domain: np.ndarray, level: str, *, n_bootstrap: int,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """Alpha of n_bootstrap resamples of the units (with all their ratings).

    contributions: (P, V * V) coincidence contributions of P distinct unit patterns (rows of
    value counts), multiplicity: (P,) how many units have each. Drawing U units uniformly with
    replacement and counting them by pattern is a Multinomial(U, multiplicity / U) draw, so each
    replicate is a weight vector and its coincidence matrix one matrix product: the cost does
    not grow with the number of units.
    """
    rng = np.random.default_rng() if rng is None else rng
    n_units = int(multiplicity.sum())
    probabilities = multiplicity / n_units
    # A chunk holds its weights (chunk x P) and its coincidences and distances (chunk x V x V).
    chunk = max(1, MAX_CHUNK_CELLS // max(contributions.shape))
    alphas = []
    for start in range(0, n_bootstrap, chunk):
        weights = rng.multinomial(n_units, probabilities, size=min(chunk, n_bootstrap - start))
        coincidences = (weights @ contributions).reshape(-1, value_domain.size, value_domain.size)
        alphas.append(alpha_from_coincidences(coincidences, value_domain, level))
    return np.concatenate(alphas) if alphas else np.empty(0)


def pair_agreement(counts: np.ndarray, value_domain: np.ndarray) -> Agreement:
    """Exact and adjacent (|difference| <= 1 score point) agreement between raters of a unit.

    counts: (U, V) value counts. Every pair of raters within a unit is compared; a unit with m
    ratings has m (m - 1) / 2 pairs, each weighted 1 / (m - 1), so that each unit counts as
    many times as it has ratings. This is the observed agreement of Krippendorff's (2011)
    coincidence matrix: trace(o) / n, plus the cells one point apart for adjacent. Pooling raw
    pairs instead would let a calibration anchor scored by every rater in the district (3,000
    raters: 4.5 million pairs) outweigh all of the ordinary double-scored samples.
    """
    m = counts.sum(axis=1)
    n_pairs = int((m * (m - 1)).sum() // 2)
    if n_pairs == 0:
        return Agreement(exact=None, adjacent=None, n_pairs=0)
    weight = 1.0 / np.maximum(m - 1, 1)
    one_apart = np.abs(value_domain[:, None] - value_domain[None, :]) == 1
    exact = weight @ (counts * (counts - 1)).sum(axis=1)
    near = weight @ ((counts @ one_apart) * counts).sum(axis=1)
    pairable_values = m[m >= 2].sum()
    return Agreement(exact=float(exact / pairable_values),
                     adjacent=float((exact + near) / pairable_values), n_pairs=n_pairs)


def anchored_scores(ratings: pd.DataFrame, blind: pd.DataFrame) -> pd.DataFrame:
    """The blind scores of units with a reference (agreed) score: rater, sample, criterion,
    score and agreed (the unit's latest reference score), in the order of `blind`."""
    unit = ["sample", "criterion"]
    anchors = latest(ratings.loc[ratings["kind"] == "reference"], unit)
    # Anchors are a handful of samples: filtering first spares merging every blind rating.
    blind = blind.loc[blind["sample"].isin(anchors["sample"].unique())]
    return blind[["rater", *unit, "score"]].merge(
        anchors[[*unit, "score"]].rename(columns={"score": "agreed"}), on=unit)


def anchor_agreement(ratings: pd.DataFrame, blind: pd.DataFrame) -> pd.DataFrame:
    """Each rater's exact agreement with the reference (anchor) scores.

    ratings: the validated table (its latest reference score per sample and criterion is the
    anchor); blind: its latest blind ratings. Returns, indexed by rater, anchor_exact_agreement
    (share of the rater's blind scores of anchored units equal to the reference score) and
    n_anchor_ratings. Raters who scored no anchored unit are absent.
    """
    scored = anchored_scores(ratings, blind)
    matches = (scored["score"] == scored["agreed"]).groupby(scored["rater"])
    return pd.DataFrame({"anchor_exact_agreement": matches.mean(),
                         "n_anchor_ratings": matches.size()})


def anchor_confusions(ratings: pd.DataFrame, blind: pd.DataFrame) -> dict[str, list[dict]]:
    """Per rater, which levels they confuse: on units with a reference (agreed) score, the
    counts of (their score, agreed score) pairs that differ, most frequent first, as
    [{"score", "agreed", "n"}]. Raters who disagreed on no anchored unit are absent."""
    scored = anchored_scores(ratings, blind)
    scored = scored.loc[scored["score"] != scored["agreed"]]
    if scored.empty:
        return {}
    counts = (scored.groupby(["rater", "score", "agreed"]).size().rename("n").reset_index()
              .sort_values(["rater", "n", "score", "agreed"],
                           ascending=[True, False, True, True]))
    # Plain records split at each rater's first row (a groupby over thousands of raters
    # costs a second on the district).
    records = counts[["score", "agreed", "n"]].astype(np.int64).to_dict("records")
    raters = counts["rater"].to_numpy()
    starts = np.flatnonzero(np.r_[True, raters[1:] != raters[:-1]])
    ends = np.r_[starts[1:], raters.size]
    return {raters[start]: records[start:end]
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True)}


def _distances(marginals: np.ndarray, value_domain: np.ndarray, level: str) -> np.ndarray:
    """Squared difference d(c, k) between values, (..., V, V) (Krippendorff 2011).

    The ordinal difference, (sum of n_g from c to k - (n_c + n_k) / 2) ** 2, is the interval
    difference between mid-ranks cumsum(n)_c - n_c / 2, which vectorises over replicates.
    """
    values = value_domain.astype(float)
    if level == "nominal":
        return 1.0 - np.eye(values.size)
    if level == "ordinal":
        midranks = np.cumsum(marginals, axis=-1) - marginals / 2
        return (midranks[..., :, None] - midranks[..., None, :]) ** 2
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if level == "ratio":
        total = values[:, None] + values[None, :]
        difference = values[:, None] - values[None, :]
        return np.divide(difference, total, out=np.zeros_like(total), where=total != 0) ** 2
    raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")


def _distinct_rows(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of (U, V) counts and how often each occurs.

    With few raters per unit there are few patterns (at most a few hundred for 3-4 raters on a
    10-point scale), which is what makes the bootstrap independent of the number of units.
    Rows are hashed to one integer for a fast 1-D unique; should two different rows share a
    hash, the exact (slower) row-wise unique is used instead.
    """
    n_values = counts.shape[1]
    multipliers = ROW_HASH[np.arange(n_values) % ROW_HASH.size]
    keys = counts @ multipliers
    _, first, inverse, multiplicity = np.unique(keys, return_index=True, return_inverse=True,
                                                return_counts=True)
    if not np.array_equal(counts[first][inverse], counts):
        return np.unique(counts, axis=0, return_counts=True)
    return counts[first], multiplicity
