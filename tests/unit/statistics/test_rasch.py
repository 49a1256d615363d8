"""The many-facet Rasch fit: severities a coach can trust, and no crash on odd data."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from moderation.statistics.category_model import category_moments, category_probabilities
from moderation.statistics.rasch import RATER_COLUMNS, fit_many_facet_rasch
from moderation.statistics.table import validate_ratings
from seed_data.synthetic import DistrictParams, generate_district

STABLE = DistrictParams(n_schools=40, raters_per_school=6, samples=4000, drift_fraction=0.0)


def ratings(rows: list[tuple], kind: str = "blind") -> pd.DataFrame:
    """A validated table from (rater, sample, criterion, score) tuples."""
    frame = pd.DataFrame(rows, columns=["rater", "sample", "criterion", "score"])
    return validate_ratings(frame.assign(kind=kind))


@pytest.fixture(scope="module")
def stable():
    data, truth = generate_district(STABLE, seed=11)
    return data, truth, fit_many_facet_rasch(data)


def test_recovers_planted_severities_on_the_logit_scale(stable):
    _, truth, fit = stable
    severity = fit.raters["severity"]
    planted = truth.severity.reindex(severity.index)

    slope, _ = np.polyfit(planted, severity, 1)

    assert fit.status == "ok" and fit.converged
    assert np.corrcoef(planted, severity)[0, 1] > 0.97
    assert slope == pytest.approx(1.0, abs=0.05)   # the JMLE bias correction at work
    assert severity.mean() == pytest.approx(0.0, abs=1e-9)


def test_recovers_criteria_and_thresholds(stable):
    _, truth, fit = stable
    difficulty = fit.criteria["difficulty"]

    np.testing.assert_allclose(difficulty, truth.criterion_difficulty[difficulty.index],
                               atol=0.05)
    np.testing.assert_allclose(fit.thresholds, truth.thresholds, atol=0.08)
    assert fit.thresholds.index.tolist() == [2, 3, 4]
    assert fit.categories == (1, 2, 3, 4)


def test_standard_errors_match_the_actual_error(stable):
    _, truth, fit = stable
    raters = fit.raters
    error = raters["severity"] - truth.severity.reindex(raters.index)

    ratio = error.std() / raters["severity_se"].mean()

    assert 0.85 < ratio < 1.15


def test_fit_statistics_spot_a_random_rater_and_a_central_tendency_rater(stable):
    data, _, _ = stable
    rng = np.random.default_rng(0)
    noisy, central = data["rater"].eq("T001"), data["rater"].eq("T002")
    scores = data["score"].to_numpy().copy()
    scores[noisy.to_numpy()] = rng.integers(1, 5, noisy.sum())
    scores[central.to_numpy()] = np.clip(scores[central.to_numpy()], 2, 3)

    fit = fit_many_facet_rasch(data.assign(score=scores))
    typical = fit.raters.drop(["T001", "T002"])

    assert fit.raters.loc["T001", "infit"] > 1.4 and fit.raters.loc["T001", "outfit"] > 1.4
    assert fit.raters.loc["T002", "infit"] < 0.75
    assert typical["infit"].between(0.7, 1.3).all()


def test_a_rater_who_marks_lower_is_harsher(stable):
    data, _, fit = stable
    harsher = data["rater"].eq("T003") & data["kind"].eq("blind")
    scores = data["score"].mask(harsher, (data["score"] - 1).clip(lower=1))

    refit = fit_many_facet_rasch(data.assign(score=scores))

    assert refit.raters.loc["T003", "severity"] > fit.raters.loc["T003", "severity"] + 0.5


def test_uses_only_blind_ratings(stable):
    data, _, fit = stable
    blind_only = data.loc[data["kind"] == "blind"].reset_index(drop=True)

    again = fit_many_facet_rasch(blind_only)

    pd.testing.assert_frame_equal(again.raters, fit.raters)


def test_revisions_count_once_with_the_latest_score():
    rows = [("A", "s1", "c", 2), ("B", "s1", "c", 3), ("A", "s2", "c", 1), ("B", "s2", "c", 2),
            ("A", "s3", "c", 3), ("B", "s3", "c", 2), ("A", "s4", "c", 2), ("B", "s4", "c", 4)]
    base = ratings(rows).assign(scored_at=pd.Timestamp("2025-01-02", tz="UTC"))
    earlier = base.iloc[[0]].assign(score=4, scored_at=pd.Timestamp("2025-01-01", tz="UTC"))

    revised = fit_many_facet_rasch(pd.concat([earlier, base], ignore_index=True))

    pd.testing.assert_frame_equal(revised.raters.drop(columns="n_ratings"),
                                  fit_many_facet_rasch(base).raters.drop(columns="n_ratings"))
    assert revised.raters.loc["A", "n_ratings"] == 4


def test_matches_the_joint_maximum_likelihood_found_by_a_general_optimiser():
    data, _ = generate_district(DistrictParams(n_schools=4, raters_per_school=2, samples=30,
                                               criteria=2, anchors=2, drift_fraction=0.0,
                                               local_fraction=0.0), seed=5)
    fit = fit_many_facet_rasch(data, tol=1e-9)
    assert not fit.samples["is_extreme"].any()
    blind = data.loc[data["kind"] == "blind"]
    codes = {name: pd.Index(getattr(fit, table).index).get_indexer(blind[column])
             for name, table, column in [("n", "samples", "sample"), ("i", "criteria",
                                         "criterion"), ("j", "raters", "rater")]}
    x = blind["score"].to_numpy() - 1
    sizes = [fit.samples.index.size, fit.criteria.index.size, fit.raters.index.size, 3]

    def negative_log_likelihood(params):
        theta, delta, lam, tau = np.split(params, np.cumsum(sizes)[:-1])
        delta, lam, tau = delta - delta.mean(), lam - lam.mean(), tau - tau.mean()
        eta = theta[codes["n"]] - delta[codes["i"]] - lam[codes["j"]]
        probability = category_probabilities(eta, tau)
        return -np.log(probability[x, np.arange(x.size)]).sum()

    best = minimize(negative_log_likelihood, np.zeros(sum(sizes)), method="BFGS",
                    options={"gtol": 1e-8})
    _, _, lam, _ = np.split(best.x, np.cumsum(sizes)[:-1])

    np.testing.assert_allclose(fit.raters["severity"] / fit.bias_correction,
                               lam - lam.mean(), atol=1e-4)


def test_extreme_samples_get_finite_measures_beyond_the_others(stable):
    data, _, _ = stable
    top = data["sample"].eq("W0001") & data["kind"].eq("blind")
    fit = fit_many_facet_rasch(data.assign(score=data["score"].mask(top, 4)))
    samples = fit.samples

    assert samples.loc["W0001", "is_extreme"]
    assert np.isfinite(samples.loc["W0001", ["measure", "measure_se"]]).all()
    assert samples.loc["W0001", "measure"] > samples.loc[~samples["is_extreme"],
                                                         "measure"].quantile(0.9)


def test_unused_rubric_levels_are_squeezed_out():
    data, _ = generate_district(DistrictParams(n_schools=6, raters_per_school=3, samples=200),
                                seed=2)
    nobody_gives_three = data.assign(score=data["score"].replace(3, 4))

    fit = fit_many_facet_rasch(nobody_gives_three)

    assert fit.status == "ok"
    assert fit.categories == (1, 2, 4)
    assert fit.thresholds.index.tolist() == [2, 4]


def test_raters_outside_the_main_design_get_no_severity(stable):
    data, _, _ = stable
    island = ratings([("X", "z1", "C1", 1), ("Y", "z1", "C1", 3),
                      ("X", "z2", "C1", 2), ("Y", "z2", "C1", 2)])

    fit = fit_many_facet_rasch(pd.concat([data, island], ignore_index=True))

    assert not fit.raters.loc[["X", "Y"], "is_connected"].any()
    assert fit.raters.loc[["X", "Y"], "severity"].isna().all()
    assert fit.raters.drop(["X", "Y"])["is_connected"].all()


def linked_by_an_extreme_anchor(shift: int) -> pd.DataFrame:
    """A, B and C share 30 samples; D and E share 30 others, and the two groups meet only on
    one anchor that all five scored 4. D and E's scores are raised by `shift` points."""
    rng = np.random.default_rng(1)
    rows = [(r, f"m{s}", "c", int(rng.integers(1, 5))) for s in range(30) for r in "ABC"]
    rows += [(r, f"d{s}", "c", int(min(rng.integers(1, 5) + shift, 4)))
             for s in range(30) for r in "DE"]
    return ratings(rows + [(r, "anchor", "c", 4) for r in "ABCDE"])


