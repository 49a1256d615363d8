"""The synthetic district: the data the statistics are judged on must have the planted shape."""

import dataclasses
import time

import numpy as np
import pandas as pd
import pytest

from moderation.statistics.design import rater_sample_components
from moderation.statistics.table import COLUMNS, load_ratings, validate_ratings
from seed_data.synthetic import DistrictParams, generate_district, main

SMALL = DistrictParams(n_schools=12, raters_per_school=4, samples=600, criteria=3,
                       blind_ratings_per_sample=3, anchors=4, local_fraction=0.5)


@pytest.fixture(scope="module")
def district():
    return generate_district(SMALL, seed=7)


def test_ratings_follow_the_validated_table_contract(district):
    ratings, _ = district

    assert list(ratings.columns) == list(COLUMNS)
    pd.testing.assert_frame_equal(validate_ratings(ratings), ratings)
    assert set(ratings["kind"]) == {"blind", "local", "reference"}
    assert ratings["score"].between(1, SMALL.levels).all()


def test_each_sample_is_scored_blind_by_distinct_raters_from_other_schools(district):
    ratings, _ = district
    blind = ratings.loc[(ratings["kind"] == "blind") & ratings["sample"].str.startswith("W")]

    assert (blind["rater_school"] != blind["sample_school"]).all()
    raters_per_unit = blind.groupby(["sample", "criterion"])["rater"].nunique()
    assert (raters_per_unit == SMALL.blind_ratings_per_sample).all()
    assert raters_per_unit.size == SMALL.samples * SMALL.criteria


def test_every_rater_scores_every_anchor_and_anchors_have_agreed_scores(district):
    ratings, _ = district
    on_anchors = ratings.loc[ratings["sample"].str.startswith("A")]
    blind = on_anchors.loc[on_anchors["kind"] == "blind"]
    reference = on_anchors.loc[on_anchors["kind"] == "reference"]

    n_raters = SMALL.n_schools * SMALL.raters_per_school
    assert len(blind) == n_raters * SMALL.anchors * SMALL.criteria
    assert blind.groupby("rater")["sample"].nunique().eq(SMALL.anchors).all()
    assert len(reference) == SMALL.anchors * SMALL.criteria
    assert reference["rater"].isna().all() and reference["sample_school"].isna().all()


def test_local_scores_come_from_the_samples_own_school(district):
    ratings, _ = district
    local = ratings.loc[ratings["kind"] == "local"]

    assert (local["rater_school"] == local["sample_school"]).all()
    assert local["sample"].nunique() == pytest.approx(SMALL.local_fraction * SMALL.samples,
                                                      rel=0.2)


def test_blind_design_is_connected(district):
    ratings, _ = district
    blind = ratings.loc[ratings["kind"] == "blind"]
    rater, raters = pd.factorize(blind["rater"])
    sample, samples = pd.factorize(blind["sample"])

    labels = rater_sample_components(rater, sample, raters.size, samples.size)

    assert np.unique(labels).size == 1


def test_times_fall_within_the_term(district):
    ratings, _ = district
    start = pd.Timestamp(SMALL.term_start, tz="UTC")
    timed = ratings["scored_at"]

    assert timed.notna().all()
    assert timed.min() >= start
    assert timed.max() <= start + pd.Timedelta(days=SMALL.term_days, minutes=1)


def test_truth_records_what_was_planted(district):
    _, truth = district
    n_raters = SMALL.n_schools * SMALL.raters_per_school

    assert truth.severity.size == n_raters
    assert len(truth.drift) == round(SMALL.drift_fraction * n_raters)
    assert set(truth.drift["shift"].abs()) == {SMALL.drift_size}
    effects = truth.school_effect.value_counts()
    assert effects[-SMALL.school_effect] == round(SMALL.lenient_fraction * SMALL.n_schools)
    assert effects[SMALL.school_effect] == round(SMALL.harsh_fraction * SMALL.n_schools)
    assert len(truth.inflating_schools) == round(SMALL.inflating_fraction * SMALL.n_schools)
    with pytest.raises(dataclasses.FrozenInstanceError):
        truth.thresholds = None


def test_drifting_raters_change_by_the_planted_step():
    params = dataclasses.replace(SMALL, drift_fraction=0.5, drift_size=3.0, samples=3000,
                                 anchors=0, local_fraction=0.0)
    ratings, truth = generate_district(params, seed=3)
    timed = ratings.join(truth.drift, on="rater")
    drifting = timed.loc[timed["onset"].notna()]
    later = drifting["scored_at"] >= drifting["onset"]
    became_harsher = drifting["shift"] > 0

    mean = drifting.groupby([became_harsher, later])["score"].mean()

    assert mean[True, True] < mean[True, False] - 0.5
    assert mean[False, True] > mean[False, False] + 0.5


def test_same_seed_same_district_and_other_seed_another():
    first, _ = generate_district(SMALL, seed=1)
    again, _ = generate_district(SMALL, seed=1)
    other, _ = generate_district(SMALL, seed=2)

    pd.testing.assert_frame_equal(first, again)
    assert not first["score"].equals(other["score"])


def test_command_line_writes_a_csv_that_loads_back(tmp_path, capsys):
    out = tmp_path / "district.csv"

    main(["--out", str(out), "--n-schools", "5", "--samples", "40", "--seed", "4"])

    expected, _ = generate_district(dataclasses.replace(DistrictParams(), n_schools=5,
                                                        samples=40), seed=4)
    pd.testing.assert_frame_equal(load_ratings(out), expected)
    assert f"{len(expected):,} ratings written" in capsys.readouterr().out


@pytest.mark.slow
def test_district_scale_generates_in_a_few_seconds():
    started = time.perf_counter()
    ratings, _ = generate_district(DistrictParams(), seed=0)
    elapsed = time.perf_counter() - started

    assert (ratings["kind"] == "blind").sum() == 60_000 * 5 * 3 + 3_000 * 5 * 5
    assert elapsed < 5


def test_a_planted_interaction_moves_one_criterion_of_a_rater_only():
    params = dataclasses.replace(SMALL, interaction_raters=6, interaction_size=3.0)
    ratings, truth = generate_district(params, seed=7)
    blind = ratings.loc[ratings["kind"] == "blind"]
    means = blind.groupby(["rater", "criterion"])["score"].mean().unstack()

    assert generate_district(SMALL, seed=7)[1].interactions.empty
    assert sorted(truth.interactions["size"]) == [-3.0] * 3 + [3.0] * 3
    for rater, row in truth.interactions.iterrows():
        others = means.loc[rater].drop(row["criterion"]).mean()
        gap = means.at[rater, row["criterion"]] - others
        # 3 logits harsher (+) is well over half a point lower on that criterion.
        assert gap * np.sign(row["size"]) < -0.5
