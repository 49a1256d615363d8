"""Krippendorff's alpha, its bootstrap interval, and pair agreement."""

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.statistics import reliability
from moderation.statistics.reliability import (
    LEVELS,
    LevelOfMeasurementError,
    alpha_from_coincidences,
    anchor_agreement,
    anchor_confusions,
    bootstrap_alpha,
    krippendorff_alpha,
    pair_agreement,
    unit_coincidences,
    unit_values,
)
from moderation.statistics.table import encode_blind, latest_blind, validate_ratings


def ratings_table(rows, kind="blind"):
    frame = pd.DataFrame(rows, columns=["rater", "sample", "criterion", "score"])
    return validate_ratings(frame.assign(kind=kind))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", range(5))
def test_coincidence_alpha_equals_the_package_on_random_data(level, seed):
    rng = np.random.default_rng(seed)
    n_values = int(rng.integers(2, 9))
    counts = rng.integers(0, 4, size=(int(rng.integers(5, 200)), n_values))
    domain = np.sort(rng.choice(np.arange(0, 20), n_values, replace=False))
    o = unit_coincidences(counts).sum(axis=0).reshape(n_values, n_values)

    expected = krippendorff.alpha(value_counts=counts, value_domain=domain,
                                  level_of_measurement=level)

    assert alpha_from_coincidences(o, domain, level) == pytest.approx(expected, abs=1e-12)


def test_bootstrap_matches_a_naive_resampling_of_units():
    rng = np.random.default_rng(7)
    truth = rng.integers(1, 6, 120)
    counts = np.zeros((120, 5), dtype=np.int64)
    for _ in range(3):
        noisy = np.clip(truth + rng.integers(-1, 2, 120), 1, 5) - 1
        counts[np.arange(120), noisy] += 1
    domain = np.arange(1, 6)
    naive = [krippendorff.alpha(value_counts=counts[rng.integers(0, 120, 120)],
                                value_domain=domain, level_of_measurement="ordinal")
             for _ in range(1500)]
    patterns, multiplicity = np.unique(counts, axis=0, return_counts=True)

    fast = bootstrap_alpha(unit_coincidences(patterns), multiplicity, domain, "ordinal",
                           n_bootstrap=1500, rng=np.random.default_rng(8))

    assert np.quantile(fast, [0.025, 0.5, 0.975]) == pytest.approx(
        np.quantile(naive, [0.025, 0.5, 0.975]), abs=0.02)
    assert np.std(fast) == pytest.approx(np.std(naive), rel=0.1)


def test_interval_surrounds_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(3)
    counts = rng.multinomial(3, [0.1, 0.6, 0.3], size=80)
    domain = np.array([1, 2, 3])

    first = krippendorff_alpha(counts, domain, n_bootstrap=400, rng=np.random.default_rng(1))
    again = krippendorff_alpha(counts, domain, n_bootstrap=400, rng=np.random.default_rng(1))

    assert first.status == "ok" and first.n_units == 80 and first.n_values == 240
    assert first.ci95[0] < first.alpha < first.ci95[1]
    assert first == again
    assert set(first.p_below) == {0.667, 0.800}
    assert first.p_below[0.667] <= first.p_below[0.800]


def test_identical_ratings_are_undefined_not_an_error():
    counts = np.array([[3, 0], [2, 0], [2, 0]])

    result = krippendorff_alpha(counts, np.array([1, 2]), n_bootstrap=50)

    assert (result.status, result.alpha, result.ci95) == ("undefined", None, None)


def test_too_few_pairable_units_is_insufficient():
    counts = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]])

    result = krippendorff_alpha(counts, np.array([1, 2, 3]))

    assert (result.status, result.alpha, result.n_units) == ("insufficient", None, 1)


def test_pair_agreement_compares_every_pair_of_raters_in_a_unit():
    # Unit 1: scores 2, 2, 3 -> pairs (2,2) exact, (2,3) twice adjacent, each weighted 1/2.
    # Unit 2: scores 1, 4 -> one pair, neither, weight 1. Unit 3: a single rating, no pairs.
    table = ratings_table([("A", "s1", "C", 2), ("B", "s1", "C", 2), ("C", "s1", "C", 3),
                           ("A", "s2", "C", 1), ("B", "s2", "C", 4), ("A", "s3", "C", 5)])
    values = unit_values(encode_blind(table))

    agreement = pair_agreement(values.counts, values.value_domain)

    assert agreement.n_pairs == 4
    assert agreement.exact == pytest.approx(0.5 / 2.5)
    assert agreement.adjacent == pytest.approx(1.5 / 2.5)