def test_raters_linked_only_through_extreme_scores_get_no_severity():
    # Before: D and E's severities did not move when all their scores rose by a point.
    fits = [fit_many_facet_rasch(linked_by_an_extreme_anchor(shift)) for shift in (0, 1)]

    for fit in fits:
        assert fit.status == "ok"
        assert fit.raters.loc[["D", "E"], "severity"].isna().all()
        assert not fit.raters.loc[["D", "E"], "is_connected"].any()
        assert fit.raters.loc["D", "reason"].startswith("linked to the main rating design only "
                                                        "through samples that every rater")
        assert fit.raters.loc[["A", "B", "C"], "severity"].notna().all()
        assert fit.raters.loc[["A", "B", "C"], "reason"].isna().all()
    assert fits[0].raters.loc["A", "severity"] == pytest.approx(
        fits[1].raters.loc["A", "severity"])
    assert fits[0].samples.loc["anchor", "is_extreme"]


def test_raters_outside_the_design_are_told_why():
    fit = fit_many_facet_rasch(ratings([("A", "s1", "c", 1), ("B", "s1", "c", 3),
                                        ("A", "s2", "c", 2), ("B", "s2", "c", 2),
                                        ("X", "z1", "c", 1)]))

    assert fit.raters.loc["X", "reason"].startswith("shares no samples with the main")


