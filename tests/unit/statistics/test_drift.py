"""Rater drift: planted steps are found with their time and size; stable raters stay quiet."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from moderation.statistics.drift import DRIFT_COLUMNS, detect_drift, max_split_p_value
from moderation.statistics.rasch import fit_many_facet_rasch
from seed_data.synthetic import DistrictParams, generate_district
from tests.fixtures.simulation import bridge_maxima

SMALL = DistrictParams(n_schools=40, raters_per_school=6, samples=4000)


@pytest.fixture(scope="module")
def drifting():
    params = dataclasses.replace(SMALL, drift_size=2.0, drift_fraction=0.15)
    ratings, truth = generate_district(params, seed=21)
    fit = fit_many_facet_rasch(ratings)
    return ratings, truth, fit, detect_drift(ratings, fit)


@pytest.fixture(scope="module")
def stable():
    ratings, _ = generate_district(dataclasses.replace(SMALL, drift_fraction=0.0), seed=22)
    fit = fit_many_facet_rasch(ratings)
    return ratings, fit, detect_drift(ratings, fit)


def test_finds_planted_steps_with_their_direction_onset_and_size(drifting):
    _, truth, _, drift = drifting
    planted = drift.join(truth.drift.add_suffix("_true"), how="inner")
    found = planted.loc[planted["flagged"]]
    days_off = (found["onset"] - found["onset_true"]).dt.total_seconds().abs() / 86_400

    assert len(found) >= 0.9 * len(planted)
    assert (np.sign(found["shift"]) == np.sign(found["shift_true"])).all()
    # Steps this large come out about 10% small (measured); 1-logit steps are unbiased.
    assert 0.8 < (found["shift"] / found["shift_true"]).median() < 1.2
    assert days_off.median() < 5


def test_stable_raters_are_rarely_flagged_and_p_values_are_calibrated(stable):
    _, _, drift = stable
    tested = drift.loc[drift["p_value"].notna()]

    assert len(tested) == len(drift)
    assert drift["flagged"].mean() <= 0.01
    assert 0.04 <= (tested["p_value"] < 0.1).mean() <= 0.18


def test_flags_need_a_practically_large_step_and_q_below_the_rate(drifting):
    ratings, _, fit, drift = drifting
    larger = detect_drift(ratings, fit, min_shift=1.5)
    stricter = detect_drift(ratings, fit, fdr=0.001)
    tested = drift.loc[drift["z"].notna()]
    signed = tested.loc[tested["z"] != 0]

    assert (np.sign(signed["z"]) == np.sign(signed["shift"])).all()
    assert (drift["flagged"] == ((drift["shift"].abs() > 0.3) & (drift["q"] < 0.05))).all()
    assert larger["flagged"].sum() < drift["flagged"].sum()
    assert stricter["flagged"].sum() < drift["flagged"].sum()
    assert not larger.loc[larger["shift"].abs() <= 1.5, "flagged"].any()
    np.testing.assert_allclose(tested["p_value"], 2 * norm.sf(tested["z"].abs()), rtol=1e-6)
    # Intersection-union: the larger of the change-point p and the practical-size p.
    np.testing.assert_allclose(tested["p"], np.fmax(tested["p_value"], tested["p_practical"]))
    assert (tested["q"] >= tested["p"]).all()
    # Before and after are the rater's severities either side of the split.
    np.testing.assert_allclose(tested["severity_after"] - tested["severity_before"],
                               tested["shift"], atol=1e-12)


def test_one_row_per_rater_of_the_fit(drifting):
    _, _, fit, drift = drifting

    assert list(drift.columns) == DRIFT_COLUMNS
    assert drift.index.equals(fit.raters.index)
    assert str(drift["onset"].dtype).endswith(", UTC]")
    assert drift["flagged"].dtype == bool


def test_raters_without_times_are_not_tested(drifting):
    ratings, truth, fit, _ = drifting
    rater = truth.drift.index[0]
    untimed = ratings.assign(scored_at=ratings["scored_at"].mask(ratings["rater"] == rater))

    drift = detect_drift(untimed, fit)

    assert not drift.loc[rater, "flagged"]
    assert pd.isna(drift.loc[rater, "onset"])
    assert drift.loc[rater, ["shift", "z", "p_value"]].isna().all()
    assert drift.loc[rater, "n_timed"] == 0
    assert drift.loc[rater, "reason"] == ("Not tested: none of the rater's measured ratings "
                                          "has a scored_at time.")


def test_raters_with_few_timed_ratings_are_not_tested_and_told_why(drifting):
    ratings, truth, fit, tested = drifting
    rater = truth.drift.index[0]
    own = ratings.index[(ratings["rater"] == rater).to_numpy()]
    few = ratings.assign(scored_at=ratings["scored_at"].mask(ratings.index.isin(own[5:])))

    drift = detect_drift(few, fit)

    assert drift.loc[rater, "n_timed"] == 5 and pd.isna(drift.loc[rater, "z"])
    assert drift.loc[rater, "reason"].startswith("Not tested: 5 of the rater's measured "
                                                 "ratings have a scored_at time")
    assert tested["reason"].isna().all()     # every rater of the district was tested


def test_an_insufficient_fit_flags_nobody():
    ratings, _ = generate_district(DistrictParams(n_schools=4, raters_per_school=1, samples=3,
                                                  anchors=0), seed=1)
    one_rater = ratings.loc[ratings["rater"] == "T1"]
    fit = fit_many_facet_rasch(one_rater)

    drift = detect_drift(one_rater, fit)

    assert fit.status == "insufficient"
    assert not drift["flagged"].any()
    assert drift["reason"].str.contains("too few or too one-sided").all()


def test_p_value_of_the_best_split_is_a_slightly_conservative_bound():
    rng = np.random.default_rng(0)
    trim = 0.1
    maximum = bridge_maxima(rng, 10_000, 400, trim)

    for c in (3.0, 3.5):
        simulated = (maximum >= c).mean()
        assert simulated <= max_split_p_value(np.array([c]), trim)[0] <= 2 * simulated
