"""Rater severity and fit: the many-facet Rasch model (Linacre 1989; the FACETS manual).

For sample n, criterion i, rater j and rating-scale thresholds tau_k shared by all criteria:

    log(P(k) / P(k-1)) = theta_n - delta_i - lambda_j - tau_k,        k = 1..m-1

theta is the quality of the work, delta the difficulty of the criterion, lambda the severity of
the rater (> 0 = harsh: lower scores than the work warrants). Everything is in logits. With
model=PARTIAL_CREDIT each criterion has its own thresholds tau_ik (Masters 1982). The category
kernels both models run through are in category_model.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from moderation.statistics.category_model import (
    category_fourth_moment,
    category_moments,
    step_moments,
)
from moderation.statistics.design import (
    MIN_LINKAGE,
    algebraic_connectivity,
    rater_sample_components,
)
from moderation.statistics.table import BlindCodes, encode_blind

EXTREME_ADJUSTMENT = 0.3     # score points, FACETS' default (Xtreme=0.3)
MAX_STEP = 1.0               # logits per Newton step, so early steps cannot overshoot

MAX_ITERATIONS = 200
TOLERANCE = 1e-4             # logits: the largest change of any measure in the last iteration
NOT_CONVERGED = ("The estimates did not settle: after {iterations} iterations a measure still "
                 "moved by {change:.2g} logits (the fit stops below {tolerance:g}). With few or "
                 "one-sided ratings (say, one rater scoring higher than another on every sample "
                 "they share, or a score level used once) the model has no finite solution, so "
                 "no severities are reported; more overlapping ratings are needed.")
# What a failed fit means for the figures built on it, in the report's words.
FIT_FAILURE = {"not_converged": "the Rasch fit did not converge",
               "insufficient": "the data are too few or too one-sided for the Rasch fit"}
WITH_PRIOR = ("The design links its raters weakly (linkage {linkage:.2g}), so the sample "
              "measures were given a normal population prior (mean {mean:.2f}, SD {sd:.2f} "
              "logits, estimated with them): severities then rest on each rater's samples "
              "being of typical quality, not on chains of shared samples alone.")
CONVERGED = ("Converged after {iterations} iterations (largest change in the last one "
             "{change:.2g} logits, below {tolerance:g}).")
RATING_SCALE, PARTIAL_CREDIT = "rating-scale", "partial-credit"
MODELS = (RATING_SCALE, PARTIAL_CREDIT)
NO_PARTIAL_CREDIT = ("Partial credit was asked for, but {levels} never given on {criterion} "
                     "(among ratings that are not all at one extreme), and a step into a level "
                     "a criterion never uses has no threshold of its own: this is the "
                     "rating-scale fit, one set of thresholds for all criteria.")
FIT_COLUMNS = ["infit", "outfit", "infit_z", "outfit_z"]
# Wilson-Hilferty needs at least one degree of freedom (2 / q^2 >= 1), as in Winsteps/FACETS.
MAX_FIT_Q = float(np.sqrt(2.0))
RATER_COLUMNS = ["severity", "severity_se", *FIT_COLUMNS, "n_ratings",
                 "is_extreme", "is_connected", "reason"]
# Why a rater of a fitted design has no severity, in the report's words.
UNCONNECTED = ("shares no samples with the main rating design, so the severity cannot be "
               "compared with the other raters'")
WEAKLY_LINKED = ("linked to the main rating design only through samples that every rater "
                 "scored at the lowest or the highest level, which say nothing about severity, "
                 "so the severity cannot be compared with the other raters'")
EXTREME_UNMEASURED = ("every rating is at the lowest or the highest level, on samples that "
                      "have no other measure, so there is nothing to measure the rater against")
SAMPLE_COLUMNS = ["measure", "measure_se", *FIT_COLUMNS, "n_ratings", "is_extreme"]
CRITERION_COLUMNS = ["difficulty", "difficulty_se", *FIT_COLUMNS, "n_ratings",
                     "is_extreme"]


@dataclass(frozen=True)
class RaschFit:
    """A fitted many-facet Rasch model.

    raters: by rater id, severity and severity_se (logits, > 0 = harsh), infit and outfit
        mean-squares with their standardised forms infit_z and outfit_z (`fit_statistics`),
        n_ratings (blind ratings used), is_extreme (all minimum or all maximum
        scores: measure from the 0.3 score-point adjustment, no fit statistics), is_connected
        (in the main component of the rater-sample graph, and linked to it through
        non-extreme ratings; others have no measures), reason (None when measured, else why
        not: UNCONNECTED, WEAKLY_LINKED or EXTREME_UNMEASURED).
    samples: by sample id, measure, measure_se, infit, outfit, infit_z, outfit_z, n_ratings,
        is_extreme.
    criteria: by criterion id, difficulty, difficulty_se, infit, outfit, infit_z, outfit_z,
        n_ratings, is_extreme.
    thresholds: tau_k in logits, indexed by the score whose step it is (sum 0). Under the
        partial-credit model, the mean over the measured criteria of their own thresholds.
    model: RATING_SCALE or PARTIAL_CREDIT, the model fitted (a partial-credit fit asked for
        on criteria that leave a level unused is the rating-scale one; `message` says why).
    criterion_thresholds: under the partial-credit model, each criterion's own tau_k
        (criteria x score, each row summing to 0, with the bias correction; a criterion with
        every rating at one extreme has the other criteria's average); else None.
    categories: the observed scores, in order; category k of the model is categories[k].
    bias_correction: the factor (L-1)/L applied to rater, criterion and threshold measures.
    status: "ok" (converged), "not_converged" (the iterations stopped at max_iterations with
        a measure still moving by more than the tolerance) or "insufficient" (the data cannot
        support a fit at all); `message` says which in plain words. Insufficient data give
        empty tables. A fit that did not converge keeps its tables' counts and flags but every
        measure, SE, fit statistic and threshold is NaN: its last iterate is typically running
        off to infinity (severities of +-13 logits with SEs in the tens of thousands) and must
        not be read as a result.
    iterations: iterations run (0 when insufficient); largest_change: the largest change of
        any measure in the last one (logits; None when insufficient); tolerance and
        max_iterations: the stopping rule used.
    linkage: the algebraic connectivity of the fitted design (design.algebraic_connectivity;
        None when insufficient); sample_prior: (mean, sd) in logits of the samples' normal
        population prior when one was used, else None (plain JMLE).
    """

    status: str
    converged: bool
    iterations: int
    raters: pd.DataFrame
    samples: pd.DataFrame
    criteria: pd.DataFrame
    thresholds: pd.Series
    categories: tuple[int, ...]
    n_ratings: int
    bias_correction: float
    message: str = ""
    largest_change: float | None = None
    tolerance: float = TOLERANCE
    max_iterations: int = MAX_ITERATIONS
    linkage: float | None = None
    sample_prior: tuple[float, float] | None = None
    model: str = RATING_SCALE
    criterion_thresholds: pd.DataFrame | None = None


@dataclass(frozen=True)
class _Design:
    """The blind ratings of the main component as integer codes into the ids of all of them."""

    sample: np.ndarray
    criterion: np.ndarray
    rater: np.ndarray
    x: np.ndarray                # category 0..m-1
    sample_ids: pd.Index
    criterion_ids: pd.Index
    rater_ids: pd.Index
    categories: tuple[int, ...]
    is_connected: np.ndarray     # by rater id (all raters seen in blind ratings)
    rater_counts: np.ndarray     # blind ratings per rater id
    weakly_linked: np.ndarray    # by rater id: connected only through extreme elements


def wilson_hilferty(mean_square: np.ndarray, q: np.ndarray) -> np.ndarray:
    """A mean-square as a unit-normal deviate (ZSTD): (MS^(1/3) - 1)(3/q) + q/3, with q its
    model standard deviation (Wright & Masters 1982, p. 101; Wilson & Hilferty 1931).

    For a chi-square with d degrees of freedom divided by d, q^2 = 2/d and this is Wilson and
    Hilferty's cube-root approximation to its normal quantile. q is capped at sqrt(2) (at
    least one degree of freedom), as Winsteps and FACETS do: below that it misleads.
    """
    q = np.minimum(np.asarray(q, dtype=float), MAX_FIT_Q)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.cbrt(mean_square) - 1.0) * (3.0 / q) + q / 3.0


def fit_statistics(codes: np.ndarray, n: int, squared: np.ndarray, variance: np.ndarray,
                   fourth: np.ndarray) -> pd.DataFrame:
    """Infit and outfit mean-squares of each element and their ZSTDs, from its rows.

    Row r has squared residual (x - E)^2, model variance W and fourth central moment C.
    Following Wright & Masters (1982, pp. 99-101; as in FACETS and Winsteps):
        outfit u = sum(z^2) / N with z^2 = (x - E)^2 / W,
            model variance q_u^2 = sum(C / W^2) / N^2 - 1 / N;
        infit v = sum((x - E)^2) / sum(W),
            model variance q_v^2 = sum(C - W^2) / (sum W)^2;
    and each is standardised by `wilson_hilferty`. Elements without rows get NaN.
    """
    def total(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=n)

    count, information = total(None), total(variance)
    with np.errstate(invalid="ignore", divide="ignore"):
        outfit = total(squared / variance) / count
        infit = total(squared) / information
        q_outfit = np.sqrt(np.maximum(total(fourth / variance ** 2) / count ** 2 - 1 / count,
                                      0.0))
        q_infit = np.sqrt(np.maximum(total(fourth - variance ** 2), 0.0)) / information
    return pd.DataFrame({"infit": infit, "outfit": outfit,
                         "infit_z": wilson_hilferty(infit, q_infit),
                         "outfit_z": wilson_hilferty(outfit, q_outfit)})


def solve_facet(codes: np.ndarray, offset: np.ndarray, observed: np.ndarray,
                thresholds: np.ndarray, start: np.ndarray, *, sign: float = -1.0,
                max_iter: int = 100, tol: float = 1e-6,
                group: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood measures of one facet with everything else fixed.

    Row r has eta = offset[r] + sign * measure[codes[r]] (sign -1 for severity or difficulty,
    +1 for a sample measure) and observed category observed[r]. Newton steps from `start`,
    vectorised over elements. Returns (measures, information); an element without rows keeps
    its start value and has information 0.
    """
    values = np.array(start, dtype=float)
    for _ in range(max_iter):
        expected, variance = category_moments(offset + sign * values[codes], thresholds,
                                              group)
        step = _newton_step(codes, values.size, observed, expected, variance)
        values += sign * step
        if np.abs(step).max(initial=0.0) < tol:
            break
    _, variance = category_moments(offset + sign * values[codes], thresholds, group)
    return values, np.bincount(codes, weights=variance, minlength=values.size)


