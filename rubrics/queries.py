"""Reads for rubrics: what a district has, which version is current, who may see or edit it."""

import re
from collections.abc import Callable

from sqlalchemy.orm import selectinload

from moderation.accounts.models import Role
from moderation.accounts.permissions import district_ids
from moderation.core.extensions import db
from rubrics.models import Criterion, Rubric, RubricVersion

EDITOR_ROLES = (Role.COACH, Role.DISTRICT_ADMIN)
VIEWER_ROLES = (Role.TEACHER, Role.COACH, Role.DISTRICT_ADMIN)

# Packages that record scores against a version register a counter here from create_app
# (rubrics cannot import them: dependencies point the other way). Each takes a version id and
# returns how many scores use it.
SCORE_COUNTERS: list[Callable[[int], int]] = []


def register_score_counter(counter: Callable[[int], int]) -> None:
    """Add `counter` to SCORE_COUNTERS once, however many apps create_app() builds."""
    if counter not in SCORE_COUNTERS:
        SCORE_COUNTERS.append(counter)


def rubrics_for_district(district_id: int) -> list[Rubric]:
    """The district's rubrics by title, with their versions loaded."""
    return list(db.session.execute(
        db.select(Rubric).where(Rubric.district_id == district_id)
        .options(selectinload(Rubric.versions)).order_by(Rubric.title)
    ).scalars())


def rubric_by_title(district_id: int, title: str) -> Rubric | None:
    return db.session.execute(
        db.select(Rubric).where(Rubric.district_id == district_id, Rubric.title == title.strip())
    ).scalar_one_or_none()


def latest_version(rubric: Rubric) -> RubricVersion | None:
    """The highest-numbered version (frozen or not), or None for a rubric without versions."""
    return db.session.execute(
        db.select(RubricVersion).where(RubricVersion.rubric_id == rubric.id)
        .order_by(RubricVersion.number.desc()).limit(1)
    ).scalar_one_or_none()


def versions_for_district(district_id: int, *, ready_only: bool = False) -> list[RubricVersion]:
    """Every version of the district's rubrics, by rubric title then number (for select boxes).

    With ready_only, only versions that pass version_problems() (complete enough to score).
    Each version's `label` reads "Argumentative Writing (version 2)".
    """
    versions = list(db.session.execute(
        db.select(RubricVersion).join(Rubric)
        .where(Rubric.district_id == district_id)
        .options(selectinload(RubricVersion.rubric),
                 selectinload(RubricVersion.criteria).selectinload(Criterion.levels))
        .order_by(Rubric.title, RubricVersion.number)
    ).scalars())
    if ready_only:
        versions = [v for v in versions if not version_problems(v)]
    return versions


def score_count(version: RubricVersion) -> int | None:
    """How many scores use this version, or None while no scoring package reports counts."""
    if not SCORE_COUNTERS:
        return None
    return sum(counter(version.id) for counter in SCORE_COUNTERS)


def score_problem(version: RubricVersion, scores: dict[int, int], *, complete: bool = True
                  ) -> str | None:
    """Why `scores` (criterion id -> score) do not fit this version's levels, or None if they do.

    With complete=False criteria may be left unscored (a draft). The message is for the user;
    every package that records scores against a version checks them here.
    """
    if set(scores) - {c.id for c in version.criteria}:
        return "Some scores are for criteria of another rubric version."
    for criterion in version.criteria:
        score = scores.get(criterion.id)
        if score is None:
            if complete:
                return f"Choose a level for “{criterion.name}”."
        elif score not in {level.score for level in criterion.levels}:
            return f"{score} is not a level of “{criterion.name}”."
    return None


def version_problems(version: RubricVersion) -> list[str]:
    """What stops this version from being used for scoring, in plain words (empty when ready)."""
    if not version.criteria:
        return ["Add at least one criterion."]
    problems = []
    for criterion in version.criteria:
        if len(criterion.levels) < 2:
            problems.append(f"“{criterion.name}” needs at least two performance levels.")
        elif criterion.proficient_level is None:
            problems.append(f"“{criterion.name}” needs one level marked as proficient.")
    return problems


