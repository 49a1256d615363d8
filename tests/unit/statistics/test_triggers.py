"""Trigger rules: what a coach is told to act on, and why."""

import pytest

from moderation.statistics.analysis import analyze
from moderation.statistics.triggers import (
    Thresholds,
    evaluate_triggers,
    rank_triggers,
    triggers_by_school,
)
from seed_data.synthetic import DistrictParams, generate_district

NO_DRIFT = {"flagged": False, "onset": None, "shift": None, "z": None}


def criterion(name, alpha, ci95=None):
    return {"criterion": name, "alpha": alpha, "alpha_ci95": ci95}


def rater(name, severity=0.0, se=0.1, drift=NO_DRIFT):
    return {"rater": name, "severity": severity, "severity_se": se, "drift": drift}


def school(name, standard_flag=None, severity=0.0, local_flag=None, gap=0.0, gap_ci=None):
    return {"school": name, "standard_flag": standard_flag, "rater_severity": severity,
            "rater_severity_se": 0.1, "local_flag": local_flag, "local_gap": gap,
            "local_gap_ci95": gap_ci}


def report(criteria=(), overall=None, raters=(), schools=(), components=1):
    return {"criteria": list(criteria), "overall": overall or criterion("overall", None),
            "raters": list(raters), "schools": list(schools),
            "design": {"n_components": components}}


def kinds(triggers):
    return [(trigger.kind, trigger.target) for trigger in triggers]


def test_reliable_criteria_and_undefined_alpha_trigger_nothing():
    triggers = evaluate_triggers(report([criterion("Ideas", 0.85, [0.81, 0.9]),
                                         criterion("Voice", None)]))

    assert triggers == []


def test_alpha_below_667_says_do_not_rely_and_whether_the_interval_is_clear():
    triggers = evaluate_triggers(report([criterion("Ideas", 0.5, [0.4, 0.6]),
                                         criterion("Voice", 0.6, [0.45, 0.75])]))

    assert [t.threshold for t in triggers] == [0.667, 0.667]
    assert "should not be relied on" in triggers[0].reason
    assert "lies wholly below" in triggers[0].reason
    assert "more double-scored samples" in triggers[1].reason


def test_alpha_between_667_and_800_is_tentative():
    (trigger,) = evaluate_triggers(report([criterion("Ideas", 0.72, [0.6, 0.84])]))

    assert (trigger.kind, trigger.metric, trigger.threshold) == (
        "criterion_reliability", "alpha", 0.8)
    assert "tentative" in trigger.reason and "'Ideas'" in trigger.reason


def test_overall_is_judged_when_there_are_several_criteria():
    low = criterion("overall", 0.6, [0.55, 0.65])

    one = evaluate_triggers(report([criterion("Ideas", 0.6, [0.55, 0.65])], overall=low))
    two = evaluate_triggers(report([criterion("Ideas", 0.9), criterion("Voice", 0.9)],
                                   overall=low))

    assert kinds(one) == [("criterion_reliability", "Ideas")]
    assert kinds(two) == [("criterion_reliability", "overall")]


@pytest.mark.parametrize(("severity", "se", "fires"), [
    (1.2, 0.2, True),     # beyond 0.5 by 3.5 SE
    (-1.2, 0.2, True),    # lenient too
    (0.8, 0.2, False),    # beyond 0.5 but only by 1.5 SE: the old |z| >= 3 rule fired here
    (0.3, 0.05, False),   # clearly non-zero (6 SE) but within the practical size
    (0.52, 0.001, True),  # just beyond the size, very precisely measured
    (0.45, 0.001, False), # within the size, however precisely measured
    (None, None, False),  # not measured
])
def test_rater_severity_must_be_beyond_the_practical_size_and_clear(severity, se, fires):
    triggers = evaluate_triggers(report(raters=[rater("T1", severity, se)]))

    assert kinds(triggers) == ([("rater_severity", "T1")] if fires else [])
    if fires:
        assert triggers[0].threshold == (0.5 if severity > 0 else -0.5)
        assert ("harshly" if severity > 0 else "generously") in triggers[0].reason


