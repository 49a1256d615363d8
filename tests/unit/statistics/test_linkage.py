"""Weakly linked designs: the fit still converges and recovers severities, and the design
says how strongly it links its raters.

Judged against planted truth and an oracle that knows every sample's true quality, every
criterion's difficulty and the thresholds, and estimates only the rater severities (one
facet, by maximum likelihood): no estimator of severity from these ratings can expect to do
better than it.
"""

from dataclasses import asdict

import numpy as np
import pytest

from moderation.statistics.analysis import analyze
from moderation.statistics.design import MIN_LINKAGE, algebraic_connectivity, summarize_design
from moderation.statistics.rasch import MAX_ITERATIONS, fit_many_facet_rasch
from moderation.statistics.table import encode_blind
from moderation.statistics.triggers import Thresholds, design_triggers
from seed_data.synthetic import DistrictParams, generate_district

# Each sample scored by raters j and j+1 of a ring of 50 only, 20 samples per rater.
RING = DistrictParams(n_schools=50, raters_per_school=1, samples=1000, design="ring",
                      blind_ratings_per_sample=2, anchors=0, local_fraction=0.0,
                      drift_fraction=0.0)
# The generator's random design at small scale: 3 raters per sample and 5 common anchors.
RANDOM = DistrictParams(n_schools=20, raters_per_school=5, samples=2000, drift_fraction=0.0)
SEEDS = (1, 2, 3)
TAM_RING_R = 0.89     # what marginal ML (TAM's tam.mml.mfr) reached on such a ring


def oracle_severity(ratings, truth, iterations: int = 50) -> np.ndarray:
    """Severity per rater (in truth.severity's order) by Newton's method on the rating-scale
    likelihood, everything but the severities fixed at the planted values."""
    blind = ratings.loc[ratings["kind"] == "blind"]
    rater = truth.severity.index.get_indexer(blind["rater"])
    base = (truth.sample_measure.reindex(blind["sample"]).to_numpy()
            - truth.criterion_difficulty.reindex(blind["criterion"]).to_numpy())
    x = blind["score"].to_numpy() - 1
    steps = np.arange(truth.thresholds.size + 1)
    offsets = np.concatenate([[0.0], np.cumsum(truth.thresholds)])
    severity = np.zeros(truth.severity.size)
    for _ in range(iterations):
        logits = (base - severity[rater])[:, None] * steps - offsets
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        expected = p @ steps
        variance = p @ steps ** 2 - expected ** 2
        n = severity.size
        severity -= (np.bincount(rater, weights=x - expected, minlength=n)
                     / np.bincount(rater, weights=variance, minlength=n))
    return severity


def severity_r(fit, truth) -> float:
    severity = fit.raters["severity"]
    return float(np.corrcoef(severity, truth.severity.reindex(severity.index))[0, 1])


def oracle_r(ratings, truth) -> float:
    return float(np.corrcoef(oracle_severity(ratings, truth), truth.severity)[0, 1])


def linkage(ratings) -> float:
    codes = encode_blind(ratings)
    return summarize_design(ratings, codes).linkage_strength