def test_pair_agreement_is_the_observed_agreement_of_the_coincidence_matrix():
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 4, size=(60, 5))
    o = unit_coincidences(counts).sum(axis=0).reshape(5, 5)
    one_apart = np.abs(np.subtract.outer(np.arange(5), np.arange(5))) <= 1

    agreement = pair_agreement(counts, np.arange(5))

    assert agreement.exact == pytest.approx(np.trace(o) / o.sum())
    assert agreement.adjacent == pytest.approx(o[one_apart].sum() / o.sum())


def test_an_anchor_scored_by_everyone_does_not_swamp_the_double_scored_units():
    ordinary = np.tile([[2, 0]], (100, 1))          # 100 units, two raters agree
    anchor = np.array([[500, 500]])                 # one unit, 1,000 raters split evenly

    agreement = pair_agreement(np.vstack([ordinary, anchor]), np.array([1, 4]))

    assert agreement.exact > 0.5


def test_adjacent_means_one_score_point_not_the_next_observed_value():
    table = ratings_table([("A", "s1", "C", 1), ("B", "s1", "C", 3)])
    values = unit_values(encode_blind(table))

    assert pair_agreement(values.counts, values.value_domain).adjacent == 0


def test_anchor_agreement_compares_blind_scores_with_the_latest_reference():
    table = validate_ratings(pd.DataFrame({
        "rater": ["A", "B", "A", None, None, None, "C"],
        "sample": ["s1", "s1", "s2", "s1", "s1", "s2", "s3"],
        "criterion": ["C"] * 7, "score": [3, 2, 4, 2, 3, 4, 1],
        "kind": ["blind", "blind", "blind", "reference", "reference", "reference", "blind"],
        "scored_at": [None, None, None, "2024-01-01", "2024-02-01", None, None]}))

    anchors = anchor_agreement(table, latest_blind(table))

    assert anchors.loc["A", "anchor_exact_agreement"] == 1.0
    assert anchors.loc["A", "n_anchor_ratings"] == 2
    assert anchors.loc["B", "anchor_exact_agreement"] == 0.0
    assert "C" not in anchors.index


def test_anchor_confusions_count_the_levels_a_rater_confuses_most_frequent_first():
    table = validate_ratings(pd.DataFrame({
        "rater": ["A", "A", "A", "A", "B", None, None, None, None],
        "sample": ["s1", "s2", "s3", "s4", "s1", "s1", "s2", "s3", "s4"],
        "criterion": ["C"] * 9, "score": [2, 2, 3, 4, 3, 3, 3, 2, 4],
        "kind": ["blind"] * 5 + ["reference"] * 4}))

    confusions = anchor_confusions(table, latest_blind(table))

    assert confusions == {"A": [{"score": 2, "agreed": 3, "n": 2},
                                {"score": 3, "agreed": 2, "n": 1}]}


@st.composite
def unit_scores(draw, min_units=2):
    """A list of units, each a list of (rater, score) with distinct raters."""
    n_units = draw(st.integers(min_units, 12))
    units = []
    for _ in range(n_units):
        raters = draw(st.lists(st.sampled_from("ABCDEF"), min_size=0, max_size=6, unique=True))
        units.append([(rater, draw(st.integers(0, 6))) for rater in raters])
    return units


def long_rows(units):
    return [(rater, f"s{u}", "C", score) for u, unit in enumerate(units) for rater, score in unit]


@given(st.lists(st.tuples(st.integers(2, 5), st.integers(1, 5)), min_size=2, max_size=15)
       .filter(lambda units: len({score for _, score in units}) > 1),
       st.sampled_from(LEVELS))
def test_perfect_agreement_gives_alpha_one(units, level):
    rows = [(f"r{r}", f"s{u}", "C", score) for u, (m, score) in enumerate(units)
            for r in range(m)]
    values = unit_values(encode_blind(ratings_table(rows)))

    result = krippendorff_alpha(values.counts, values.value_domain, level, n_bootstrap=20)

    assert result.alpha == pytest.approx(1.0)
    assert result.ci95 is None or result.ci95[0] == pytest.approx(1.0)


