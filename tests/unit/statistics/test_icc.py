"""Intraclass correlations: pingouin on complete designs, moment estimators on sparse ones."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moderation.statistics.icc import (
    FORMS,
    MOMENTS,
    NOT_ESTIMABLE,
    PINGOUIN,
    icc_forms,
    intraclass_correlations,
    moment_components,
)
from moderation.statistics.table import encode_blind, load_ratings

SHROUT_FLEISS = Path(__file__).resolve().parents[2] / "reference" / "shrout_fleiss_1979.csv"
# Shrout & Fleiss (1979), Table 4, full precision (tests/reference/README.md).
PUBLISHED = {"ICC1": 0.165742, "ICC2": 0.289764, "ICC3": 0.714841,
             "ICC1k": 0.442797, "ICC2k": 0.620051, "ICC3k": 0.909316}


def shrout_fleiss():
    codes = encode_blind(load_ratings(SHROUT_FLEISS))
    return codes.rater, codes.sample, codes.score.astype(float)


def crossed(n_samples, n_raters, rng, *, keep=1.0, s2=(1.0, 0.25, 0.5)):
    """Simulated ratings of a crossed random-effects model, each cell kept with prob. keep."""
    sample = np.repeat(np.arange(n_samples), n_raters)
    rater = np.tile(np.arange(n_raters), n_samples)
    kept = rng.random(sample.size) < keep
    sample, rater = sample[kept], rater[kept]
    effects = [rng.normal(0, np.sqrt(v), n) for v, n in zip(s2[:2], (n_samples, n_raters),
                                                            strict=True)]
    score = effects[0][sample] + effects[1][rater] + rng.normal(0, np.sqrt(s2[2]), sample.size)
    return rater, sample, score


def test_complete_design_goes_through_pingouin_and_matches_shrout_fleiss():
    result = intraclass_correlations(*shrout_fleiss())

    assert result.method == PINGOUIN
    assert (result.n_samples, result.n_raters, result.k) == (6, 4, 4.0)
    assert result.forms == pytest.approx(PUBLISHED, abs=5e-7)


def test_moment_estimators_reproduce_shrout_fleiss_on_complete_data():
    forms = icc_forms(moment_components(*shrout_fleiss()), k=4)

    assert forms == pytest.approx(PUBLISHED, abs=5e-7)


def test_moment_estimators_equal_pingouin_on_a_random_complete_design():
    rater, sample, score = crossed(30, 5, np.random.default_rng(1))

    pingouin = intraclass_correlations(rater, sample, score)
    moments = icc_forms(moment_components(rater, sample, score), k=5)

    assert pingouin.method == PINGOUIN
    assert moments == pytest.approx(pingouin.forms, abs=1e-10)


def test_sparse_design_recovers_the_variance_components():
    # 4,000 samples, 300 raters, each sample scored by about 3 of them.
    rater, sample, score = crossed(4000, 300, np.random.default_rng(2), keep=0.01)

    result = intraclass_correlations(rater, sample, score)

    assert result.method == MOMENTS
    assert result.components.sample == pytest.approx(1.0, abs=0.1)
    assert result.components.rater == pytest.approx(0.25, abs=0.06)
    assert result.components.error == pytest.approx(0.5, abs=0.05)
    assert result.forms["ICC2"] == pytest.approx(1 / 1.75, abs=0.04)
    assert result.forms["ICC3"] == pytest.approx(1 / 1.5, abs=0.04)
    assert result.k == pytest.approx(3.0, abs=0.2)


def test_without_a_sample_scored_twice_no_form_is_estimable():
    result = intraclass_correlations(np.arange(5), np.arange(5), np.arange(5.0))

    assert result.method == NOT_ESTIMABLE
    assert result.forms == dict.fromkeys(FORMS)


def test_raters_who_each_score_one_sample_support_only_the_one_way_forms():
    # Nested design: every rating is by a different rater, two per sample.
    sample = np.repeat(np.arange(6), 2)
    score = np.array([1, 2, 4, 4, 2, 3, 5, 4, 1, 1, 3, 4], dtype=float)

    result = intraclass_correlations(np.arange(12), sample, score)

    assert result.forms["ICC1"] is not None and result.forms["ICC1k"] is not None
    assert [result.forms[form] for form in ("ICC2", "ICC3", "ICC2k", "ICC3k")] == [None] * 4


def test_identical_scores_give_no_forms_and_no_warning():
    rater, sample, _ = crossed(4, 3, np.random.default_rng(0))

    result = intraclass_correlations(rater, sample, np.full(rater.size, 3.0))

    assert result.forms == dict.fromkeys(FORMS)


def test_equal_sample_means_in_a_complete_design_give_none_not_a_warning():
    table = pd.DataFrame({"rater": [0, 1, 0, 1, 0, 1], "sample": [0, 0, 1, 1, 2, 2],
                          "score": [1.0, 3.0, 3.0, 1.0, 2.0, 2.0]})

    result = intraclass_correlations(table["rater"].to_numpy(), table["sample"].to_numpy(),
                                     table["score"].to_numpy())

    assert result.method == PINGOUIN
    assert all(value is None or np.isfinite(value) for value in result.forms.values())
