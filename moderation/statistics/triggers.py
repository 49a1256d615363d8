"""Triggers: the findings a coach should act on, each with its rule and a plain reason.

Rules read the JSON-ready report (criteria, overall, raters, schools, design) built by
`analysis.analyze`, so a trigger always quotes a number the report shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from moderation.statistics.design import MIN_LINKAGE
from moderation.statistics.drift import DRIFT_SIZE, FALSE_DISCOVERY_RATE
from moderation.statistics.multiplicity import benjamini_hochberg, minimum_effect_p


@dataclass(frozen=True)
class Thresholds:
    """Configurable trigger thresholds: the defaults and their sources, in one place.

    A district's settings pass straight through (`Thresholds.from_settings`, the command
    line's --settings FILE and options). The defaults match the district settings of the app.

    alpha_discard, alpha_rely: Krippendorff, Content Analysis, 2nd ed. (2004): rely on data
        with alpha >= .800; .667 <= alpha < .800 only for tentative conclusions; below .667
        do not rely on them. A criterion (or the whole rubric) triggers when its point estimate
        is below a threshold, naming the lower one it fails; the reason says whether the 95%
        interval lies wholly below it (clear) or reaches it (more double-scored samples would
        settle it). Judging by the interval alone would stay silent exactly when data are few.
    false_discovery_rate: .05, the expected share of false findings among the rater findings
        reported (Benjamini & Hochberg 1995). A rater finding needs its q-value below it.
    rater_severity: 0.5 logits from the average rater, practically large for one rater (about
        a third of a rubric level on a typical 4-level scale; a school mean needs less, see
        school_effect). A project default, not a published standard: set it for your
        district. Tested as an interval null (multiplicity.minimum_effect_p): a rater whose
        true difference is within it is not flagged however many ratings they have.
    rater_drift: 0.3 logits, a step in a rater's severity during the period practically large
        enough to act on: the school practical size, below the rater one because a step adds
        to the rater's standing, tested separately, and the action (a private check against
        anchor papers) is cheap; at 0.5, 1-logit steps would be found only 40% of the time at
        an ordinary 325 ratings per rater (90% at 0.3). A project default (drift.DRIFT_SIZE;
        tested as for rater_severity, with the change-point test).
    school_effect: 0.3 logits mean rater severity (a project default; docs/methods.md,
        "School standards").
    local_gap: 0.25 score points between a school's local scores and blind scores (a quarter
        of a rubric level; a project default, as in schools.local_gaps). School findings are
        tested against school_effect and local_gap as interval nulls, with q over the schools
        tested below false_discovery_rate (schools.school_findings).
    min_school_raters, min_school_samples: 3 raters with a severity and 10 samples scored
        blind by other schools; a school with fewer is suppressed (no figures, no triggers).
        Small-cell suppression as statistical agencies practise it: the NCES review of state
        minimum-n rules (NCES 2011-603) finds 10 the most common minimum; 3 raters keeps a
        school figure from being one or two teachers' in disguise (a project default).
    linkage_strength: 0.25, the algebraic connectivity of the rater design below which it is
        too weakly linked to compare raters or schools far apart in it: such a comparison can
        then be more than twice as uncertain as the raters' standard errors say (a project
        default, design.MIN_LINKAGE; docs/methods.md, "The design"). Below it the Rasch fit
        also gives the sample measures a population prior.
    bias_points: 0.25 score points, the size from which a rater x criterion or rater x school
        interaction (bias.py) is reported: a rater's scores on one criterion, or of one
        school's work, a quarter of a rubric level away from what their severity predicts. A
        project default, the same size as local_gap; FACETS shows every pair and leaves the
        size to the reader, and Myford & Wolfe (2003, 2004) judge a bias term by its size as
        well as its t. Reported only with its q below false_discovery_rate as well.
    rater_halo: 0.25, a shortfall of a quarter in a rater's spread of scores across the
        criteria of one piece of work against what the model expects of them (index below
        0.75; rater_effects.py, after Saal, Downey & Lahey 1980 and Myford & Wolfe 2004). A
        project default: on null districts the raters' indices have SD about 0.08 around 1.05.
    rater_central_tendency: 0.10, ten percentage points more of a rater's scores in the middle
        levels than the model expects (rater_effects.py; Myford & Wolfe 2004). A project
        default: on null districts the excess has SD about 0.025 around 0.01.
        Both are tested as for rater_severity (one-sided minimum-effect p, q below the
        false-discovery rate).
    """

    alpha_discard: float = 0.667
    alpha_rely: float = 0.800
    false_discovery_rate: float = FALSE_DISCOVERY_RATE
    rater_severity: float = 0.5
    rater_drift: float = DRIFT_SIZE
    school_effect: float = 0.3
    local_gap: float = 0.25
    linkage_strength: float = MIN_LINKAGE
    bias_points: float = 0.25
    min_school_raters: int = 3
    min_school_samples: int = 10
    rater_halo: float = 0.25
    rater_central_tendency: float = 0.10

    def __post_init__(self) -> None:
        if not 0 < self.false_discovery_rate < 1:
            raise ValueError("false_discovery_rate must be between 0 and 1, not "
                             f"{self.false_discovery_rate}")
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int | float) or isinstance(value, bool) \
                    or not math.isfinite(value) or value < 0:
                raise ValueError(f"{item.name} must be a number of at least 0, not {value!r}")

    @classmethod
    def from_settings(cls, settings: dict, base: Thresholds | None = None) -> Thresholds:
        """Thresholds from a mapping of field names to numbers (a settings file), the rest
        from `base` (the defaults). Unknown names are refused, naming them."""
        names = {item.name for item in fields(cls)}
        unknown = sorted(set(settings) - names)
        if unknown:
            raise ValueError(f"unknown threshold {', '.join(map(repr, unknown))}; known: "
                             f"{', '.join(sorted(names))}")
        return replace(base or cls(), **settings)


DEFAULT_THRESHOLDS = Thresholds()

# Priority of a trigger: 1 act first (far beyond the threshold, or data not to rely on),
# 2 act (beyond the threshold), 3 when there is time (tentative).
FAR = 2.0   # an effect at least FAR times its practical threshold has priority 1
# Triggers shown per school: a coach acts on a few at a time, the most urgent first.
PER_SCHOOL = 5


@dataclass(frozen=True)
class Trigger:
    """One finding: what kind, about whom (target), which metric, its value and the threshold
    it crossed (signed where direction matters), and a reason in a coach's words.

    For a coach to act on it, also: effect (rubric points where the finding has a size in
    points, else None) with effect_ci95 (95% interval) and n (the ratings or samples it rests
    on); p and q (the test's p-value and its Benjamini-Hochberg q over the same kind of
    finding, None where the rule is not a test); rule (why it fired, in words: the effect
    beyond the practical threshold and q below the false-discovery rate); priority (1 act
    first, 2 act, 3 when there is time); action (what to do and with what material: kind,
    audience, material, description); school (the school of the rater or school it is
    about, None for a criterion or the design).
    """

    kind: str
    target: str
    metric: str
    value: float
    threshold: float
    reason: str
    effect: float | None = None
    effect_ci95: list[float] | None = None
    n: int | None = None
    p: float | None = None
    q: float | None = None
    rule: str | None = None
    priority: int = 2
    action: dict | None = None
    school: str | None = None


def evaluate_triggers(report: dict,
                      thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[Trigger]:
    """All triggers of a report, in the order: reliability, raters, schools, design."""
    return [*reliability_triggers(report["criteria"], report["overall"], thresholds),
            *rater_triggers(report["raters"], thresholds),
            *school_triggers(report["schools"], thresholds),
            *design_triggers(report["design"], thresholds)]


def rank_triggers(triggers: list[dict]) -> list[dict]:
    """Triggers (as in the report) most urgent first: by priority, then by the size of the
    effect (rubric points; those without one after those with one), else in their order."""
    def urgency(trigger: dict) -> tuple:
        effect = trigger.get("effect")
        return (trigger["priority"], effect is None, -abs(effect or 0.0))
    return sorted(triggers, key=urgency)


def triggers_by_school(triggers: list[dict], limit: int = PER_SCHOOL) -> dict[str, dict]:
    """Per school with a trigger, its most urgent ones (rank_triggers), at most `limit`:
    {school: {"triggers": [...], "n_more": how many were left out}}. Triggers without a
    school (criteria, the design) are for the district and are left out."""
    grouped: dict[str, list[dict]] = {}
    for trigger in rank_triggers(triggers):
        if trigger.get("school") is not None:
            grouped.setdefault(trigger["school"], []).append(trigger)
    return {school: {"triggers": found[:limit], "n_more": max(len(found) - limit, 0)}
            for school, found in sorted(grouped.items())}


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
    """Raters whose severity stepped during the period, and raters harsh or lenient beyond the
    practical threshold, each only when its q-value over all raters is below the false
    discovery rate (an interval-null test, so a small real difference never fires)."""
    severity_p, severity_q = severity_tests(raters, thresholds)
    found = []
    for rater, p, q in zip(raters, severity_p, severity_q, strict=True):
        drift = rater["drift"]
        if _drift_fires(drift, thresholds):
            found.append(_drift_trigger(rater, drift, thresholds))
        severity = rater["severity"]
        if severity is not None and q < thresholds.false_discovery_rate \
                and abs(severity) > thresholds.rater_severity:
            found.append(_severity_trigger(rater, float(p), float(q), thresholds))
        found.extend(_rater_effect_trigger(rater, kind, thresholds)
                     for kind in RATER_EFFECTS if (rater.get(kind) or {}).get("flag"))
    return found


def severity_tests(raters: list[dict], thresholds: Thresholds) -> tuple[np.ndarray, np.ndarray]:
    """Per rater, the p-value of H0 |severity| <= rater_severity (severities are centred at the
    average rater) and its Benjamini-Hochberg q over the measured raters; NaN where there is
    no severity. Uses the report's severity_p and severity_q when every rater has them."""
    if raters and all("severity_q" in rater for rater in raters):
        p = np.array([_nan(rater.get("severity_p")) for rater in raters])
        q = np.array([_nan(rater["severity_q"]) for rater in raters])
        return p, q
    severity = np.array([_nan(rater["severity"]) for rater in raters])
    se = np.array([_nan(rater["severity_se"]) for rater in raters])
    p = minimum_effect_p(severity, se, thresholds.rater_severity)
    return p, benjamini_hochberg(p)


