"""The partial-credit model (each criterion its own thresholds), judged against planted truth:
ratings simulated from the many-facet partial-credit model with known thresholds."""

import json

import numpy as np
import pandas as pd
import pytest

from moderation.statistics import analyze
from moderation.statistics.categories import scale_thresholds
from moderation.statistics.category_model import (
    category_moments,
    category_probabilities,
    step_moments,
)
from moderation.statistics.fair import expected_score, fair_averages
from moderation.statistics.rasch import PARTIAL_CREDIT, RATING_SCALE, fit_many_facet_rasch
from moderation.statistics.residuals import model_rows
from moderation.statistics.table import encode_blind

# Per criterion tau_1..tau_3 (scores 1-4, each row summing to 0): a wide, a narrow and a
# lopsided scale, so one shared scale fits none of them.
PLANTED = {"Ideas": [-2.4, 0.0, 2.4], "Voice": [-0.7, 0.0, 0.7], "Conventions": [-1.6, -0.4, 2.0]}
DIFFICULTY = {"Ideas": -0.4, "Voice": 0.0, "Conventions": 0.4}


def simulate(thresholds: dict, seed: int, samples: int = 600, raters: int = 12,
             per_sample: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    """Blind ratings from the many-facet partial-credit model: each sample scored on every
    criterion by `per_sample` raters drawn at random; returns them and the planted
    severities (centred, > 0 harsh)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 1.5, samples)
    severity = rng.normal(0.0, 0.5, raters)
    severity -= severity.mean()
    rows = []
    for n in range(samples):
        for j in rng.choice(raters, per_sample, replace=False):
            for criterion, tau in thresholds.items():
                eta = theta[n] - DIFFICULTY[criterion] - severity[j]
                logits = np.arange(len(tau) + 1) * eta - np.concatenate([[0.0], np.cumsum(tau)])
                p = np.exp(logits - logits.max())
                score = int(rng.choice(len(p), p=p / p.sum())) + 1
                rows.append((f"r{j}", f"s{n}", criterion, score))
    ratings = pd.DataFrame(rows, columns=["rater", "sample", "criterion", "score"])
    return ratings.assign(kind="blind"), pd.Series(severity, index=[f"r{j}" for j in range(raters)])


def thresholds_with_se(ratings: pd.DataFrame, model: str):
    fit = fit_many_facet_rasch(ratings, model=model)
    assert fit.status == "ok" and fit.model == model
    return fit, scale_thresholds(fit, model_rows(encode_blind(ratings), fit))


@pytest.fixture(scope="module")
def partial_credit_data():
    return simulate(PLANTED, seed=11)


def test_each_criterion_recovers_its_planted_thresholds_within_three_se(partial_credit_data):
    ratings, _ = partial_credit_data
    _, steps = thresholds_with_se(ratings, PARTIAL_CREDIT)

    for criterion, planted in PLANTED.items():
        own = steps.loc[criterion]
        error = np.abs(own["threshold"].to_numpy() - planted)
        assert (error < 3 * own["threshold_se"].to_numpy()).all(), (criterion, own, planted)
    # The spreads differ as planted: Ideas's scale is the widest, Voice's the narrowest.
    spread = steps["threshold"].groupby(level="criterion").agg(lambda tau: tau.max() - tau.min())
    assert spread["Ideas"] > spread["Conventions"] > spread["Voice"]


def test_partial_credit_severities_follow_the_planted_ones(partial_credit_data):
    ratings, planted = partial_credit_data
    fit, _ = thresholds_with_se(ratings, PARTIAL_CREDIT)

    assert np.corrcoef(fit.raters["severity"], planted[fit.raters.index])[0, 1] > 0.95


def test_on_rating_scale_data_partial_credit_finds_the_common_scale():
    common = [-1.5, 0.0, 1.5]
    ratings, _ = simulate(dict.fromkeys(PLANTED, common), seed=5)
    shared, shared_steps = thresholds_with_se(ratings, RATING_SCALE)
    partial, steps = thresholds_with_se(ratings, PARTIAL_CREDIT)

    for criterion in PLANTED:
        own = steps.loc[criterion]
        difference = np.abs(own["threshold"].to_numpy() - shared_steps["threshold"].to_numpy())
        assert (difference < 3 * own["threshold_se"].to_numpy()).all(), (criterion, own)
    assert np.corrcoef(partial.raters["severity"], shared.raters["severity"])[0, 1] > 0.99
    assert np.corrcoef(partial.samples["measure"], shared.samples["measure"])[0, 1] > 0.99


def test_the_default_report_is_the_rating_scale_one_to_the_byte(partial_credit_data):
    ratings, _ = partial_credit_data
    ratings = ratings.iloc[:1800]

    default = analyze(ratings, bootstrap=20, seed=2)
    explicit = analyze(ratings, bootstrap=20, seed=2, model="rating-scale")

    assert json.dumps(default) == json.dumps(explicit)
    assert default["rasch"]["model"] == "rating_scale"
    assert all(set(step) == {"score", "threshold", "threshold_se"}
               for step in default["rasch"]["thresholds"])


def test_a_partial_credit_report_gives_each_criterion_its_thresholds(partial_credit_data):
    ratings, _ = partial_credit_data
    report = analyze(ratings.iloc[:1800], bootstrap=20, seed=2, model="partial-credit")

    rasch = report["rasch"]
    assert rasch["model"] == "partial_credit"
    by_criterion = {}
    for step in rasch["thresholds"]:
        by_criterion.setdefault(step["criterion"], []).append(step["threshold"])
    assert set(by_criterion) == set(PLANTED)
    # The categories table of each criterion shows the same, its own, thresholds.
    for entry in rasch["criteria"]:
        shown = [level["threshold"] for level in entry["categories"][1:]]
        assert shown == by_criterion[entry["criterion"]]


def test_a_criterion_that_never_uses_a_level_keeps_the_rating_scale_fit(partial_credit_data):
    ratings, _ = partial_credit_data
    ratings = ratings.copy()
    voice = ratings["criterion"] == "Voice"
    ratings.loc[voice & (ratings["score"] == 4), "score"] = 3

    fit = fit_many_facet_rasch(ratings, model=PARTIAL_CREDIT)

    assert fit.status == "ok"
    assert fit.model == RATING_SCALE and fit.criterion_thresholds is None
    assert "score 4 was never given on Voice" in fit.message


def test_an_unknown_model_is_refused(partial_credit_data):
    ratings, _ = partial_credit_data
    with pytest.raises(ValueError, match="partial-credit"):
        fit_many_facet_rasch(ratings, model="graded")


def test_a_criterion_scored_at_the_top_everywhere_takes_the_average_scale(partial_credit_data):
    ratings, _ = partial_credit_data
    ideas = ratings.loc[ratings["criterion"] == "Ideas"].iloc[:900]
    ratings = pd.concat([ratings.iloc[:2700], ideas.assign(criterion="Title", score=4)],
                        ignore_index=True)

    fit = fit_many_facet_rasch(ratings, model=PARTIAL_CREDIT)
    report = analyze(ratings, bootstrap=20, seed=1, model="partial-credit")

    assert fit.status == "ok" and fit.model == PARTIAL_CREDIT
    own = fit.criterion_thresholds
    np.testing.assert_allclose(own.loc["Title"], own.drop("Title").mean(), atol=1e-12)
    assert fit.criteria.loc["Title", "is_extreme"]
    assert fit.criteria.loc["Title", "difficulty"] < fit.criteria["difficulty"].drop("Title").min()
    title = [step for step in report["rasch"]["thresholds"] if step["criterion"] == "Title"]
    assert [step["threshold_se"] for step in title] == [None, None, None]


def test_an_insufficient_partial_credit_fit_says_which_model_was_asked_for():
    ratings = pd.DataFrame([("A", "s1", "Ideas", 2), ("B", "s2", "Ideas", 3)],
                           columns=["rater", "sample", "criterion", "score"]).assign(kind="blind")

    fit = fit_many_facet_rasch(ratings, model=PARTIAL_CREDIT)

    assert fit.status == "insufficient" and fit.model == PARTIAL_CREDIT


def test_a_criterion_fair_average_is_on_its_own_scale(partial_credit_data):
    ratings, _ = partial_credit_data
    fit = fit_many_facet_rasch(ratings, model=PARTIAL_CREDIT)
    fair = fair_averages(fit)

    def average(table, name):    # over the non-extreme elements, as fair averages take it
        return table.loc[~table["is_extreme"].astype(bool), name].mean()

    eta = (average(fit.samples, "measure") - fit.criteria["difficulty"]
           - average(fit.raters, "severity"))
    for criterion in PLANTED:
        own = fit.criterion_thresholds.loc[criterion].to_numpy()
        on_its_scale = expected_score(eta[criterion], own, np.arange(1.0, 5.0))[0]
        on_the_average = expected_score(eta[criterion], fit.thresholds, np.arange(1.0, 5.0))[0]
        assert fair.criteria[criterion] == pytest.approx(on_its_scale, abs=1e-9)
        if criterion == "Conventions":    # the lopsided scale: its own mean differs visibly
            assert abs(on_its_scale - on_the_average) > 0.05


def test_the_kernels_give_each_rating_its_criterion_s_thresholds():
    table = np.array(list(PLANTED.values()))
    rng = np.random.default_rng(0)
    eta = rng.normal(0.0, 2.0, 150_000)       # three blocks of the kernels
    group = rng.integers(0, table.shape[0], eta.size)

    expected, variance = category_moments(eta, table, group)
    steps, information = step_moments(eta, table, group)

    for row, tau in enumerate(table):
        mine = group == row
        alone_expected, alone_variance = category_moments(eta[mine], tau)
        np.testing.assert_allclose(expected[mine], alone_expected, rtol=1e-12)
        np.testing.assert_allclose(variance[mine], alone_variance, rtol=1e-12)
        alone_steps, alone_information = step_moments(eta[mine], tau)
        np.testing.assert_allclose(steps[row], alone_steps, rtol=1e-10)
        np.testing.assert_allclose(information[row], alone_information, rtol=1e-10)
    np.testing.assert_allclose(category_probabilities(eta, table, group).sum(axis=0), 1.0)
