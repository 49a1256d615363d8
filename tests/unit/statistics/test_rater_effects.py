"""Halo and central tendency: planted raters are found, null raters are not.

Districts of 40 schools of 6 raters, 4,000 samples of 5 criteria scored by 3 raters, 5 anchors
(about 275 blind ratings and 55 samples per rater), as in test_multiplicity. Planted: 12 halo
raters (each criterion takes the rater's impression of the sample with probability 0.85) and 12
other raters with central tendency (thresholds twice as far apart). Bounds leave room below
what seeds 1-4 gave (11-12 of 12 found for each effect, no null rater flagged).
"""

import numpy as np
import pandas as pd
import pytest

from moderation.statistics import analyze
from moderation.statistics.rasch import fit_many_facet_rasch
from moderation.statistics.rater_effects import group_summary, rater_effects
from moderation.statistics.table import encode_blind, validate_ratings
from moderation.statistics.triggers import DEFAULT_THRESHOLDS
from seed_data.synthetic import DistrictParams, generate_district

SHAPE = {"n_schools": 40, "raters_per_school": 6, "samples": 4000}
PLANTED = 12


def effects(ratings):
    return rater_effects(encode_blind(ratings), fit_many_facet_rasch(ratings),
                         halo_size=DEFAULT_THRESHOLDS.rater_halo,
                         central_size=DEFAULT_THRESHOLDS.rater_central_tendency,
                         fdr=DEFAULT_THRESHOLDS.false_discovery_rate)


@pytest.fixture(scope="module")
def planted():
    ratings, truth = generate_district(
        DistrictParams(**SHAPE, halo_raters=PLANTED, central_raters=PLANTED), seed=21)
    return ratings, truth, *effects(ratings)


def test_planted_halo_raters_are_found_and_no_one_else(planted):
    _, truth, halo, _ = planted
    is_halo = halo.index.isin(list(truth.halo_raters))

    assert halo.loc[is_halo, "flag"].sum() >= 9
    assert halo.loc[~is_halo, "flag"].sum() <= 2         # ~1% of 228
    assert halo.loc[is_halo, "index"].max() < 0.6
    assert 0.95 < halo.loc[~is_halo, "index"].median() < 1.15


def test_central_tendency_raters_are_found_and_not_taken_for_halo(planted):
    _, truth, halo, central = planted
    is_central = central.index.isin(list(truth.central_raters))

    assert central.loc[is_central, "flag"].sum() >= 10
    assert central.loc[~is_central, "flag"].sum() <= 2
    # Their scores vary less across criteria, but no less than on their own scale: judged
    # on the shared scale they would look like halo (index about 0.5).
    assert not halo.loc[is_central, "flag"].any()
    assert halo.loc[is_central, "index"].min() > 0.75


@pytest.mark.parametrize("seed", [11, 12])
def test_null_districts_flag_no_one(seed):
    ratings, _ = generate_district(DistrictParams(**SHAPE), seed=seed)

    halo, central = effects(ratings)

    assert halo["flag"].sum() + central["flag"].sum() <= 2     # ~0.5% of 480 tests
    assert group_summary(halo)["n_flagged"] == halo["flag"].sum()
    low, high = group_summary(central)["mean_ci95"]
    assert -0.02 < low < high < 0.05


def test_a_rater_with_few_samples_or_a_failed_fit_gets_a_reason_not_an_index():
    rows = [(f"r{r}", f"s{s}", c, 1 + (r + s + i) % 4)
            for r in range(4) for s in range(12 if r < 3 else 3)
            for i, c in enumerate(["C1", "C2", "C3"])]
    ratings = validate_ratings(pd.DataFrame(rows, columns=["rater", "sample", "criterion",
                                                           "score"]))
    halo, central = effects(ratings)
    assert halo.loc["r3", "reason"] == "fewer than 10 samples scored"
    assert np.isnan(halo.loc["r3", "index"])

    one_score = ratings.assign(score=2)
    halo, central = effects(one_score)
    assert halo["index"].isna().all() and central["reason"].notna().all()


@pytest.mark.slow
def test_the_report_names_the_planted_raters_in_triggers(planted):
    ratings, truth, _, _ = planted

    report = analyze(ratings, bootstrap=0, seed=1)

    named = {kind: {t["target"] for t in report["triggers"] if t["kind"] == kind}
             for kind in ("rater_halo", "rater_central_tendency")}
    assert named["rater_halo"] and named["rater_halo"] <= truth.halo_raters
    assert named["rater_central_tendency"] <= truth.central_raters
    assert len(named["rater_central_tendency"]) >= 10
    rater = next(r for r in report["raters"] if r["rater"] in named["rater_halo"])
    assert rater["halo"]["flag"] and "halo" in rater["halo"]["message"]
    assert report["rater_effects"]["halo"]["n_flagged"] == len(named["rater_halo"])
