"""School standards and local-versus-blind gaps: what a district lead acts on."""

import numpy as np
import pandas as pd
import pytest

from moderation.statistics.rasch import RaschFit, fit_many_facet_rasch
from moderation.statistics.schools import (
    GAP_COLUMNS,
    NOT_CONNECTED,
    NOT_MEASURED,
    STANDARD_COLUMNS,
    local_gaps,
    school_findings,
    school_standards,
    unit_gaps,
)
from moderation.statistics.table import validate_ratings
from seed_data.synthetic import DistrictParams, generate_district


def fake_fit(raters: dict[str, tuple[float, float, bool]], status: str = "ok") -> RaschFit:
    """A fit whose raters have the given (severity, severity_se, is_connected)."""
    table = pd.DataFrame.from_dict(raters, orient="index",
                                   columns=["severity", "severity_se", "is_connected"])
    table.loc[~table["is_connected"], ["severity", "severity_se"]] = np.nan
    return RaschFit(status=status, converged=status == "ok", iterations=1, raters=table,
                    samples=pd.DataFrame({"measure": [0.0], "is_extreme": [False]}),
                    criteria=pd.DataFrame({"difficulty": [0.0], "is_extreme": [False]}),
                    thresholds=pd.Series([0.0]), categories=(1, 2), n_ratings=0,
                    bias_correction=1.0)


def membership(schools: dict[str, list[str]], extra_schools: tuple[str, ...] = ()
               ) -> pd.DataFrame:
    """A ratings table that only says which school each rater belongs to."""
    rows = [{"rater": rater, "sample": f"s-{rater}", "criterion": "c", "score": 1,
             "rater_school": school, "sample_school": "elsewhere"}
            for school, raters in schools.items() for rater in raters]
    rows += [{"rater": "nobody", "sample": f"s-{school}", "criterion": "c", "score": 1,
              "rater_school": None, "sample_school": school} for school in extra_schools]
    return validate_ratings(pd.DataFrame(rows))


def test_flags_need_an_effect_beyond_the_threshold_and_a_small_q():
    severities = {"lenient": -0.7, "harsh": 0.7, "slight": -0.2, "near": 0.35, "typical": 0.0}
    raters = {f"{school}{i}": (value, 0.1, True) for school, value in severities.items()
              for i in range(4)}
    raters |= {"alone": (0.9, 0.4, True)}
    schools = {school: [f"{school}{i}" for i in range(4)] for school in severities}
    ratings = membership(schools | {"solo": ["alone"]})

    table = school_findings(ratings, fake_fit(raters), min_raters=1, min_samples=0)

    assert table["standard_flag"].to_dict() == {"harsh": "harsh", "lenient": "lenient",
                                                "near": None, "slight": None, "solo": None,
                                                "typical": None, "elsewhere": None}
    assert table.loc["lenient", "rater_severity"] == pytest.approx(-0.7)
    assert table.loc["lenient", "rater_severity_se"] == pytest.approx(0.05)
    # Beyond the practical size but within noise of it: a small p alone does not flag.
    assert table.loc["near", "standard_p"] > 0.05
    assert table.loc["harsh", "standard_q"] < 0.05 <= table.loc["solo", "standard_q"]
    assert list(school_standards(ratings, fake_fit(raters)).columns) == STANDARD_COLUMNS


def test_schools_with_too_few_raters_or_cross_marked_samples_are_suppressed():
    raters = {f"{school}{i}": (-1.0, 0.1, True) for school, n in (("big", 4), ("small", 2))
              for i in range(n)}
    schools = {"big": [f"big{i}" for i in range(4)], "small": ["small0", "small1"]}
    ratings = membership(schools)

    table = school_findings(ratings, fake_fit(raters), min_raters=3, min_samples=0)
    strict = school_findings(ratings, fake_fit(raters), min_raters=3, min_samples=1)

    assert table["suppressed"].to_dict() == {"big": False, "elsewhere": True, "small": True}
    assert "fewer than 3 of its raters" in table.loc["small", "suppressed_reason"]
    assert np.isnan(table.loc["small", "rater_severity"])
    assert table.loc["small", "standard_flag"] is None
    assert table.loc["big", "standard_flag"] == "lenient"
    # "big"'s own samples are never scored blind by another school.
    assert "scored blind by other schools (0)" in strict.loc["big", "suppressed_reason"]


