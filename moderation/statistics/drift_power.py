"""Power of the drift test: the smallest step a rater's load and timing let it find, and the
load a step of a given size needs.

The test (drift.py) flags a rater when the change-point p and the practical-size p are both
below the level at which Benjamini-Hochberg rejects. For a step of delta logits at a split
with a share s of the rater's information I before it, the standardised statistic is about
normal with mean delta / se and sd 1, se = 1 / sqrt(I s (1 - s)) (the SE of the shift; Cohen
1988, ch. 1, for the normal power calculation; Wolfe, Moulder & Myford 2001 for the
information of a rater-by-window severity). Both nulls are rejected at level a when the
statistic exceeds max(c_a, z_a + min_shift / se): c_a is the critical value of the maximum
over splits (drift.max_split_p_value, James, James & Siegmund 1987) and z_a the normal one
of the practical-size test (multiplicity.minimum_effect_p). So

    power(delta) = Phi(delta / se - max(c_a, z_a + min_shift / se)),
    detectable shift at power 1 - b:  delta = max(c_a se, z_a se + min_shift) + z_b se.

a is the per-rater level at which Benjamini & Hochberg (1995) rejects in this district:
fdr R / N with R raters flagged of N tested (fdr / N when nobody is, the level the first
finding needs). A step no larger than min_shift is never found with more than a's chance,
by design. The selection of the best split (which makes the estimated shift a little large)
and a rater's misfit (which widens the test) are left out; a simulation checks the result
(tests/unit/statistics/test_drift_power.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from moderation.statistics.distributions import normal_isf, normal_ppf
from moderation.statistics.drift import max_split_p_value
from moderation.statistics.fair import fair_average_at
from moderation.statistics.rasch import RaschFit

POWER = 0.8
# Loads tried for ratings_needed: 1% steps from 20 (the fewest the test takes) to 100,000.
LOADS = np.unique(np.round(20 * 1.01 ** np.arange(860)).astype(np.int64))
TOO_SMALL = ("A step of {step:.2f} logits{points} is within the practical drift size of "
             "{size:.2f} logits, which the test treats as too small to act on: no load finds "
             "it {power:.0%} of the time.")
NEEDS = ("A step of {step:.2f} logits{points} needs about {needed:,} timed ratings per rater, "
         "spread over the period, to be found {power:.0%} of the time; {enough:,} of "
         "{tested:,} tested raters ({share:.0%}) have the load and timing for it.")
BEYOND = ("A step of {step:.2f} logits{points} would need more than {needed:,} timed ratings "
          "per rater to be found {power:.0%} of the time; {enough:,} of {tested:,} tested "
          "raters have the load and timing for it.")
NO_TESTS = "No rater could be tested for drift, so there is no load to compare with."


def flagging_level(drift: pd.DataFrame, fdr: float) -> float:
    """The per-rater p below which Benjamini-Hochberg flags in this district: fdr R / N (R
    flagged of N tested; R taken as 1 when nobody is flagged)."""
    tested = int(drift["p"].notna().sum())
    return fdr * max(int(drift["flagged"].sum()), 1) / max(tested, 1)


def critical_statistic(level: float, occasions: np.ndarray, trim: float) -> np.ndarray:
    """c with max_split_p_value(c, trim, occasions) = level, per number of occasions
    (bisection: the p-value falls as c grows)."""
    occasions = np.asarray(occasions, dtype=float)
    low, high = np.zeros(occasions.size), np.full(occasions.size, 12.0)
    for _ in range(50):
        middle = (low + high) / 2
        above = max_split_p_value(middle, trim, occasions) > level
        low, high = np.where(above, middle, low), np.where(above, high, middle)
    return high


def detectable_shift(information, share, occasions, *, level: float, min_shift: float,
                     trim: float = 0.1, power: float = POWER) -> np.ndarray:
    """The smallest step (logits) found with `power` by a rater with this information, share
    of it before the step, and number of occasions (arrays of the same shape). NaN where the
    step falls within `trim` of either end of the rater's information (the test does not
    split there) or the rater has no information."""
    information = np.asarray(information, dtype=float)
    share = np.asarray(share, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = 1 / np.sqrt(information * share * (1 - share))
    critical = critical_statistic(level, np.nan_to_num(np.asarray(occasions, dtype=float),
                                                       nan=1.0), trim)
    shift = np.fmax(critical * se, normal_isf(level) * se + min_shift) + normal_ppf(power) * se
    splittable = (share >= trim) & (share <= 1 - trim) & (information > 0)
    return np.where(splittable & np.isfinite(shift), shift, np.nan)


def ratings_needed(step: float, per_rating: float, per_occasion: float, *, level: float,
                   min_shift: float, trim: float = 0.1, power: float = POWER) -> int | None:
    """Timed ratings per rater (to the nearest 1%) at which a step of `step` logits in the
    middle of the period is found with `power`: per_rating information per rating,
    per_occasion ratings per occasion. None when no load up to 100,000 does."""
    found = detectable_shift(LOADS * per_rating, np.full(LOADS.size, 0.5),
                             np.maximum(LOADS / per_occasion, 1.0), level=level,
                             min_shift=min_shift, trim=trim, power=power) <= abs(step)
    return int(LOADS[np.argmax(found)]) if found.any() else None


def rater_detectable_shifts(drift: pd.DataFrame, fit: RaschFit, *, fdr: float,
                            min_shift: float, trim: float = 0.1) -> pd.DataFrame:
    """Per rater of `drift` (detect_drift's table), detectable_shift: the smallest step in the
    middle of the period found with 80% power at their load and timing (logits), and
    detectable_shift_points: the same in rubric points (the mean of the fair-average moves
    harsher and more generous from their severity, fair.fair_average_at)."""
    shift = detectable_shift(drift["information"], drift["midterm_share"],
                             drift["occasions"], level=flagging_level(drift, fdr),
                             min_shift=min_shift, trim=trim)
    severity = fit.raters["severity"].reindex(drift.index).to_numpy(dtype=float)
    return pd.DataFrame({"detectable_shift": shift,
                         "detectable_shift_points": shift_points(fit, severity, shift)},
                        index=drift.index)


def shift_points(fit: RaschFit, severity, shift) -> np.ndarray:
    """A step's size in rubric points for a rater at `severity`: the mean of the fair-average
    moves by +shift and -shift (they differ near the ends of the scale)."""
    base = fair_average_at(fit, severity)
    harsher = np.abs(fair_average_at(fit, np.asarray(severity) + shift) - base)
    gentler = np.abs(fair_average_at(fit, np.asarray(severity) - shift) - base)
    return (harsher + gentler) / 2


def district_drift_power(drift: pd.DataFrame, fit: RaschFit, *,
                         steps: tuple[float, ...], fdr: float, min_shift: float,
                         trim: float = 0.1) -> list[dict]:
    """For `drift` with its detectable_shift (rater_detectable_shifts), per step size (logits):
    step, step_points (for the average rater), ratings_needed
    (timed ratings per rater for 80% power for a step in the middle of the period, at the
    district's median information per rating and ratings per occasion; None when it cannot
    be found), n_raters_enough (tested raters whose detectable shift is at most the step),
    n_raters_tested, level (the per-rater flagging level used) and message (plain words)."""
    tested = drift["information"].notna() & (drift["n_timed"] > 0)
    level = flagging_level(drift, fdr)
    rows = drift.loc[tested]
    per_rating = float((rows["information"] / rows["n_timed"]).median()) if len(rows) else 0.0
    per_occasion = float((rows["n_timed"] / rows["occasions"]).median()) if len(rows) else 1.0
    entries = []
    for step in steps:
        points = float(shift_points(fit, np.zeros(1), step)[0])
        in_points = f" ({points:.2f} rubric points for the average rater)" \
            if np.isfinite(points) else ""
        needed = ratings_needed(step, per_rating, per_occasion, level=level,
                                min_shift=min_shift, trim=trim) if len(rows) else None
        enough = int((rows["detectable_shift"] <= step).sum())
        words = dict(step=step, points=in_points, size=min_shift, power=POWER, enough=enough,
                     tested=len(rows), share=enough / max(len(rows), 1),
                     needed=needed or int(LOADS[-1]))
        if not len(rows):
            message = NO_TESTS
        elif step <= min_shift:
            message = TOO_SMALL.format(**words)
        else:
            message = (NEEDS if needed else BEYOND).format(**words)
        entries.append({"step": step, "step_points": points, "ratings_needed": needed,
                        "n_raters_enough": enough, "n_raters_tested": len(rows),
                        "level": level, "message": message})
    return entries