def _nan(value) -> float:
    return float("nan") if value is None else float(value)


def _drift_fires(drift: dict, thresholds: Thresholds) -> bool:
    """A step beyond the practical drift size whose q is below the false-discovery rate. A
    report without q (the first schema) falls back to its flag."""
    if "q" not in drift:
        return bool(drift["flagged"])
    shift, q = drift["shift"], drift["q"]
    return (shift is not None and q is not None and q < thresholds.false_discovery_rate
            and abs(shift) > thresholds.rater_drift)


def school_triggers(schools: list[dict], thresholds: Thresholds) -> list[Trigger]:
    """Schools flagged lenient or harsh, and schools whose local scores are inflated or
    deflated against blind scoring (each flag: the effect beyond its practical threshold and
    its q over the schools tested below the false-discovery rate; schools.school_findings).
    Suppressed schools have no flags, so no triggers."""
    found = []
    for school in schools:
        if school["standard_flag"] is not None:
            found.append(_standard_trigger(school, thresholds))
        if school["local_flag"] is not None:
            found.append(_local_gap_trigger(school, thresholds))
    return found


def design_triggers(design: dict,
                    thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[Trigger]:
    """A rating design in more than one disconnected part, or linked too weakly."""
    found = [] if design["n_components"] <= 1 else [_connectivity_trigger(design)]
    linkage = design.get("linkage_strength")
    if linkage is not None and linkage < thresholds.linkage_strength:
        found.append(_linkage_trigger(linkage, thresholds))
    return found


def _linkage_trigger(linkage: float, thresholds: Thresholds) -> Trigger:
    cutoff = thresholds.linkage_strength
    return Trigger(
        kind="design_linkage", target="design", metric="linkage_strength", value=linkage,
        threshold=cutoff,
        reason=(f"The raters are linked only weakly (linkage {linkage:.2g}, below {cutoff:g}): "
                "most of them share samples with a few others only, so severities and school "
                "standards of raters far apart in the design cannot be compared reliably. "
                "Have raters score samples across the whole design, or a common set of anchor "
                "papers."),
        rule=f"the design's linkage strength {linkage:.3g} is below {cutoff:g}", priority=1,
        action={"kind": "design_change", "audience": "the district's assessment lead",
                "material": {"linkage_strength": linkage},
                "description": "Mix the raters: assign blind scoring across the whole design, "
                               "or add anchor papers that every rater scores."})


def _connectivity_trigger(design: dict) -> Trigger:
    parts = design["n_components"]
    return Trigger(
        kind="design_connectivity", target="design", metric="n_components", value=parts,
        threshold=1,
        reason=(f"The raters fall into {parts} groups that never score the same samples, so "
                "rater severities and school standards can only be compared within a group. "
                "Add cross-school blind scoring or a common set of anchor papers."),
        rule="the rating design has more than one connected part", priority=1,
        action={"kind": "design_change", "audience": "the district's assessment lead",
                "material": {"n_components": parts},
                "description": "Add cross-school blind scoring or a common set of anchor "
                               "papers that every group scores."})


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
                           + _certainty(entry["alpha_ci95"], threshold)),
                   effect_ci95=entry["alpha_ci95"], n=entry.get("n_units"),
                   rule=f"alpha {alpha:.3f} is below {threshold:.3f} (Krippendorff 2004)",
                   priority=1 if threshold == thresholds.alpha_discard else 3,
                   action=_moderation_session(target, name, entry))


