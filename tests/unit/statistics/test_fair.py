"""Fair averages: rater severity in rubric points, with an interval that covers the truth."""

import math

import numpy as np
import pandas as pd
import pytest

from moderation.statistics.fair import expected_score, fair_averages
from moderation.statistics.rasch import RaschFit, fit_many_facet_rasch
from moderation.statistics.table import validate_ratings
from seed_data.synthetic import DistrictParams, generate_district

STABLE = DistrictParams(n_schools=40, raters_per_school=6, samples=4000, drift_fraction=0.0)
THRESHOLDS = [-1.0, 0.0, 1.0]


def by_hand(eta: float, thresholds=THRESHOLDS, scores=(1, 2, 3, 4)) -> float:
    """Expected score under the rating-scale model, written out: P(k) ~ exp(k eta - tau_1..k)."""
    numerators = [math.exp(k * eta - sum(thresholds[:k])) for k in range(len(scores))]
    return sum(s * n for s, n in zip(scores, numerators, strict=True)) / sum(numerators)


def test_expected_score_by_hand():
    # eta 0.5: numerators 1, e^1.5, e^2, e^1.5.
    e15, e2 = math.exp(1.5), math.exp(2.0)
    assert expected_score(np.array([0.5]), THRESHOLDS, [1, 2, 3, 4])[0] == pytest.approx(
        (1 + 2 * e15 + 3 * e2 + 4 * e15) / (1 + e15 + e2 + e15))
    # Symmetric thresholds: an eta of 0 expects the middle of the scale.
    assert expected_score(np.array([0.0]), THRESHOLDS, [1, 2, 3, 4])[0] == pytest.approx(2.5)
    # A squeezed-out level keeps the rubric's scores: categories 1, 2, 4.
    assert expected_score(np.array([0.3]), [-0.5, 0.5], [1, 2, 4])[0] == pytest.approx(
        by_hand(0.3, [-0.5, 0.5], (1, 2, 4)))


def hand_fit() -> RaschFit:
    raters = pd.DataFrame({"severity": [-0.5, 0.5, 0.0, 3.0],
                           "severity_se": [0.2, 0.2, 0.3, 0.9],
                           "is_extreme": [False, False, False, True]},
                          index=pd.Index(["A", "B", "C", "X"], name="rater"))
    samples = pd.DataFrame({"measure": [1.0, -0.4, 4.0], "measure_se": [0.5, 0.5, 1.2],
                            "is_extreme": [False, False, True]},
                           index=pd.Index(["s1", "s2", "s3"], name="sample"))
    criteria = pd.DataFrame({"difficulty": [0.2, -0.2], "difficulty_se": [0.1, 0.1],
                             "is_extreme": [False, False]},
                            index=pd.Index(["Ideas", "Voice"], name="criterion"))
    return RaschFit(status="ok", converged=True, iterations=5, raters=raters, samples=samples,
                    criteria=criteria, thresholds=pd.Series(THRESHOLDS, index=[2, 3, 4]),
                    categories=(1, 2, 3, 4), n_ratings=30, bias_correction=1.0)


def test_fair_averages_of_a_hand_made_fit():
    # Means of the non-extreme elements: samples (1.0 - 0.4) / 2 = 0.3, criteria 0, raters 0.
    fair = fair_averages(hand_fit())

    average = by_hand(0.3)
    assert fair.average_rater == pytest.approx(average)
    for rater, severity, se in (("A", -0.5, 0.2), ("B", 0.5, 0.2), ("C", 0.0, 0.3),
                                ("X", 3.0, 0.9)):
        row = fair.raters.loc[rater]
        assert row["fair_average"] == pytest.approx(by_hand(0.3 - severity))
        assert row["fair_average_difference"] == pytest.approx(by_hand(0.3 - severity) - average)
        assert row["fair_average_difference_lo"] == pytest.approx(
            by_hand(0.3 - severity - 1.959964 * se) - average)
        assert row["fair_average_difference_hi"] == pytest.approx(
            by_hand(0.3 - severity + 1.959964 * se) - average)
    assert fair.raters.loc["C", "fair_average_difference"] == pytest.approx(0.0)
    # Lenient A gives more points than the average rater, harsh B fewer.
    assert fair.raters.loc["A", "fair_average_difference"] > 0
    assert fair.raters.loc["B", "fair_average_difference"] < 0
    assert fair.samples["s1"] == pytest.approx(by_hand(1.0))
    assert fair.samples["s3"] == pytest.approx(by_hand(4.0))
    assert fair.criteria["Ideas"] == pytest.approx(by_hand(0.3 - 0.2))


@pytest.fixture(scope="module", params=[11, 12])
def stable(request):
    data, truth = generate_district(STABLE, seed=request.param)
    fit = fit_many_facet_rasch(data)
    return truth, fit, fair_averages(fit)


def planted_differences(truth, fit) -> pd.Series:
    """What the planted model says each rater's fair-average difference is: the same expected
    score curve with the planted thresholds, the planted mean of the measured samples and
    criteria, and the planted severities, against the planted mean severity."""
    samples = fit.samples.index[~fit.samples["is_extreme"]]
    base = truth.sample_measure[samples].mean() - truth.criterion_difficulty.mean()
    severity = truth.severity.reindex(fit.raters.index)
    scores = np.asarray(fit.categories)
    rater = expected_score(base - severity.to_numpy(), truth.thresholds, scores)
    average = expected_score(np.array([base - severity.mean()]), truth.thresholds, scores)[0]
    return pd.Series(rater - average, index=severity.index)


def test_fair_average_differences_track_the_planted_ones(stable):
    truth, fit, fair = stable
    planted = planted_differences(truth, fit)
    estimated = fair.raters["fair_average_difference"]

    assert fit.status == "ok"
    assert np.corrcoef(planted, estimated)[0, 1] > 0.95         # measured 0.985 (seed 11)
    assert (estimated - planted).abs().mean() < 0.1             # points, on a 1-4 rubric


def test_the_95_percent_intervals_cover_the_planted_difference(stable):
    truth, fit, fair = stable
    planted = planted_differences(truth, fit)
    raters = fair.raters

    covered = (raters["fair_average_difference_lo"] <= planted) & (
        planted <= raters["fair_average_difference_hi"])

    # 240 raters: a binomial 95% has a standard deviation of 1.4 points (measured 95.8% seed 11).
    assert 0.90 <= covered.mean() <= 0.99
    assert (raters["fair_average_difference_lo"] <= raters["fair_average_difference"]).all()
    assert (raters["fair_average_difference"] <= raters["fair_average_difference_hi"]).all()


def test_a_fit_that_does_not_converge_has_no_fair_averages():
    rows = [("A", "s1", "c", 1), ("B", "s1", "c", 1), ("A", "s2", "c", 1),
            ("B", "s2", "c", 2), ("A", "s3", "c", 2), ("B", "s3", "c", 3)]
    table = validate_ratings(pd.DataFrame(rows, columns=["rater", "sample", "criterion",
                                                         "score"]).assign(kind="blind"))

    fair = fair_averages(fit_many_facet_rasch(table))

    assert fair.raters.isna().all().all() and list(fair.raters.index) == ["A", "B"]
    assert fair.samples.isna().all() and fair.criteria.isna().all()
    assert math.isnan(fair.average_rater)