def test_spread_between_a_schools_raters_widens_its_interval():
    rng = np.random.default_rng(1)
    raters = {f"r{s}-{i}": (rng.normal(0, 0.5), 0.1, True) for s in range(30) for i in range(5)}
    schools = {f"S{s}": [f"r{s}-{i}" for i in range(5)] for s in range(30)}

    table = school_standards(membership(schools), fake_fit(raters))

    measurement_only = 0.1 / np.sqrt(5)
    assert table.loc["S0", "rater_severity_se"] == pytest.approx(np.sqrt(0.26 / 5), rel=0.25)
    assert (table["rater_severity_se"].dropna() > 4 * measurement_only).all()


def test_schools_outside_the_connected_design_get_no_flag_and_a_reason():
    raters = {"a1": (-1.0, 0.1, True), "a2": (-1.0, 0.1, True), "b1": (0.0, 0.0, False)}
    schools = {"A": ["a1", "a2"], "B": ["b1"]}

    table = school_standards(membership(schools, extra_schools=("C",)), fake_fit(raters))

    assert np.isnan(table.loc["B", "rater_severity"])
    assert table.loc["B", "reason"] == NOT_CONNECTED
    assert table.loc["B", "n_raters_unconnected"] == 1
    assert table.loc["C", "reason"] == NOT_MEASURED
    assert table.loc["A", "reason"] is None and table.loc["A", "rater_severity"] < 0


@pytest.mark.parametrize("status, words", [("insufficient", "too few or too one-sided"),
                                            ("not_converged", "did not converge")])
def test_a_failed_fit_measures_no_school_and_says_why(status, words):
    raters = {"a1": (-1.0, 0.1, True), "a2": (-1.0, 0.1, True)}

    table = school_findings(membership({"A": ["a1", "a2"]}), fake_fit(raters, status),
                            min_raters=0, min_samples=0)

    assert table.loc["A", "standard_flag"] is None
    assert pd.isna(table.loc["A", "rater_severity"])
    assert words in table.loc["A", "reason"] and "rasch.message" in table.loc["A", "reason"]


@pytest.fixture(scope="module")
def district():
    params = DistrictParams(n_schools=30, raters_per_school=8, samples=3000, school_effect=1.0,
                            lenient_fraction=0.2, harsh_fraction=0.2, drift_fraction=0.0)
    ratings, truth = generate_district(params, seed=5)
    return ratings, truth, fit_many_facet_rasch(ratings)


def test_planted_lenient_and_harsh_schools_are_flagged(district):
    ratings, truth, fit = district

    table = school_findings(ratings, fit)
    planted = truth.school_effect.map({-1.0: "lenient", 0.0: None, 1.0: "harsh"})

    agree = (table["standard_flag"].reindex(planted.index) == planted) | (
        table["standard_flag"].reindex(planted.index).isna() & planted.isna())
    assert agree.mean() >= 0.85
    assert (table.loc[planted.eq("lenient").to_numpy(), "standard_flag"] == "lenient").all()


def test_a_schools_own_students_scores_do_not_move_its_standard(district):
    ratings, _, fit = district
    own_work = ratings["sample_school"].eq("S01") & ratings["kind"].eq("blind")
    better_work = ratings.assign(score=ratings["score"].mask(own_work,
                                                             (ratings["score"] + 1).clip(upper=4)))

    before = school_standards(ratings, fit).loc["S01", "rater_severity"]
    after = school_standards(better_work, fit_many_facet_rasch(better_work)).loc[
        "S01", "rater_severity"]

    assert after == pytest.approx(before, abs=0.1)


