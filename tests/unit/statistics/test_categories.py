"""Rating-scale diagnostics (FACETS Table 8): the thresholds of a district simulated from the
model come back ordered and where they were planted, a level made rare on one criterion is
flagged there and nowhere else, and the standard errors are the likelihood's."""

import numpy as np
import pandas as pd
import pytest

from moderation.statistics import categories
from moderation.statistics.categories import (
    MIN_CATEGORY_RATINGS,
    criteria_entries,
    criterion_categories,
    scale_thresholds,
)
from moderation.statistics.rasch import fit_many_facet_rasch
from moderation.statistics.residuals import model_rows
from moderation.statistics.table import encode_blind
from seed_data.synthetic import DistrictParams, generate_district

PARAMS = DistrictParams(n_schools=20, raters_per_school=10, samples=4000, drift_fraction=0.0)


def diagnose(ratings):
    fit = fit_many_facet_rasch(ratings)
    assert fit.status == "ok"
    return fit, model_rows(encode_blind(ratings), fit)


@pytest.fixture(scope="module")
def district():
    return generate_district(PARAMS, seed=21)


@pytest.fixture(scope="module")
def model(district):
    return diagnose(district[0])


def test_thresholds_come_back_where_they_were_planted(district, model):
    _, truth = district
    fit, rows = model
    steps = scale_thresholds(fit, rows)
    table = criterion_categories(fit, rows)

    assert steps.index.tolist() == [2, 3, 4]
    # Within 0.06 logits: the JMLE bias correction is approximate (measured: 0.036 off).
    np.testing.assert_allclose(steps["threshold"], truth.thresholds, atol=0.06)
    assert (steps["threshold_se"] > 0).all() and (steps["threshold_se"] < 0.02).all()
    own = table["threshold"].dropna().to_numpy().reshape(PARAMS.criteria, 3)
    np.testing.assert_allclose(own, np.tile(truth.thresholds, (PARAMS.criteria, 1)), atol=0.1)
    assert not table["disordered_threshold"].any()
    assert not table["disordered_average"].any()


def test_average_measures_and_category_outfit_match_the_model_on_model_data(model):
    table = criterion_categories(*model)

    # Measured: at most 0.047 logits and 5.5% apart.
    np.testing.assert_allclose(table["average_measure"], table["expected_average_measure"],
                               atol=0.08)
    np.testing.assert_allclose(table["outfit"], table["expected_outfit"], rtol=0.1)
    assert table.groupby(level="criterion")["percent"].sum().round(9).eq(100).all()
    assert table["count"].sum() == model[1].eta.size


def test_threshold_standard_errors_are_the_likelihoods(model):
    """The SE from the information matrix against the curvature of the log-likelihood in the
    thresholds, computed here by finite differences with every eta fixed."""
    fit, rows = model
    active = rows.is_active
    eta, x = rows.eta[active], rows.x[active]
    k = np.arange(rows.n_categories)

    def log_likelihood(tau):
        logits = eta[:, None] * k - np.concatenate([[0.0], np.cumsum(tau)])
        top = logits.max(axis=1, keepdims=True)
        normaliser = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
        return (logits[np.arange(x.size), x] - normaliser).sum()

    tau, h = rows.thresholds, 1e-3
    hessian = np.empty((tau.size, tau.size))
    for i in range(tau.size):
        for j in range(tau.size):
            di, dj = np.eye(tau.size)[i] * h, np.eye(tau.size)[j] * h
            hessian[i, j] = (log_likelihood(tau + di + dj) - log_likelihood(tau + di - dj)
                             - log_likelihood(tau - di + dj) + log_likelihood(tau - di - dj)
                             ) / (4 * h * h)
    expected = np.sqrt(np.diag(np.linalg.inv(-hessian))) * fit.bias_correction

    np.testing.assert_allclose(scale_thresholds(fit, rows)["threshold_se"], expected, rtol=1e-3)


def test_grouping_ratings_by_eta_does_not_move_the_thresholds(model, monkeypatch):
    grouped = criterion_categories(*model)
    monkeypatch.setattr(categories, "BIN_WIDTH", 1e-9)   # one cell per rating
    exact = criterion_categories(*model)

    np.testing.assert_allclose(grouped["threshold"], exact["threshold"], atol=1e-4)
    np.testing.assert_allclose(grouped["expected_average_measure"],
                               exact["expected_average_measure"], atol=1e-4)


@pytest.fixture(scope="module")
def distorted(district):
    """C1 with score 2 made rare (most 2s moved to 1 or 3), C2 with score 1 given 6 times."""
    ratings = district[0].copy()
    rng = np.random.default_rng(0)
    blind = ratings["kind"] == "blind"
    twos = np.flatnonzero(blind & (ratings["criterion"] == "C1") & (ratings["score"] == 2))
    moved = twos[rng.uniform(size=twos.size) < 0.9]
    ratings.loc[ratings.index[moved], "score"] = rng.choice([1, 3], size=moved.size)
    ones = np.flatnonzero(blind & (ratings["criterion"] == "C2") & (ratings["score"] == 1))
    ratings.loc[ratings.index[ones[6:]], "score"] = 2
    return {entry["criterion"]: entry for entry in criteria_entries(*diagnose(ratings))}


def test_a_level_raters_skip_disorders_that_criterions_thresholds_only(distorted):
    first = distorted["C1"]
    into = {level["score"]: level["threshold"] for level in first["categories"]}

    assert first["disordered_threshold"]
    assert into[3] < into[2]
    assert [level["disordered_threshold"] for level in first["categories"]] == [
        False, False, True, False]
    assert not any(distorted[name]["disordered_threshold"] for name in ("C3", "C4", "C5"))


def test_a_rarely_used_level_says_so(distorted):
    levels = {level["score"]: level for level in distorted["C2"]["categories"]}

    assert levels[1]["count"] == 6 < MIN_CATEGORY_RATINGS
    assert "given 6 times on this criterion" in levels[1]["message"]
    assert all(levels[score]["message"] is None for score in (2, 3, 4))


def test_a_level_unused_on_a_criterion_leaves_its_own_thresholds_undefined():
    ratings, _ = generate_district(DistrictParams(n_schools=8, raters_per_school=4,
                                                  samples=400, criteria=2), seed=5)
    ratings = ratings.copy()
    top = (ratings["criterion"] == "C1") & (ratings["score"] == 4)
    ratings.loc[top, "score"] = 3
    entries = {entry["criterion"]: entry for entry in criteria_entries(*diagnose(ratings))}
    levels = {level["score"]: level for level in entries["C1"]["categories"]}

    assert levels[4]["count"] == 0
    assert "never given" in levels[4]["message"]
    assert all(pd.isna(levels[score]["threshold"]) for score in (2, 3, 4))
    assert all(np.isfinite(level["threshold"]) for level in entries["C2"]["categories"][1:])
