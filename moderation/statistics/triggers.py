"""Triggers: the findings a coach should act on, each with its rule and a plain reason.

Rules read the JSON-ready report (criteria, overall, raters, schools, design) built by
`analysis.analyze`, so a trigger always quotes a number the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """Configurable trigger thresholds, with their sources.

    alpha_discard, alpha_rely: Krippendorff, Content Analysis, 2nd ed. (2004): rely on data
        with alpha >= .800; .667 <= alpha < .800 only for tentative conclusions; below .667
        do not rely on them. A criterion (or the whole rubric) triggers when its point estimate
        is below a threshold, naming the lower one it fails; the reason says whether the 95%
        interval lies wholly below it (clear) or reaches it (more double-scored samples would
        settle it). Judging by the interval alone would stay silent exactly when data are few.
    rater_severity: 0.5 logits, practically large for one rater (a school mean needs less,
        see school_effect). A working default set by the project, not a published standard:
        set it for your district.
    rater_severity_z: 3, statistically clear: |severity / SE| >= 3 happens by chance for about
        3 raters in 1,000 (two-sided normal), and the size rule thins those further.
    drift_z: 3, as rater_severity_z (Wolfe, Moulder & Myford 2001, "Detecting differential
        rater functioning over time"; docs/methods.md, "Drift").
    school_effect: 0.3 logits mean rater severity (a project default; docs/methods.md,
        "School standards").
    local_gap: 0.25 score points between a school's local scores and blind scores (a quarter
        of a rubric level; a project default, as in schools.local_gaps).
    """

    alpha_discard: float = 0.667
    alpha_rely: float = 0.800
    rater_severity: float = 0.5
    rater_severity_z: float = 3.0
    drift_z: float = 3.0
    school_effect: float = 0.3
    local_gap: float = 0.25


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Trigger:
    """One finding: what kind, about whom (target), which metric, its value and the threshold
    it crossed (signed where direction matters), and a reason in a coach's words."""

    kind: str
    target: str
    metric: str
    value: float
    threshold: float
    reason: str


