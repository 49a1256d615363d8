"""Halo and central tendency per rater, judged against the many-facet Rasch model's expectation.

Both effects are rater errors of the classical literature (Saal, Downey & Lahey 1980, "Rating
the ratings: assessing the psychometric quality of rating data", Psychological Bulletin 88(2))
that Myford & Wolfe (2003, 2004, "Detecting and measuring rater effects using many-facet
Rasch measurement", J. Applied Measurement 4(4), 5(2)) and Eckes (2015, ch. 9) read from a
many-facet Rasch analysis. Raw indices confound the effect with the work a rater happened to
score (a rater of weak work uses the bottom level more, a harsh rater's scores pile up at the
floor and vary less), so each index here compares what the rater did with what the fitted
model expects of that rater on those very samples and criteria:

- halo: the spread of a rater's scores across the criteria of one piece of work. Saal et al.'s
  index is the standard deviation of a rater's ratings across dimensions of a ratee (small
  means halo). Here, per (rater, sample) visit with two or more criteria, the observed sum of
  squared deviations from the rater's mean on that sample, S = sum_i (x_i - xbar)^2, against
  its model expectation E[S] = sum_i (E_i - Ebar)^2 + (1 - 1/m) sum_i W_i (E_i, W_i the
  model's expected category and variance, criteria independent given the sample). The index
  is sum S / sum E[S]: 1 is what the model expects, well below 1 means the rater does not
  tell the criteria apart (halo).
- central tendency: the share of the rater's scores in the middle categories (neither the
  lowest nor the highest category of the fit) minus the share the model expects of them
  (Myford & Wolfe 2004: a central-tendency rater overuses the middle categories; Wolfe &
  Myford 2009 on differential scale category use). Above 0 the rater avoids the extremes.

Both are also visible in the FACETS reading of rater fit: an infit well below 1 (too
predictable) suggests halo or central tendency; the index says which.

Uncertainty: a rater's visits are the independent units, so each index has a ratio (or
difference) estimator's standard error from the spread of the visits' contributions (the
linearised, cluster-robust variance; Cochran 1977, Sampling Techniques, sec. 6.4), which does
not lean on the model being right within a visit. A rater is flagged when the effect is beyond
its practical size and clear: the one-sided minimum-effect p (H0: the effect is within the
practical size) has a Benjamini-Hochberg q below the false-discovery rate over the raters with
an index, as the severity findings are judged (multiplicity.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from moderation.statistics.distributions import normal_sf
from moderation.statistics.fair import Z95
from moderation.statistics.multiplicity import benjamini_hochberg
from moderation.statistics.rasch import RaschFit
from moderation.statistics.table import BlindCodes

# Fewer visits than this give a standard error from too few clusters to trust.
MIN_VISITS = 10
# The rater-specific threshold factor: Newton steps until none moves by the tolerance; a rater
# with (nearly) no extreme or no middle scores runs to a bound, which is far enough.
SPREAD_ITERATIONS = 30
SPREAD_TOLERANCE = 1e-3
SPREAD_BOUNDS = (0.1, 10.0)
EFFECTS = ("halo", "central_tendency")


@dataclass(frozen=True)
class _Rows:
    """The latest blind ratings that the fit measured: rater code, (rater, sample) visit
    code, category x, the model's expected category and variance, and P(middle category)."""

    rater: np.ndarray
    visit: np.ndarray
    x: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    middle: np.ndarray
    n_categories: int


@dataclass(frozen=True)
class _VisitSums:
    """Per visit: its rater, the observed and expected statistic, and the weight of a share
    (ratings in the visit) or None for a ratio of sums (halo)."""

    rater: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    weights: np.ndarray | None = None


