"""Every report the engine writes matches its published JSON Schema (report.schema.json), and
the schema is strict enough to catch a field that is missing, unknown or of the wrong type."""

import copy
import json
from importlib.resources import files

import jsonschema
import pandas as pd
import pytest

from moderation.statistics import ScoreLevels, analyze
from seed_data.synthetic import DistrictParams, generate_district


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(files("moderation.statistics").joinpath("report.schema.json")
                        .read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def district_report():
    ratings, _ = generate_district(
        DistrictParams(n_schools=8, raters_per_school=4, samples=300, criteria=2), seed=3)
    return analyze(ratings, bootstrap=50, seed=3, levels=ScoreLevels.parse("1,2,3,4"))


def rows(data):
    return pd.DataFrame(data, columns=["rater", "sample", "criterion", "score"]).assign(
        kind="blind")


def errors(validator, report):
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(report)]


def test_a_district_report_is_version_2_and_matches_the_schema(validator, district_report):
    assert district_report["schema_version"] == 2
    assert district_report["triggers"], "the district plants effects: some triggers expected"
    assert errors(validator, district_report) == []


@pytest.mark.parametrize("data", [
    # B at least as high as A on every shared sample: the fit does not converge.
    [("A", "s1", "Ideas", 1), ("B", "s1", "Ideas", 1), ("A", "s2", "Ideas", 1),
     ("B", "s2", "Ideas", 2), ("A", "s3", "Ideas", 2), ("B", "s3", "Ideas", 3)],
    # No two raters share a sample: insufficient for any fit.
    [("A", "s1", "Ideas", 2), ("B", "s2", "Ideas", 3)],
    # Every rater scored every sample: the complete-design ICC path.
    [(rater, sample, "Ideas", (ord(rater) + int(sample[1])) % 4 + 1)
     for rater in "ABC" for sample in ("s1", "s2", "s3", "s4", "s5")],
], ids=["not converged", "insufficient", "complete"])
def test_reports_of_failed_and_complete_fits_match_the_schema(validator, data):
    assert errors(validator, analyze(rows(data), bootstrap=20, seed=0)) == []


def test_the_schema_refuses_an_unknown_a_missing_or_a_mistyped_field(validator,
                                                                      district_report):
    unknown = copy.deepcopy(district_report)
    unknown["raters"][0]["severity_in_percent"] = 12.0
    missing = copy.deepcopy(district_report)
    del missing["criteria"][0]["icc_ci95"]
    mistyped = copy.deepcopy(district_report)
    mistyped["rasch"]["status"] = "ok"

    assert any("severity_in_percent" in error for error in errors(validator, unknown))
    assert any("icc_ci95" in error for error in errors(validator, missing))
    assert any(error.startswith("rasch/status") for error in errors(validator, mistyped))


def test_a_report_with_equity_bias_and_suppressed_schools_matches_the_schema(validator):
    params = DistrictParams(n_schools=12, raters_per_school=4, samples=600, criteria=2,
                            income_leniency=1.0, interaction_raters=6, interaction_size=2.0)
    ratings, truth = generate_district(params, seed=5)
    # One school keeps only two raters: suppressed.
    dropped = ratings["rater_school"].eq("S01") & ratings["rater"].isin(
        ratings.loc[ratings["rater_school"].eq("S01"), "rater"].unique()[:2])
    context = truth.school_context.reset_index().rename(columns={"index": "school"})
    report = analyze(ratings[~dropped], bootstrap=20, seed=5, schools=context)

    assert report["equity"] and report["bias"]
    assert report["school_counts"]["n_suppressed"] >= 1
    assert errors(validator, report) == []


def test_a_partial_credit_report_matches_the_schema(validator):
    ratings, _ = generate_district(
        DistrictParams(n_schools=4, raters_per_school=3, samples=150, criteria=2), seed=5)
    report = analyze(ratings, bootstrap=20, seed=5, model="partial-credit")

    assert report["rasch"]["model"] == "partial_credit"
    assert {step["criterion"] for step in report["rasch"]["thresholds"]} == set(
        ratings["criterion"])
    assert errors(validator, report) == []