def sample_leverage(element: np.ndarray, sample: np.ndarray, variance: np.ndarray,
                    sample_information: np.ndarray) -> np.ndarray:
    """Per row, the share h = I_jn / I_n of its sample's information held by the row's element.

    I_jn is the information of element j's rows on sample n (e.g. a rater's ratings of the
    criteria of one sample), I_n the sample's total. The sample measure absorbs that share of
    anything the element does: inverting the joint information [[I_j, I_jn], [I_jn, I_n]] (the
    Schur complement) leaves I_j - sum_n I_jn^2 / I_n = sum over rows of variance * (1 - h).
    With 15 ratings per sample of which a rater gives 5, h is 1/3 and the plain model SE of a
    rater (which treats sample measures as known) is 20% too small.
    """
    pair, _ = pd.factorize(element.astype(np.int64) * (int(sample.max(initial=0)) + 1) + sample)
    shared = np.bincount(pair, weights=variance)[pair]
    return shared / sample_information[sample]


def fit_many_facet_rasch(ratings: pd.DataFrame, *, max_iter: int = MAX_ITERATIONS,
                         tol: float = TOLERANCE, sample_prior: bool | None = None,
                         min_linkage: float = MIN_LINKAGE,
                         codes: BlindCodes | None = None,
                         model: str = RATING_SCALE) -> RaschFit:
    """Fit the many-facet Rasch model to the blind ratings by joint maximum likelihood.

    Input: the validated long ratings table; only kind == "blind" rows are used (reference rows
    of anchors are agreed scores, not raters; local scores are not blind), and of those a
    rater's latest score of a unit (revisions dropped, see `table.latest_blind`).
    codes: encode_blind(ratings) when the caller has it already (it is the same work again).
    sample_prior: None (a population prior on the sample measures when the design's linkage
    is below min_linkage, design.MIN_LINKAGE by default), True (always) or False (never).
    model: RATING_SCALE (one set of thresholds shared by all criteria) or PARTIAL_CREDIT
    (Masters 1982; FACETS' "#" model per criterion: each criterion has its own thresholds,
    log(P(k) / P(k-1)) = theta_n - delta_i - lambda_j - tau_ik). Partial credit needs every
    measured criterion to use every fitted score level in its non-extreme ratings; when one
    does not, the fit is the rating-scale one (fit.model says so) and the message names the
    criterion and the levels.

    Method (Linacre 1989, ch. 6; Wright & Masters 1982, ch. 5 for JMLE):
    - Scores are recoded to categories 0..m-1 in order of the scores observed. A rubric level
      that nobody used is squeezed out (FACETS' default "ordinal" recoding): it has no
      threshold, and the categories actually fitted are in `categories`.
    - Only the main connected component of the rater-sample graph is measured: severities of
      raters who never share samples with it are not comparable. They get is_connected False.
      So do raters linked to it only through extreme elements (see
      `_linked_through_non_extreme`).
    - Elements with extreme scores (a sample, rater or criterion with every rating at the
      lowest or highest category) have infinite maximum-likelihood measures. They are set
      aside (repeatedly, as removing one can make another extreme), the rest is fitted, and
      then each extreme element is measured with the other facets fixed, for its score moved
      0.3 score points inwards (FACETS' extreme score adjustment, Xtreme=0.3).
    - Joint maximum likelihood by alternating Newton steps, one facet at a time (samples,
      criteria, raters, thresholds), each step vectorised over the long table with
      np.bincount and limited to 1 logit. Convergence: the largest change of any measure in
      an iteration is below `tol` logits. Rater and criterion measures are centred at 0 and
      thresholds sum to 0 (the sample measures absorb the shifts, so the fit is unchanged);
      under partial credit each criterion's thresholds sum to 0, their shift going into the
      criterion's difficulty. The partial-credit threshold step is the rating-scale one per
      criterion (the same block kernels, each rating taking its criterion's thresholds).
    - Weakly linked designs (chains, rings: linkage, the design's algebraic connectivity,
      below `min_linkage`, or whenever sample_prior is True; never when it is False): JMLE
      compares raters only through chains of shared samples and converges slowly (a ring of
      50 raters took 355-854 iterations, with severities at r 0.74-0.89 with the planted
      ones). The sample measures then get a normal population prior N(mu, sigma^2), estimated
      with them: posterior-mode Newton steps for the samples and, each iteration, the EM
      update of a normal random effect (Bock & Aitkin 1981) with each sample's posterior
      normal at its mode (Laplace; Tierney & Kadane 1986), see `_State._prior_step`. The
      ring then converges in about 35 iterations with r 0.95-0.97. No bias correction then
      (the factor is 1), and sample SEs include the prior's information.
    - JMLE bias correction (Wright & Douglas 1977; Winsteps STBIAS): rater and criterion
      measures, thresholds and their standard errors are multiplied by (L-1)/L, with L the
      mean number of ratings per sample (measured on the synthetic district: the slope of
      estimated on planted severity is 1.06 without it, 1.00 with it).
    - Standard errors: 1 / sqrt(information) of the element. For raters and criteria the
      information is profiled over the samples they share (see `sample_leverage`): the plain
      model SE, which treats the sample measures as known, is about 20% too small with 15
      ratings per sample (measured on the synthetic district). Samples keep the model SE.
    - Infit and outfit mean-squares from standardised residuals (Wright & Masters 1982,
      ch. 5; Linacre 2002, RMT 16:2, p. 878): 0.5-1.5 is productive, > 2 degrades
      measurement, < 0.5 suggests halo or central tendency. Each also as a ZSTD, a unit
      normal deviate under the model, by the Wilson-Hilferty cube root with the model
      variance of the mean-square (`fit_statistics`). Samples get them too.

    Never raises on small or degenerate data. Status "insufficient" with a message (and empty
    tables) when there are no blind ratings, one score only, no two raters share a sample,
    fewer than two raters keep non-extreme ratings on shared samples, or a score level was
    given only where every score is extreme. Status "not_converged" when the iterations stop
    at max_iter with a measure still moving by tol or more (typically separated data, whose
    measures run off to infinity): the measures are then NaN, never numbers.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    design = _design(encode_blind(ratings) if codes is None else codes)
    if isinstance(design, str):
        return _insufficient(design, tol, max_iter, model)
    design, active = _linked_through_non_extreme(design, _non_extreme(design))
    if np.unique(design.rater[active]).size < 2:
        return _insufficient("Fewer than two raters share samples with non-extreme scores "
                             "(every sample they share got the lowest or the highest score "
                             "from all of them), so their severities cannot be compared.",
                             tol, max_iter, model)
    lost = _lost_category(design, active)
    if lost is not None:
        return _insufficient(f"Score {lost} was only given to samples or raters whose scores "
                             "are all at one extreme, so the rating scale cannot be estimated.",
                             tol, max_iter, model)
    refusal = _no_partial_credit(design, active) if model == PARTIAL_CREDIT else None
    linkage = algebraic_connectivity(design.rater[active], design.sample[active])
    if sample_prior is None:
        sample_prior = linkage is not None and linkage < min_linkage
    state = _State.start(design, active, partial_credit=model == PARTIAL_CREDIT and not refusal)
    iterations, change = state.fit(design, active, max_iter, tol, sample_prior)
    converged = change < tol
    measured = state.measure_extremes(design, active)
    fit = _result(design, active, state, measured, iterations, converged)
    words = (CONVERGED if converged else NOT_CONVERGED).format(
        iterations=iterations, change=change, tolerance=tol)
    if refusal:
        words += " " + refusal
    if state.prior:
        words += " " + WITH_PRIOR.format(linkage=linkage, mean=state.prior[0],
                                         sd=np.sqrt(state.prior[1]))
    fit = replace(fit, message=words, largest_change=change, tolerance=tol,
                  max_iterations=max_iter, linkage=linkage,
                  sample_prior=None if not state.prior else
                  (state.prior[0], float(np.sqrt(state.prior[1]))))
    return fit if converged else _without_measures(fit)


def _insufficient(message: str, tol: float, max_iter: int, model: str) -> RaschFit:
    def empty(columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame(columns=columns, dtype=float)

    return RaschFit(status="insufficient", converged=False, iterations=0,
                    raters=empty(RATER_COLUMNS), samples=empty(SAMPLE_COLUMNS),
                    criteria=empty(CRITERION_COLUMNS), thresholds=pd.Series(dtype=float),
                    categories=(), n_ratings=0, bias_correction=1.0, message=message,
                    tolerance=tol, max_iterations=max_iter, model=model)


def _without_measures(fit: RaschFit) -> RaschFit:
    """The fit with every estimate blanked (NaN): counts and flags stay, numbers go."""
    def blank(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
        return table.assign(**{name: np.nan for name in names})

    return replace(
        fit, status="not_converged",
        raters=blank(fit.raters, ["severity", "severity_se", *FIT_COLUMNS]),
        samples=blank(fit.samples, ["measure", "measure_se", *FIT_COLUMNS]),
        criteria=blank(fit.criteria, ["difficulty", "difficulty_se", *FIT_COLUMNS]),
        thresholds=fit.thresholds * np.nan,
        criterion_thresholds=None if fit.criterion_thresholds is None
        else fit.criterion_thresholds * np.nan)


def _design(codes: BlindCodes) -> _Design | str:
    if codes.score.size == 0:
        return "There are no blind ratings."
    categories, x = np.unique(codes.score, return_inverse=True)
    if categories.size < 2:
        return "Every blind rating has the same score, so severity cannot be measured."
    n_raters = codes.rater_ids.size
    labels = rater_sample_components(codes.rater, codes.sample, n_raters,
                                     codes.sample_ids.size)
    main = labels == np.argmax(np.bincount(labels[codes.rater]))
    if main.sum() < 2:
        return "No two raters share a sample, so their severities cannot be compared."
    keep = main[codes.rater]
    return _Design(sample=codes.sample[keep], criterion=codes.criterion[keep],
                   rater=codes.rater[keep], x=x[keep].astype(float),
                   sample_ids=codes.sample_ids, criterion_ids=codes.criterion_ids,
                   rater_ids=codes.rater_ids, categories=tuple(int(c) for c in categories),
                   is_connected=main, rater_counts=np.bincount(codes.rater, minlength=n_raters),
                   weakly_linked=np.zeros(n_raters, dtype=bool))


def _facets(design: _Design) -> tuple[tuple[np.ndarray, int], ...]:
    return ((design.sample, design.sample_ids.size), (design.criterion, design.criterion_ids.size),
            (design.rater, design.rater_ids.size))


def _non_extreme(design: _Design) -> np.ndarray:
    """Rows whose sample, criterion and rater all have non-extreme scores (repeated to a fix)."""
    top = len(design.categories) - 1
    active = np.ones(design.x.size, dtype=bool)
    while True:
        extreme = np.zeros(design.x.size, dtype=bool)
        for codes, n in _facets(design):
            count = np.bincount(codes[active], minlength=n)
            score = np.bincount(codes[active], weights=design.x[active], minlength=n)
            is_extreme = (count > 0) & ((score == 0) | (score == top * count))
            extreme |= is_extreme[codes]
        if not (extreme & active).any():
            return active
        active &= ~extreme


def _linked_through_non_extreme(design: _Design,
                                active: np.ndarray) -> tuple[_Design, np.ndarray]:
    """The design without raters linked to its main part only through extreme elements.

    Extreme elements are set aside while fitting, so the non-extreme rows can fall apart: a
    group of raters who share ordinary samples with each other and meet the rest only on an
    anchor every rater scored 4 would keep its start values relative to the rest (measured:
    raising every score of such a pair by one point left their severities unchanged). Their
    rows are dropped (repeated, as dropping rows can make more elements extreme) and the raters
    marked weakly_linked and not connected: no severity, and the reason says why.
    """
    n_raters, n_samples = design.rater_ids.size, design.sample_ids.size
    while True:
        rater, sample = design.rater[active], design.sample[active]
        if rater.size == 0:
            return design, active
        labels = rater_sample_components(rater, sample, n_raters, n_samples)
        has_active = np.bincount(rater, minlength=n_raters) > 0
        main = np.argmax(np.bincount(labels[rater]))
        minor = has_active & (labels != main)
        if not minor.any():
            return design, active
        keep = ~minor[design.rater]
        design = replace(design, sample=design.sample[keep], criterion=design.criterion[keep],
                         rater=design.rater[keep], x=design.x[keep],
                         is_connected=design.is_connected & ~minor,
                         weakly_linked=design.weakly_linked | minor)
        active = _non_extreme(design)


def _lost_category(design: _Design, active: np.ndarray) -> int | None:
    used = np.bincount(design.x[active].astype(int), minlength=len(design.categories))
    missing = np.flatnonzero(used == 0)
    return design.categories[missing[0]] if missing.size else None


def _no_partial_credit(design: _Design, active: np.ndarray) -> str | None:
    """Why the criteria cannot have thresholds of their own (a measured criterion leaves a
    fitted level unused in its non-extreme ratings), or None when they can."""
    m, n = len(design.categories), design.criterion_ids.size
    used = np.bincount(design.criterion[active] * m + design.x[active].astype(int),
                       minlength=n * m).reshape(n, m)
    measured = used.sum(axis=1) > 0
    for criterion in np.flatnonzero(measured & (used == 0).any(axis=1)):
        levels = [str(design.categories[k]) for k in np.flatnonzero(used[criterion] == 0)]
        words = (f"score {levels[0]} was" if len(levels) == 1
                 else f"scores {', '.join(levels)} were")
        return NO_PARTIAL_CREDIT.format(levels=words,
                                        criterion=design.criterion_ids[criterion])
    return None


class _State:
    """Measures during estimation: theta (samples), delta (criteria), lam (raters), tau."""

    def __init__(self, theta: np.ndarray, delta: np.ndarray, lam: np.ndarray,
                 tau: np.ndarray) -> None:
        self.theta, self.delta, self.lam, self.tau = theta, delta, lam, tau
        # The samples' normal population (mean, variance); None for plain JMLE.
        self.prior: tuple[float, float] | None = None

    def use_prior(self, rows: _Rows) -> None:
        """Start the population prior from the spread of the starting sample measures."""
        used = self.theta[rows.samples_used]
        self.prior = (float(used.mean()), max(float(used.var()), 0.1))

    @property
    def is_partial_credit(self) -> bool:
        return self.tau.ndim == 2

    @classmethod
    def start(cls, design: _Design, active: np.ndarray, partial_credit: bool) -> _State:
        top = len(design.categories) - 1
        count = np.bincount(design.sample[active], minlength=design.sample_ids.size)
        score = np.bincount(design.sample[active], weights=design.x[active],
                            minlength=design.sample_ids.size)
        theta = np.log((score + 0.5) / (top * count - score + 0.5))
        used = np.bincount(design.x[active].astype(int), minlength=top + 1).astype(float)
        tau = np.log(used[:-1] / used[1:])
        tau -= tau.mean()
        if partial_credit:    # every criterion starts from the shared scale
            tau = np.tile(tau, (design.criterion_ids.size, 1))
        return cls(theta, np.zeros(design.criterion_ids.size),
                   np.zeros(design.rater_ids.size), tau)

    def group(self, design: _Design, rows: np.ndarray) -> np.ndarray | None:
        """Each row's line in the partial-credit threshold table (its criterion), or None
        under the rating-scale model."""
        return design.criterion[rows] if self.is_partial_credit else None

    def eta(self, design: _Design, rows: np.ndarray) -> np.ndarray:
        return (self.theta[design.sample[rows]] - self.delta[design.criterion[rows]]
                - self.lam[design.rater[rows]])

    def fit(self, design: _Design, active: np.ndarray, max_iter: int, tol: float,
            prior: bool = False) -> tuple[int, float]:
        """Iterate until the largest change is below tol or max_iter is reached; returns the
        iterations run and the largest change in the last one. prior: give the sample
        measures a normal population prior whose mean and variance are estimated too."""
        rows = _Rows(design, active, self.is_partial_credit)
        if prior:
            self.use_prior(rows)
        change = np.inf
        for iteration in range(1, max_iter + 1):
            change = max(self._facet_step(rows, "theta", rows.sample, +1.0),
                         self._facet_step(rows, "delta", rows.criterion, -1.0),
                         self._facet_step(rows, "lam", rows.rater, -1.0),
                         self._threshold_step(rows))
            self._centre(rows)
            if self.prior is not None:
                change = max(change, self._prior_step(rows))
            if change < tol:
                return iteration, change
        return max_iter, change

    def _facet_step(self, rows: _Rows, name: str, codes: np.ndarray, sign: float) -> float:
        expected, variance = category_moments(rows.eta(self), self.tau, rows.group)
        values = getattr(self, name)
        prior = self.prior if name == "theta" else None
        step = _newton_step(codes, values.size, rows.x, expected, variance,
                            prior=None if prior is None else (values, *prior))
        values += sign * step
        return float(np.abs(step).max())

    def _prior_step(self, rows: _Rows) -> float:
        """Re-estimate the population: the mean of the sample measures, and their variance
        plus the mean posterior variance (the EM update of a normal random effect, with the
        posterior of each sample taken as normal at its mode: Laplace's approximation)."""
        _, variance = category_moments(rows.eta(self), self.tau, rows.group)
        information = np.bincount(rows.sample, weights=variance,
                                  minlength=self.theta.size)[rows.samples_used]
        used = self.theta[rows.samples_used]
        mean, old = self.prior
        new = float(np.mean((used - used.mean()) ** 2 + 1.0 / (information + 1.0 / old)))
        self.prior = (float(used.mean()), new)
        return abs(np.sqrt(new) - np.sqrt(old))

    def _threshold_step(self, rows: _Rows) -> float:
        expected, information = step_moments(rows.eta(self), self.tau, rows.group)
        if self.is_partial_credit:   # a criterion without active rows keeps its thresholds
            step = np.divide(expected - rows.at_least, information,
                             out=np.zeros_like(information), where=information > 0)
        else:
            step = (expected - rows.at_least) / information
        step = np.clip(step, -MAX_STEP, MAX_STEP)
        self.tau += step
        return float(np.abs(step).max())

    def _centre(self, rows: _Rows) -> None:
        # Shifting raters, criteria or thresholds by a constant is absorbed by theta, which
        # keeps every eta (and so the likelihood) unchanged. A criterion's own thresholds
        # are shifted into its difficulty instead (theta - delta_i - tau_ik is what counts).
        if self.is_partial_credit:
            shift = self.tau.mean(axis=1)
            self.tau -= shift[:, None]
            self.delta += shift
        for name, used in (("lam", rows.raters_used), ("delta", rows.criteria_used)):
            values = getattr(self, name)
            shift = values[used].mean()
            values -= shift
            self.theta -= shift
        if not self.is_partial_credit:
            shift = self.tau.mean()
            self.tau -= shift
            self.theta -= shift

    def measure_extremes(self, design: _Design, active: np.ndarray) -> dict[str, np.ndarray]:
        """Measure extreme elements at their score moved 0.3 points inwards, others fixed.

        Returns, per facet, which elements have a measure (an extreme element all of whose
        ratings involve another extreme element stays unmeasured). Under partial credit an
        extreme criterion has no ratings to estimate thresholds of its own from: it takes the
        average of the other criteria's, and is measured against them.
        """
        if self.is_partial_credit:
            measured = _elements_in(design.criterion, active, design.criterion_ids.size)
            self.tau[~measured] = self.tau[measured].mean(axis=0)
        done = {"theta": _elements_in(design.sample, active, design.sample_ids.size),
                "delta": _elements_in(design.criterion, active, design.criterion_ids.size),
                "lam": _elements_in(design.rater, active, design.rater_ids.size)}
        codes = {"theta": design.sample, "delta": design.criterion, "lam": design.rater}
        for name, sign in (("theta", 1.0), ("delta", -1.0), ("lam", -1.0)):
            rows = ~done[name][codes[name]]
            for other in done.keys() - {name}:
                rows &= done[other][codes[other]]
            if rows.any():
                self._solve_extremes(design, rows, name, codes[name][rows], sign)
                done[name] = done[name] | _elements_in(codes[name], rows, done[name].size)
        return done

    def _solve_extremes(self, design: _Design, rows: np.ndarray, name: str,
                        codes: np.ndarray, sign: float) -> None:
        values = getattr(self, name)
        n = values.size
        count = np.bincount(codes, minlength=n)
        score = np.bincount(codes, weights=design.x[rows], minlength=n)
        top = len(design.categories) - 1
        target = np.clip(score, EXTREME_ADJUSTMENT, top * count - EXTREME_ADJUSTMENT)
        # Spread the adjusted score over the element's rows: only the total enters Newton.
        observed = target[codes] / count[codes]
        offset = self.eta(design, rows) - sign * values[codes]
        solved, _ = solve_facet(codes, offset, observed, self.tau, values, sign=sign,
                                group=self.group(design, rows))
        values[:] = solved


class _Rows:
    """The active rows' codes, with each facet's observed scores, for the estimation loop."""

    def __init__(self, design: _Design, active: np.ndarray, partial_credit: bool) -> None:
        self.x = design.x[active]
        self.sample = design.sample[active]
        self.criterion = design.criterion[active]
        self.rater = design.rater[active]
        top = len(design.categories) - 1
        # The observed counts at or above each step, per criterion under partial credit.
        self.group = self.criterion if partial_credit else None
        if partial_credit:
            self.at_least = np.column_stack([
                np.bincount(self.criterion, weights=self.x >= k,
                            minlength=design.criterion_ids.size) for k in range(1, top + 1)])
        else:
            self.at_least = np.array([(self.x >= k).sum() for k in range(1, top + 1)],
                                     dtype=float)
        self.raters_used = _elements_in(design.rater, active, design.rater_ids.size)
        self.criteria_used = _elements_in(design.criterion, active, design.criterion_ids.size)
        self.samples_used = _elements_in(design.sample, active, design.sample_ids.size)

    def eta(self, state: _State) -> np.ndarray:
        eta = state.theta[self.sample]     # then in place: one array, not three
        eta -= state.delta[self.criterion]
        eta -= state.lam[self.rater]
        return eta


def _elements_in(codes: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes[rows], minlength=n) > 0


def _newton_step(codes: np.ndarray, n: int, observed: np.ndarray, expected: np.ndarray,
                 variance: np.ndarray, prior: tuple | None = None) -> np.ndarray:
    """(observed - expected score) / information per element, limited to MAX_STEP logits.

    prior (values, mean, variance): a normal prior on the elements adds the derivatives of
    its log density, -(value - mean) / variance and 1 / variance (a posterior-mode step).
    """
    residual = np.bincount(codes, weights=observed - expected, minlength=n)
    information = np.bincount(codes, weights=variance, minlength=n)
    if prior is not None:
        values, mean, prior_variance = prior
        residual -= (values - mean) / prior_variance
        information += 1.0 / prior_variance
    step = np.divide(residual, information, out=np.zeros(n), where=information > 0)
    return np.clip(step, -MAX_STEP, MAX_STEP)


def _result(design: _Design, active: np.ndarray, state: _State, measured: dict,
            iterations: int, converged: bool) -> RaschFit:
    every = np.ones(design.x.size, dtype=bool)
    eta = state.eta(design, every)
    group = state.group(design, every)
    expected, variance = category_moments(eta, state.tau, group)
    fourth = np.zeros(eta.size)
    fourth[active] = category_fourth_moment(eta[active], state.tau, expected[active],
                                            None if group is None else group[active])
    ratings_per_sample = active.sum() / np.unique(design.sample[active]).size
    # The JMLE bias comes from estimating every sample freely; a population prior does not
    # leave it (as in marginal ML), so there is nothing to correct.
    factor = 1.0 if state.prior else (ratings_per_sample - 1) / ratings_per_sample
    precision = 1.0 / state.prior[1] if state.prior else 0.0
    stats = _FitStatistics(design, active, expected, variance, fourth, precision)
    raters = stats.table(design.rater, state.lam, measured["lam"], factor,
                         ["severity", "severity_se"], profile_samples=True)
    criteria = stats.table(design.criterion, state.delta, measured["delta"], factor,
                           ["difficulty", "difficulty_se"], profile_samples=True)
    samples = stats.table(design.sample, state.theta, measured["theta"], 1.0,
                          ["measure", "measure_se"], profile_samples=False)
    samples.index = design.sample_ids.rename("sample")
    criteria.index = design.criterion_ids.rename("criterion")
    scores = pd.Index(design.categories[1:], name="score")
    criterion_thresholds = None
    if state.is_partial_credit:
        criterion_thresholds = pd.DataFrame(state.tau * factor, index=criteria.index,
                                            columns=scores)
        # The criteria's average scale, for the figures that take one scale for all.
        tau = state.tau[_elements_in(design.criterion, active, design.criterion_ids.size)]
        thresholds = pd.Series(tau.mean(axis=0) * factor, index=scores, name="threshold")
    else:
        thresholds = pd.Series(state.tau * factor, index=scores, name="threshold")
    return RaschFit(status="ok" if converged else "not_converged", converged=converged,
                    iterations=iterations,
                    raters=_all_raters(design, raters), samples=samples[SAMPLE_COLUMNS],
                    criteria=criteria[CRITERION_COLUMNS], thresholds=thresholds,
                    categories=design.categories, n_ratings=int(design.x.size),
                    bias_correction=float(factor),
                    model=PARTIAL_CREDIT if state.is_partial_credit else RATING_SCALE,
                    criterion_thresholds=criterion_thresholds)


class _FitStatistics:
    """Information and residuals of the rows, summed per element of a facet."""

    def __init__(self, design: _Design, active: np.ndarray, expected: np.ndarray,
                 variance: np.ndarray, fourth: np.ndarray, prior_precision: float) -> None:
        self.design = design
        self.active = active
        self.variance = variance
        self.fourth = fourth
        self.squared = (design.x - expected) ** 2
        # A sample's information includes its prior's (0 without one): the posterior's.
        self.sample_information = np.bincount(design.sample[active], weights=variance[active],
                                              minlength=design.sample_ids.size) + prior_precision
        self.prior_precision = prior_precision
        self.sample = design.sample

    def table(self, codes: np.ndarray, measure: np.ndarray, measured: np.ndarray,
              factor: float, names: list[str], *, profile_samples: bool) -> pd.DataFrame:
        """Measure, SE, infit, outfit and their ZSTDs per element. Fit uses non-extreme rows
        only (as FACETS does); the SE of an extreme element uses all its rows."""
        n = measure.size
        rows = self.active

        def total(weights: np.ndarray | None, where: np.ndarray) -> np.ndarray:
            return np.bincount(codes[where], weights=None if weights is None else weights[where],
                               minlength=n)

        every = np.ones(codes.size, dtype=bool)
        is_extreme = (total(None, rows) == 0) & (total(None, every) > 0)
        weights = self.variance
        if profile_samples:
            leverage = np.zeros(codes.size)
            leverage[rows] = sample_leverage(codes[rows], self.sample[rows], weights[rows],
                                             self.sample_information)
            weights = weights * (1 - leverage)
        information = total(weights, rows)
        if not profile_samples:   # the facet with the prior: its posterior information
            information = information + self.prior_precision
        information = np.where(is_extreme, total(self.variance, every), information)
        fit = fit_statistics(codes[rows], n, self.squared[rows], self.variance[rows],
                             self.fourth[rows])
        with np.errstate(invalid="ignore", divide="ignore"):
            se = factor / np.sqrt(information)
        return pd.DataFrame({
            names[0]: np.where(measured, measure * factor, np.nan),
            names[1]: np.where(measured, se, np.nan),
            **{name: fit[name].to_numpy() for name in FIT_COLUMNS},
            "n_ratings": total(None, every),
            "is_extreme": is_extreme,
        })


def _all_raters(design: _Design, raters: pd.DataFrame) -> pd.DataFrame:
    """Every rater seen in the blind ratings; those outside the main component have NaN."""
    raters.index = design.rater_ids.rename("rater")
    raters["n_ratings"] = design.rater_counts
    raters["is_connected"] = design.is_connected
    reason = np.where(raters["severity"].isna(), EXTREME_UNMEASURED, None)
    reason = np.where(design.weakly_linked, WEAKLY_LINKED, reason)
    reason = np.where(~design.is_connected & ~design.weakly_linked, UNCONNECTED, reason)
    raters["reason"] = pd.Series(reason, index=raters.index, dtype=object)
    return raters[RATER_COLUMNS]