def rater_effects(codes: BlindCodes, fit: RaschFit, *, halo_size: float,
                  central_size: float, fdr: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per rater of codes.rater_ids, the halo and the central tendency tables.

    halo_size: the practical shortfall of spread (flag when the index is below 1 - halo_size);
    central_size: the practical excess share of middle scores. Each table, indexed by rater:
    index, reference (its value under the model: 1 for halo, 0 for central tendency),
    observed, expected (per visit for halo: the mean sum of squared deviations across
    criteria, in categories squared; for central tendency: the share of middle scores), se,
    ci_lo, ci_hi, p, q, n (visits: samples scored), n_ratings, flag (bool), reason (None when
    computed, else why not). Nothing is computed unless the fit converged.
    """
    raters = codes.rater_ids
    halo, central = _empty(raters, 1.0), _empty(raters, 0.0)
    if fit.status != "ok":
        reason = "the Rasch fit did not converge or had too little data"
        return halo.assign(reason=reason), central.assign(reason=reason)
    rows = _measured_rows(codes, fit)
    _fill(halo, _halo_sums(rows), rows, 1.0 - halo_size, fdr, lower=True)
    if rows.n_categories < 3:
        central["reason"] = "the scale has no middle level (fewer than three levels used)"
    else:
        _fill(central, _central_sums(rows), rows, central_size, fdr, lower=False)
    return halo, central


def group_summary(table: pd.DataFrame) -> dict:
    """The raters' indices as a group: n_raters (with an index), mean, its 95% interval (the
    raters as a sample), median, n_flagged."""
    index = table["index"].dropna().to_numpy(dtype=float)
    n = index.size
    mean = float(index.mean()) if n else None
    se = float(index.std(ddof=1) / np.sqrt(n)) if n > 1 else None
    return {"n_raters": n, "mean": mean,
            "mean_ci95": None if se is None else [mean - Z95 * se, mean + Z95 * se],
            "median": float(np.median(index)) if n else None,
            "n_flagged": int(table["flag"].sum())}


def _empty(raters: pd.Index, reference: float) -> pd.DataFrame:
    names = ["index", "observed", "expected", "se", "ci_lo", "ci_hi", "p", "q"]
    table = pd.DataFrame({name: np.full(raters.size, np.nan) for name in names}, index=raters)
    table["reference"] = reference
    table["n"] = 0
    table["n_ratings"] = 0
    table["flag"] = False
    table["reason"] = pd.Series(None, index=raters, dtype=object)
    return table


def _measured_rows(codes: BlindCodes, fit: RaschFit) -> _Rows:
    theta = fit.samples["measure"].reindex(codes.sample_ids).to_numpy(dtype=float)
    delta = fit.criteria["difficulty"].reindex(codes.criterion_ids).to_numpy(dtype=float)
    lam = fit.raters["severity"].reindex(codes.rater_ids).to_numpy(dtype=float)
    eta = theta[codes.sample] - delta[codes.criterion] - lam[codes.rater]
    categories = np.asarray(fit.categories)
    keep = np.isfinite(eta) & np.isin(codes.score, categories)
    eta, rater = eta[keep], codes.rater[keep]
    x = np.searchsorted(categories, codes.score[keep])
    # T_k = tau_1 + ... + tau_k: the model is log P(k) = k eta - T_k - log Z.
    steps = np.concatenate([[0.0], np.cumsum(fit.thresholds.to_numpy(dtype=float))])
    shared = _probabilities(eta, steps, np.ones(eta.size))
    spread = _rater_spread(eta, x, rater, codes.rater_ids.size, steps, shared)
    own = _probabilities(eta, steps, spread[rater])
    k = np.arange(categories.size, dtype=float)
    expected = k @ own
    visit, _ = pd.factorize(rater.astype(np.int64) * codes.sample_ids.size
                            + codes.sample[keep])
    return _Rows(rater=rater, visit=visit, x=x.astype(float), expected=expected,
                 variance=k ** 2 @ own - expected ** 2,
                 middle=1.0 - shared[0] - shared[-1], n_categories=categories.size)


def _probabilities(eta: np.ndarray, steps: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """P(category k), (m, N), with each rating's thresholds multiplied by its spread.
    Categories first, so that every operation runs over one long contiguous row."""
    logits = np.multiply.outer(np.arange(steps.size, dtype=float), eta)
    logits -= np.multiply.outer(steps, spread)
    logits -= logits.max(axis=0)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=0)
    return logits


def _rater_spread(eta: np.ndarray, x: np.ndarray, rater: np.ndarray, n_raters: int,
                  steps: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Per rater, the factor c_j on the shared thresholds that best fits their ratings, the
    other measures fixed: a rater-specific rating scale, as Myford & Wolfe (2004) and Eckes
    (2015) fit to read central tendency from thresholds further apart (c > 1) and extremity
    from closer ones. Used so that the halo expectation is the rater's own scale: a
    central-tendency rater's scores vary less across criteria because they vary less, not
    because the criteria blur. Newton steps on sum (E[T] - T_x) with information Var(T),
    from 1, where the probabilities are `shared`'s."""
    spread = np.ones(n_raters)
    observed = np.bincount(rater, steps[x], minlength=n_raters)
    probability = shared
    for _ in range(SPREAD_ITERATIONS):
        mean = steps @ probability
        variance = steps ** 2 @ probability - mean ** 2
        information = np.bincount(rater, variance, minlength=n_raters)
        gradient = np.bincount(rater, mean, minlength=n_raters) - observed
        step = np.clip(np.divide(gradient, information, out=np.zeros(n_raters),
                                 where=information > 0), -1.0, 1.0)
        spread = np.clip(spread + step, *SPREAD_BOUNDS)
        if np.abs(step).max(initial=0.0) < SPREAD_TOLERANCE:
            break
        probability = _probabilities(eta, steps, spread[rater])
    return spread


def _visit_raters(rows: _Rows, n_visits: int) -> np.ndarray:
    rater = np.zeros(n_visits, dtype=np.int64)
    rater[rows.visit] = rows.rater
    return rater


def _halo_sums(rows: _Rows) -> _VisitSums:
    """Per visit with two or more criteria: observed S and expected E[S] (module docstring)."""
    m = np.bincount(rows.visit).astype(float)

    def within(values: np.ndarray) -> np.ndarray:
        total = np.bincount(rows.visit, values, minlength=m.size)
        return np.bincount(rows.visit, values ** 2, minlength=m.size) - total ** 2 / m

    noise = np.bincount(rows.visit, rows.variance, minlength=m.size)
    expected = within(rows.expected) + (1 - 1 / m) * noise
    several = m >= 2
    return _VisitSums(rater=_visit_raters(rows, m.size)[several],
                      observed=within(rows.x)[several], expected=expected[several])