def test_drift_beyond_the_size_with_q_below_the_rate_names_onset_and_direction():
    drift = {"flagged": True, "onset": "2025-10-14T09:00:00+00:00", "shift": 0.9, "z": 3.6,
             "p": 0.0004, "q": 0.01, "shift_points": -0.3, "shift_points_ci95": [-0.4, -0.2],
             "n_timed": 120}

    (trigger,) = evaluate_triggers(report(raters=[rater("T1", drift=drift)]))

    assert (trigger.kind, trigger.metric, trigger.value, trigger.threshold) == (
        "rater_drift", "shift", 0.9, 0.3)
    assert "harsher from 2025-10-14 by 0.90 logits (0.30 rubric points" in trigger.reason
    assert (trigger.effect, trigger.effect_ci95, trigger.n, trigger.q) == (
        -0.3, [-0.4, -0.2], 120, 0.01)
    assert "beyond the practical drift size of 0.30" in trigger.rule
    assert trigger.action["kind"] == "private_practice_set"


@pytest.mark.parametrize(("shift", "q"), [(0.25, 0.001), (0.9, 0.2), (0.9, None)])
def test_drift_within_the_size_or_with_q_above_the_rate_is_quiet(shift, q):
    drift = {"flagged": True, "onset": None, "shift": shift, "z": 4.0, "p": 0.01, "q": q}

    assert evaluate_triggers(report(raters=[rater("T1", drift=drift)])) == []


def test_severity_q_is_adjusted_over_all_raters():
    # Alone, p = .0013 (2.9 SE beyond the size) fires; among 99 raters clearly within the
    # size, BH multiplies it by 100 and it does not.
    alone = evaluate_triggers(report(raters=[rater("T1", 0.79, 0.1)]))
    crowd = evaluate_triggers(report(raters=[rater("T1", 0.79, 0.1)]
                                     + [rater(f"S{i}", 0.0, 0.1) for i in range(99)]))

    assert kinds(alone) == [("rater_severity", "T1")]
    assert crowd == []


def test_a_severity_trigger_says_why_in_points_and_proposes_a_private_practice_set():
    far = rater("T1", -1.3, 0.1) | {
        "n_ratings": 240, "fair_average_difference": 0.42,
        "fair_average_difference_ci95": [0.35, 0.49],
        "anchor_confusions": [{"score": 2, "agreed": 3, "n": 2},
                              {"score": 3, "agreed": 2, "n": 5},
                              {"score": 4, "agreed": 3, "n": 1}]}

    (trigger,) = evaluate_triggers(report(raters=[far]))

    assert (trigger.effect, trigger.effect_ci95, trigger.n) == (0.42, [0.35, 0.49], 240)
    assert trigger.q < 0.05 and trigger.p <= trigger.q
    assert "0.42 rubric points more per score" in trigger.reason
    assert "beyond the practical threshold of 0.50" in trigger.rule
    assert "below the false-discovery rate of 0.05" in trigger.rule
    assert trigger.priority == 1                  # more than twice the threshold
    action = trigger.action
    assert action["kind"] == "private_practice_set"
    assert "only" in action["audience"] and "session" not in action["kind"]
    # Lenient: the levels where they scored above the agreed score first.
    assert action["material"]["levels"] == [[3, 2], [4, 3], [2, 3]]


def test_school_flags_become_triggers():
    triggers = evaluate_triggers(report(schools=[
        school("North", standard_flag="lenient", severity=-0.5),
        school("South", local_flag="inflated", gap=0.4, gap_ci=[0.2, 0.6]),
        school("East")]))

    assert kinds(triggers) == [("school_standard", "North"), ("school_local_gap", "South")]
    assert triggers[0].threshold == -0.3 and "more generously" in triggers[0].reason
    assert triggers[1].threshold == 0.25 and "0.40 points higher" in triggers[1].reason


def test_a_disconnected_design_is_a_trigger():
    (trigger,) = evaluate_triggers(report(components=3))

    assert (trigger.kind, trigger.value) == ("design_connectivity", 3)
    assert "3 groups" in trigger.reason


def test_thresholds_are_configurable():
    strict = Thresholds(alpha_rely=0.9, rater_severity=0.2)

    triggers = evaluate_triggers(report([criterion("Ideas", 0.85, [0.8, 0.9])],
                                        raters=[rater("T1", 0.4, 0.05)]), strict)

    assert kinds(triggers) == [("criterion_reliability", "Ideas"), ("rater_severity", "T1")]
    assert kinds(evaluate_triggers(report(raters=[rater("T1", 0.4, 0.05)]))) == []


