"""Recovery on a medium synthetic district: the statistics find what was planted.

100 schools of 10 raters, 20,000 samples of 5 criteria, 3 blind ratings each, 5 anchors scored
by every rater (about 325,000 blind ratings). Planted: rater severities (sd 0.5 logit), 10% of
raters drifting by a 1-logit step, 10 lenient and 10 harsh schools (1.0 logit), 10 schools
inflating their own local scores (1.5 logit). Bounds leave room below what five seeds gave
(benchmarks/stats_district.py prints the same figures at district scale).
"""

import pytest

from moderation.statistics.drift import detect_drift
from moderation.statistics.rasch import fit_many_facet_rasch
from moderation.statistics.schools import school_findings
from seed_data.synthetic import DistrictParams, generate_district, recovery_figures

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def figures():
    params = DistrictParams(n_schools=100, samples=20_000, school_effect=1.0, inflation=1.5)
    ratings, truth = generate_district(params, seed=2025)
    fit = fit_many_facet_rasch(ratings)
    assert fit.status == "ok"
    schools = school_findings(ratings, fit)
    return recovery_figures(ratings, truth, severity=fit.raters["severity"],
                            drift=detect_drift(ratings, fit), standards=schools, gaps=schools)


def test_severities_track_the_planted_ones(figures):
    assert figures["severity_r"] > 0.95
    assert figures["severity_r_stable"] > 0.95


def test_one_logit_drift_is_found_with_few_false_alarms(figures):
    assert figures["drift_recall"] >= 0.7
    assert figures["drift_false_alarm"] <= 0.01
    assert figures["drift_onset_error_days"] < 5          # in a 90-day term
    assert 0.8 < figures["drift_shift_ratio"] < 1.3


def test_lenient_and_harsh_schools_are_flagged_and_typical_ones_mostly_not(figures):
    assert figures["lenient_recall"] >= 0.7
    assert figures["harsh_recall"] >= 0.7
    # Minimum-effect tests with BH q over schools: few typical schools are flagged.
    assert figures["school_false_flags"] <= 0.12


def test_schools_inflating_their_own_scores_show_a_local_gap(figures):
    assert figures["inflating_recall"] >= 0.7
    assert figures["local_false_flags"] <= 0.12
