"""analyze(): the whole document a coach's report is built from."""

import json

import numpy as np
import pandas as pd
import pytest

from moderation.statistics import LevelOfMeasurementError, RatingsFileError, ScoreLevels, analyze
from seed_data.synthetic import DistrictParams, generate_district

CRITERION_KEYS = {"criterion", "n_samples", "n_ratings", "alpha", "alpha_ci95",
                  "exact_agreement", "adjacent_agreement", "icc", "icc_ci95", "status",
                  "fair_average"}
ICC_KEYS = {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
ICC_DETAIL_KEYS = {"method", "k", "k_method", "components", "ci_method", "truncated", "message"}
OVERALL_KEYS = {"alpha", "alpha_ci95", "exact_agreement", "adjacent_agreement", "status"}
RATER_KEYS = {"rater", "school", "n_ratings", "severity", "severity_se", "infit", "outfit",
              "infit_z", "outfit_z", "fair_average", "fair_average_difference",
              "fair_average_difference_ci95", "anchor_exact_agreement", "drift",
              "severity_p", "severity_q", "anchor_confusions"}
SCHOOL_KEYS = {"school", "n_raters", "rater_severity", "rater_severity_se", "standard_flag",
               "local_gap", "local_gap_ci95", "local_flag"}
DESIGN_KEYS = {"connected", "n_components", "cross_school_share", "anchors_per_rater",
               "linkage_strength", "linkage_method", "linkage_message"}
# The first schema's trigger keys, extended with what a coach needs to act.
TRIGGER_KEYS = {"kind", "target", "metric", "value", "threshold", "reason", "effect",
                "effect_ci95", "n", "p", "q", "rule", "priority", "action", "school"}
DRIFT_KEYS = {"flagged", "onset", "shift", "shift_se", "shift_points", "shift_points_ci95",
              "severity_before", "severity_after", "z", "p_change", "p", "q", "n_timed",
              "detectable_shift", "detectable_shift_points", "message"}
DRIFT_POWER_KEYS = {"step", "step_points", "ratings_needed", "n_raters_enough",
                    "n_raters_tested", "level", "message"}


def table(rows, kind="blind"):
    frame = pd.DataFrame(rows, columns=["rater", "sample", "criterion", "score"])
    return frame.assign(kind=kind)


@pytest.fixture(scope="module")
def district():
    params = DistrictParams(n_schools=8, raters_per_school=4, samples=300, criteria=2)
    ratings, _ = generate_district(params, seed=3)
    return ratings


@pytest.fixture(scope="module")
def district_report(district):
    return analyze(district, bootstrap=200, seed=5)


def test_every_documented_key_is_present(district_report):
    report = district_report

    assert {"level", "n_ratings", "criteria", "overall", "raters", "schools", "bias", "design",
            "drift_power", "triggers"} <= set(report)
    assert [entry["step"] for entry in report["drift_power"]] == [0.3, 1.0]
    assert all(set(entry) == DRIFT_POWER_KEYS for entry in report["drift_power"])
    assert all(set(entry) >= CRITERION_KEYS for entry in report["criteria"])
    assert all(set(entry["icc"]) >= ICC_KEYS | ICC_DETAIL_KEYS for entry in report["criteria"])
    assert all(set(entry["icc_ci95"]) == ICC_KEYS for entry in report["criteria"])
    for entry in report["criteria"]:
        for form, interval in entry["icc_ci95"].items():
            assert interval[0] <= entry["icc"][form] <= interval[1]
    assert set(report["overall"]) >= OVERALL_KEYS
    assert all(set(entry) >= RATER_KEYS for entry in report["raters"])
    assert all(set(entry["drift"]) == DRIFT_KEYS
               for entry in report["raters"])
    assert all(set(entry) >= SCHOOL_KEYS for entry in report["schools"])
    assert set(report["design"]) >= DESIGN_KEYS
    assert all(set(entry) == TRIGGER_KEYS for entry in report["triggers"])


def test_the_document_is_strict_json(district_report):
    text = json.dumps(district_report, allow_nan=False)

    assert json.loads(text) == district_report


def test_the_district_figures_are_filled_in(district, district_report):
    report = district_report
    ideas = report["criteria"][0]

    assert report["n_ratings"] == len(district)
    assert ideas["status"] == "ok" and ideas["alpha_ci95"][0] < ideas["alpha"]
    assert set(ideas["alpha_p_below"]) == {"0.667", "0.800"}
    assert ideas["icc"]["method"].startswith("crossed random-effects")
    assert report["design"]["connected"] is True
    assert report["design"]["anchors_per_rater"] > 0
    assert all(entry["school"] is not None for entry in report["raters"])
    assert any(entry["anchor_exact_agreement"] is not None for entry in report["raters"])
    assert any(entry["severity"] is not None for entry in report["raters"])


def test_identical_ratings_are_undefined_without_an_exception():
    report = analyze(table([(r, s, "Ideas", 3) for r in "ABC" for s in ("s1", "s2", "s3")]),
                     bootstrap=50, seed=0)

    ideas = report["criteria"][0]
    assert (ideas["status"], ideas["alpha"], ideas["alpha_ci95"]) == ("undefined", None, None)
    assert ideas["exact_agreement"] == 1.0
    json.dumps(report, allow_nan=False)


def test_single_ratings_are_insufficient_and_reference_only_criteria_listed():
    ratings = pd.concat([table([("A", "s1", "Ideas", 3), ("B", "s2", "Ideas", 2)]),
                         table([(None, "s1", "Voice", 2)], kind="reference")])

    report = analyze(ratings, bootstrap=50, seed=0)

    ideas, voice = report["criteria"]
    assert (ideas["status"], ideas["alpha"], ideas["exact_agreement"]) == (
        "insufficient", None, None)
    assert (voice["criterion"], voice["n_ratings"], voice["status"]) == (
        "Voice", 0, "insufficient")
    assert set(voice["icc"][form] for form in ICC_KEYS) == {None}


def test_local_and_reference_scores_do_not_count_for_reliability():
    blind = table([("A", "s1", "Ideas", 3), ("B", "s1", "Ideas", 3), ("A", "s2", "Ideas", 1),
                   ("B", "s2", "Ideas", 2), ("A", "s3", "Ideas", 4), ("B", "s3", "Ideas", 4)])
    others = pd.concat([table([("T", "s1", "Ideas", 1), ("T", "s2", "Ideas", 4)], kind="local"),
                        table([(None, "s3", "Ideas", 1)], kind="reference")])

    alone = analyze(blind, bootstrap=100, seed=1)["criteria"][0]
    mixed = analyze(pd.concat([blind, others]), bootstrap=100, seed=1)["criteria"][0]

    for key in ("alpha", "alpha_ci95", "exact_agreement", "n_ratings", "icc"):
        assert mixed[key] == alone[key]


def test_a_revision_replaces_the_earlier_score():
    ratings = table([("A", "s1", "Ideas", 1), ("B", "s1", "Ideas", 3), ("A", "s1", "Ideas", 3),
                     ("A", "s2", "Ideas", 2), ("B", "s2", "Ideas", 2)])
    ratings["scored_at"] = ["2025-01-01", "2025-01-01", "2025-01-02", None, None]

    ideas = analyze(ratings, bootstrap=0, seed=0)["criteria"][0]

    assert (ideas["n_ratings"], ideas["exact_agreement"]) == (4, 1.0)


def test_row_order_does_not_change_the_reliability_figures(district):
    subset = district.loc[district["kind"] == "blind"].head(1500)
    shuffled = subset.sample(frac=1, random_state=np.random.default_rng(0))

    first = analyze(subset, bootstrap=100, seed=2)
    second = analyze(shuffled, bootstrap=100, seed=2)

    key = lambda entry: entry["criterion"]  # noqa: E731
    for a, b in zip(sorted(first["criteria"], key=key), sorted(second["criteria"], key=key),
                    strict=True):
        assert b["alpha"] == pytest.approx(a["alpha"], abs=1e-12)
        assert b["alpha_ci95"] == pytest.approx(a["alpha_ci95"], abs=1e-12)
        assert b["exact_agreement"] == pytest.approx(a["exact_agreement"], abs=1e-12)
        # Sparse ICCs are a numerical REML optimum: equal to its precision, not to the bit.
        assert {f: b["icc"][f] for f in ICC_KEYS} == pytest.approx(
            {f: a["icc"][f] for f in ICC_KEYS}, abs=1e-8)


def test_the_reported_seed_repeats_the_run():
    ratings = table([(r, f"s{s}", "Ideas", (s + i) % 4 + 1) for i, r in enumerate("ABC")
                     for s in range(12)])

    first = analyze(ratings, bootstrap=100)
    again = analyze(ratings, bootstrap=100, seed=first["bootstrap"]["seed"])

    assert again == first


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="level must be one of"):
        analyze(table([("A", "s1", "Ideas", 3)]), level="fuzzy")