def _moderation_session(target: str, name: str, entry: dict) -> dict:
    """A session on the samples whose blind scores disagree most on the criterion (the
    report's most_disagreement), named when the report lists them."""
    samples = entry.get("most_disagreement") or []
    named = ", ".join(f"{item['sample']}{_on_criterion(item, target)} (scores "
                      f"{item['spread']} points apart, {item['n_ratings']} ratings)"
                      for item in samples)
    on = f": {named}" if named else ""
    return {"kind": "moderation_session", "audience": "the raters of the criterion",
            "material": {"criterion": target,
                         "samples": [{key: item[key] for key in
                                      ("sample", "criterion", "spread", "variance",
                                       "n_ratings")} for item in samples]},
            "description": (f"A moderation session on {name}, on the samples whose blind "
                            f"scores disagree most on it{on}.")}


def _on_criterion(item: dict, target: str) -> str:
    """Over the whole rubric a sample is named with the criterion it is disputed on."""
    return f" on {item['criterion']}" if target == "overall" else ""


def _certainty(interval: list[float] | None, threshold: float) -> str:
    if interval is None:
        return "There is no interval to say how sure this is."
    low, high = interval
    if high < threshold:
        return f"The 95% interval ({low:.2f} to {high:.2f}) lies wholly below it."
    return (f"The 95% interval ({low:.2f} to {high:.2f}) reaches it, so more double-scored "
            "samples would settle it; meanwhile, recalibrate on this criterion.")