@settings(max_examples=60)
@given(unit_scores(), st.randoms(use_true_random=False), st.sampled_from(LEVELS))
def test_alpha_ignores_row_order_and_handles_missing_ratings(units, random, level):
    rows = long_rows(units)
    shuffled = random.sample(rows, len(rows))
    # The package's own reliability-data input, raters x units with NaN for a missing rating.
    dense = np.full((6, len(units)), np.nan)
    for u, unit in enumerate(units):
        for rater, score in unit:
            dense[ord(rater) - ord("A"), u] = score

    results = []
    for table_rows in (rows, shuffled):
        values = unit_values(encode_blind(ratings_table(table_rows)))
        results.append(krippendorff_alpha(values.counts, values.value_domain, level,
                                          n_bootstrap=0))

    assert results[0].status == results[1].status
    assert results[0].alpha == pytest.approx(results[1].alpha, abs=1e-12)
    if results[0].status == "ok":
        expected = krippendorff.alpha(reliability_data=dense, level_of_measurement=level,
                                      value_domain=np.unique(dense[~np.isnan(dense)]))
        assert results[0].alpha == pytest.approx(expected, abs=1e-9)


def test_large_tables_skip_the_package_and_get_the_same_alpha(monkeypatch):
    rng = np.random.default_rng(11)
    counts = rng.multinomial(3, [0.2, 0.3, 0.3, 0.2], size=300)
    domain = np.arange(1, 5)
    with_package = krippendorff_alpha(counts, domain, "interval", n_bootstrap=0)

    monkeypatch.setattr(reliability, "MAX_PACKAGE_CELLS", 0)
    without = krippendorff_alpha(counts, domain, "interval", n_bootstrap=0)

    assert without.alpha == pytest.approx(with_package.alpha, abs=1e-12)


def test_rows_that_share_a_hash_are_still_told_apart(monkeypatch):
    # With every multiplier 1 the hash is the row total, so [1, 2] and [2, 1] collide.
    monkeypatch.setattr(reliability, "ROW_HASH", np.ones(8, dtype=np.int64))
    counts = np.array([[1, 2], [2, 1], [1, 2], [0, 3]])
    rng = np.random.default_rng(0)

    fast = krippendorff_alpha(counts, np.array([1, 2]), n_bootstrap=200, rng=rng)
    expected = krippendorff.alpha(value_counts=counts, value_domain=[1, 2],
                                  level_of_measurement="ordinal")

    assert fast.alpha == pytest.approx(expected)
    assert fast.ci95[0] <= fast.alpha <= fast.ci95[1]


# Every unit holds c and -c: the ratio difference (c - k) / (c + k) divides by zero. R's
# irr::kripp.alpha gives NaN; a formula that skips the zero divisions gives 1.0.
ACROSS_ZERO = (np.array([[0, 1, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0]]), np.array([-2, -1, 1, 2]))


def test_ratio_alpha_refuses_scores_on_both_sides_of_zero():
    counts, domain = ACROSS_ZERO

    with pytest.raises(LevelOfMeasurementError,
                       match="ratio level needs scores on one side of zero.*from -2 to 2"):
        krippendorff_alpha(counts, domain, "ratio", n_bootstrap=10)
    assert issubclass(LevelOfMeasurementError, ValueError)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_other_levels_still_take_scores_across_zero(level):
    counts, domain = ACROSS_ZERO

    result = krippendorff_alpha(counts, domain, level, n_bootstrap=0)

    assert result.alpha == pytest.approx(krippendorff.alpha(
        value_counts=counts, value_domain=domain, level_of_measurement=level), abs=1e-12)


@pytest.mark.parametrize("domain", [np.array([0, 1, 2, 3]), np.array([-3, -2, -1, 0])])
def test_ratio_alpha_takes_scores_on_one_side_of_zero(domain):
    counts = np.array([[1, 1, 0, 0], [0, 0, 2, 0], [0, 0, 1, 1], [2, 0, 0, 0]])

    result = krippendorff_alpha(counts, domain, "ratio", n_bootstrap=0)

    assert result.alpha == pytest.approx(krippendorff.alpha(
        value_counts=counts, value_domain=domain, level_of_measurement="ratio"), abs=1e-12)


def test_ratio_alpha_looks_only_at_pairable_values():
    # -1 was given once, to a unit nobody else scored: it never enters alpha.
    counts = np.array([[0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 0], [0, 2, 0, 0]])

    result = krippendorff_alpha(counts, np.array([-1, 1, 2, 3]), "ratio", n_bootstrap=0)

    assert result.status == "ok"
