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
    school_standards,
)
from moderation.statistics.table import validate_ratings
from seed_data.synthetic import DistrictParams, generate_district


def fake_fit(raters: dict[str, tuple[float, float, bool]], status: str = "ok") -> RaschFit:
    """A fit whose raters have the given (severity, severity_se, is_connected)."""
    table = pd.DataFrame.from_dict(raters, orient="index",
                                   columns=["severity", "severity_se", "is_connected"])
    table.loc[~table["is_connected"], ["severity", "severity_se"]] = np.nan
    return RaschFit(status=status, converged=status == "ok", iterations=1, raters=table,
                    samples=pd.DataFrame(), criteria=pd.DataFrame(),
                    thresholds=pd.Series(dtype=float), categories=(1, 2), n_ratings=0,
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


def test_flags_need_an_interval_clear_of_zero_and_a_large_enough_effect():
    severities = {"lenient": -0.5, "harsh": 0.5, "slight": -0.2, "typical": 0.0}
    raters = {f"{school}{i}": (value, 0.1, True) for school, value in severities.items()
              for i in range(4)}
    raters |= {"alone": (0.6, 0.4, True)}
    schools = {school: [f"{school}{i}" for i in range(4)] for school in severities}

    table = school_standards(membership(schools | {"solo": ["alone"]}), fake_fit(raters))

    assert table["standard_flag"].to_dict() == {"harsh": "harsh", "lenient": "lenient",
                                                "slight": None, "solo": None, "typical": None,
                                                "elsewhere": None}
    assert table.loc["lenient", "rater_severity"] == pytest.approx(-0.5)
    assert table.loc["lenient", "rater_severity_se"] == pytest.approx(0.05)
    assert list(table.columns) == STANDARD_COLUMNS


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

    assert table.loc["B", "standard_flag"] is None
    assert table.loc["B", "reason"] == NOT_CONNECTED
    assert table.loc["B", "n_raters_unconnected"] == 1
    assert table.loc["C", "reason"] == NOT_MEASURED
    assert table.loc["A", "reason"] is None and table.loc["A", "standard_flag"] == "lenient"


@pytest.mark.parametrize("status, words", [("insufficient", "too few or too one-sided"),
                                            ("not_converged", "did not converge")])
def test_a_failed_fit_measures_no_school_and_says_why(status, words):
    raters = {"a1": (-1.0, 0.1, True), "a2": (-1.0, 0.1, True)}

    table = school_standards(membership({"A": ["a1", "a2"]}), fake_fit(raters, status))

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

    table = school_standards(ratings, fit)
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


def gap_table(local_offsets: dict[str, list[int]], rng: np.random.Generator) -> pd.DataFrame:
    """Two blind scores and one local score per unit; local = blind mean + offset."""
    rows = []
    for school, offsets in local_offsets.items():
        for s, offset in enumerate(offsets):
            for criterion in ("c1", "c2"):
                blind = rng.integers(2, 4)
                sample = f"{school}-{s}"
                rows += [{"rater": rater, "sample": sample, "criterion": criterion,
                          "score": blind, "sample_school": school, "kind": "blind"}
                         for rater in ("x", "y")]
                rows.append({"rater": f"t-{school}", "sample": sample, "criterion": criterion,
                             "score": blind + offset, "sample_school": school,
                             "kind": "local"})
    return validate_ratings(pd.DataFrame(rows))


def test_local_scores_above_or_below_blind_scores_are_flagged():
    rng = np.random.default_rng(3)
    table = gap_table({"up": [1] * 8 + [0, 2], "same": [0, 1, -1, 0] * 3,
                       "down": [-1] * 10, "few": [2, 2, 2]}, rng)

    gaps = local_gaps(table, seed=0)

    assert gaps["local_flag"].to_dict() == {"down": "deflated", "few": None,
                                            "same": None, "up": "inflated"}
    assert gaps.loc["up", "local_gap"] == pytest.approx(1.0)
    assert gaps.loc["up", "local_gap_lo"] > 0
    assert np.isnan(gaps.loc["few", "local_gap_lo"])
    assert gaps.loc["same", ["n_samples", "n_units"]].tolist() == [12, 24]
    assert list(gaps.columns) == GAP_COLUMNS


def test_gap_is_against_the_mean_blind_score_and_the_latest_local_score():
    at = pd.Timestamp("2025-03-01", tz="UTC")
    rows = [("x", "s", 2, "blind", at), ("y", "s", 4, "blind", at),
            ("t", "s", 1, "local", at), ("t", "s", 4, "local", at + pd.Timedelta(days=1)),
            ("t", "no-blind", 4, "local", at)]
    table = validate_ratings(pd.DataFrame(rows, columns=["rater", "sample", "score", "kind",
                                                         "scored_at"])
                             .assign(criterion="c", sample_school="A"))

    gaps = local_gaps(table, seed=0)

    assert gaps.loc["A", "local_gap"] == pytest.approx(1.0)
    assert gaps.loc["A", "n_units"] == 1


def test_same_seed_same_interval():
    table = gap_table({"A": [0, 1, 1, 0, 2, 0, 1]}, np.random.default_rng(0))

    pd.testing.assert_frame_equal(local_gaps(table, seed=9), local_gaps(table, seed=9))


def test_no_local_scores_gives_an_empty_table(district):
    ratings, _, _ = district

    gaps = local_gaps(ratings.loc[ratings["kind"] != "local"])

    assert gaps.empty and list(gaps.columns) == GAP_COLUMNS


def test_inflating_schools_show_a_positive_gap(district):
    ratings, truth, _ = district
    # A harsh school that inflates its own scores can net out; compare typical schools only.
    typical = truth.school_effect.index[truth.school_effect == 0]
    inflating = typical.isin(list(truth.inflating_schools))

    gaps = local_gaps(ratings, seed=1).loc[typical]

    assert inflating.sum() >= 2
    assert (gaps.loc[inflating, "local_flag"] == "inflated").all()
    assert (gaps.loc[~inflating, "local_flag"].isna()).mean() >= 0.8
    assert gaps.loc[inflating, "local_gap"].mean() > gaps.loc[~inflating, "local_gap"].mean() + 0.2