def district_ids_for(user, roles=VIEWER_ROLES) -> set[int]:
    """Districts in which the user holds one of `roles` (any school or district-wide)."""
    return district_ids(user, *roles)


def can_view(user, rubric: Rubric) -> bool:
    return rubric.district_id in district_ids_for(user, VIEWER_ROLES)


def can_edit(user, rubric: Rubric) -> bool:
    """Coaches and district administrators of the rubric's district build and edit rubrics."""
    return rubric.district_id in district_ids_for(user, EDITOR_ROLES)


def newer_draft(version: RubricVersion) -> RubricVersion | None:
    """A later version of the same rubric that can still change, if one exists."""
    return db.session.execute(
        db.select(RubricVersion)
        .where(RubricVersion.rubric_id == version.rubric_id,
               RubricVersion.number > version.number, RubricVersion.frozen_at.is_(None))
        .order_by(RubricVersion.number.desc()).limit(1)
    ).scalar_one_or_none()


def frozen_at_for_update(version_id: int):
    """The version's frozen_at as committed now, locking the row until the transaction ends.

    Every edit takes this lock first, and freezing updates the same row, so an edit and the
    first score against a version cannot both succeed (PostgreSQL; SQLite serialises writers).
    """
    return db.session.execute(
        db.select(RubricVersion.frozen_at).where(RubricVersion.id == version_id)
        .with_for_update()
    ).scalar_one()


def version_by_number(rubric_id: int, number: int) -> RubricVersion | None:
    return db.session.execute(
        db.select(RubricVersion)
        .where(RubricVersion.rubric_id == rubric_id, RubricVersion.number == number)
    ).scalar_one_or_none()


DEFAULT_LABELS = {1: "Beginning", 2: "Developing", 3: "Proficient", 4: "Advanced"}
DEFAULT_PROFICIENT_SCORE = 3


def suggested_level(criterion: Criterion) -> dict:
    """Prefill for the next level of a criterion: the next score, and the label (and proficiency
    mark) that score has elsewhere in the version, so criteria share one scale."""
    score = max((lv.score for lv in criterion.levels), default=0) + 1
    sibling = next((lv for c in criterion.version.criteria if c is not criterion
                    for lv in c.levels if lv.score == score), None)
    label = sibling.label if sibling else DEFAULT_LABELS.get(score, "")
    is_proficient = criterion.proficient_level is None and (
        sibling.is_proficient if sibling is not None else score == DEFAULT_PROFICIENT_SCORE)
    return {"score": score, "label": label, "is_proficient": is_proficient}


# Kindergarten (and the years before it) as grade numbers, so "K-5" is the span 0-5.
_GRADE_WORDS = {"pk": -1, "prek": -1, "tk": -1, "k": 0, "kindergarten": 0}


def grade_span(band: str | None) -> tuple[int, int] | None:
    """A grade band such as "K-5", "9-10", "Grade 4" or "6–8" as (lowest, highest) grade, or
    None when it names no grade."""
    words = re.findall(r"[a-z]+|\d+", (band or "").lower().replace("pre-k", "prek"))
    grades = [int(w) if w.isdigit() else _GRADE_WORDS[w] for w in words
              if w.isdigit() or w in _GRADE_WORDS]
    return (min(grades), max(grades)) if grades else None


def version_for_grade_band(versions: list[RubricVersion], band: str | None
                           ) -> RubricVersion | None:
    """Of these versions, the latest version of the rubric whose grade band overlaps `band` by
    the most grades (the first such rubric in the list on a tie), or None when none overlaps."""
    span = grade_span(band)
    if span is None:
        return None
    best, best_overlap = None, 0
    for version in versions:
        rubric_span = grade_span(version.rubric.grade_band)
        if rubric_span is None:
            continue
        overlap = min(span[1], rubric_span[1]) - max(span[0], rubric_span[0]) + 1
        if overlap > best_overlap or (
                best is not None and version.rubric_id == best.rubric_id
                and version.number > best.number):
            best, best_overlap = version, max(overlap, best_overlap)
    return best
