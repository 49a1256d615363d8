"""The sentences reports say, word for word."""

import pytest

from moderation.reports import wording


@pytest.mark.parametrize(("alpha", "ci95", "expected"), [
    (0.58, [0.51, 0.64], "Evidence: alpha 0.58 (0.51-0.64), below the 0.667 the district uses "
                         "for tentative conclusions."),
    (0.71, [0.62, 0.79], "Evidence: alpha 0.71 (0.62-0.79), enough for tentative conclusions "
                         "(0.667) but below the 0.800 the district relies on."),
    (0.86, None, "Evidence: alpha 0.86, at or above the 0.800 the district relies on."),
    (-0.04, [-0.12, 0.05], "Evidence: alpha -0.04 (-0.12 to 0.05), below the 0.667 the "
                           "district uses for tentative conclusions."),
    (None, None, "Evidence: no alpha, too few samples were scored blind by two or more raters "
                 "who differ."),
])
def test_reliability_evidence_against_the_district_thresholds(alpha, ci95, expected):
    assert wording.describe_reliability(alpha, ci95) == expected


def test_reliability_evidence_uses_the_thresholds_it_is_given():
    assert wording.describe_reliability(0.75, [0.7, 0.8], tentative=0.6, reliable=0.7) == (
        "Evidence: alpha 0.75 (0.70-0.80), at or above the 0.700 the district relies on.")


def entry(**changes):
    return {"context": "low_income_share", "outcome": "standard_points", "n_schools": 28,
            "slope": 0.02, "slope_ci95": [-0.05, 0.09], "slope_per": "10 percentage points",
            **changes}


def test_equity_in_the_district_sentence():
    assert wording.equity_sentence(entry()) == (
        "Across 28 schools, leniency does not change with low-income share: slope 0.02 points "
        "per 10 percentage points (-0.05 to 0.09).")


def test_equity_says_which_way_a_clear_slope_goes():
    falling = entry(outcome="local_gap", slope=-0.12, slope_ci95=[-0.2, -0.04])

    assert wording.equity_sentence(falling) == (
        "Across 28 schools, the local-versus-blind gap falls with low-income share: slope "
        "-0.12 points per 10 percentage points (-0.20 to -0.04).")
    assert "leniency rises" in wording.equity_sentence(entry(slope_ci95=[0.01, 0.03]))


def test_equity_with_too_few_schools():
    assert wording.equity_sentence(entry(n_schools=3, slope=None, slope_ci95=None)) == (
        "3 schools have figures for both leniency and low-income share: too few to relate "
        "them (at least 5 are needed).")


def test_equity_where_every_school_has_the_same_context():
    assert wording.equity_sentence(entry(n_schools=300, slope=None, slope_ci95=None)) == (
        "The 300 schools with figures for leniency all have the same low-income share: there "
        "is no spread to relate them.")


def test_context_columns_in_words():
    assert wording.context_words("low_income_share") == "low-income share"
    assert wording.context_words("pupils_per_teacher") == "pupils per teacher"


def test_drift_in_words():
    assert wording.drift_description("Rater 3", "2025-11-22T02:22:14+00:00", -0.4, [-0.7, -0.1],
                                     84) == (
        "Rater 3 changed around 22 November 2025: from then on they give 0.40 rubric points "
        "fewer than before (change -0.70 to -0.10, 95% interval), over 84 timed ratings.")


def test_what_is_not_shown_is_counted():
    assert wording.not_shown(0, "rater", "without a measure") == ""
    assert wording.not_shown(1, "rater", "without a measure") == \
        " 1 rater without a measure is not shown."
    assert wording.not_shown(2, "suppressed school") == " 2 suppressed schools are not shown."


def test_agreement_matrices_in_words():
    confusion = {"n": 200, "exact": 0.435, "adjacent": 0.955,
                 "most_confused": [{"score": 4, "agreed": 3, "n": 32}]}
    readings = {"n": 1, "exact": 1.0, "adjacent": 1.0, "most_confused": []}

    assert wording.agreement_description("Ideas", "confusion", confusion) == (
        "Ideas: 200 blind scores on anchor and validity papers, against the agreed score; 44% "
        "exactly the same, 96% within one point. Most often apart: 32 times 4 where the agreed "
        "score was 3.")
    assert wording.agreement_description("Ideas", "readings", readings) == (
        "Ideas: 1 sample read blind twice, first reading against second; 100% exactly the "
        "same, 100% within one point.")
    assert wording.agreement_description("Ideas", "readings", readings | {"n": 0}) == (
        "Ideas: no sample has been read blind twice yet.")


def test_alpha_near_a_threshold_is_written_to_the_place_that_shows_its_side():
    assert wording.describe_reliability(0.6651, None).startswith(
        "Evidence: alpha 0.665, below the 0.667")
    assert wording.describe_reliability(0.7981, None).startswith(
        "Evidence: alpha 0.798, enough for tentative conclusions")
    assert wording.describe_reliability(0.58, None).startswith("Evidence: alpha 0.58, below")


def test_a_district_mean_that_rounds_to_zero_has_no_minus_sign():
    assert "around the district mean of 0.00:" in wording.funnel_description(
        3, -0.0004, [1, 0], [0.95, 0.998], 0)
    assert "around the district mean of -0.02:" in wording.funnel_description(
        3, -0.021, [1, 0], [0.95, 0.998], 0)


def test_empty_charts_say_so():
    assert wording.caterpillar_description(0, 0, 0, 3) == (
        "No rater has a measure in this run. 3 raters without a measure are not shown.")
    assert wording.funnel_description(0, 0.0, [0, 0], [0.95, 0.998], 0) == (
        "No school has a standard in this run.")
    assert wording.funnel_description(12, 0.031, [2, 0], [0.95, 0.998], 1) == (
        "The standard of 12 schools (rubric points more than the average rater gives, above 0 "
        "lenient) against how many of their samples other schools marked blind, with control "
        "limits around the district mean of 0.03: 2 outside the 95% limits and 0 outside the "
        "99.8% limits. 1 suppressed school (too few raters or samples) is not shown.")
