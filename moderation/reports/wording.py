"""The sentences a report says in words: each chart's description and the evidence lines.

Figures are in rubric points with two decimals, intervals are 95%, and every sentence gives
its n. Thresholds are parameters: they are the district's settings, not constants here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from moderation.statistics.equity import MIN_SCHOOLS

OUTCOME_WORDS = {"standard_points": "leniency",
                 "local_gap": "the local-versus-blind gap"}


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 rater', '3 raters' (plural: when adding an s is wrong)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def interval(low: float, high: float) -> str:
    """'0.51-0.64', or '-0.05 to 0.09' where a dash would read as a minus sign."""
    return f"{low:.2f}-{high:.2f}" if low >= 0 else f"{low:.2f} to {high:.2f}"


def context_words(column: str) -> str:
    """A schools-file column as words: low_income_share -> 'low-income share'."""
    if column.endswith("_share"):
        return column.removesuffix("_share").replace("_", "-") + " share"
    return column.replace("_", " ")


def describe_reliability(alpha: float | None, ci95: Sequence[float] | None, *,
                         tentative: float = 0.667, reliable: float = 0.800) -> str:
    """The evidence line under a criterion: its alpha and interval against the district's
    thresholds (tentative: enough for tentative conclusions; reliable: relied on)."""
    if alpha is None:
        return ("Evidence: no alpha, too few samples were scored blind by two or more raters "
                "who differ.")
    figure = f"alpha {_alpha_figure(alpha, (tentative, reliable))}" + (
        f" ({interval(*ci95)})" if ci95 else "")
    if alpha < tentative:
        verdict = f"below the {tentative:.3f} the district uses for tentative conclusions"
    elif alpha < reliable:
        verdict = (f"enough for tentative conclusions ({tentative:.3f}) but below the "
                   f"{reliable:.3f} the district relies on")
    else:
        verdict = f"at or above the {reliable:.3f} the district relies on"
    return f"Evidence: {figure}, {verdict}."


def _alpha_figure(alpha: float, thresholds: Sequence[float]) -> str:
    """Alpha to two places, or three where two would put it on the other side of a threshold
    than the verdict does (0.6665 is "0.667" below 0.667, never "0.67 ... below the 0.667")."""
    short = round(alpha, 2)
    crosses = any((alpha < threshold) != (short < threshold) for threshold in thresholds)
    return f"{alpha:.3f}" if crosses else f"{alpha:.2f}"


def equity_sentence(entry: dict) -> str:
    """One entry of the report's `equity` list in the district's words: 'Across 28 schools,
    leniency does not change with low-income share: slope 0.02 points per 10 percentage
    points (-0.05 to 0.09).'"""
    outcome = OUTCOME_WORDS[entry["outcome"]]
    context = context_words(entry["context"])
    n = entry["n_schools"]
    if entry["slope"] is None and n < MIN_SCHOOLS:
        return (f"{count(n, 'school')} {'has' if n == 1 else 'have'} figures for both "
                f"{outcome} and {context}: too few to relate them (at least {MIN_SCHOOLS} "
                "are needed).")
    if entry["slope"] is None:
        return (f"The {n} schools with figures for {outcome} all have the same {context}: "
                "there is no spread to relate them.")
    low, high = entry["slope_ci95"]
    if low > 0 or high < 0:
        verdict = "rises" if entry["slope"] > 0 else "falls"
    else:
        verdict = "does not change"
    return (f"Across {count(n, 'school')}, {outcome} {verdict} with {context}: slope "
            f"{entry['slope']:.2f} points per {entry['slope_per']} ({low:.2f} to {high:.2f}).")


def not_shown(n: int, noun: str, why: str = "") -> str:
    """' 2 raters without a measure are not shown.', or '' when there are none."""
    if n == 0:
        return ""
    return f" {' '.join(filter(None, (count(n, noun), why)))} {'is' if n == 1 else 'are'} " \
        "not shown."