def test_thresholds_come_from_settings_and_refuse_unknown_or_bad_values():
    settings = Thresholds.from_settings({"false_discovery_rate": 0.1, "rater_drift": 0.8})

    assert (settings.false_discovery_rate, settings.rater_drift) == (0.1, 0.8)
    assert settings.rater_severity == 0.5
    with pytest.raises(ValueError, match="unknown threshold 'rater_z'"):
        Thresholds.from_settings({"rater_z": 3})
    with pytest.raises(ValueError, match="false_discovery_rate"):
        Thresholds(false_discovery_rate=1.5)
    with pytest.raises(ValueError, match="rater_severity"):
        Thresholds.from_settings({"rater_severity": "big"})


def test_defaults_match_the_district_settings():
    defaults = Thresholds()

    assert (defaults.false_discovery_rate, defaults.rater_severity, defaults.school_effect,
            defaults.local_gap) == (0.05, 0.5, 0.3, 0.25)


def test_a_criterion_session_names_the_samples_with_the_most_disagreement():
    samples = [{"sample": "W7", "criterion": "Ideas", "spread": 3, "variance": 2.3,
                "n_ratings": 3},
               {"sample": "W2", "criterion": "Ideas", "spread": 2, "variance": 1.0,
                "n_ratings": 4}]
    entry = criterion("Ideas", 0.5, [0.4, 0.6]) | {"most_disagreement": samples}

    (trigger,) = evaluate_triggers(report([entry]))

    assert [item["sample"] for item in trigger.action["material"]["samples"]] == ["W7", "W2"]
    assert "W7 (scores 3 points apart, 3 ratings)" in trigger.action["description"]
    assert trigger.school is None


def test_rater_and_school_triggers_carry_their_school_and_rank_by_priority_then_effect():
    found = [{"kind": "a", "priority": 2, "effect": 0.1, "school": "S1"},
             {"kind": "b", "priority": 1, "effect": None, "school": "S1"},
             {"kind": "c", "priority": 2, "effect": -0.6, "school": "S1"},
             {"kind": "d", "priority": 1, "effect": 0.2, "school": "S1"},
             {"kind": "e", "priority": 3, "effect": 0.9, "school": "S2"},
             {"kind": "f", "priority": 1, "effect": 0.9, "school": None}]
    harsh = rater("T1", severity=2.0, se=0.1) | {"school": "S9"}

    (severity,) = evaluate_triggers(report(raters=[harsh]))
    grouped = triggers_by_school(found, limit=3)

    assert severity.school == "S9"
    assert [t["kind"] for t in rank_triggers(found)] == ["f", "d", "b", "c", "a", "e"]
    assert [t["kind"] for t in grouped["S1"]["triggers"]] == ["d", "b", "c"]
    assert grouped["S1"]["n_more"] == 1
    assert set(grouped) == {"S1", "S2"}


@pytest.mark.slow
def test_the_synthetic_district_gives_each_school_a_short_ranked_list():
    ratings, truth = generate_district(DistrictParams(n_schools=15, samples=2000), seed=4)
    found = analyze(ratings, bootstrap=20, seed=1)["triggers"]

    grouped = triggers_by_school(found)
    about_raters = [t for t in found if t["kind"].startswith("rater_")]

    assert about_raters and all(t["school"] == truth.rater_school[t["target"]]
                                for t in about_raters)
    assert all(t["school"] == t["target"] for t in found if t["kind"].startswith("school_"))
    assert grouped
    for school, entry in grouped.items():
        listed = entry["triggers"]
        urgency = [(t["priority"], t["effect"] is None, -abs(t["effect"] or 0.0))
                   for t in listed]
        assert 1 <= len(listed) <= 5
        assert urgency == sorted(urgency)
        own = [t for t in found if t["school"] == school]
        assert len(listed) + entry["n_more"] == len(own)
        # Nothing left out is more urgent than what is shown.
        assert min(t["priority"] for t in own) == listed[0]["priority"]
