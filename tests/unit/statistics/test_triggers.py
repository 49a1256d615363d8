"""Trigger rules: what a coach is told to act on, and why."""

import pytest

from moderation.statistics.triggers import Thresholds, evaluate_triggers

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
    (0.8, 0.2, True),     # large and clear
    (-0.8, 0.2, True),    # lenient too
    (0.8, 0.4, False),    # large but unclear (2 SE)
    (0.3, 0.05, False),   # clear but small
    (None, None, False),  # not measured
])
def test_rater_severity_must_be_large_and_clear(severity, se, fires):
    triggers = evaluate_triggers(report(raters=[rater("T1", severity, se)]))

    assert kinds(triggers) == ([("rater_severity", "T1")] if fires else [])
    if fires:
        assert triggers[0].threshold == (0.5 if severity > 0 else -0.5)
        assert ("harshly" if severity > 0 else "generously") in triggers[0].reason


def test_flagged_drift_names_onset_and_direction():
    drift = {"flagged": True, "onset": "2025-10-14T09:00:00+00:00", "shift": 0.9, "z": 3.6}

    (trigger,) = evaluate_triggers(report(raters=[rater("T1", drift=drift)]))

    assert (trigger.kind, trigger.metric, trigger.value, trigger.threshold) == (
        "rater_drift", "drift_z", 3.6, 3.0)
    assert "harsher from 2025-10-14 by 0.90 logits" in trigger.reason


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
                                        raters=[rater("T1", 0.3, 0.05)]), strict)

    assert kinds(triggers) == [("criterion_reliability", "Ideas"), ("rater_severity", "T1")]
