"""Bias (interaction) tables: planted rater x criterion interactions are found, a district
without them yields (almost) none, and each term is the maximum-likelihood solution FACETS
computes."""

import dataclasses

import numpy as np
import pytest

from moderation.statistics import analyze
from moderation.statistics.bias import MIN_PAIR_RATINGS, bias_findings, bias_tables
from moderation.statistics.rasch import fit_many_facet_rasch
from moderation.statistics.residuals import model_rows
from moderation.statistics.table import encode_blind
from seed_data.synthetic import DistrictParams, generate_district

# 300 raters of 325 ratings each (65 per criterion), as in a district; 30 of them planted
# 1 logit harsher or more lenient on one criterion.
NULL = DistrictParams(n_schools=30, raters_per_school=10, samples=6000, drift_fraction=0.0)
PLANTED = dataclasses.replace(NULL, interaction_raters=30, interaction_size=1.0)


def tables_of(ratings):
    fit = fit_many_facet_rasch(ratings)
    assert fit.status == "ok"
    codes = encode_blind(ratings)
    rows = model_rows(codes, fit)
    return fit, rows, bias_tables(ratings, codes, rows, fit)


@pytest.fixture(scope="module")
def planted():
    ratings, truth = generate_district(PLANTED, seed=11)
    return truth, tables_of(ratings)[2]


@pytest.fixture(scope="module")
def null():
    ratings, _ = generate_district(NULL, seed=11)
    return tables_of(ratings)[2]


def test_planted_rater_criterion_interactions_are_found_with_their_sign(planted):
    truth, tables = planted
    found = bias_findings(tables, min_points=0.25, fdr=0.05)
    pairs = {(entry["rater"], entry["criterion"]): entry for entry in found
             if entry["kind"] == "rater_criterion"}
    planted_pairs = {(rater, row["criterion"]): row["size"]
                     for rater, row in truth.interactions.iterrows()}

    hits = [pair for pair in planted_pairs if pair in pairs]
    assert len(hits) >= 0.7 * len(planted_pairs)
    # Harsher on the criterion (+ planted) is fewer points than predicted (- effect).
    assert all(np.sign(pairs[pair]["effect"]) == -np.sign(planted_pairs[pair]) for pair in hits)
    assert len(set(pairs) - set(planted_pairs)) <= 2
    # The size is the planted logit less the share the rater's severity absorbed (1/5 of it,
    # as the rater is off on one criterion of five).
    sizes = np.array([abs(pairs[pair]["bias"]) for pair in hits])
    assert 0.6 < np.median(sizes) < 1.1


def test_a_district_without_interactions_yields_almost_none(null):
    found = bias_findings(null, min_points=0.25, fdr=0.05)

    assert len(found) <= 1
    # The t-tests are honest under the null: about 5% of pairs at p < 0.05 (rater x school
    # fewer, as the sample measures absorb part of it; see bias.py).
    assert 0.015 < (null.rater_criterion["p"] < 0.05).mean() < 0.08
    assert (null.rater_school["p"] < 0.05).mean() < 0.08


def probabilities(eta, thresholds):
    """P(category k | eta) written out: exp(k eta - tau_1 - ... - tau_k) / sum."""
    k = np.arange(thresholds.size + 1)
    logits = eta[:, None] * k - np.concatenate([[0.0], np.cumsum(thresholds)])
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def small():
    params = DistrictParams(n_schools=8, raters_per_school=4, samples=400, criteria=3,
                            interaction_raters=4, interaction_size=1.5)
    ratings, _ = generate_district(params, seed=4)
    return ratings, *tables_of(ratings)


def test_each_term_is_the_newton_solution_facets_computes(small):
    _, fit, rows, tables = small
    table = tables.rater_criterion
    thresholds, scores = fit.thresholds.to_numpy(), np.asarray(fit.categories, dtype=float)
    k = np.arange(scores.size)
    for row in table.head(5).itertuples():
        pair = ((fit.raters.index[rows.rater] == row.rater)
                & (fit.criteria.index[rows.criterion] == row.element))
        eta, x = rows.eta[pair], rows.x[pair]
        # FACETS: b = 0, then b += sum(obs - exp) / sum(variance) until it settles.
        b = 0.0
        for _ in range(50):
            p = probabilities(eta + b, thresholds)
            expected = p @ k
            variance = p @ k ** 2 - expected ** 2
            b += (x - expected).sum() / variance.sum()
        p = probabilities(eta + b, thresholds)
        information = (p @ k ** 2 - (p @ k) ** 2).sum()
        before = probabilities(eta, thresholds) @ scores

        assert row.n == pair.sum()
        assert row.bias == pytest.approx(b, abs=1e-6)
        assert row.bias_se == pytest.approx(information ** -0.5, rel=1e-6)
        assert row.t == pytest.approx(b * information ** 0.5, rel=1e-6)
        # In rubric points: the observed minus the expected score, averaged over the pair.
        assert row.effect == pytest.approx((scores[x] - before).mean(), abs=1e-6)
        assert row.effect_lo < row.effect < row.effect_hi


def test_the_table_tests_pairs_with_enough_ratings_and_adjusts_over_them(small):
    _, _, _, tables = small
    for table in (tables.rater_criterion, tables.rater_school):
        assert (table["n"] >= MIN_PAIR_RATINGS).all()
        assert (table["q"] >= table["p"] - 1e-12).all()
        assert (table["df"] == table["n"] - 1).all()
    assert tables.rater_criterion["element"].isin(["C1", "C2", "C3"]).all()
    assert tables.rater_school["element"].str.startswith("S").all()


def test_the_report_lists_only_large_and_clear_terms(small):
    ratings = small[0]
    report = analyze(ratings, bootstrap=0, seed=1)
    strict = analyze(ratings, bootstrap=0, seed=1,
                     thresholds=dataclasses.replace(report_thresholds(), bias_points=5.0))

    assert report["bias"], "the planted 1.5-logit interactions show"
    for entry in report["bias"]:
        assert set(entry) == {"kind", "rater", "criterion" if entry["kind"] ==
                              "rater_criterion" else "school", "n", "effect", "effect_ci95",
                              "bias", "bias_se", "t", "df", "p", "q"}
        assert abs(entry["effect"]) >= 0.25 and entry["q"] < 0.05
        low, high = entry["effect_ci95"]
        assert low < entry["effect"] < high
    assert strict["bias"] == []


def report_thresholds():
    from moderation.statistics.triggers import DEFAULT_THRESHOLDS
    return DEFAULT_THRESHOLDS