RASCH_KEYS = {"status", "iterations", "largest_change", "tolerance", "max_iterations",
              "message", "model", "n_ratings", "sample_prior", "average_rater_fair_average",
              "separation", "thresholds", "criteria"}
SEPARATION_KEYS = {"n", "mean", "sd", "rmse", "true_sd", "separation", "strata", "reliability",
                   "chi_square", "df", "p"}
MEASURES = ("severity", "severity_se", "infit", "outfit", "infit_z", "outfit_z", "fair_average",
            "fair_average_difference", "fair_average_difference_ci95")


def test_a_converged_fit_is_reported_with_its_status(district_report):
    rasch = district_report["rasch"]

    assert set(rasch) == RASCH_KEYS
    assert (rasch["status"], rasch["model"]) == ("converged", "rating_scale")
    assert rasch["sample_prior"] is None        # well linked: plain joint maximum likelihood
    assert 1 < rasch["iterations"] < rasch["max_iterations"]
    assert rasch["largest_change"] < rasch["tolerance"]
    assert rasch["message"].startswith("Converged after")
    assert all(entry["drift"]["message"] is None for entry in district_report["raters"]
               if entry["drift"]["z"] is not None)
    assert {entry["severity_message"] for entry in district_report["raters"]} == {None}
    assert any(entry["standard_reason"] is None for entry in district_report["schools"])