def caterpillar_description(n: int, n_lenient: int, n_harsh: int, n_unmeasured: int) -> str:
    unmeasured = not_shown(n_unmeasured, "rater", "without a measure")
    if n == 0:
        return "No rater has a measure in this run." + unmeasured
    return (f"Each of {count(n, 'rater')}: how many rubric points more (lenient) or fewer "
            f"(harsh) they give than the average rater, with a 95% interval. "
            f"{n_lenient} clearly more lenient and {n_harsh} clearly harsher (interval wholly "
            f"on one side of zero)." + unmeasured)


def funnel_description(n: int, mean: float, n_outside: Sequence[int],
                       limits: Sequence[float], n_suppressed: int) -> str:
    suppressed = not_shown(n_suppressed, "suppressed school", "(too few raters or samples)")
    if n == 0:
        return "No school has a standard in this run." + suppressed
    outside = " and ".join(f"{k} outside the {limit * 100:g}% limits"
                           for k, limit in zip(n_outside, limits, strict=True))
    return (f"The standard of {count(n, 'school')} (rubric points more than the average "
            f"rater gives, above 0 lenient) against how many of their samples other schools "
            f"marked blind, with control limits around the district mean of {_signed(mean)}: "
            f"{outside}." + suppressed)


def local_gap_description(n: int, n_higher: int, n_lower: int, n_missing: int) -> str:
    missing = not_shown(n_missing, "school", "without a gap (suppressed or no local scores)")
    if n == 0:
        return "No school has a local-versus-blind gap in this run." + missing
    return (f"How much higher {count(n, 'school')} score their own students than their "
            f"teachers' blind marking predicts for the same work, in rubric points with a 95% "
            f"interval: {n_higher} clearly higher, {n_lower} clearly lower." + missing)


def drift_description(label: str, onset: str, shift_points: float,
                      ci95: Sequence[float] | None, n_timed: int) -> str:
    when = datetime.fromisoformat(onset).strftime("%-d %B %Y")
    direction = "more" if shift_points >= 0 else "fewer"
    figure = f"{abs(shift_points):.2f} rubric points {direction} than before"
    if ci95:
        figure += f" (change {ci95[0]:.2f} to {ci95[1]:.2f}, 95% interval)"
    return (f"{label} changed around {when}: from then on they give {figure}, "
            f"over {count(n_timed, 'timed rating')}.")


def agreement_description(criterion: str, matrix: str, entry: dict) -> str:
    """One agreement matrix: "confusion" (scores on anchor papers against the agreed score)
    or "readings" (each sample's first blind reading against its second)."""
    n = entry["n"]
    if matrix == "confusion":
        what = f"{count(n, 'blind score')} on anchor and validity papers, against the agreed score"
        nothing = "no anchor or validity paper has been scored blind yet"
    else:
        what = f"{count(n, 'sample')} read blind twice, first reading against second"
        nothing = "no sample has been read blind twice yet"
    if not n:
        return f"{criterion}: {nothing}."
    sentence = (f"{criterion}: {what}; {entry['exact']:.0%} exactly the same, "
                f"{entry['adjacent']:.0%} within one point.")
    if entry["most_confused"]:
        cell = entry["most_confused"][0]
        given, other, against = (cell["score"], cell["agreed"], "agreed score") \
            if matrix == "confusion" else (cell["first"], cell["second"], "second reading")
        sentence += f" Most often apart: {cell['n']} times {given} where the {against} was {other}."
    return sentence


def reliability_description(n: int, n_reliable: int, n_tentative: int, icc_form: str,
                            tentative: float, reliable: float) -> str:
    return (f"Krippendorff's alpha and {icc_form} for {count(n, 'criterion', 'criteria')}, "
            f"with 95% intervals, against the district's thresholds: {n_reliable} with alpha "
            f"at or above {reliable:.3f} (relied on), {n_tentative} between {tentative:.3f} "
            f"and {reliable:.3f} (tentative conclusions only), {n - n_reliable - n_tentative} "
            f"below {tentative:.3f} or without alpha.")


def _signed(value: float) -> str:
    """A figure to two places that never reads "-0.00": a mean that rounds to zero is 0.00."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text
