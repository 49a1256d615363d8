"""Multiplicity control for rater findings: few false triggers on null districts, most planted
effects found on planted ones.

A trigger is false when the planted effect behind it is within the practical threshold: for a
severity trigger, the rater's planted severity averaged over their blind ratings (a drifting
rater's changes midway), centred at the average rater, within 0.5 logits; for a drift trigger,
no planted step beyond 0.5 logits.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from moderation.statistics.analysis import analyze
from moderation.statistics.multiplicity import benjamini_hochberg, minimum_effect_p
from seed_data.synthetic import DistrictParams, generate_district

PRACTICAL = 0.5    # rater severity, logits
DRIFT = 0.3        # a step in severity, logits
# Null: no drift, no school effects, no inflation; raters' true severities spread with SD 0.2
# logits, within the practical threshold (about 1 rater in 100 lies beyond it by chance: those
# are real effects, not false ones). 240 raters with about 275 blind ratings each.
NULL = DistrictParams(n_schools=40, raters_per_school=6, samples=4000, severity_sd=0.2,
                      lenient_fraction=0.0, harsh_fraction=0.0, drift_fraction=0.0,
                      inflating_fraction=0.0)
# Planted: on top of the null spread, 24 raters off by 1 logit (alternately harsh and lenient)
# and 10% of raters stepping by 1 logit during the term; about 400 blind ratings per rater.
PLANTED = dataclasses.replace(NULL, samples=6000, outlier_raters=24, outlier_size=1.0,
                              drift_fraction=0.1, drift_size=1.0)


def planted_severity(ratings: pd.DataFrame, truth) -> pd.Series:
    """Each rater's planted severity averaged over their blind ratings, centred."""
    blind = ratings.loc[ratings["kind"] == "blind"]
    shift = truth.drift["shift"].reindex(blind["rater"]).fillna(0.0).to_numpy()
    onset = truth.drift["onset"].reindex(blind["rater"]).to_numpy()
    after = pd.Series(blind["scored_at"].to_numpy() >= onset, index=blind.index)
    drifted = (after * shift).groupby(blind["rater"]).mean()
    severity = truth.severity + drifted.reindex(truth.severity.index, fill_value=0.0)
    return severity - severity.mean()


def findings(params: DistrictParams, seed: int) -> dict:
    ratings, truth = generate_district(params, seed=seed)
    report = analyze(ratings, bootstrap=0, seed=seed)
    assert report["rasch"]["status"] == "converged"
    planted = planted_severity(ratings, truth)
    steps = truth.drift["shift"]
    stepped = set(steps.index[steps.abs() > DRIFT])
    severe = [t["target"] for t in report["triggers"] if t["kind"] == "rater_severity"]
    drifted = [t["target"] for t in report["triggers"] if t["kind"] == "rater_drift"]
    raters = report["raters"]
    # Today's rules, for comparison: |severity| >= 0.5 and |severity / SE| >= 3; |z| >= 3.
    old_severe = [r["rater"] for r in raters if r["severity"] is not None
                  and abs(r["severity"]) >= PRACTICAL
                  and abs(r["severity"] / r["severity_se"]) >= 3]
    old_drifted = [r["rater"] for r in raters
                   if r["drift"]["z"] is not None and abs(r["drift"]["z"]) >= 3]
    # The planted 1-logit raters (the spread may carry a few a little closer), drifters aside.
    outliers = planted.index[(planted.abs() > 0.8) & ~planted.index.isin(steps.index)]
    return {
        "report": report,
        "n_raters": len(raters),
        "false": (sum(abs(planted[r]) <= PRACTICAL for r in severe)
                  + sum(r not in stepped for r in drifted)),
        "old_false": (sum(abs(planted[r]) <= PRACTICAL for r in old_severe)
                      + sum(r not in stepped for r in old_drifted)),
        "severity_found": sum(r in set(severe) for r in outliers), "n_outliers": len(outliers),
        "drift_found": sum(r in set(drifted) for r in stepped), "n_steps": len(stepped),
    }


@pytest.fixture(scope="module")
def null_districts():
    return [findings(NULL, seed) for seed in (11, 12, 13)]