@pytest.mark.parametrize("rows, reason", [
    ([], "no blind ratings"),
    ([("A", "s1", "c", 2), ("B", "s1", "c", 2)], "same score"),
    ([("A", "s1", "c", 2), ("B", "s2", "c", 3)], "No two raters share a sample"),
    ([("A", "s1", "c", 4), ("B", "s1", "c", 4), ("A", "s2", "c", 1), ("B", "s2", "c", 1)],
     "Fewer than two raters"),
])
def test_degenerate_data_is_insufficient_not_an_error(rows, reason):
    fit = fit_many_facet_rasch(ratings(rows))

    assert fit.status == "insufficient"
    assert reason.lower() in fit.message.lower()
    assert list(fit.raters.columns) == RATER_COLUMNS and fit.raters.empty


SEPARATED = [("A", "s1", "c", 1), ("B", "s1", "c", 1), ("A", "s2", "c", 1),
             ("B", "s2", "c", 2), ("A", "s3", "c", 2), ("B", "s3", "c", 3)]


def test_a_fit_that_does_not_converge_says_so_and_gives_no_numbers():
    # B scores at least as high as A on every shared sample: the likelihood has no maximum,
    # and the iterate runs off (severity +-13.9 logits, SE 50,000, infit 7e-15 before).
    fit = fit_many_facet_rasch(ratings(SEPARATED))

    assert (fit.status, fit.converged) == ("not_converged", False)
    assert fit.iterations == fit.max_iterations == 200
    assert fit.largest_change >= fit.tolerance
    assert "did not settle" in fit.message and "200 iterations" in fit.message
    assert fit.raters[["severity", "severity_se", "infit", "outfit"]].isna().all().all()
    assert fit.raters["n_ratings"].tolist() == [3, 3]
    assert fit.raters["is_connected"].all()


def test_a_converged_fit_reports_its_iterations_and_last_change(stable):
    _, _, fit = stable

    assert fit.status == "ok" and 1 < fit.iterations < fit.max_iterations
    assert 0 <= fit.largest_change < fit.tolerance == 1e-4
    assert fit.message.startswith(f"Converged after {fit.iterations} iterations")


def test_an_insufficient_fit_has_no_iterations_or_change():
    fit = fit_many_facet_rasch(ratings([("A", "s1", "c", 2), ("B", "s2", "c", 3)]))

    assert (fit.status, fit.iterations, fit.largest_change) == ("insufficient", 0, None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from("ABCD"), st.sampled_from(["s1", "s2", "s3", "s4"]),
                          st.sampled_from(["c1", "c2"]), st.integers(0, 3)),
                min_size=0, max_size=30, unique_by=lambda row: row[:3]))
def test_any_small_table_gives_a_status_and_finite_measures(rows):
    fit = fit_many_facet_rasch(ratings(rows))

    assert fit.status in {"ok", "not_converged", "insufficient"}
    assert fit.converged == (fit.status == "ok")
    if fit.status != "ok":
        # Never numbers from a fit that failed.
        assert fit.raters[["severity", "severity_se", "infit", "outfit"]].isna().all().all()
        assert fit.samples["measure"].isna().all() and fit.thresholds.isna().all()
    else:
        measured = fit.raters.loc[fit.raters["is_connected"] & ~fit.raters["is_extreme"]]
        assert np.isfinite(measured["severity"]).all()
        assert (measured["severity_se"] > 0).all()


def test_category_moments_match_the_probabilities():
    eta = np.array([-3.0, 0.0, 0.7, 4.0])
    tau = np.array([-1.0, 0.2, 0.8])
    probability = category_probabilities(eta, tau)
    steps = np.arange(4)[:, None]

    expected, variance = category_moments(eta, tau)

    np.testing.assert_allclose(probability.sum(axis=0), 1.0)
    np.testing.assert_allclose(expected, (steps * probability).sum(axis=0))
    np.testing.assert_allclose(variance, ((steps - expected) ** 2 * probability).sum(axis=0))
    # log(P(k) / P(k-1)) = eta - tau_k, the model's definition
    np.testing.assert_allclose(np.log(probability[1:] / probability[:-1]),
                               eta[None, :] - tau[:, None])


def test_category_moments_saturate_without_overflow_far_from_the_thresholds():
    expected, variance = category_moments(np.array([-1e4, 1e4]), np.array([-1.0, 0.2, 0.8]))

    np.testing.assert_allclose(expected, [0.0, 3.0], atol=1e-12)
    assert (variance > 0).all() and (variance < 1e-9).all()

