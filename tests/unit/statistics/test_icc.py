"""Intraclass correlations: pingouin on complete designs, moment estimators on sparse ones."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from moderation.statistics.icc import (
    CI_F,
    CI_REML,
    FORMS,
    NOT_ESTIMABLE,
    PINGOUIN,
    REML,
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

    assert result.method == REML
    assert result.components.sample == pytest.approx(1.0, abs=0.1)
    assert result.components.rater == pytest.approx(0.25, abs=0.06)
    assert result.components.error == pytest.approx(0.5, abs=0.05)
    assert result.forms["ICC2"] == pytest.approx(1 / 1.75, abs=0.04)
    assert result.forms["ICC3"] == pytest.approx(1 / 1.5, abs=0.04)
    # Binomial(300, .01) raters per sample: many have 1 or 2, so the harmonic mean is below 3.
    per_sample = np.bincount(sample)
    per_sample = per_sample[per_sample > 0]
    assert result.k == pytest.approx(per_sample.size / (1 / per_sample).sum())


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


def anchored(n_sparse, n_raters, rng, *, anchors=5, per_sample=3, s2=(1.0, 0.25, 0.5)):
    """Anchors scored by every rater, then samples scored by per_sample random raters each."""
    sample = np.concatenate([np.repeat(np.arange(anchors), n_raters),
                             np.repeat(np.arange(anchors, anchors + n_sparse), per_sample)])
    sparse_raters = np.argsort(rng.random((n_sparse, n_raters)), axis=1)[:, :per_sample]
    rater = np.concatenate([np.tile(np.arange(n_raters), anchors), sparse_raters.ravel()])
    effects = [rng.normal(0, np.sqrt(v), n) for v, n in zip(s2[:2], (anchors + n_sparse,
                                                                     n_raters), strict=True)]
    score = effects[0][sample] + effects[1][rater] + rng.normal(0, np.sqrt(s2[2]), sample.size)
    return rater, sample, score


def direct_reml(rater, sample, score):
    """REML by maximising the restricted likelihood of y ~ N(mu, V) over the three log
    variances, V = s2_s ZsZs' + s2_r ZrZr' + s2_e I built densely: an implementation that
    shares nothing with the engine's (no profiling, no mixed-model equations)."""
    n = score.size
    same_sample = (sample[:, None] == sample[None, :]).astype(float)
    same_rater = (rater[:, None] == rater[None, :]).astype(float)
    ones = np.ones(n)

    def minus_twice_log_likelihood(log_variances):
        s2s, s2r, s2e = np.exp(log_variances)
        chol = np.linalg.cholesky(s2s * same_sample + s2r * same_rater + s2e * np.eye(n))
        x, y = np.linalg.solve(chol, ones), np.linalg.solve(chol, score)
        xvx, xvy, yvy = x @ x, x @ y, y @ y
        return 2 * np.log(np.diag(chol)).sum() + np.log(xvx) + yvy - xvy ** 2 / xvx

    result = optimize.minimize(minus_twice_log_likelihood, np.log([1.0, 0.3, 0.5]),
                               method="L-BFGS-B")
    return np.exp(result.x)


def test_sparse_reml_equals_a_direct_maximisation_of_the_restricted_likelihood():
    rater, sample, score = anchored(100, 25, np.random.default_rng(4), anchors=3)

    result = intraclass_correlations(rater, sample, score)

    assert result.method == REML
    reference = direct_reml(rater, sample, score)
    engine = [result.components.sample, result.components.rater, result.components.error]
    assert engine == pytest.approx(reference, rel=2e-3)


def test_common_anchors_do_not_dominate_the_sparse_estimate():
    # 10 anchors scored by all 200 raters, 500 samples by 3 raters each; ICC(C,1) = 2/3.
    truth = 1 / 1.5
    new, old = [], []
    for seed in range(12):
        rater, sample, score = anchored(500, 200, np.random.default_rng(seed), anchors=10)
        result = intraclass_correlations(rater, sample, score)
        moments = moment_components(rater, sample, score)
        new.append(result.forms["ICC3"])
        old.append(moments.sample / (moments.sample + moments.error))
    new_error = np.sqrt(np.mean((np.array(new) - truth) ** 2))
    old_error = np.sqrt(np.mean((np.array(old) - truth) ** 2))

    # Measured: moments 0.049, REML 0.017.
    assert new_error <= 0.02
    assert old_error >= 0.04


def test_k_is_the_harmonic_mean_of_raters_per_sample():
    rater, sample, score = anchored(990, 200, np.random.default_rng(0))

    result = intraclass_correlations(rater, sample, score)

    assert result.k == pytest.approx(995 / (990 / 3 + 5 / 200), abs=1e-9)
    assert result.k == pytest.approx(3.0, abs=0.02)
    assert score.size / 995 == pytest.approx(3.99, abs=0.01)


def test_f_intervals_on_shrout_fleiss_match_pingouin():
    import pingouin

    rater, sample, score = shrout_fleiss()
    result = intraclass_correlations(rater, sample, score)
    table = pd.DataFrame({"rater": rater, "sample": sample, "score": score})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning, module="pingouin")
        reference = pingouin.intraclass_corr(data=table, targets="sample", raters="rater",
                                             ratings="score").set_index("Type")["CI95"]

    assert result.ci_method == CI_F
    for form, label in zip(FORMS, ("ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)",
                                   "ICC(C,k)"), strict=True):
        # pingouin rounds its interval to 2 decimals.
        assert result.ci95[form] == pytest.approx(list(reference[label]), abs=0.005 + 1e-9)
        assert result.ci95[form][0] <= result.forms[form] <= result.ci95[form][1]
    # McGraw & Wong case 3 by hand, from Shrout & Fleiss's Table 2: F = MSR / MSE =
    # 11.24 / 1.02 on (5, 15) df.
    low, high = (11.24 / 1.02) / stats.f.ppf(0.975, 5, 15), (11.24 / 1.02) * stats.f.ppf(
        0.975, 15, 5)
    assert result.ci95["ICC3"] == pytest.approx([(low - 1) / (low + 3), (high - 1) / (high + 3)],
                                                abs=2e-3)


def test_sparse_interval_covers_the_planted_icc():
    truth = {"ICC3": 1 / 1.5, "ICC2": 1 / 1.75}
    rng = np.random.default_rng(11)
    covered = dict.fromkeys(truth, 0)
    runs = 150
    for _ in range(runs):
        rater, sample, score = anchored(150, 30, rng, anchors=2)
        result = intraclass_correlations(rater, sample, score)
        assert result.ci_method == CI_REML
        for form, value in truth.items():
            covered[form] += result.ci95[form][0] <= value <= result.ci95[form][1]
    coverage = {form: hits / runs for form, hits in covered.items()}
    print(f"95% interval coverage of the planted ICC over {runs} rounds: {coverage}")

    assert all(0.90 <= share <= 0.98 for share in coverage.values()), coverage


def test_negative_variance_components_are_set_to_zero_and_listed():
    # Raters who agree in severity exactly: rater means equal, so s2_rater's estimate < 0.
    score = np.array([[1, 2, 3], [3, 1, 2], [2, 3, 1], [4, 4, 4], [1, 1, 1.5],
                      [2.5, 2, 2.0]]).ravel()
    sample, rater = np.repeat(np.arange(6), 3), np.tile(np.arange(3), 6)

    result = intraclass_correlations(rater, sample, score)

    assert "rater" in result.truncated
    assert result.components.rater == 0.0
    assert "set to 0" in result.message
    s2 = result.components
    assert result.forms["ICC2"] == pytest.approx(s2.sample / (s2.sample + s2.error))
