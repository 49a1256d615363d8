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
the variance components come from the crossed random-effects moment estimators of Gao & Owen
(2017, arXiv 1610.08088), which are O(N) and equal the ANOVA estimates on complete data, and
k is the mean number of raters per sample.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
PINGOUIN = "pingouin (complete crossed design)"
MOMENTS = "crossed random-effects moment estimators (Gao & Owen 2017)"
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


def intraclass_correlations(rater: np.ndarray, sample: np.ndarray,
                            score: np.ndarray) -> IccResult:
    """The six ICC forms of one criterion's ratings (one rating per rater and sample).

    rater, sample: integer codes (any range); score: the scores; all of length N. Uses pingouin
    on a complete crossed design with >= 2 raters and >= 2 samples, the moment estimators
    otherwise. Forms the design cannot support are None: all of them when no sample has two
    ratings; the two-way forms also when no rater scored two samples or raters and samples are
    confounded (no two ratings differ in both sample and rater); all of them when every score
    is the same.
    """
    _, rater = np.unique(rater, return_inverse=True)
    _, sample = np.unique(sample, return_inverse=True)
    score = np.asarray(score, dtype=float)
    components = moment_components(rater, sample, score)
    n_raters, n_samples = int(rater.max(initial=-1)) + 1, int(sample.max(initial=-1)) + 1
    design = {"n_samples": n_samples, "n_raters": n_raters, "n_ratings": score.size,
              "k": score.size / n_samples if n_samples else None, "components": components}
    if components is None or score.var() == 0:
        return IccResult(forms=dict.fromkeys(FORMS), method=NOT_ESTIMABLE, **design)
    if _is_complete(n_raters, n_samples, score.size):
        return IccResult(forms=_pingouin_forms(rater, sample, score), method=PINGOUIN, **design)
    return IccResult(forms=icc_forms(components, design["k"]), method=MOMENTS, **design)


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