def findings_of(params: DistrictParams, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    ratings, truth = generate_district(params, seed=seed)
    fit = fit_many_facet_rasch(ratings)
    assert fit.status == "ok"
    return ratings, school_findings(ratings, fit), truth


NULL = DistrictParams(n_schools=100, samples=10_000, severity_sd=0.5, lenient_fraction=0.0,
                      harsh_fraction=0.0, inflating_fraction=0.0, drift_fraction=0.0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_null_district_gives_at_most_one_false_school_flag_per_100_schools(seed):
    _, table, _ = findings_of(NULL, seed)

    assert table["standard_flag"].notna().sum() <= 1
    assert table["local_flag"].notna().sum() <= 1
    # The gap is measured against each teacher's own blind marking, so it centres on 0.
    assert abs(table["local_gap"].mean()) < 0.05


@pytest.mark.slow
def test_planted_school_effects_above_the_threshold_are_found():
    params = DistrictParams(n_schools=100, samples=10_000, school_effect=1.0, inflation=1.5,
                            drift_fraction=0.0)
    _, table, truth = findings_of(params, 3)
    effect = truth.school_effect
    inflating = table.index.isin(list(truth.inflating_schools))

    found = ((table.loc[effect < 0, "standard_flag"] == "lenient").sum()
             + (table.loc[effect > 0, "standard_flag"] == "harsh").sum())
    assert found >= 0.8 * (effect != 0).sum()
    assert (table.loc[inflating, "local_flag"] == "inflated").mean() >= 0.8
    # Lenient schools mark leniently everywhere: they are not read as inflating.
    assert table.loc[(effect < 0).to_numpy() & ~inflating, "local_flag"].isna().all()


@pytest.mark.slow
def test_one_inflating_teacher_is_not_read_as_school_inflation_at_the_naive_rate():
    # Half the schools have one teacher of four who inflates their own students' scores by
    # 4 logits; the school mean gap is beyond 0.25 points, but rests on one teacher.
    params = DistrictParams(n_schools=60, raters_per_school=4, samples=9_000,
                            local_fraction=0.3, inflating_fraction=0.5, inflating_teachers=1,
                            inflation=4.0, lenient_fraction=0.0, harsh_fraction=0.0,
                            drift_fraction=0.0)
    ratings, table, truth = findings_of(params, 4)
    inflating = sorted(truth.inflating_schools)
    fit = fit_many_facet_rasch(ratings)
    units = unit_gaps(ratings, fit)
    # The naive reading, the earlier rule: samples as independent, interval clear of 0 and
    # the gap at least 0.25 points.
    per_sample = units.groupby(["school", "sample"])["gap"].mean().groupby(level="school")
    naive_se = per_sample.std() / np.sqrt(per_sample.size())
    naive = ((per_sample.mean() - 1.96 * naive_se > 0)
             & (per_sample.mean() >= 0.25)).reindex(inflating)

    assert table.loc[inflating, "local_gap"].mean() > 0.25
    assert naive.mean() >= 0.5
    assert (table.loc[inflating, "local_flag"] == "inflated").mean() <= naive.mean() / 2
    assert (table.loc[inflating, "n_local_raters"] >= 3).all()


def test_local_gaps_need_more_than_one_teacher_and_a_converged_fit(district):
    ratings, _, fit = district
    one_teacher = ratings.loc[(ratings["kind"] != "local") | ratings["rater"].str.endswith("1")
                              | ~ratings["sample_school"].eq("S01")]

    gaps = local_gaps(one_teacher, fit)
    unfit = school_findings(ratings, fake_fit({"T001": (0.0, 0.1, True)}, "insufficient"))

    assert gaps.loc["S01", "n_local_raters"] == 1
    assert np.isnan(gaps.loc["S01", "local_gap_se"])
    assert "one teacher" in gaps.loc["S01", "local_reason"]
    assert list(gaps.columns) == GAP_COLUMNS
    assert "no blind expectation" in unfit.loc["S01", "local_reason"]


def test_flagged_schools_name_the_work_and_the_schools_for_a_session(district):
    ratings, _, fit = district

    table = school_findings(ratings, fit)
    flagged = table.loc[table["standard_flag"].notna()]
    school = flagged.index[0]
    samples = flagged.at[school, "session_samples"]
    scored = ratings.loc[ratings["sample"].isin(samples) & ratings["kind"].eq("blind")]

    assert 1 <= len(samples) <= 5
    assert set(flagged.at[school, "session_schools"]) <= set(scored["rater_school"]) - {school}
    assert table.loc[table["standard_flag"].isna() & table["local_flag"].isna(),
                     "session_samples"].isna().all()