def _severity_trigger(rater: dict, p: float, q: float, thresholds: Thresholds) -> Trigger:
    severity = rater["severity"]
    name = rater["rater"]
    harsh = severity > 0
    direction = "more harshly" if harsh else "more generously"
    points = rater.get("fair_average_difference")
    interval = rater.get("fair_average_difference_ci95")
    size = (f"{abs(points):.2f} rubric points {'fewer' if harsh else 'more'} per score, "
            f"{severity:+.2f} logits" if points is not None else f"{severity:+.2f} logits")
    threshold = thresholds.rater_severity
    return Trigger(
        kind="rater_severity", target=name, metric="severity", value=severity,
        threshold=threshold if harsh else -threshold,
        reason=(f"Rater {name} scores {direction} than the average rater on the same work "
                f"({size}). Offer them a private practice set of anchor papers."),
        effect=points, effect_ci95=interval, n=rater.get("n_ratings"), p=p, q=q,
        rule=(f"the severity ({severity:+.2f} logits) is beyond the practical threshold of "
              f"{threshold:.2f} logits and its q-value ({q:.3g}, the p-value {p:.3g} of "
              f"'within {threshold:.2f} logits of the average rater', adjusted over all "
              f"raters) is below the false-discovery rate of "
              f"{thresholds.false_discovery_rate:.2f}"),
        priority=1 if abs(severity) >= FAR * threshold else 2,
        action=_practice_set(rater, harsh), school=rater.get("school"))


