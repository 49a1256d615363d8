"""A report as one reader may read it: the engine's codes (R12, S3, C5) replaced by what the
reader may see, and what they may not see taken out. Pure: no Flask, no database.

The engine knows raters, schools and criteria by codes made from database ids
(analysis.inputs), so a rater's code could be linked to their account: no code reaches a page
or an export. Raters appear under the label the reader is given (a stable "Rater 17", or the
teacher's name where the district allows it), or not at all; a finding about a rater or school
outside the reader's view is left out, and counted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# A code on its own: not part of a sample's code (WS-R12A-...) or of a longer word. The
# engine writes "Rater R12"; the word goes with the code, since the label says it already.
CODE = re.compile(r"(?<![\w-])(?:(?P<word>[Rr]ater) )?(?P<code>[RSC]\d+)(?![\w-])")
UNSEEN_RATER = "a rater"
# Trigger targets that are about the round as a whole, which every reader sees.
ROUND_TARGETS = ("overall", "design")


@dataclass(frozen=True)
class Audience:
    """What one reader sees of a round's report.

    raters: code -> label of the raters shown one by one (empty: none); shows_raters: whether
    the reader sees raters at all (district administrators and school leaders do not);
    schools: code -> name of every school; school_scope: the codes of the schools whose
    findings the reader sees (None: all); criteria: code -> name."""

    raters: Mapping[str, str]
    shows_raters: bool
    schools: Mapping[str, str]
    school_scope: frozenset[str] | None
    criteria: Mapping[str, str]

    def sees_rater(self, code: str) -> bool:
        return self.shows_raters and code in self.raters

    def sees_school(self, code: str | None) -> bool:
        return self.school_scope is None or code in self.school_scope

    def sees_trigger(self, trigger: dict) -> bool:
        target = trigger["target"]
        if target in ROUND_TARGETS or target in self.criteria:
            return True
        if target in self.schools:
            return self.sees_school(target)
        return self.sees_rater(target)

    def name(self, code: str) -> str:
        """What the reader reads in place of a code."""
        kind = code[0]
        if kind == "R":
            return self.raters[code] if self.sees_rater(code) else UNSEEN_RATER
        names = self.schools if kind == "S" else self.criteria
        return names.get(code, code)


def visible(report: dict, audience: Audience) -> dict:
    """The report's fields (the whole report or some of its parts) as the audience may read
    them: raters, bias terms and findings outside their view left out, then every code in
    every text replaced (relabel). Fields not present are not added."""
    shown = dict(report)
    if "raters" in shown:
        shown["raters"] = [rater for rater in shown["raters"]
                           if audience.sees_rater(rater["rater"])]
    if shown.get("bias"):
        shown["bias"] = [entry for entry in shown["bias"] if audience.sees_rater(entry["rater"])]
    if "schools" in shown:
        shown["schools"] = [school for school in shown["schools"]
                            if audience.sees_school(school["school"])]
    if "triggers" in shown:
        shown["triggers"] = [trigger for trigger in shown["triggers"]
                             if audience.sees_trigger(trigger)]
    return relabel(shown, audience)


def hidden_triggers(triggers: list[dict], audience: Audience) -> int:
    """How many of the findings the audience does not see (counted on the page, not shown)."""
    return sum(not audience.sees_trigger(trigger) for trigger in triggers)


def _replacement(match: re.Match, audience: Audience) -> str:
    code, word = match.group("code"), match.group("word")
    if word and code[0] != "R":     # "rater" before a school's or criterion's code stays
        return f"{word} {audience.name(code)}"
    name = audience.name(code)
    return name[0].upper() + name[1:] if word and word[0] == "R" else name


def relabel(value, audience: Audience):
    """Every code in every string of value (nested dicts and lists too) replaced by the
    audience's name for it. Dict keys are the engine's field names and stay, except a key that
    is a code (score_levels' criteria)."""
    if isinstance(value, str):
        return CODE.sub(lambda match: _replacement(match, audience), value)
    if isinstance(value, dict):
        return {audience.name(key) if isinstance(key, str) and CODE.fullmatch(key) else key:
                relabel(item, audience)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [relabel(item, audience) for item in value]
    return value
