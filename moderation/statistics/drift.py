"""Rater drift: a rater's severity changing over the scoring period.

References: Wolfe, Moulder & Myford (2001), Detecting differential rater functioning over time
(DRIFT) using a Rasch multi-faceted rating scale model, J. Applied Measurement 2(3); Myford &
Wolfe (2009), Monitoring rater performance over time, J. Educational Measurement 46(4);
James, James & Siegmund (1987), Tests for a change-point, Biometrika 74(1); Berger (1982),
Multiparameter hypothesis testing and acceptance sampling, Technometrics 24(4) (the
intersection-union test); Benjamini & Hochberg (1995), Controlling the false discovery rate,
J. Royal Statistical Society B 57(1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from moderation.statistics.distributions import normal_cdf, normal_isf, normal_logpdf, normal_pdf
from moderation.statistics.multiplicity import benjamini_hochberg, minimum_effect_p
from moderation.statistics.rasch import (
    FIT_FAILURE,
    RaschFit,
    category_moments,
    sample_leverage,
    solve_facet,
)
from moderation.statistics.table import latest_blind, positions

DRIFT_COLUMNS = ["flagged", "onset", "shift", "shift_se", "severity_before", "severity_after",
                 "z", "p_value", "p_practical", "p", "q", "information", "midterm_share",
                 "occasions", "n_timed", "reason"]
MIN_TIMED_RATINGS = 20
# A step in severity practically large enough to act on (logits; triggers.Thresholds.
# rater_drift): the school practical size, below the rater one (0.5) because a step comes on
# top of the rater's standing (a rater at +0.3 who steps by +0.3 is at +0.6) and the action is
# a cheap private check. Measured at about 325 ratings per rater: 1-logit steps found 90% at
# 0.3 against 40% at 0.5, with 0.2 false flags per 100 stable raters (docs/methods.md, Drift).
DRIFT_SIZE = 0.3
FALSE_DISCOVERY_RATE = 0.05
# Why a rater was not tested, in the words the report shows.
UNFIT = ("Not tested: {}, so there are no severities to follow over time (see "
         "rasch.message).")
UNMEASURED = "Not tested: the Rasch fit gives this rater no severity."
UNTIMED = "Not tested: none of the rater's measured ratings has a scored_at time."
FEW_TIMED = ("Not tested: {} of the rater's measured ratings have a scored_at time; at least "
             f"{MIN_TIMED_RATINGS} are needed.")
NO_SPLIT = ("Not tested: the rater's timed ratings fall on too few distinct times to split "
            "them into a before and an after.")


def detect_drift(ratings: pd.DataFrame, fit: RaschFit, *, min_shift: float = DRIFT_SIZE,
                 fdr: float = FALSE_DISCOVERY_RATE, trim: float = 0.1,
                 blind: pd.DataFrame | None = None) -> pd.DataFrame:
    """Find raters whose severity stepped up or down during the period, with onset and size.

    Input: the validated ratings table and a fit of it. Uses the blind ratings the fit measured
    (connected raters, samples and criteria with measures), each rater's latest score of a unit,
    and only ratings with a scored_at. Raters with fewer than 20 timed ratings, or without
    times, are not tested: flagged False, the other fields null. So are raters the fit could not
    measure.

    Method (the rater x time-window model of Wolfe, Moulder & Myford 2001, with the windows
    chosen by a change-point test): sample and criterion measures and thresholds stay fixed at
    the fit. Each rater's severity is re-estimated on their timed ratings; then, in the rater's
    own time order of scoring occasions (a rater's scoring of one sample, all its criteria at
    one sitting: the unit of independence, timed by its first rating), the cumulative score
    residual sum(x - E) up to each candidate split, divided by its null standard deviation,
    is the standardised score statistic for a change of severity at that split (a
    standardised Brownian bridge in information time; each occasion counts with its
    information, so an anchor or validity paper, whose measure rests on every rater who
    scored it, counts nearly in full). The best split maximises it over splits between
    occasions at distinct times leaving at least `trim` of the rater's information on each
    side. Its p-value accounts for the maximum over the rater's occasions with the discrete
    approximation of James, James & Siegmund (1987) (max_split_p_value); it is slightly
    conservative (checked against simulation in the tests). The statistic is
    divided by sqrt(misfit) when the rater's ratings are noisier than the model expects
    (quasi-likelihood dispersion: infit of the two-window model, when > 1).

    The information is counted net of leverage (rasch.sample_leverage): the fixed sample
    measures were estimated with this rater's own ratings and absorbed part of any change,
    about a third when samples have three raters. Ignoring that makes the test conservative
    and the shift small (measured on the synthetic district: 58% instead of 87% of 1-logit
    steps found, 0.8% instead of 5% of stable raters at p < 0.05, shifts 27% short).

    The windows are then the rater's own ratings before and after the best split: the
    rater's severity is estimated in each (severity_before, severity_after; the move from the
    rater's level scaled back by the absorbed share), shift = after - before (logits, positive
    = became harsher) with shift_se, and onset = the time of the first rating after the split.

    p_value is the calibrated change-point p (H0: no change at all) and z its two-sided normal
    quantile, signed like the shift. A change that is real but too small to matter is not a
    finding, so the reported test is an intersection-union test (Berger 1982) of two nulls,
    either of which keeps the rater quiet: no change (p_value), or a change of at most
    min_shift logits (p_practical, the minimum-effect p of the shift at the best split,
    multiplicity.minimum_effect_p). Its p-value is p = max(p_value, p_practical), and q is
    the Benjamini-Hochberg adjustment of p over the tested raters. Flagged when |shift| >
    min_shift and q < fdr: among flagged raters the expected share whose step is within
    min_shift is at most fdr.

    Returns a DataFrame indexed by rater (every rater of fit.raters) with flagged (bool), onset
    (Timestamp UTC or NaT), shift, shift_se, severity_before, severity_after, z, p_value,
    p_practical, p, q (float or NaN), information (the rater's information as the test
    counts it), midterm_share (its share before the middle of the district's scoring
    period), occasions (float or NaN; what the test's power depends on, drift_power.py),
    n_timed and reason: None for a tested rater, else why they were not tested, in plain
    words (the fit did not converge or had too little data, the rater has no severity, too
    few timed ratings).
    """
    result = _untested(fit.raters.index)
    if fit.status != "ok":
        result["reason"] = UNFIT.format(FIT_FAILURE[fit.status])
        return result
    rows = _timed_rows(latest_blind(ratings) if blind is None else blind, fit)
    n = fit.raters.index.size
    n_timed = np.bincount(rows.rater, minlength=n)
    result["n_timed"] = n_timed
    measured = fit.raters["severity"].notna().to_numpy()
    result["reason"] = np.where(
        ~measured, UNMEASURED,
        np.where(n_timed == 0, UNTIMED,
                 np.where(n_timed < MIN_TIMED_RATINGS,
                          [FEW_TIMED.format(count) for count in n_timed], NO_SPLIT)))
    rows = rows.subset(n_timed[rows.rater] >= MIN_TIMED_RATINGS)
    if rows.rater.size == 0:
        return result
    start = np.nan_to_num(fit.raters["severity"].to_numpy(dtype=float))
    level, _ = solve_facet(rows.rater, rows.offset, rows.x, rows.thresholds, start)
    weight = rows.effective_variance(level)
    split = _best_splits(rows, level, weight, n, trim)
    windows = _window_severities(rows, split, level, weight, n)
    _report(result, split, windows, min_shift, fdr, trim)
    _record_load(result, rows, weight, n)
    return result


def _record_load(result: pd.DataFrame, rows: _TimedRows, weight: np.ndarray, n: int) -> None:
    """Each tested rater's information (effective, as the test counts it), the share of it
    before the middle of the district's scoring period, and their number of occasions: what
    the power of the test depends on (drift_power.py)."""
    tested = np.bincount(rows.rater, minlength=n) > 0
    middle = rows.time.min() + (rows.time.max() - rows.time.min()) / 2
    total = np.bincount(rows.rater, weights=weight, minlength=n)
    before = np.bincount(rows.rater, weights=weight * (rows.time < middle), minlength=n)
    first = np.r_[True, (rows.rater[1:] != rows.rater[:-1]) | (rows.time[1:] != rows.time[:-1])]
    occasions = np.bincount(rows.rater, weights=first, minlength=n)
    for name, values in (("information", total), ("midterm_share", before / np.where(
            tested, total, 1.0)), ("occasions", occasions)):
        result.iloc[np.flatnonzero(tested), result.columns.get_loc(name)] = values[tested]


def _untested(raters: pd.Index) -> pd.DataFrame:
    return pd.DataFrame({
        "flagged": np.zeros(raters.size, dtype=bool),
        "onset": pd.Series(pd.NaT, index=raters, dtype="datetime64[ns, UTC]"),
        **{name: np.full(raters.size, np.nan) for name in DRIFT_COLUMNS[2:14]},
        "n_timed": np.zeros(raters.size, dtype=np.int64),
        "reason": pd.Series(None, index=raters, dtype=object),
    }, index=raters)[DRIFT_COLUMNS]


class _TimedRows:
    """Blind ratings with a time and a measured sample, criterion and rater, sorted by rater,
    then scoring occasion. An occasion is a rater's scoring of one sample (all its criteria at
    one sitting, seconds apart): `time` is the occasion's, its first rating's scored_at, so
    that a split falls between occasions, never inside one. offset = theta - delta, fixed from
    the fit; x = category 0..m-1."""

    def __init__(self, rater: np.ndarray, time: np.ndarray, sample: np.ndarray,
                 offset: np.ndarray, x: np.ndarray, fit: RaschFit) -> None:
        """The rows as given, already in order (see `in_order`)."""
        self.rater, self.time, self.sample = rater, time, sample
        self.offset, self.x = offset, x
        self.fit = fit
        self.thresholds = fit.thresholds.to_numpy()

    @classmethod
    def in_order(cls, rater: np.ndarray, time: np.ndarray, sample: np.ndarray,
                 offset: np.ndarray, x: np.ndarray, fit: RaschFit) -> _TimedRows:
        order = np.lexsort((sample, time, rater))
        return cls(rater[order], time[order], sample[order], offset[order], x[order], fit)

    def subset(self, keep: np.ndarray) -> _TimedRows:
        # A subset of ordered rows is in order: no sort again.
        return _TimedRows(self.rater[keep], self.time[keep], self.sample[keep],
                          self.offset[keep], self.x[keep], self.fit)

    def effective_variance(self, severity: np.ndarray) -> np.ndarray:
        """Model variance times (1 - leverage): the part of each row's residual that the fixed
        sample measures did not already absorb (they were fitted with this rater's ratings)."""
        _, variance = category_moments(self.offset - severity[self.rater], self.thresholds)
        sample_information = self.fit.samples["measure_se"].to_numpy() ** -2.0
        leverage = sample_leverage(self.rater, self.sample, variance, sample_information)
        return variance * np.clip(1 - leverage, 0.0, 1.0)


def _timed_rows(blind: pd.DataFrame, fit: RaschFit) -> _TimedRows:
    """The timed rows of the latest blind ratings (`blind`, table.latest_blind)."""
    blind = blind.loc[blind["scored_at"].notna()]
    rater = positions(fit.raters.index, blind["rater"])
    sample_code = positions(fit.samples.index, blind["sample"])
    sample = fit.samples["measure"].to_numpy()[sample_code]
    criterion = positions(fit.criteria.index, blind["criterion"])
    difficulty = np.append(fit.criteria["difficulty"].to_numpy(dtype=float), np.nan)[criterion]
    x = np.searchsorted(fit.categories, blind["score"].to_numpy())
    known = np.isin(blind["score"].to_numpy(), fit.categories)
    measured = fit.raters["severity"].notna().to_numpy()
    keep = ((rater >= 0) & measured[np.maximum(rater, 0)] & (sample_code >= 0)
            & np.isfinite(sample) & np.isfinite(difficulty) & known)
    time = pd.DatetimeIndex(blind["scored_at"]).as_unit("ns").asi8   # ns since the epoch, UTC
    rater, sample_code, time = rater[keep], sample_code[keep], time[keep]
    return _TimedRows.in_order(rater, _occasion_time(rater, sample_code, time), sample_code,
                               (sample - difficulty)[keep], x[keep].astype(float), fit)


def _occasion_time(rater: np.ndarray, sample: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Per row, the earliest time of the rater's ratings of that sample (its occasion)."""
    occasion, _ = pd.factorize(rater.astype(np.int64) * (int(sample.max(initial=0)) + 1)
                               + sample)
    first = np.full(occasion.max(initial=-1) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, occasion, time)
    return first[occasion]


def _best_splits(rows: _TimedRows, level: np.ndarray, weight: np.ndarray, n: int,
                 trim: float) -> pd.DataFrame:
    """Per rater, the split maximising the standardised cumulative residual.

    `weight` is each row's effective variance (information). A split "after row i" is allowed
    when the next row is the same rater at a later occasion and the information before it is
    between trim and 1 - trim of the rater's total. Also counts each rater's occasions (the
    points the split is searched over, for the p-value).
    """
    expected, _ = category_moments(rows.offset - level[rows.rater], rows.thresholds)
    residual = _within_rater_cumsum(rows.rater, rows.x - expected)
    information = _within_rater_cumsum(rows.rater, weight)
    total = np.bincount(rows.rater, weights=weight, minlength=n)[rows.rater]
    share = information / total
    allowed = np.zeros(rows.rater.size, dtype=bool)
    allowed[:-1] = (rows.rater[1:] == rows.rater[:-1]) & (rows.time[1:] > rows.time[:-1])
    occasions = 1 + np.bincount(rows.rater, weights=allowed, minlength=n)
    allowed &= (share >= trim) & (share <= 1 - trim)
    with np.errstate(invalid="ignore", divide="ignore"):
        statistic = np.where(allowed, np.abs(residual) / np.sqrt(information * (1 - share)),
                             -1.0)
    best = _first_max_per_rater(rows.rater, statistic)
    best = best[statistic[best] >= 0]
    return pd.DataFrame({"row": best + 1, "statistic": statistic[best],
                         "occasions": occasions[rows.rater[best]]},
                        index=pd.Index(rows.rater[best], name="rater"))


def _within_rater_cumsum(rater: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each rater (rows sorted by rater)."""
    total = np.cumsum(values)
    starts = np.flatnonzero(np.r_[True, rater[1:] != rater[:-1]])
    before = np.r_[0.0, total][starts]
    return total - np.repeat(before, np.diff(np.r_[starts, rater.size]))


def _first_max_per_rater(rater: np.ndarray, values: np.ndarray) -> np.ndarray:
    starts = np.flatnonzero(np.r_[True, rater[1:] != rater[:-1]])
    peak = np.maximum.reduceat(values, starts)
    lengths = np.diff(np.r_[starts, rater.size])
    hits = np.flatnonzero(values == np.repeat(peak, lengths))
    _, first = np.unique(rater[hits], return_index=True)
    return hits[first]


def _window_severities(rows: _TimedRows, split: pd.DataFrame, level: np.ndarray,
                       weight: np.ndarray, n: int) -> pd.DataFrame:
    """Severity before and after each rater's split, and the misfit of that two-window model.

    With the sample measures fixed, a window's estimate moves from the rater's level by only
    the unabsorbed share (effective / model information) of the true change; dividing the
    move by that share undoes it (the same leverage as in `effective_variance`).
    """
    first_after = np.full(n, np.iinfo(np.int64).max)
    first_after[split.index.to_numpy()] = split["row"].to_numpy()
    after = np.arange(rows.rater.size) >= first_after[rows.rater]
    window = 2 * rows.rater + after
    start = np.repeat(level, 2)
    fixed, information = solve_facet(window, rows.offset, rows.x, rows.thresholds, start)
    effective = np.bincount(window, weights=weight, minlength=2 * n)
    with np.errstate(invalid="ignore", divide="ignore"):
        severity = start + (fixed - start) * information / effective
    expected, variance = category_moments(rows.offset - fixed[window], rows.thresholds)
    squared = np.bincount(rows.rater, weights=(rows.x - expected) ** 2, minlength=n)
    # Infit of the two-window model. Against the model variance, not the effective one: a
    # row's squared residual keeps most of its variance even when its sum over a sample's
    # criteria is partly absorbed by the sample measure (measured: infit ~0.95 when stable).
    raters = split.index.to_numpy()
    dispersion = squared[raters] / np.bincount(rows.rater, weights=variance, minlength=n)[raters]
    before, after = 2 * raters, 2 * raters + 1
    return pd.DataFrame({
        "shift": severity[after] - severity[before],
        "severity_before": severity[before],
        "severity_after": severity[after],
        "shift_se": np.sqrt(1 / effective[before] + 1 / effective[after]),
        "dispersion": np.maximum(dispersion, 1.0),
        "onset": rows.time[split["row"].to_numpy()],
    }, index=split.index)


def max_split_p_value(statistic: np.ndarray, trim: float,
                      occasions: np.ndarray | float = np.inf) -> np.ndarray:
    """P(max over splits of |standardised bridge| >= statistic) under no change.

    James, James & Siegmund (1987), for a split searched over m equally spaced points (the
    rater's scoring occasions) in [t0, t1] = [trim, 1 - trim]:
    c phi(c) integral nu(c / sqrt(m t (1 - t))) / (t (1 - t)) dt + 4 phi(c) / c, with
    Siegmund's overshoot correction nu(x) ~ (2/x)(Phi(x/2) - 1/2) / ((x/2) Phi(x/2) + phi(x/2))
    (Siegmund & Yakir 2007, The Statistics of Gene Mapping). nu = 1 for m = inf gives the
    continuous bound c phi(c) log(t1 (1 - t0) / (t0 (1 - t1))) + 4 phi(c) / c. With few
    occasions the continuous bound is several times too large (0.064 against a simulated
    0.022 at c = 3 and 17 occasions; the discrete one gives 0.027), which is most of the power
    lost at ordinary loads. Kept within (0, 1].
    """
    c = np.asarray(statistic, dtype=float)[:, None]
    m = np.asarray(occasions, dtype=float).reshape(-1, 1) if np.ndim(occasions) \
        else float(occasions)
    # In u = log(t / (1 - t)), dt / (t (1 - t)) = du: a smooth integrand for Gauss-Legendre.
    half = np.log((1 - trim) / trim)
    nodes, weights = np.polynomial.legendre.leggauss(24)
    t = 1 / (1 + np.exp(-half * nodes))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        integral = half * (_overshoot(c / np.sqrt(m * t * (1 - t))) * weights).sum(axis=1)
        p = np.exp(normal_logpdf(c[:, 0])) * (c[:, 0] * integral + 4 / c[:, 0])
    return np.clip(np.nan_to_num(p, nan=1.0), np.finfo(float).tiny, 1.0)


def _overshoot(x: np.ndarray) -> np.ndarray:
    """Siegmund's nu(x): 1 at x = 0 (continuous), falling like 2/x^2 for large x."""
    half = np.maximum(x / 2, 1e-12)
    return (normal_cdf(half) - 0.5) / half / (half * normal_cdf(half) + normal_pdf(half))


def _report(result: pd.DataFrame, split: pd.DataFrame, windows: pd.DataFrame,
            min_shift: float, fdr: float, trim: float) -> None:
    """Write the tested raters' figures into `result` (rows by position in fit.raters)."""
    if split.empty:
        return
    statistic = split["statistic"].to_numpy() / np.sqrt(windows["dispersion"].to_numpy())
    p = max_split_p_value(statistic, trim, split["occasions"].to_numpy())
    shift = windows["shift"].to_numpy()
    z = normal_isf(p / 2) * np.sign(shift)
    # The shift's SE widened like the statistic when the rater is noisier than the model.
    se = windows["shift_se"].to_numpy() * np.sqrt(windows["dispersion"].to_numpy())
    p_practical = minimum_effect_p(shift, se, min_shift)
    combined = np.fmax(p, p_practical)
    q = benjamini_hochberg(combined)
    figures = {
        "onset": pd.to_datetime(windows["onset"].to_numpy(), utc=True),
        "shift": shift,
        "shift_se": windows["shift_se"].to_numpy(),
        "severity_before": windows["severity_before"].to_numpy(),
        "severity_after": windows["severity_after"].to_numpy(),
        "z": z,
        "p_value": p,
        "p_practical": p_practical,
        "p": combined,
        "q": q,
        "flagged": (np.abs(shift) > min_shift) & (q < fdr),
        "reason": np.full(p.size, None, dtype=object),
    }
    positions = split.index.to_numpy()
    for name, values in figures.items():
        result.iloc[positions, result.columns.get_loc(name)] = values