def separated(extra_schools: bool = True) -> pd.DataFrame:
    """Six ratings on which B scores at least as high as A everywhere: no finite fit."""
    rows = table([("A", "s1", "Ideas", 1), ("B", "s1", "Ideas", 1), ("A", "s2", "Ideas", 1),
                  ("B", "s2", "Ideas", 2), ("A", "s3", "Ideas", 2), ("B", "s3", "Ideas", 3)])
    return rows.assign(rater_school=rows["rater"].map({"A": "North", "B": "South"}),
                       sample_school="East",
                       scored_at=[f"2025-01-0{day}" for day in range(1, 7)])


def test_a_fit_that_did_not_converge_gives_nulls_and_says_why():
    report = analyze(separated(), bootstrap=20, seed=0)

    rasch = report["rasch"]
    assert (rasch["status"], rasch["iterations"]) == ("not_converged", 200)
    assert rasch["largest_change"] >= rasch["tolerance"]
    assert "did not settle" in rasch["message"]
    assert rasch["separation"] == {"raters": None, "samples": None}
    assert (rasch["thresholds"], rasch["criteria"], report["bias"]) == (None, None, None)
    assert rasch["average_rater_fair_average"] is None
    assert {entry["fair_average"] for entry in report["criteria"]} == {None}
    for rater in report["raters"]:
        assert [rater[name] for name in MEASURES] == [None] * len(MEASURES)
        assert rater["severity_message"] == ("No severity: the Rasch fit did not converge (see "
                                             "rasch.message).")
        assert rater["drift"]["flagged"] is False
        assert "did not converge" in rater["drift"]["message"]
    schools = {entry["school"]: entry for entry in report["schools"]}
    assert set(schools) == {"East", "North", "South"}
    for school in ("North", "South"):
        assert schools[school]["rater_severity"] is None
        assert "did not converge" in schools[school]["standard_reason"]
    assert not [t for t in report["triggers"] if t["kind"].startswith(("rater", "school"))]
    json.dumps(report, allow_nan=False)


def test_an_insufficient_fit_gives_nulls_and_says_why():
    report = analyze(table([("A", "s1", "Ideas", 2), ("B", "s2", "Ideas", 3)]),
                     bootstrap=20, seed=0)

    rasch = report["rasch"]
    assert (rasch["status"], rasch["iterations"], rasch["largest_change"]) == (
        "insufficient", 0, None)
    assert "No two raters share a sample" in rasch["message"]
    assert all(rater[name] is None for rater in report["raters"] for name in MEASURES)
    assert all("too few or too one-sided" in rater["drift"]["message"]
               for rater in report["raters"])
    assert rasch["separation"] == {"raters": None, "samples": None}
    assert {entry["fair_average"] for entry in report["criteria"]} == {None}


