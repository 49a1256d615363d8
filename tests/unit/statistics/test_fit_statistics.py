"""Standardised fit (ZSTD): infit and outfit mean-squares as unit-normal deviates."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from moderation.statistics.rasch import (
    category_fourth_moment,
    category_moments,
    fit_many_facet_rasch,
    fit_statistics,
    wilson_hilferty,
)
from moderation.statistics.table import validate_ratings
from seed_data.synthetic import DistrictParams, generate_district

# Data from the rating-scale model itself (no drift): 240 raters of about 275 ratings each.
STABLE = DistrictParams(n_schools=40, raters_per_school=6, samples=4000, drift_fraction=0.0)


@pytest.fixture(scope="module")
def stable():
    data, _ = generate_district(STABLE, seed=11)
    return data, fit_many_facet_rasch(data)


def test_mean_squares_and_their_model_variances_by_hand():
    # One element with two rows: (x - E)^2, W and C chosen to be easy to follow.
    squared, variance, fourth = np.array([1.0, 0.25]), np.array([0.5, 0.25]), np.array([0.5, 0.1])

    fit = fit_statistics(np.array([0, 0]), 1, squared, variance, fourth).iloc[0]

    outfit = (1.0 / 0.5 + 0.25 / 0.25) / 2                           # mean of z^2 = 1.5
    q_outfit = math.sqrt((0.5 / 0.5 ** 2 + 0.1 / 0.25 ** 2) / 2 ** 2 - 1 / 2)
    infit = (1.0 + 0.25) / (0.5 + 0.25)
    q_infit = math.sqrt((0.5 - 0.5 ** 2) + (0.1 - 0.25 ** 2)) / (0.5 + 0.25)
    assert fit["outfit"] == pytest.approx(outfit)
    assert fit["infit"] == pytest.approx(infit)
    assert fit["outfit_z"] == pytest.approx((outfit ** (1 / 3) - 1) * 3 / q_outfit + q_outfit / 3)
    assert fit["infit_z"] == pytest.approx((infit ** (1 / 3) - 1) * 3 / q_infit + q_infit / 3)


def test_the_fourth_moment_of_a_dichotomy_is_that_of_a_bernoulli_variable():
    eta = np.array([-2.0, 0.0, 0.7])
    p = 1 / (1 + np.exp(-eta))
    expected, _ = category_moments(eta, np.array([0.0]))

    fourth = category_fourth_moment(eta, np.array([0.0]), expected)

    np.testing.assert_allclose(fourth, p * (1 - p) * ((1 - p) ** 3 + p ** 3), rtol=1e-12)


@pytest.mark.parametrize("mean_square", [0.5, 0.8, 1.0, 1.3, 2.0])
def test_wilson_hilferty_gives_the_normal_quantile_of_a_chi_square(mean_square):
    # A mean-square of a chi-square with d degrees of freedom has q^2 = 2 / d.
    d = 30
    exact = stats.norm.ppf(stats.chi2.cdf(mean_square * d, d))

    assert wilson_hilferty(mean_square, math.sqrt(2 / d)) == pytest.approx(exact, abs=0.02)


def test_few_degrees_of_freedom_are_capped_at_one():
    assert wilson_hilferty(1.0, 5.0) == pytest.approx(wilson_hilferty(1.0, math.sqrt(2)))


def test_under_the_model_zstd_is_near_unit_normal_across_raters_and_samples(stable):
    _, fit = stable
    raters = fit.raters
    samples = fit.samples.loc[~fit.samples["is_extreme"]]

    # 240 raters: the standard error of a mean is about 0.065.
    assert raters[["infit", "outfit"]].mean().sub(1).abs().max() < 0.03
    assert raters[["infit_z", "outfit_z"]].mean().abs().max() < 0.2
    assert raters[["infit_z", "outfit_z"]].std().between(0.75, 1.15).all()
    # Measured: means 0.999 / 0.998, ZSTD means -0.007 / -0.010, SDs 0.92 / 0.88.
    assert samples[["infit", "outfit"]].mean().sub(1).abs().max() < 0.03
    assert samples[["infit_z", "outfit_z"]].mean().abs().max() < 0.1
    assert samples[["infit_z", "outfit_z"]].std().between(0.85, 1.1).all()


def test_zstd_flags_a_random_rater_and_a_central_tendency_rater(stable):
    data, _ = stable
    rng = np.random.default_rng(0)
    noisy, central = data["rater"].eq("T001"), data["rater"].eq("T002")
    scores = data["score"].to_numpy().copy()
    scores[noisy.to_numpy()] = rng.integers(1, 5, noisy.sum())
    scores[central.to_numpy()] = np.clip(scores[central.to_numpy()], 2, 3)

    raters = fit_many_facet_rasch(data.assign(score=scores)).raters

    assert raters.loc["T001", "infit_z"] > 3 and raters.loc["T001", "outfit_z"] > 3
    assert raters.loc["T002", "infit_z"] < -3
    assert raters.drop(["T001", "T002"])["infit_z"].abs().median() < 1


def test_a_fit_that_does_not_converge_has_no_zstd():
    rows = [("A", "s1", "c", 1), ("B", "s1", "c", 1), ("A", "s2", "c", 1),
            ("B", "s2", "c", 2), ("A", "s3", "c", 2), ("B", "s3", "c", 3)]
    table = validate_ratings(pd.DataFrame(rows, columns=["rater", "sample", "criterion",
                                                         "score"]).assign(kind="blind"))

    fit = fit_many_facet_rasch(table)

    assert fit.status == "not_converged"
    for frame in (fit.raters, fit.samples, fit.criteria):
        assert frame[["infit", "outfit", "infit_z", "outfit_z"]].isna().all().all()