def evaluate_triggers(report: dict,
                      thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[Trigger]:
    """All triggers of a report, in the order: reliability, raters, schools, design."""
    return [*reliability_triggers(report["criteria"], report["overall"], thresholds),
            *rater_triggers(report["raters"], thresholds),
            *school_triggers(report["schools"], thresholds),
            *design_triggers(report["design"])]


def reliability_triggers(criteria: list[dict], overall: dict,
                         thresholds: Thresholds) -> list[Trigger]:
    """A criterion (or the overall rubric) whose alpha is below .800 or .667. With a single
    criterion the overall figure repeats it, so it is not reported twice."""
    entries = [(entry["criterion"], f"criterion {entry['criterion']!r}", entry)
               for entry in criteria]
    if len(criteria) > 1:
        entries.append(("overall", "the rubric as a whole", overall))
    return [trigger for target, name, entry in entries
            if (trigger := _reliability_trigger(target, name, entry, thresholds)) is not None]


def rater_triggers(raters: list[dict], thresholds: Thresholds) -> list[Trigger]:
    """Raters with drift flagged, and raters clearly and substantially harsh or lenient."""
    found = []
    for rater in raters:
        drift = rater["drift"]
        if drift["flagged"]:
            found.append(_drift_trigger(rater["rater"], drift, thresholds))
        if _is_clearly_severe(rater, thresholds):
            found.append(_severity_trigger(rater, thresholds))
    return found


def school_triggers(schools: list[dict], thresholds: Thresholds) -> list[Trigger]:
    """Schools flagged lenient or harsh, and schools whose local scores are inflated or
    deflated against blind scoring."""
    found = []
    for school in schools:
        if school["standard_flag"] is not None:
            found.append(_standard_trigger(school, thresholds))
        if school["local_flag"] is not None:
            found.append(_local_gap_trigger(school, thresholds))
    return found


def design_triggers(design: dict) -> list[Trigger]:
    """A rating design in more than one disconnected part."""
    if design["n_components"] <= 1:
        return []
    parts = design["n_components"]
    return [Trigger(
        kind="design_connectivity", target="design", metric="n_components", value=parts,
        threshold=1,
        reason=(f"The raters fall into {parts} groups that never score the same samples, so "
                "rater severities and school standards can only be compared within a group. "
                "Add cross-school blind scoring or a common set of anchor papers."))]


def _reliability_trigger(target: str, name: str, entry: dict,
                         thresholds: Thresholds) -> Trigger | None:
    alpha = entry["alpha"]
    if alpha is None or alpha >= thresholds.alpha_rely:
        return None
    threshold = thresholds.alpha_discard if alpha < thresholds.alpha_discard \
        else thresholds.alpha_rely
    verdict = ("should not be relied on" if threshold == thresholds.alpha_discard
               else "supports tentative conclusions only")
    return Trigger(kind="criterion_reliability", target=target, metric="alpha", value=alpha,
                   threshold=threshold,
                   reason=(f"Blind scores on {name} agree too little: alpha {alpha:.2f} is below "
                           f"{threshold:.3f}, so it {verdict} (Krippendorff). "
                           + _certainty(entry["alpha_ci95"], threshold)))


def _certainty(interval: list[float] | None, threshold: float) -> str:
    if interval is None:
        return "There is no interval to say how sure this is."
    low, high = interval
    if high < threshold:
        return f"The 95% interval ({low:.2f} to {high:.2f}) lies wholly below it."
    return (f"The 95% interval ({low:.2f} to {high:.2f}) reaches it, so more double-scored "
            "samples would settle it; meanwhile, recalibrate on this criterion.")


def _is_clearly_severe(rater: dict, thresholds: Thresholds) -> bool:
    severity, se = rater["severity"], rater["severity_se"]
    if severity is None or not se:
        return False
    return (abs(severity) >= thresholds.rater_severity
            and abs(severity / se) >= thresholds.rater_severity_z)


def _severity_trigger(rater: dict, thresholds: Thresholds) -> Trigger:
    severity = rater["severity"]
    harsh = severity > 0
    direction = "more harshly" if harsh else "more generously"
    return Trigger(
        kind="rater_severity", target=rater["rater"], metric="severity", value=severity,
        threshold=thresholds.rater_severity if harsh else -thresholds.rater_severity,
        reason=(f"Rater {rater['rater']} scores {direction} than the average rater on the same "
                f"work ({severity:+.2f} logits, {abs(severity / rater['severity_se']):.1f} "
                "standard errors from the average). Go through their scores on the anchor "
                "papers with them."))


def _drift_trigger(rater: str, drift: dict, thresholds: Thresholds) -> Trigger:
    shift, onset = drift["shift"], drift["onset"]
    change = "harsher" if shift is not None and shift > 0 else "more generous"
    since = f" from {onset[:10]}" if onset else ""
    size = f" by {abs(shift):.2f} logits" if shift is not None else ""
    return Trigger(
        kind="rater_drift", target=rater, metric="drift_z", value=drift["z"],
        threshold=thresholds.drift_z if drift["z"] >= 0 else -thresholds.drift_z,
        reason=(f"Rater {rater}'s scoring became {change}{since}{size} (z = {drift['z']:.1f}). "
                "Check their recent scores against anchor papers before they score more."))


def _standard_trigger(school: dict, thresholds: Thresholds) -> Trigger:
    harsh = school["standard_flag"] == "harsh"
    value = school["rater_severity"]
    direction = "more harshly" if harsh else "more generously"
    return Trigger(
        kind="school_standard", target=school["school"], metric="rater_severity", value=value,
        threshold=thresholds.school_effect if harsh else -thresholds.school_effect,
        reason=(f"Teachers at {school['school']} score other schools' work {direction} than "
                f"the district's average rater ({value:+.2f} logits, standard error "
                f"{school['rater_severity_se']:.2f}). Moderate their standard with anchor "
                "papers."))


def _local_gap_trigger(school: dict, thresholds: Thresholds) -> Trigger:
    inflated = school["local_flag"] == "inflated"
    gap = school["local_gap"]
    low, high = school["local_gap_ci95"]
    direction = "higher" if inflated else "lower"
    return Trigger(
        kind="school_local_gap", target=school["school"], metric="local_gap", value=gap,
        threshold=thresholds.local_gap if inflated else -thresholds.local_gap,
        reason=(f"{school['school']} scores its own students' work {abs(gap):.2f} points "
                f"{direction} than blind markers do (95% interval {low:+.2f} to {high:+.2f}). "
                "Review a sample of its local scores with its teachers."))