def test_a_converged_fit_reports_fair_averages_separation_and_zstd(district_report):
    rasch, raters = district_report["rasch"], district_report["raters"]
    low, high = 1, 4                                        # the generator's rubric

    assert low < rasch["average_rater_fair_average"] < high
    for entry in raters:
        lo, hi = entry["fair_average_difference_ci95"]
        assert lo <= entry["fair_average_difference"] <= hi
        assert entry["fair_average"] == pytest.approx(
            rasch["average_rater_fair_average"] + entry["fair_average_difference"])
        assert low < entry["fair_average"] < high
        assert np.isfinite([entry["infit_z"], entry["outfit_z"]]).all()
    # Harsher raters give fewer points to the same average work.
    by_severity = sorted(raters, key=lambda entry: entry["severity"])
    differences = [entry["fair_average_difference"] for entry in by_severity]
    assert differences == sorted(differences, reverse=True)
    for facet, n in (("raters", len(raters)), ("samples", None)):
        figures = rasch["separation"][facet]
        assert set(figures) == SEPARATION_KEYS
        assert figures["n"] == n if n else figures["n"] > 100
        assert figures["df"] == figures["n"] - 1
        assert 0 <= figures["reliability"] < 1 and 0 <= figures["p"] <= 1
    assert all(low < entry["fair_average"] < high for entry in district_report["criteria"])



def test_an_untested_rater_gets_the_reason_under_drift(district, district_report):
    untimed = district.assign(scored_at=None)

    report = analyze(untimed, bootstrap=0, seed=5)

    assert all(entry["drift"]["message"] is None for entry in district_report["raters"])
    assert {entry["drift"]["message"] for entry in report["raters"]
            if entry["severity"] is not None} == {
        "Not tested: none of the rater's measured ratings has a scored_at time."}


def test_ratio_level_on_scores_across_zero_is_refused():
    ratings = table([("A", "s1", "Ideas", -1), ("B", "s1", "Ideas", 1),
                     ("A", "s2", "Ideas", -2), ("B", "s2", "Ideas", 2)])

    with pytest.raises(LevelOfMeasurementError, match="from -2 to 2; use --level interval"):
        analyze(ratings, level="ratio", bootstrap=10, seed=0)
    assert analyze(ratings, level="interval", bootstrap=10, seed=0)["level"] == "interval"


def test_levels_refuse_a_score_outside_them_and_are_reported():
    ratings = table([("A", "s1", "Ideas", 3), ("B", "s1", "Ideas", 4), ("A", "s2", "Ideas", 0)])
    rubric = ScoreLevels(criteria={"Ideas": (0, 1, 2, 3, 4)}, source="rubric 'Essay'")

    with pytest.raises(RatingsFileError, match="line 4: score 0 is not a level"):
        analyze(ratings, levels=ScoreLevels.parse("1,2,3,4"), bootstrap=0, seed=0)
    report = analyze(ratings, levels=rubric, bootstrap=0, seed=0)
    assert report["score_levels"] == {"source": "rubric 'Essay'",
                                      "criteria": {"Ideas": [0, 1, 2, 3, 4]}}
    assert analyze(ratings, bootstrap=0, seed=0)["score_levels"] is None


CATEGORY_KEYS = {"score", "count", "percent", "average_measure", "expected_average_measure",
                 "outfit", "expected_outfit", "threshold", "threshold_se",
                 "disordered_average", "disordered_threshold", "message"}


def test_the_rating_scale_and_each_criterions_categories_are_reported(district_report):
    rasch = district_report["rasch"]

    assert [step["score"] for step in rasch["thresholds"]] == [2, 3, 4]
    assert all(step["threshold_se"] > 0 for step in rasch["thresholds"])
    assert [entry["criterion"] for entry in rasch["criteria"]] == ["C1", "C2"]
    for entry in rasch["criteria"]:
        assert entry["difficulty_se"] > 0 and entry["n_ratings"] > 0
        assert [level["score"] for level in entry["categories"]] == [1, 2, 3, 4]
        assert all(set(level) == CATEGORY_KEYS for level in entry["categories"])
        assert sum(level["count"] for level in entry["categories"]) <= entry["n_ratings"]
        assert entry["categories"][0]["threshold"] is None
    json.dumps(district_report, allow_nan=False)