@pytest.fixture(scope="module")
def planted_districts():
    return [findings(PLANTED, seed) for seed in (21, 22)]


def test_null_districts_raise_at_most_1_false_rater_trigger_per_100_raters(null_districts):
    raters = sum(d["n_raters"] for d in null_districts)
    false = sum(d["false"] for d in null_districts)
    old = sum(d["old_false"] for d in null_districts)

    assert raters == 720
    assert false <= raters / 100
    # The old rules (|z| >= 3 beside a raw 0.5-logit cut) raise about 2 per 100 raters here
    # (measured: 4, 4 and 6 of 240; 5 per 100 at SD 0.3), the new ones none.
    assert old > false


@pytest.mark.slow
def test_planted_severities_and_steps_are_found_with_few_false_triggers(planted_districts):
    raters = sum(d["n_raters"] for d in planted_districts)
    severity_recall = (sum(d["severity_found"] for d in planted_districts)
                       / sum(d["n_outliers"] for d in planted_districts))
    drift_recall = (sum(d["drift_found"] for d in planted_districts)
                    / sum(d["n_steps"] for d in planted_districts))

    assert sum(d["n_steps"] for d in planted_districts) >= 40
    assert severity_recall >= 0.8
    assert drift_recall >= 0.8
    assert sum(d["false"] for d in planted_districts) <= raters / 100


@pytest.mark.slow
def test_every_rater_trigger_carries_what_a_coach_needs(planted_districts):
    report = planted_districts[0]["report"]
    raters = {r["rater"]: r for r in report["raters"]}
    rater_triggers = [t for t in report["triggers"]
                      if t["kind"] in ("rater_severity", "rater_drift")]

    assert rater_triggers
    for trigger in rater_triggers:
        rater = raters[trigger["target"]]
        assert trigger["q"] < report["thresholds"]["false_discovery_rate"]
        assert abs(trigger["value"]) > (PRACTICAL if trigger["kind"] == "rater_severity"
                                        else DRIFT)
        assert trigger["effect"] is not None and trigger["n"] > 0
        low, high = trigger["effect_ci95"]
        assert low <= trigger["effect"] <= high
        assert trigger["priority"] in (1, 2)
        assert trigger["action"]["kind"] == "private_practice_set"
        assert "false-discovery rate" in trigger["rule"]
        if trigger["kind"] == "rater_severity":
            assert trigger["effect"] == rater["fair_average_difference"]
            assert trigger["q"] == rater["severity_q"]
            # Harsh raters give fewer points.
            assert np.sign(trigger["effect"]) == -np.sign(trigger["value"])
        else:
            drift = rater["drift"]
            assert drift["flagged"] and trigger["q"] == drift["q"]
            assert drift["severity_after"] - drift["severity_before"] == pytest.approx(
                drift["shift"])
            assert np.sign(drift["shift_points"]) == -np.sign(drift["shift"])


def test_minimum_effect_p_is_the_edge_of_the_interval_null():
    p = minimum_effect_p([0.8, -0.8, 0.5, 0.3, np.nan, 1.0], [0.1, 0.1, 0.1, 0.1, 0.1, 0.0],
                         0.5)

    np.testing.assert_allclose(p[:4], [norm.sf(3), norm.sf(3), 0.5, norm.sf(-2)])
    assert np.isnan(p[4]) and np.isnan(p[5])


def test_a_difference_within_the_threshold_is_never_significant_however_many_ratings():
    # 0.45 logits with ever smaller SEs: the p-value tends to 1, not to 0.
    p = minimum_effect_p(np.full(4, 0.45), [0.1, 0.03, 0.01, 0.001], 0.5)

    assert (np.diff(p) > 0).all() and p[-1] > 0.99


def test_benjamini_hochberg_matches_the_step_up_rule_and_skips_missing_values():
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.005])

    q = benjamini_hochberg(p)

    # Four tests: q = min over larger p of p * 4 / rank.
    np.testing.assert_allclose(q[[4, 0, 3, 2]], [0.02, 0.02, 0.04, 0.04])
    assert np.isnan(q[1])
    assert np.isnan(benjamini_hochberg([np.nan])).all()
