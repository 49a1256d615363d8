"""Power of the drift test: the predicted load finds steps 80% of the time, and the engine's
recall comes near that of an oracle that knows the planted sample measures."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from moderation.statistics.drift import detect_drift, max_split_p_value
from moderation.statistics.drift_power import (
    critical_statistic,
    detectable_shift,
    district_drift_power,
    flagging_level,
    rater_detectable_shifts,
    ratings_needed,
)
from moderation.statistics.rasch import fit_many_facet_rasch
from seed_data.synthetic import DistrictParams, generate_district
from tests.fixtures.simulation import bridge_maxima

DEFAULTS = DistrictParams()
ANCHOR_RATINGS = DEFAULTS.anchors * DEFAULTS.criteria   # every rater scores the anchors


def test_discrete_p_value_matches_a_simulated_maximum_over_few_occasions():
    rng = np.random.default_rng(1)
    occasions, trim = 17, 0.1
    maximum = bridge_maxima(rng, 40_000, occasions, trim)

    for c in (2.5, 3.0, 3.5):
        simulated = (maximum >= c).mean()
        discrete = max_split_p_value(np.array([c]), trim, np.array([occasions]))[0]
        # Slightly conservative, and far closer than the continuous bound.
        assert simulated <= discrete <= 1.35 * simulated
        assert max_split_p_value(np.array([c]), trim)[0] > 2.5 * simulated


def test_the_critical_value_inverts_the_p_value():
    occasions = np.array([10.0, 40.0, 400.0])
    critical = critical_statistic(0.001, occasions, 0.1)

    np.testing.assert_allclose(max_split_p_value(critical, 0.1, occasions), 0.001, rtol=1e-6)
    assert np.all(np.diff(critical) > 0)    # more occasions, more looks, a higher bar


def test_detectable_shift_follows_the_normal_power_formula():
    information = np.array([30.0, 120.0, 4000.0, 100.0, 100.0])
    share = np.array([0.5, 0.5, 0.5, 0.05, 0.97])
    shift = detectable_shift(information, share, information / 2, level=0.001,
                             min_shift=0.3)
    se = 1 / np.sqrt(information[2] / 4)

    assert shift[0] > shift[1] > shift[2] > 0.3
    # With plenty of information the practical-size test binds: min_shift + (z_a + z_b) se.
    np.testing.assert_allclose(shift[2], 0.3 + (norm.isf(0.001) + norm.ppf(0.8)) * se)
    assert np.isnan(shift[3:]).all()    # a step too near one end of the rater's ratings


def test_ratings_needed_grow_as_the_step_shrinks_and_none_within_the_practical_size():
    needed = [ratings_needed(step, 0.37, 5.0, level=0.004, min_shift=0.3)
              for step in (2.0, 1.0, 0.6)]

    assert needed[0] < needed[1] < needed[2]
    assert ratings_needed(0.3, 0.37, 5.0, level=0.004, min_shift=0.3) is None


def test_the_flagging_level_is_the_benjamini_hochberg_cut():
    drift = pd.DataFrame({"p": [0.001, 0.2, 0.5, np.nan], "flagged": [True, False, False,
                                                                      False]})

    assert flagging_level(drift, 0.05) == pytest.approx(0.05 / 3)


def district(samples, n_schools=50, seed=0, **planted):
    params = DistrictParams(n_schools=n_schools, samples=samples, **planted)
    ratings, truth = generate_district(params, seed=seed)
    fit = fit_many_facet_rasch(ratings)
    drift = detect_drift(ratings, fit)
    drift = drift.join(rater_detectable_shifts(drift, fit, fdr=0.05, min_shift=0.3))
    return ratings, truth, fit, drift


def samples_for(load, n_raters):
    """Samples giving about `load` timed ratings per rater (anchors included)."""
    per_sample = DEFAULTS.criteria * DEFAULTS.blind_ratings_per_sample
    return round((load - ANCHOR_RATINGS) * n_raters / per_sample)


@pytest.mark.slow
def test_a_step_is_found_about_80_percent_of_the_time_at_the_predicted_load():
    # Pilot at about 325 ratings per rater, 10% stepping by 1 logit in mid-term.
    middle = {"drift_window": (0.5, 0.5)}
    _, _, fit, pilot = district(samples_for(325, 500), seed=1, **middle)
    (power,) = district_drift_power(pilot, fit, steps=(1.0,), fdr=0.05, min_shift=0.3)
    needed = power["ratings_needed"]

    _, truth, _, drift = district(samples_for(needed, 500), seed=11, **middle)
    drifting = drift.index.isin(truth.drift.index)

    assert 150 < needed < 500
    assert 0.68 <= drift.loc[drifting, "flagged"].mean() <= 0.95
    assert drift.loc[~drifting, "flagged"].mean() <= 0.01


def oracle_fit(fit, truth):
    """The fit with the planted sample measures (as if known exactly), criterion
    difficulties, thresholds and starting severities: what an oracle would test with."""
    return dataclasses.replace(
        fit,
        samples=fit.samples.assign(
            measure=truth.sample_measure.reindex(fit.samples.index).to_numpy(),
            measure_se=1e-6),
        criteria=fit.criteria.assign(
            difficulty=truth.criterion_difficulty.reindex(fit.criteria.index).to_numpy()),
        raters=fit.raters.assign(severity=truth.severity.reindex(fit.raters.index).to_numpy()),
        thresholds=pd.Series(truth.thresholds, index=fit.thresholds.index))


def recall_at_false_alarm_rate(drift, drifting, rate):
    """Recall when the cut on p lets through `rate` of the stable raters."""
    stable = np.sort(drift.loc[~drifting, "p"].to_numpy())
    return (drift.loc[drifting, "p"] < stable[int(rate * stable.size)]).mean()


@pytest.mark.slow
@pytest.mark.parametrize(("load", "n_schools", "margin"), [(80, 100, 0.25), (325, 50, 0.15)])
def test_engine_recall_is_near_the_oracles_at_the_same_false_alarm_rate(load, n_schools,
                                                                          margin):
    ratings, truth, fit, engine = district(samples_for(load, 10 * n_schools), n_schools,
                                           seed=2)
    oracle = detect_drift(ratings, oracle_fit(fit, truth))
    drifting = engine.index.isin(truth.drift.index)

    engine_recall = recall_at_false_alarm_rate(engine, drifting, 0.01)
    oracle_recall = recall_at_false_alarm_rate(oracle, drifting, 0.01)

    # The oracle is the better informed: the engine's fixed sample measures absorb a third
    # of each blind occasion's information (three raters per sample).
    assert engine_recall <= oracle_recall + 0.05
    assert engine_recall >= oracle_recall - margin