def _central_sums(rows: _Rows) -> _VisitSums:
    """Per visit: observed and expected counts of middle-category scores, weighted by the
    visit's ratings (the index is a difference of shares)."""
    ratings = np.bincount(rows.visit).astype(float)
    is_middle = (rows.x > 0) & (rows.x < rows.n_categories - 1)
    return _VisitSums(rater=_visit_raters(rows, ratings.size),
                      observed=np.bincount(rows.visit, is_middle, minlength=ratings.size),
                      expected=np.bincount(rows.visit, rows.middle, minlength=ratings.size),
                      weights=ratings)


def _fill(table: pd.DataFrame, sums: _VisitSums, rows: _Rows, margin: float, fdr: float,
          *, lower: bool) -> None:
    """Index, SE, test and flag per rater from per-visit sums, into `table`.

    Without weights (halo) the index is the ratio sum O / sum E; with weights (central
    tendency) the difference of shares (sum O - sum E) / sum w. Either SE is the linearised
    cluster variance over the rater's n visits, n / (n - 1) sum r_v^2 / denominator^2, with
    r_v the visit's residual contribution (Cochran 1977, sec. 6.4). lower: the effect is an
    index below `margin` (halo), else above it.
    """
    size = table.shape[0]
    rater = sums.rater

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(rater, values, minlength=size)

    n = np.bincount(rater, minlength=size)
    observed, expected = total(sums.observed), total(sums.expected)
    with np.errstate(invalid="ignore", divide="ignore"):
        if sums.weights is None:
            denominator = expected
            index = observed / denominator
            residual = sums.observed - index[rater] * sums.expected
            per = n
        else:
            denominator = per = total(sums.weights)
            index = (observed - expected) / denominator
            residual = sums.observed - sums.expected - index[rater] * sums.weights
        se = np.sqrt(n / (n - 1) * total(residual ** 2)) / denominator
        # One-sided minimum-effect test: H0 the effect is within the practical size.
        z = (margin - index) / se if lower else (index - margin) / se
        usable = (n >= MIN_VISITS) & np.isfinite(index) & np.isfinite(se) & (se > 0)
        p = np.where(usable, normal_sf(z), np.nan)
        q = benjamini_hochberg(p)
        beyond = index < margin if lower else index > margin
        table["index"] = np.where(usable, index, np.nan)
        table["observed"] = np.where(usable, observed / per, np.nan)
        table["expected"] = np.where(usable, expected / per, np.nan)
    table["se"] = np.where(usable, se, np.nan)
    table["ci_lo"] = table["index"] - Z95 * table["se"]
    table["ci_hi"] = table["index"] + Z95 * table["se"]
    table["p"], table["q"] = p, q
    table["n"] = n
    table["n_ratings"] = np.bincount(rows.rater, minlength=size)
    table["flag"] = usable & beyond & (q < fdr)
    table["reason"] = np.where(usable, None,
                               np.where(n == 0, "no measured ratings",
                                        f"fewer than {MIN_VISITS} samples scored"))


def rater_effect_entries(halo: pd.DataFrame, central: pd.DataFrame) -> dict[str, dict]:
    """Per rater, the report's {"halo": ..., "central_tendency": ...} objects: index,
    reference, observed, expected, se, ci95, p, q, n (samples), n_ratings, flag, message."""
    entries = {kind: table.to_dict("index") for kind, table in zip(EFFECTS, (halo, central),
                                                                  strict=True)}
    return {rater: {kind: _entry(kind, entries[kind][rater]) for kind in EFFECTS}
            for rater in halo.index}


def _entry(kind: str, row: dict) -> dict:
    computed = row["reason"] is None
    entry = {"index": row["index"], "reference": row["reference"],
             "observed": row["observed"], "expected": row["expected"], "se": row["se"],
             "ci95": [row["ci_lo"], row["ci_hi"]] if computed else None,
             "p": row["p"], "q": row["q"], "n": int(row["n"]),
             "n_ratings": int(row["n_ratings"]), "flag": bool(row["flag"]),
             "message": None if computed else f"Not computed: {row['reason']}."}
    if entry["flag"]:
        entry["message"] = (HALO if kind == "halo" else CENTRAL).format(**row)
    return entry


HALO = ("Scores the criteria of one piece of work more alike than expected: {index:.2f} of "
        "the spread across criteria the model expects of them (95% interval {ci_lo:.2f} to "
        "{ci_hi:.2f}, {n} samples). Possible halo: the overall impression of the work decides "
        "each criterion's score.")
CENTRAL = ("Gives more middle-level scores than the work warrants: {observed:.0%} of their "
           "scores are in the middle levels where the model expects {expected:.0%} ({index:+.2f}, "
           "95% interval {ci_lo:+.2f} to {ci_hi:+.2f}, {n_ratings} scores). Possible central "
           "tendency: the extreme levels are avoided.")