def _practice_set(rater: dict, harsh: bool) -> dict:
    """A private practice set on the levels the rater confuses, most frequent first: on the
    anchor and validity papers they scored, the (their score, agreed score) pairs that
    differ, the pairs in the direction of their severity first. Never a public session: the
    finding is about a person."""
    confusions = [pair for pair in rater.get("anchor_confusions") or []
                  if pair["score"] != pair["agreed"]]
    confusions.sort(key=lambda pair: ((pair["score"] < pair["agreed"]) != harsh, -pair["n"]))
    levels = [[pair["score"], pair["agreed"]] for pair in confusions[:3]]
    if levels:
        which = "; ".join(f"scored {score} where the agreed score is {agreed}"
                          for score, agreed in levels)
        description = (f"A private practice set for rater {rater['rater']} of anchor papers "
                       f"at the levels they confuse ({which}), with the agreed scores and "
                       "their rationale, reviewed one to one with a coach.")
    else:
        description = (f"A private practice set for rater {rater['rater']} of anchor papers "
                       "across all levels (they scored none with an agreed score yet), with "
                       "the agreed scores and their rationale, reviewed one to one with a "
                       "coach.")
    return {"kind": "private_practice_set", "audience": "the rater and their coach only",
            "material": {"levels": levels,
                         "papers": "anchor and validity papers with agreed scores"},
            "description": description}


# Per rater effect: its threshold's name, the size's unit, and the anchor papers that train it.
RATER_EFFECTS = {
    "halo": ("rater_halo", "of the expected spread across criteria",
             "anchor papers whose criteria have different agreed levels"),
    "central_tendency": ("rater_central_tendency", "more middle-level scores than expected",
                         "anchor papers at the lowest and highest levels"),
}


def _rater_effect_trigger(rater: dict, kind: str, thresholds: Thresholds) -> Trigger:
    """A halo or central tendency that is practically large and clear (rater_effects.py)."""
    effect = rater[kind]
    name, unit, papers = RATER_EFFECTS[kind]
    size = getattr(thresholds, name)
    threshold = 1 - size if kind == "halo" else size
    return Trigger(
        kind=name, target=rater["rater"], metric=f"{kind}_index", value=effect["index"],
        threshold=threshold, reason=f"Rater {rater['rater']}: {effect['message']}",
        effect_ci95=effect["ci95"], n=effect["n"], p=effect["p"], q=effect["q"],
        rule=(f"the index ({effect['index']:.2f} {unit}) is beyond {threshold:.2f} and its "
              f"q-value ({effect['q']:.3g}, for 'within {size:.2f} of what the model "
              "expects', adjusted over all raters) is below the false-discovery rate of "
              f"{thresholds.false_discovery_rate:.2f}"),
        action={"kind": "private_practice_set", "audience": "the rater and their coach only",
                "material": {"papers": papers},
                "description": (f"A private practice set for rater {rater['rater']} of "
                                f"{papers}, with the agreed scores and their rationale, "
                                "reviewed one to one with a coach.")})


def _drift_trigger(rater: dict, drift: dict, thresholds: Thresholds) -> Trigger:
    name = rater["rater"]
    shift, onset = drift["shift"], drift["onset"]
    change = "harsher" if shift is not None and shift > 0 else "more generous"
    since = f" from {onset[:10]}" if onset else ""
    size = f" by {abs(shift):.2f} logits" if shift is not None else ""
    points = drift.get("shift_points")
    in_points = f" ({abs(points):.2f} rubric points per score)" if points is not None else ""
    z = drift.get("z")
    stated = f" (z = {z:.1f})" if z is not None else ""
    p, q = drift.get("p"), drift.get("q")
    threshold = thresholds.rater_drift
    rule = None
    if q is not None and shift is not None:
        rule = (f"the step ({shift:+.2f} logits) is beyond the practical drift size of "
                f"{threshold:.2f} logits and its q-value ({q:.3g}, the larger of the "
                "change-point p and the p of 'a step within the practical size', adjusted "
                f"over all raters) is below the false-discovery rate of "
                f"{thresholds.false_discovery_rate:.2f}")
    large = shift is not None and abs(shift) >= FAR * threshold
    return Trigger(
        kind="rater_drift", target=name, metric="shift", value=shift,
        threshold=threshold if shift is None or shift >= 0 else -threshold,
        reason=(f"Rater {name}'s scoring became {change}{since}{size}{in_points}{stated}. "
                "Check their recent scores against anchor papers before they score more."),
        effect=points, effect_ci95=drift.get("shift_points_ci95"), n=drift.get("n_timed"),
        p=p, q=q, rule=rule, priority=1 if large else 2,
        action=_practice_set(rater, shift is not None and shift > 0), school=rater.get("school"))


