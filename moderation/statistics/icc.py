"""Intraclass correlations for one criterion: the six Shrout & Fleiss (1979) forms.

Model: score = mu + a_sample + b_rater + e, with variances s2_sample, s2_rater, s2_error.

    ICC1  = ICC(1,1): one-way random effects (raters not identified), single rating
    ICC2  = ICC(A,1): two-way random, absolute agreement = s2_s / (s2_s + s2_r + s2_e)
    ICC3  = ICC(C,1): two-way, consistency = s2_s / (s2_s + s2_e)
    ICC1k, ICC2k, ICC3k: the same for the mean of k ratings (error terms divided by k)

Names after McGraw & Wong (1996); interpretation after Koo & Li (2016): < .5 poor,
.5-.75 moderate, .75-.9 good, > .9 excellent.

A complete crossed design (every rater scored every sample, as in a live session) goes through
`pingouin.intraclass_corr` (two-way ANOVA). A sparse design (a district cycle, where each sample
has two or three of thousands of raters) cannot: pingouin drops every sample with a gap. There
the two-way variance components are estimated by REML (restricted maximum likelihood,
Patterson & Thompson 1971) for the crossed random-effects model, with the sample effects
absorbed analytically so that only the (raters + 1)-square block is factorised. The
moment estimators of Gao & Owen (2017, arXiv 1610.08088) weight a sample's within-sample pairs
by its number of ratings squared, so a few anchors scored by every rater dominate them; REML
weights each rating by the information it carries. Above REML_MAX_RATERS raters the dense block
is too slow and the moments are used (the method name says so). k is the harmonic mean of the
number of raters per sample (the error variance of a sample's mean, averaged over samples, is
that of one rating divided by it). Negative variance estimates are set to 0 and listed.

Intervals: F-based (McGraw & Wong 1996, cases 1, 2A and 3) on complete designs; on sparse
designs with REML the Wald interval of the log variance ratios from the observed information of
the profiled REML likelihood, carried through the logit of each form (delta method), and for
the one-way forms the F-based interval with Searle's n0 as k.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, sparse

from moderation.statistics.distributions import f_ppf, normal_ppf

FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
PINGOUIN = "pingouin (complete crossed design)"
MOMENTS = "crossed random-effects moment estimators (Gao & Owen 2017)"
REML = "crossed random-effects REML (sparse design)"
MOMENTS_LARGE = MOMENTS + "; too many raters for REML"
MOMENTS_FAILED = MOMENTS + "; the REML search failed on this design"
K_METHOD = "harmonic mean of raters per sample"
CI_F = "F-based (McGraw & Wong 1996)"
CI_REML = "Wald on the log variance ratios, profiled REML information (delta method)"
CI_NONE = ("one-way forms: F-based with Searle's n0 (McGraw & Wong 1996); two-way moment "
           "estimates: none")
# The REML block is (raters + 1) square and dense (an anchor scored by everyone links every
# pair of raters). Measured on the project's loaded 2-core machine: 59 likelihood evaluations,
# 0.1 s each, at 1,000 raters; about 25 evaluations now. 500 keeps a criterion under a second.
REML_MAX_RATERS = 500
# Log variance ratios are searched in this box; the lower end is a component of 0.
LOG_RATIO_BOUNDS = (-18.0, 9.0)
NOT_ESTIMABLE = "not estimable (no sample scored by two raters, or no variation in scores)"
# pingouin's row labels since 0.6.1, in the order of FORMS.
PINGOUIN_TYPES = ("ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)")
# Above this, a complete design also goes to the moment estimators: same values, and pingouin's
# ANOVA on a long table takes about 0.2 s per 60,000 ratings.
PINGOUIN_MAX_RATINGS = 20_000
# pingouin's two-way ANOVA asserts at least 5 ratings; a 2 x 2 design uses the moments.
PINGOUIN_MIN_RATINGS = 5


@dataclass(frozen=True)
class VarianceComponents:
    """Moment estimates of s2_sample, s2_rater, s2_error (None where the design cannot
    separate them) and the one-way estimates (between samples, within samples)."""

    sample: float | None
    rater: float | None
    error: float | None
    one_way_sample: float | None
    one_way_within: float | None


@dataclass(frozen=True)
class IccResult:
    """The six forms (None where the design cannot support one), the method used, and the
    design: n_samples, n_raters, n_ratings, k = mean raters per sample."""

    forms: dict[str, float | None]
    method: str
    n_samples: int
    n_raters: int
    n_ratings: int
    k: float | None
    components: VarianceComponents | None
    ci95: dict[str, list[float] | None] = field(default_factory=lambda: dict.fromkeys(FORMS))
    ci_method: str | None = None
    truncated: tuple[str, ...] = ()
    message: str | None = None


def intraclass_correlations(rater: np.ndarray, sample: np.ndarray,
                            score: np.ndarray) -> IccResult:
    """The six ICC forms of one criterion's ratings (one rating per rater and sample), with
    95% intervals.

    rater, sample: integer codes (any range); score: the scores; all of length N. A complete
    crossed design with >= 2 raters and >= 2 samples uses pingouin's ANOVA and F-based
    intervals; a sparse one REML (moments above REML_MAX_RATERS raters, without two-way
    intervals).
    Forms the design cannot support are None: all of them when no sample has two ratings; the
    two-way forms also when no rater scored two samples or raters and samples are confounded
    (no two ratings differ in both sample and rater); all of them when every score is the same.
    """
    rater, sample = _dense_codes(rater), _dense_codes(sample)
    # One order for the same ratings, so the REML search (and its result to the last digit)
    # does not depend on the order of the rows.
    order = np.lexsort((rater, sample))
    rater, sample = rater[order], sample[order]
    score = np.asarray(score, dtype=float)[order]
    components = moment_components(rater, sample, score)
    n_raters, n_samples = int(rater.max(initial=-1)) + 1, int(sample.max(initial=-1)) + 1
    per_sample = np.bincount(sample).astype(float)
    k = float(n_samples / (1 / per_sample).sum()) if n_samples else None
    design = {"n_samples": n_samples, "n_raters": n_raters, "n_ratings": score.size, "k": k}
    if components is None or score.var() == 0:
        return IccResult(forms=dict.fromkeys(FORMS), method=NOT_ESTIMABLE,
                         components=components, **design)
    complete = n_raters >= 2 and n_samples >= 2 and score.size == n_raters * n_samples
    log_ratios = None
    if complete:
        method = PINGOUIN if _is_complete(n_raters, n_samples, score.size) else MOMENTS
    elif components.sample is not None and n_raters <= REML_MAX_RATERS:
        method, fit = REML, _reml_or_none(rater, sample, score, components)
        if fit is None:
            method = MOMENTS_FAILED
        else:
            components = VarianceComponents(*fit[0], components.one_way_sample,
                                            components.one_way_within)
            log_ratios = fit[1:]
    else:
        method = MOMENTS if components.sample is None else MOMENTS_LARGE
    components, truncated = _truncate(components)
    if method == PINGOUIN and not truncated:
        forms = _pingouin_forms(rater, sample, score)
    else:
        forms = icc_forms(components, k)
    if complete:
        ci95, ci_method = f_intervals(rater, sample, score), CI_F
    else:
        ci95 = _one_way_intervals(components, per_sample)
        if log_ratios is not None:
            ci95 |= reml_intervals(*log_ratios, k)
            ci_method = CI_REML
        else:
            ci_method = CI_NONE if components.sample is not None else CI_F
    message = None
    if truncated:
        message = ("Negative variance estimate set to 0: " + ", ".join(truncated)
                   + " (the forms using it are computed with 0).")
    return IccResult(forms=forms, method=method, components=components, ci95=ci95,
                     ci_method=ci_method, truncated=truncated, message=message, **design)


def _dense_codes(codes: np.ndarray) -> np.ndarray:
    """Each code's rank among the distinct codes, 0..n-1: np.unique's inverse, without its
    sort when the codes are small non-negative integers (a table's codes are)."""
    codes = np.asarray(codes)
    if codes.size == 0 or codes.dtype.kind not in "iu" or codes.min() < 0 \
            or codes.max() > 4 * codes.size:
        return np.unique(codes, return_inverse=True)[1]
    present = np.zeros(int(codes.max()) + 1, dtype=np.int64)
    present[codes] = 1
    return (np.cumsum(present) - 1)[codes]


def _reml_or_none(rater, sample, score, start):
    # A block that is not numerically positive definite (a ratio near the search's upper
    # bound on a degenerate design) leaves the moments, named so, rather than no report.
    try:
        with np.errstate(all="ignore"):
            fit = reml_fit(rater, sample, score, start)
    except (np.linalg.LinAlgError, linalg.LinAlgError, ValueError):
        return None
    return fit if np.all(np.isfinite(fit[0])) else None


def _truncate(components: VarianceComponents) -> tuple[VarianceComponents, tuple[str, ...]]:
    values = {name: getattr(components, name) for name in
              ("sample", "rater", "error", "one_way_sample", "one_way_within")}
    truncated = tuple(name for name, value in values.items() if value is not None and value < 0)
    values |= dict.fromkeys(truncated, 0.0)
    return VarianceComponents(**values), truncated


def reml_fit(rater: np.ndarray, sample: np.ndarray, score: np.ndarray,
             start: VarianceComponents) -> tuple[tuple[float, float, float], np.ndarray,
                                                 np.ndarray | None]:
    """REML estimates (s2_sample, s2_rater, s2_error) of score = mu + a_sample + b_rater + e,
    the log variance ratios t = log(s2_sample / s2_error), log(s2_rater / s2_error), and their
    covariance from the observed information (None at a bound or when singular).

    The error variance is profiled out, so the likelihood is searched over t only. With
    Gamma = diag(s2 ratios) and C the mixed-model coefficient matrix, -2 log L_R =
    (N - 1) log(y'Py) + log|C| + log|Gamma| + const (Harville 1977), y'Py = y'y - b'rhs. The
    sample block of C is diagonal and is absorbed (Schur complement), leaving the intercept and
    rater block, (R + 1) square.
    """
    # Imported here: scipy.optimize takes a quarter of a second to import, and only the REML
    # fit of a small design needs it.
    from scipy import optimize

    objective = _ProfiledReml(rater, sample, score)
    ratios = [max(value, 1e-3) / max(start.error, 1e-6) if value is not None else 1.0
              for value in (start.sample, start.rater)]
    low, high = LOG_RATIO_BOUNDS
    result = optimize.minimize(objective, np.clip(np.log(ratios), low + 1, high - 1),
                               method="L-BFGS-B", bounds=[LOG_RATIO_BOUNDS] * 2,
                               options={"ftol": 1e-13, "gtol": 1e-7})
    t, hessian = _newton_polish(objective, result.x)
    error = objective.error(t)
    at_bound = bool(np.any(t <= low + 1e-6) | np.any(t >= high - 1e-6))
    components = (float(np.exp(t[0]) * error), float(np.exp(t[1]) * error), float(error))
    if at_bound:
        zeroed = tuple(0.0 if value <= low + 1e-6 else float(np.exp(value) * error)
                       for value in t)
        return (*zeroed, float(error)), t, None
    return components, t, _covariance(hessian)


class _ProfiledReml:
    """-2 x the profiled REML log-likelihood as a function of the log variance ratios."""

    def __init__(self, rater: np.ndarray, sample: np.ndarray, score: np.ndarray) -> None:
        n, n_raters = score.size, int(rater.max()) + 1
        self.n_samples, self.n_raters, self.n = int(sample.max()) + 1, n_raters, n
        self.per_sample = np.bincount(sample).astype(float)
        # P: samples x (intercept, raters), the sample rows of the coefficient matrix. Its
        # absorbed part, sum_i p_i p_i' / (n_i + 1 / ratio_s), depends on the ratio only through
        # n_i: the sums over samples with the same number of ratings are formed once.
        incidence = sparse.csr_matrix((np.ones(n), (sample, rater)),
                                      shape=(self.n_samples, n_raters))
        p = sparse.hstack([sparse.csr_matrix(self.per_sample[:, None]), incidence]).tocsr()
        sample_sums = np.bincount(sample, weights=score)
        self.sizes = np.unique(self.per_sample)
        self.outer, self.cross = [], []
        for size in self.sizes:
            rows = p[self.per_sample == size]
            self.outer.append((rows.T @ rows).toarray())
            self.cross.append(rows.T @ sample_sums[self.per_sample == size])
        per_rater = np.bincount(rater, minlength=n_raters).astype(float)
        self.q = np.zeros((n_raters + 1, n_raters + 1))
        self.q[0, 0] = n
        self.q[0, 1:] = self.q[1:, 0] = per_rater
        self.q[np.arange(1, n_raters + 1), np.arange(1, n_raters + 1)] = per_rater
        self.sample_sums = np.bincount(sample, weights=score)
        self.rest_sums = np.concatenate([[score.sum()], np.bincount(rater, weights=score,
                                                                    minlength=n_raters)])
        self.yy = float(score @ score)

    def _parts(self, t: np.ndarray) -> tuple[float, float]:
        ratio_s, ratio_r = np.exp(t)
        weights = 1 / (self.sizes + 1 / ratio_s)
        m = self.q - sum(w * outer for w, outer in zip(weights, self.outer, strict=True))
        m[np.arange(1, self.n_raters + 1), np.arange(1, self.n_raters + 1)] += 1 / ratio_r
        reduced = self.rest_sums - sum(w * cross for w, cross in zip(weights, self.cross,
                                                                     strict=True))
        chol = linalg.cholesky(m, lower=True, check_finite=False)
        half = linalg.solve_triangular(chol, reduced, lower=True, check_finite=False)
        d = self.per_sample + 1 / ratio_s
        ypy = self.yy - float((self.sample_sums ** 2 / d).sum()) - float(half @ half)
        log_det = float(np.log(d).sum()) + 2 * float(np.log(np.diag(chol)).sum())
        return max(ypy, 1e-300), log_det

    def __call__(self, t: np.ndarray) -> float:
        ypy, log_det = self._parts(t)
        return ((self.n - 1) * np.log(ypy) + log_det + self.n_samples * t[0]
                + self.n_raters * t[1])

    def error(self, t: np.ndarray) -> float:
        return self._parts(t)[0] / (self.n - 1)


def _newton_polish(objective: _ProfiledReml,
                   t: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """One Newton step on central differences after L-BFGS-B, whose finite-difference
    gradient stops about 1e-5 from the optimum (enough to change the 5th decimal); returns
    the point and the Hessian of -2 log L there (for the covariance)."""
    low, high = LOG_RATIO_BOUNDS
    if np.any(t <= low + 1e-6) or np.any(t >= high - 1e-6):
        return t, None
    hessian = _hessian(objective, t, 1e-4)
    gradient = np.array([(objective(t + e) - objective(t - e)) / 2e-4
                         for e in np.eye(2) * 1e-4])
    if not np.all(np.isfinite(hessian)) or np.any(np.linalg.eigvalsh(hessian) <= 0):
        return t, None
    return np.clip(t - np.linalg.solve(hessian, gradient), low, high), hessian


def _hessian(objective: _ProfiledReml, t: np.ndarray, step: float) -> np.ndarray:
    hessian = np.empty((2, 2))
    base = objective(t)
    for i in range(2):
        for j in range(i, 2):
            if i == j:
                e = np.eye(2)[i] * step
                hessian[i, i] = (objective(t + e) - 2 * base + objective(t - e)) / step ** 2
            else:
                ei, ej = np.eye(2)[i] * step, np.eye(2)[j] * step
                hessian[i, j] = hessian[j, i] = (
                    objective(t + ei + ej) - objective(t + ei - ej) - objective(t - ei + ej)
                    + objective(t - ei - ej)) / (4 * step ** 2)
    return hessian


def _covariance(hessian: np.ndarray | None) -> np.ndarray | None:
    """Covariance of t: the inverse of the observed information, half the Hessian of
    -2 log L."""
    if hessian is None:
        return None
    information = hessian / 2
    if not np.all(np.isfinite(information)) or np.linalg.det(information) <= 0:
        return None
    return np.linalg.inv(information)


def reml_intervals(t: np.ndarray, covariance: np.ndarray | None,
                   k: float) -> dict[str, list[float] | None]:
    """95% intervals of the two-way forms: each form's logit is a function of the log ratios
    t (ICC3 = logistic(t_s); ICC2 = logistic(t_s - log(1 + e^t_r)); the k-forms add log k),
    so its variance is g' V g (delta method) and the interval is the logistic image."""
    if covariance is None:
        return dict.fromkeys(("ICC2", "ICC3", "ICC2k", "ICC3k"))
    share = np.exp(t[1]) / (1 + np.exp(t[1]))
    logits = {"ICC3": (t[0], (1.0, 0.0)), "ICC3k": (t[0] + np.log(k), (1.0, 0.0)),
              "ICC2": (t[0] - np.log1p(np.exp(t[1])), (1.0, -share)),
              "ICC2k": (t[0] - np.log1p(np.exp(t[1])) + np.log(k), (1.0, -share))}
    intervals = {}
    z = normal_ppf(0.975)
    for form, (logit, gradient) in logits.items():
        se = float(np.sqrt(np.asarray(gradient) @ covariance @ np.asarray(gradient)))
        intervals[form] = [float(1 / (1 + np.exp(-(logit - z * se)))),
                           float(1 / (1 + np.exp(-(logit + z * se))))]
    return intervals


def _one_way_intervals(components: VarianceComponents,
                       per_sample: np.ndarray) -> dict[str, list[float] | None]:
    """F-based intervals of ICC1 and ICC1k (McGraw & Wong case 1) on an unbalanced one-way
    design, with Searle's n0 in place of k."""
    n, n_samples = per_sample.sum(), per_sample.size
    n0 = (n - (per_sample ** 2).sum() / n) / (n_samples - 1)
    if components.one_way_within is None or components.one_way_within <= 0:
        return dict.fromkeys(FORMS)
    ms_between = components.one_way_sample * n0 + components.one_way_within
    f_value = ms_between / components.one_way_within
    intervals = _case_one(f_value, n_samples - 1, n - n_samples, n0)
    return dict.fromkeys(FORMS) | intervals


def f_intervals(rater: np.ndarray, sample: np.ndarray,
                score: np.ndarray) -> dict[str, list[float] | None]:
    """McGraw & Wong (1996) 95% intervals on a complete crossed design (n samples x k raters),
    from the two-way ANOVA mean squares: cases 1 and 3 exact F intervals, case 2A with
    Satterthwaite's degrees of freedom; the k-forms as in McGraw & Wong Table 7."""
    n, k = int(sample.max()) + 1, int(rater.max()) + 1
    grand = score.mean()
    ss_rows = k * ((np.bincount(sample, weights=score) / k - grand) ** 2).sum()
    ss_cols = n * ((np.bincount(rater, weights=score) / n - grand) ** 2).sum()
    ss_total = ((score - grand) ** 2).sum()
    ss_error = ss_total - ss_rows - ss_cols
    msr, msc = ss_rows / (n - 1), ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_error) / (n * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        intervals = _case_one(msr / msw, n - 1, n * (k - 1), k)
        f3 = msr / mse
        df1, df2 = n - 1, (n - 1) * (k - 1)
        f3l, f3u = f3 / f_ppf(0.975, df1, df2), f3 * f_ppf(0.975, df2, df1)
        intervals["ICC3"] = [(f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)]
        intervals["ICC3k"] = [1 - 1 / f3l, 1 - 1 / f3u]
        icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        fj = msc / mse
        v = (df2 * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
             / (df1 * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2))
        fl, fu = f_ppf(0.975, n - 1, v), f_ppf(0.975, v, n - 1)
        low = n * (msr - fl * mse) / (fl * (k * msc + (k * n - k - n) * mse) + n * msr)
        high = n * (fu * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fu * msr)
        intervals["ICC2"] = [low, high]
        intervals["ICC2k"] = [low * k / (1 + low * (k - 1)), high * k / (1 + high * (k - 1))]
    return {form: _finite_pair(intervals.get(form)) for form in FORMS}


def _case_one(f_value: float, df1: float, df2: float, k: float) -> dict[str, list[float]]:
    with np.errstate(divide="ignore", invalid="ignore"):
        fl = f_value / f_ppf(0.975, df1, df2)
        fu = f_value * f_ppf(0.975, df2, df1)
        return {"ICC1": _finite_pair([(fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)]),
                "ICC1k": _finite_pair([1 - 1 / fl, 1 - 1 / fu])}


def _finite_pair(pair: list[float] | None) -> list[float] | None:
    if pair is None or not np.all(np.isfinite(pair)):
        return None
    return [float(pair[0]), float(pair[1])]


def moment_components(rater: np.ndarray, sample: np.ndarray,
                      score: np.ndarray) -> VarianceComponents | None:
    """Variance components from sums of squared differences (Gao & Owen 2017).

    rater, sample: codes 0..R-1 and 0..S-1; score: floats; one rating per rater and sample.
    With N_i ratings of sample i and N_j of rater j, the half-sums of squared differences over
    pairs within a sample (U_a), within a rater (U_b) and over all pairs (U_e) have expectations

        E U_a = (s2_r + s2_e) (sum N_i^2 - N)
        E U_b = (s2_s + s2_e) (sum N_j^2 - N)
        E U_e = s2_s (N^2 - sum N_i^2) + s2_r (N^2 - sum N_j^2) + s2_e (N^2 - N),

    a 3 x 3 linear system. Each U is a sum over groups of N_g times the group's sum of squares
    about its mean (U_e: N times the total), so all of it is np.bincount. The one-way estimates
    are unbalanced ANOVA (Searle, Casella & McCulloch 1992, the one-way classification):
    within = SS_within / (N - S), sample = (MS_between - within) / n0. Returns None when no
    sample has two ratings; the two-way components are None when the system is singular.
    Estimates are not truncated at 0, as in Shrout & Fleiss.
    """
    n = score.size
    per_sample, within_sample = _within_groups(sample, score)
    per_rater, within_rater = _within_groups(rater, score)
    n_samples = per_sample.size
    if n - n_samples <= 0 or n_samples < 2:
        return None
    one_way_within = within_sample.sum() / (n - n_samples)
    between = n * score.var() - within_sample.sum()
    n0 = (n - (per_sample ** 2).sum() / n) / (n_samples - 1)
    one_way_sample = (between / (n_samples - 1) - one_way_within) / n0
    two_way = _two_way(n, per_sample, per_rater, within_sample, within_rater, score)
    return VarianceComponents(*(two_way if two_way is not None else (None,) * 3),
                              one_way_sample=float(one_way_sample),
                              one_way_within=float(one_way_within))


def icc_forms(components: VarianceComponents, k: float) -> dict[str, float | None]:
    """The six forms from variance components, with k ratings averaged in the k-forms."""
    sample, rater, error = components.sample, components.rater, components.error
    one_way, within = components.one_way_sample, components.one_way_within
    forms = {"ICC1": _share(one_way, within), "ICC1k": _share(one_way, within / k)}
    if sample is not None:
        forms |= {"ICC2": _share(sample, rater + error), "ICC3": _share(sample, error),
                  "ICC2k": _share(sample, (rater + error) / k), "ICC3k": _share(sample, error / k)}
    return {form: forms.get(form) for form in FORMS}


def _two_way(n: int, per_sample: np.ndarray, per_rater: np.ndarray, within_sample: np.ndarray,
             within_rater: np.ndarray, score: np.ndarray) -> tuple[float, float, float] | None:
    sum_sample2, sum_rater2 = float((per_sample ** 2).sum()), float((per_rater ** 2).sum())
    # Ordered pairs of ratings that differ in both sample and rater (inclusion-exclusion).
    crossed_pairs = n * n + n - sum_sample2 - sum_rater2
    if sum_sample2 == n or sum_rater2 == n or crossed_pairs <= 0:
        return None
    system = np.array([[0.0, sum_sample2 - n, sum_sample2 - n],
                       [sum_rater2 - n, 0.0, sum_rater2 - n],
                       [n * n - sum_sample2, n * n - sum_rater2, n * n - float(n)]])
    u_values = np.array([(per_sample * within_sample).sum(), (per_rater * within_rater).sum(),
                         n * n * score.var()])
    sample, rater, error = np.linalg.solve(system, u_values)
    return float(sample), float(rater), float(error)


def _within_groups(group: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ratings per group and each group's sum of squares about its mean (groups with ratings)."""
    size = np.bincount(group).astype(float)
    present = size > 0
    mean = np.bincount(group, weights=score) / np.where(present, size, 1)
    squares = np.bincount(group, weights=(score - mean[group]) ** 2)
    return size[present], squares[present]


def _share(part: float, rest: float) -> float | None:
    total = part + rest
    return float(part / total) if total > 0 else None


def _is_complete(n_raters: int, n_samples: int, n_ratings: int) -> bool:
    return (n_raters >= 2 and n_samples >= 2 and n_ratings == n_raters * n_samples
            and PINGOUIN_MIN_RATINGS <= n_ratings <= PINGOUIN_MAX_RATINGS)


def _pingouin_forms(rater: np.ndarray, sample: np.ndarray,
                    score: np.ndarray) -> dict[str, float | None]:
    # Imported here: pingouin loads matplotlib.pyplot (about 1 s), which only this path needs.
    import pingouin

    table = pd.DataFrame({"rater": rater, "sample": sample, "score": score})
    # A form whose mean squares are 0 (e.g. equal sample means) is 0/0: None, not a warning.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # pingouin 0.7 calls dropna(inplace=True), deprecated in pandas 3.1; harmless here.
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning, module="pingouin")
        result = pingouin.intraclass_corr(data=table, targets="sample", raters="rater",
                                          ratings="score")
    values = result.set_index("Type")["ICC"]
    return {form: _finite(values[label]) for form, label in zip(FORMS, PINGOUIN_TYPES,
                                                                strict=True)}


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
