"""A report as one reader may read it: the engine's codes replaced everywhere, and what the
reader may not see left out and counted."""

import json
import re

from moderation.reports import round_report
from moderation.reports.audience import Audience, hidden_triggers, visible
from moderation.reports.round_report import ChartCache, build

COACH = Audience(raters={"R12": "Rater 3"}, shows_raters=True, schools={"S3": "Alder High",
                 "S4": "Birch High"}, school_scope=frozenset({"S3"}),
                 criteria={"C5": "Claim and Focus"})
ADMIN = Audience(raters={}, shows_raters=False, schools=COACH.schools, school_scope=None,
                 criteria=COACH.criteria)


def trigger(target: str, reason: str, action=None) -> dict:
    return {"target": target, "reason": reason, "priority": 1, "action": action}


def test_codes_become_the_readers_names_and_sample_codes_stay():
    report = {"triggers": [trigger("C5", "Blind scores on C5 agree too little; see WS-R12A-"
                                         "C5XY and ask R12 (S3) about it.")]}
    [shown] = visible(report, COACH)["triggers"]
    assert shown["reason"] == ("Blind scores on Claim and Focus agree too little; see "
                               "WS-R12A-C5XY and ask Rater 3 (Alder High) about it.")
    levels = visible({"score_levels": {"criteria": {"C5": [1, 2, 3, 4]}}}, COACH)
    assert levels["score_levels"]["criteria"] == {"Claim and Focus": [1, 2, 3, 4]}
    [both] = visible({"triggers": [trigger("C5", "Rater R99 and rater R12 differ on C5.")]},
                     COACH)["triggers"]
    assert both["reason"] == "A rater and Rater 3 differ on Claim and Focus."


def test_raters_and_findings_outside_the_view_are_left_out_and_counted():
    triggers = [trigger("R12", "Rater R12 scores harsher."), trigger("R99", "Rater R99 drifts."),
                trigger("S4", "S4 scores its own work higher."), trigger("design", "Weak.")]
    report = {"raters": [{"rater": "R12", "school": "S3"}, {"rater": "R99", "school": "S4"}],
              "bias": [{"rater": "R99", "criterion": "C5"}], "triggers": triggers}
    coach = visible(report, COACH)
    assert coach["raters"] == [{"rater": "Rater 3", "school": "Alder High"}]
    assert coach["bias"] == []
    assert [t["reason"] for t in coach["triggers"]] == ["Rater 3 scores harsher.", "Weak."]
    assert hidden_triggers(triggers, COACH) == 2
    admin = visible(report, ADMIN)
    assert admin["raters"] == [] and [t["reason"] for t in admin["triggers"]] == [
        "Birch High scores its own work higher.", "Weak."]
    assert hidden_triggers(triggers, ADMIN) == 2


def test_a_proposed_session_keeps_its_prepared_sample_list():
    session = {"kind": "moderation_session", "description": "A moderation session on C5.",
               "material": {"criterion": "C5", "samples": [{"sample": "WS-AAAA-BBBB"},
                                                           {"sample": "WS-CCCC-DDDD"}]}}
    fields = {"criteria": [], "raters": [], "design": {}, "triggers": [
        trigger("C5", "Blind scores on C5 agree too little.", session)]}
    page = build(fields, ADMIN, thresholds=(0.667, 0.8), period=None, cache=ChartCache())
    [finding] = page.findings
    assert finding.action == "A moderation session on Claim and Focus."
    assert finding.samples == ("WS-AAAA-BBBB", "WS-CCCC-DDDD")
    assert page.severity is None and page.n_findings_hidden == 0


def test_a_coach_reads_every_section_of_a_districts_report(report, monkeypatch):
    # The synthetic district names its raters T1..Tn; the app's runs name them R<id>.
    report = json.loads(re.sub(r'"T(\d+)"', r'"R\1"', json.dumps(report)))
    labels = {rater["rater"]: f"Rater {n}" for n, rater in enumerate(report["raters"], 1)}
    coach = Audience(raters=labels, shows_raters=True, schools={}, school_scope=None,
                     criteria={})
    first = min(rater["drift"]["onset"] or "9" for rater in report["raters"])
    flagged = sorted((rater for rater in report["raters"] if rater["drift"]["flagged"]
                      and rater["drift"]["shift_points"] is not None),
                     key=lambda rater: -abs(rater["drift"]["shift_points"]))
    assert len(flagged) >= 3, "the synthetic district plants drift"
    monkeypatch.setattr(round_report, "MAX_DRIFT_CHARTS", 2)   # a district flags hundreds
    page = build(report, coach, thresholds=(0.667, 0.8), period=(first, "2027-06-30"),
                 cache=ChartCache())
    assert [chart.title for chart in page.drift] == [
        f"{labels[rater['rater']]}: change during the period" for rater in flagged[:2]]
    assert [row[0] for row in page.drift_table.rows] == [labels[r["rater"]] for r in flagged]
    severity_labels = {row[0] for row in page.severity.table.rows}
    assert severity_labels <= set(labels.values())
    assert len(page.agreement) == len(report["criteria"]) and page.reliability is not None
    assert {chart.name for chart in page.charts} >= {"reliability", "rater-severity"}