def _standard_trigger(school: dict, thresholds: Thresholds) -> Trigger:
    harsh = school["standard_flag"] == "harsh"
    value = school["rater_severity"]
    direction = "more harshly" if harsh else "more generously"
    points = school.get("standard_points")
    size = (f"{abs(points):.2f} rubric points {'fewer' if harsh else 'more'} per score, "
            if points is not None else "")
    threshold = thresholds.school_effect
    return Trigger(
        kind="school_standard", target=school["school"], metric="rater_severity", value=value,
        threshold=threshold if harsh else -threshold,
        reason=(f"Teachers at {school['school']} score other schools' work {direction} than "
                f"the district's average rater ({size}{value:+.2f} logits, standard error "
                f"{school['rater_severity_se']:.2f}). Moderate their standard with anchor "
                "papers."),
        effect=points, effect_ci95=school.get("standard_points_ci95"),
        n=school.get("n_raters"), p=school.get("standard_p"), q=school.get("standard_q"),
        rule=_school_rule("mean rater severity", f"{value:+.2f} logits",
                          f"{threshold:.2f} logits", school.get("standard_q"), thresholds),
        priority=1 if abs(value) >= FAR * threshold else 2,
        action=_cross_school_session(school), school=school["school"])


def _local_gap_trigger(school: dict, thresholds: Thresholds) -> Trigger:
    inflated = school["local_flag"] == "inflated"
    gap = school["local_gap"]
    low, high = school["local_gap_ci95"]
    direction = "higher" if inflated else "lower"
    threshold = thresholds.local_gap
    return Trigger(
        kind="school_local_gap", target=school["school"], metric="local_gap", value=gap,
        threshold=threshold if inflated else -threshold,
        reason=(f"{school['school']} scores its own students' work {abs(gap):.2f} points "
                f"{direction} than its own teachers' blind marking of the same work predicts "
                f"(95% interval {low:+.2f} to {high:+.2f}, over "
                f"{school.get('n_local_raters')} teachers). Review a sample of its local "
                "scores with its teachers."),
        effect=gap, effect_ci95=[low, high], n=school.get("n_local_samples"),
        p=school.get("local_p"), q=school.get("local_q"),
        rule=_school_rule("local-versus-blind gap", f"{gap:+.2f} points",
                          f"{threshold:.2f} points", school.get("local_q"), thresholds),
        priority=1 if abs(gap) >= FAR * threshold else 2,
        action=_cross_school_session(school), school=school["school"])


def _school_rule(name: str, value: str, threshold: str, q: float | None,
                 thresholds: Thresholds) -> str:
    tested = f" and its q-value ({q:.3g}, adjusted over the schools tested)" if q is not None \
        else ""
    return (f"the {name} ({value}) is beyond the practical threshold of {threshold}{tested} "
            f"is below the false-discovery rate of {thresholds.false_discovery_rate:.2f}")


def _cross_school_session(school: dict) -> dict:
    name = school["school"]
    samples = school.get("session_samples") or []
    others = school.get("session_schools") or []
    named = (f" on {', '.join(samples)}, which {', '.join(others)} also scored blind"
             if samples and others else " on work its teachers and other schools' both scored")
    return {"kind": "cross_school_session",
            "audience": f"teachers of {name} and of " + (", ".join(others) if others
                                                         else "schools that scored the same work"),
            "material": {"school": name, "samples": samples, "schools": others},
            "description": f"A cross-school moderation session for {name}{named}."}