@pytest.fixture(scope="module")
def rings():
    return [generate_district(RING, seed=seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def randoms():
    return [generate_district(RANDOM, seed=seed) for seed in SEEDS]


def test_a_ring_of_raters_converges_within_the_cap(rings):
    for ratings, _ in rings:
        fit = fit_many_facet_rasch(ratings)
        assert fit.status == "ok"
        assert fit.iterations < MAX_ITERATIONS / 2
        assert fit.sample_prior is not None
        assert "population prior" in fit.message


def test_a_ring_of_raters_recovers_severities_at_least_as_well_as_marginal_ml(rings):
    figures = [severity_r(fit_many_facet_rasch(ratings), truth) for ratings, truth in rings]
    assert min(figures) >= TAM_RING_R


@pytest.mark.slow
def test_without_the_prior_a_ring_neither_converges_in_time_nor_recovers_as_well(rings):
    """What the prior fixes: plain JMLE on the same rings (r 0.73-0.89 once converged)."""
    ratings, truth = rings[1]
    assert fit_many_facet_rasch(ratings, sample_prior=False).status == "not_converged"
    fit = fit_many_facet_rasch(ratings, sample_prior=False, max_iter=5000)
    assert severity_r(fit, truth) < TAM_RING_R


@pytest.mark.slow
def test_on_random_designs_severities_are_as_good_as_the_oracles(randoms):
    for ratings, truth in randoms:
        fit = fit_many_facet_rasch(ratings)
        assert fit.sample_prior is None          # well linked: joint maximum likelihood
        assert severity_r(fit, truth) >= oracle_r(ratings, truth) - 0.01


def test_on_the_ring_severities_come_close_to_the_oracles(rings):
    """The oracle's r on these rings is 0.98-0.99, the fit's 0.95-0.97."""
    for ratings, truth in rings:
        assert severity_r(fit_many_facet_rasch(ratings), truth) >= oracle_r(ratings, truth) - 0.04


def test_linkage_separates_the_ring_from_the_generators_design(rings, randoms):
    assert max(linkage(ratings) for ratings, _ in rings) < MIN_LINKAGE / 10
    assert min(linkage(ratings) for ratings, _ in randoms) > 2 * MIN_LINKAGE


def test_a_ring_is_a_design_trigger_and_says_why(rings):
    ratings, _ = rings[0]
    design = asdict(summarize_design(ratings, encode_blind(ratings)))
    assert design["connected"]
    assert "linked only weakly" in design["linkage_message"]
    assert [trigger.kind for trigger in design_triggers(design)] == ["design_linkage"]


def test_a_well_linked_design_has_no_linkage_message_or_trigger(randoms):
    ratings, _ = randoms[0]
    design = asdict(summarize_design(ratings, encode_blind(ratings)))
    assert design["linkage_message"] is None
    assert design_triggers(design) == []


@pytest.mark.parametrize("n_raters", [3, 10, 40, 500])
def test_algebraic_connectivity_of_a_ring_is_the_cycles(n_raters):
    """A ring with equal sharing is the cycle graph: lambda_2 = 1 - cos(2 pi / R) (Chung
    1997, example 1.5). 500 raters take the sparse (Lanczos) path."""
    place = np.repeat(np.arange(n_raters), 4)
    rater = np.stack([place, (place + 1) % n_raters], axis=1).ravel()
    sample = np.repeat(np.arange(place.size), 2)
    assert algebraic_connectivity(rater, sample) == pytest.approx(
        1 - np.cos(2 * np.pi / n_raters), rel=1e-4)


def test_raters_on_the_same_samples_are_fully_linked():
    """Every rater on every sample: the complete graph, lambda_2 = R / (R - 1)."""
    rater = np.tile(np.arange(4), 10)
    sample = np.repeat(np.arange(10), 4)
    assert algebraic_connectivity(rater, sample) == pytest.approx(4 / 3)


def test_the_report_shows_the_weak_linkage_the_prior_and_the_trigger(rings):
    ratings, _ = rings[0]
    report = analyze(ratings, bootstrap=20, seed=0)

    assert report["design"]["linkage_strength"] < MIN_LINKAGE
    assert report["design"]["linkage_method"].startswith("algebraic connectivity")
    assert report["rasch"]["status"] == "converged"
    assert set(report["rasch"]["sample_prior"]) == {"mean", "sd"}
    assert "design_linkage" in {trigger["kind"] for trigger in report["triggers"]}


def test_the_linkage_cut_off_is_a_threshold(rings):
    ratings, _ = rings[0]
    design = asdict(summarize_design(ratings, encode_blind(ratings), min_linkage=0.0))
    assert design["linkage_message"] is None
    assert design_triggers(design, Thresholds(linkage_strength=0.0)) == []
    assert fit_many_facet_rasch(ratings, min_linkage=0.0, max_iter=5000).sample_prior is None
