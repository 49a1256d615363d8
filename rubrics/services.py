"""Writes and rules for rubrics. Services flush, never commit: the view commits once.

The versioning rule lives here: every write to a version's criteria or levels goes through
ensure_editable(), which locks the version row and refuses (RubricFrozenError) once the
version has been used for scoring. Changes then go into create_next_version(), a deep copy.
"""

import re

from moderation.core import audit
from moderation.core.db import utcnow
from moderation.core.extensions import db
from rubrics import queries
from rubrics.errors import RubricError, RubricFormatError, RubricFrozenError
from rubrics.jsonformat import RubricDoc
from rubrics.models import Criterion, Level, Rubric, RubricVersion

__all__ = [
    "RubricError", "RubricFormatError", "RubricFrozenError", "add_criterion", "add_level",
    "create_next_version", "create_rubric", "delete_criterion", "delete_level",
    "ensure_editable", "freeze_version", "frozen_message", "import_rubric", "move_criterion",
    "move_level", "set_proficient", "update_criterion", "update_level", "update_rubric_details",
]


# --- the versioning rule --------------------------------------------------------------------

def freeze_version(version: RubricVersion, reason: str | None = None) -> None:
    """Freeze `version` for good (idempotent). Called when the first score against it is
    recorded, or when an anchor paper is promoted with it; `reason` goes to the audit log.

    Offer only versions without queries.version_problems() for scoring (versions_for_district
    with ready_only=True), so a frozen version is always complete: one proficient level per
    criterion, at least two levels each.
    """
    if version.frozen_at is not None:
        return
    version.frozen_at = utcnow()
    audit.record("rubric_version_frozen", obj=version, rubric_id=version.rubric_id,
                 number=version.number, reason=reason)
    db.session.flush()


def next_number(rubric_id: int) -> int:
    current = db.session.scalar(
        db.select(db.func.max(RubricVersion.number)).where(RubricVersion.rubric_id == rubric_id))
    return (current or 0) + 1


def frozen_message(version: RubricVersion) -> str:
    """What a user is told when they try to change a frozen version, and what to do instead."""
    count = queries.score_count(version)
    if count:
        used = f"This version has been used for {count} score{'s' if count != 1 else ''}"
    else:
        used = "This version is in use for scoring"
    draft = queries.newer_draft(version)
    if draft is not None:
        return (f"{used}, so it can no longer change. Version {draft.number} is a draft: "
                "make your changes there.")
    return (f"{used}, so it can no longer change. Create version {next_number(version.rubric_id)}"
            " to make changes.")


def ensure_editable(version: RubricVersion) -> None:
    """Refuse any change to a frozen version (RubricFrozenError), reading frozen_at under a row
    lock that is held until the transaction ends."""
    frozen_at = queries.frozen_at_for_update(version.id)
    if frozen_at is not None:
        version.frozen_at = frozen_at
        raise RubricFrozenError(frozen_message(version), version.id)


# --- rubrics and versions -------------------------------------------------------------------

def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _required(value: str | None, what: str) -> str:
    value = _clean(value)
    if value is None:
        raise RubricError(f"Give the {what}.")
    return value


def _codes(value: str | list[str] | tuple[str, ...] | None) -> str | None:
    """Normalise standard codes to "A, B, C": commas, semicolons or new lines separate them."""
    if isinstance(value, list | tuple):
        value = ",".join(value)
    codes = [c.strip() for c in re.split(r"[,;\n]", value or "") if c.strip()]
    joined = ", ".join(dict.fromkeys(codes))
    if len(joined) > 500:
        raise RubricError("The standard codes are too long together (500 characters at most).")
    return joined or None


def _title_taken(district_id: int, title: str, rubric_id: int | None = None) -> bool:
    existing = queries.rubric_by_title(district_id, title)
    return existing is not None and existing.id != rubric_id


def create_rubric(district_id: int, *, title: str, subject: str, grade_band: str,
                  description: str | None = None, actor=None) -> RubricVersion:
    """A new rubric of the district, with an empty, editable version 1 (returned)."""
    title = _required(title, "rubric a title")
    if _title_taken(district_id, title):
        raise RubricError(f"This district already has a rubric called “{title}”. Choose another "
                          "title, or open that rubric and create a new version of it.")
    rubric = Rubric(district_id=district_id, title=title,
                    subject=_required(subject, "subject"),
                    grade_band=_required(grade_band, "grade band"),
                    description=_clean(description), created_by_id=getattr(actor, "id", None))
    version = RubricVersion(rubric=rubric, number=1, created_by_id=rubric.created_by_id)
    db.session.add_all([rubric, version])
    db.session.flush()
    audit.record("rubric_created", actor=actor, obj=rubric, title=title,
                 district_id=district_id)
    return version


def update_rubric_details(rubric: Rubric, *, title: str, subject: str, grade_band: str,
                          description: str | None = None, actor=None) -> None:
    """Rename or re-describe a rubric. These are catalogue details shared by every version, not
    what teachers score against, so they stay editable after a version is frozen."""
    title = _required(title, "rubric a title")
    if _title_taken(rubric.district_id, title, rubric.id):
        raise RubricError(f"This district already has a rubric called “{title}”.")
    before = {"title": rubric.title, "subject": rubric.subject, "grade_band": rubric.grade_band}
    rubric.title = title
    rubric.subject = _required(subject, "subject")
    rubric.grade_band = _required(grade_band, "grade band")
    rubric.description = _clean(description)
    db.session.flush()
    audit.record("rubric_details_changed", actor=actor, obj=rubric, before=before)


def create_next_version(version: RubricVersion, actor=None,
                        change_note: str | None = None) -> RubricVersion:
    """A new, editable version of the rubric: a deep copy of `version`'s criteria and levels.

    `version` and everything that points at it stay exactly as they were. A rubric has at most
    one editable draft, and it is always the newest version.
    """
    draft = queries.newer_draft(version)
    if draft is not None:
        raise RubricError(f"Version {draft.number} is already a draft of this rubric: make your "
                          "changes there.")
    if not version.is_frozen and queries.frozen_at_for_update(version.id) is None:
        raise RubricError(f"Version {version.number} has not been used yet, so you can edit it "
                          "directly.")
    new = RubricVersion(rubric_id=version.rubric_id, number=next_number(version.rubric_id),
                        created_by_id=getattr(actor, "id", None), change_note=_clean(change_note))
    for criterion in version.criteria:
        new.criteria.append(Criterion(
            position=criterion.position, name=criterion.name, description=criterion.description,
            student_friendly=criterion.student_friendly,
            standard_codes=criterion.standard_codes,
            levels=[Level(score=lv.score, label=lv.label, descriptor=lv.descriptor,
                          student_friendly=lv.student_friendly, is_proficient=lv.is_proficient)
                    for lv in criterion.levels]))
    db.session.add(new)
    db.session.flush()
    audit.record("rubric_version_created", actor=actor, obj=new, rubric_id=version.rubric_id,
                 number=new.number, copied_from=version.number)
    return new


# --- criteria -------------------------------------------------------------------------------

def _criterion_name(version: RubricVersion, name: str | None,
                    criterion: Criterion | None = None) -> str:
    name = _required(name, "criterion a name")
    if any(c.name.casefold() == name.casefold() and c is not criterion
           for c in version.criteria):
        raise RubricError(f"This rubric already has a criterion called “{name}”.")
    return name


def add_criterion(version: RubricVersion, *, name: str, description: str | None = None,
                  student_friendly: str | None = None,
                  standard_codes: str | list[str] | None = None) -> Criterion:
    """Append a criterion (without levels: they are added one by one)."""
    ensure_editable(version)
    criterion = Criterion(
        position=max((c.position for c in version.criteria), default=0) + 1,
        name=_criterion_name(version, name), description=_clean(description),
        student_friendly=_clean(student_friendly), standard_codes=_codes(standard_codes))
    version.criteria.append(criterion)
    db.session.flush()
    return criterion


def update_criterion(criterion: Criterion, *, name: str, description: str | None = None,
                     student_friendly: str | None = None,
                     standard_codes: str | list[str] | None = None) -> None:
    ensure_editable(criterion.version)
    name, codes = _criterion_name(criterion.version, name, criterion), _codes(standard_codes)
    criterion.name, criterion.standard_codes = name, codes
    criterion.description = _clean(description)
    criterion.student_friendly = _clean(student_friendly)
    db.session.flush()


def move_criterion(criterion: Criterion, offset: int) -> None:
    """Move a criterion up (offset -1) or down (+1); positions stay 1..n without gaps."""
    version = criterion.version
    ensure_editable(version)
    ordered = list(version.criteria)
    index = ordered.index(criterion)
    target = index + offset
    if not 0 <= target < len(ordered):
        raise RubricError(f"“{criterion.name}” is already {'first' if offset < 0 else 'last'}.")
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered, 1):
        item.position = position
    db.session.flush()
    db.session.refresh(version, ["criteria"])


def delete_criterion(criterion: Criterion, actor=None) -> None:
    version = criterion.version
    ensure_editable(version)
    version.criteria.remove(criterion)
    for position, item in enumerate(version.criteria, 1):
        item.position = position
    db.session.flush()
    audit.record("rubric_criterion_deleted", actor=actor, obj=version, name=criterion.name)


# --- levels ---------------------------------------------------------------------------------

def _check_score(criterion: Criterion, score: int, level: Level | None = None) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise RubricError("The score must be a whole number from 0 to 100.")
    taken = next((lv for lv in criterion.levels if lv.score == score and lv is not level), None)
    if taken is not None:
        raise RubricError(f"Score {score} is already “{taken.label}” for this criterion; "
                          "each score appears once.")
    return score


def _make_proficient(level: Level) -> None:
    for other in level.criterion.levels:
        other.is_proficient = other is level


def add_level(criterion: Criterion, *, score: int, label: str, descriptor: str,
              student_friendly: str | None = None, is_proficient: bool = False) -> Level:
    """Add a performance level; marking it proficient moves the criterion's mark here. While a
    version is a draft a criterion may lack its proficient level (version_problems says so)."""
    ensure_editable(criterion.version)
    level = Level(score=_check_score(criterion, score), label=_required(label, "level a label"),
                  descriptor=_required(descriptor, "descriptor: what work at this level shows"),
                  student_friendly=_clean(student_friendly))
    criterion.levels.append(level)
    if is_proficient:
        _make_proficient(level)
    db.session.flush()
    db.session.refresh(criterion, ["levels"])
    return level


def update_level(level: Level, *, score: int, label: str, descriptor: str,
                 student_friendly: str | None = None, is_proficient: bool = False) -> None:
    criterion = level.criterion
    ensure_editable(criterion.version)
    new_score = _check_score(criterion, score, level)
    label = _required(label, "level a label")
    descriptor = _required(descriptor, "descriptor: what work at this level shows")
    level.label, level.descriptor = label, descriptor
    level.student_friendly = _clean(student_friendly)
    if is_proficient:
        _make_proficient(level)
    else:
        level.is_proficient = False
    if new_score != level.score:
        level.score = new_score
        db.session.flush()
        db.session.refresh(criterion, ["levels"])
    db.session.flush()


def set_proficient(level: Level) -> None:
    ensure_editable(level.criterion.version)
    _make_proficient(level)
    db.session.flush()


def move_level(level: Level, offset: int) -> None:
    """Swap a level's descriptor with its neighbour's: the scores stay in order, the wording at
    each score changes places (offset -1 moves it to the lower score, +1 to the higher)."""
    criterion = level.criterion
    ensure_editable(criterion.version)
    ordered = list(criterion.levels)
    index = ordered.index(level)
    target = index + offset
    if not 0 <= target < len(ordered):
        raise RubricError(f"“{level.label}” already has the "
                          f"{'lowest' if offset < 0 else 'highest'} score.")
    other = ordered[target]
    mine, theirs = level.score, other.score
    # Two steps through a free score: the (criterion, score) unique constraint holds throughout.
    level.score = -1
    db.session.flush()
    other.score = mine
    db.session.flush()
    level.score = theirs
    db.session.flush()
    db.session.refresh(criterion, ["levels"])


def delete_level(level: Level, actor=None) -> None:
    criterion = level.criterion
    ensure_editable(criterion.version)
    criterion.levels.remove(level)
    db.session.flush()
    audit.record("rubric_level_deleted", actor=actor, obj=criterion.version,
                 criterion=criterion.name, score=level.score, label=level.label)


# --- import ---------------------------------------------------------------------------------

def _fill(version: RubricVersion, document: RubricDoc) -> None:
    for position, doc in enumerate(document.criteria, 1):
        version.criteria.append(Criterion(
            position=position, name=doc.name, description=doc.description,
            student_friendly=doc.student_friendly, standard_codes=_codes(doc.standard_codes),
            levels=[Level(score=lv.score, label=lv.label, descriptor=lv.descriptor,
                          student_friendly=lv.student_friendly, is_proficient=lv.is_proficient)
                    for lv in doc.levels]))


def import_rubric(document: RubricDoc, district_id: int, actor=None, *,
                  as_new_version: bool = False) -> RubricVersion:
    """Create a rubric from a parsed file (version 1), or with as_new_version add the file as
    the next version of the district's rubric of the same title. Catalogue details of an
    existing rubric are left as they are."""
    existing = queries.rubric_by_title(district_id, document.title)
    if existing is None:
        version = create_rubric(district_id, title=document.title, subject=document.subject,
                                grade_band=document.grade_band,
                                description=document.description, actor=actor)
        version.change_note = document.change_note
    elif not as_new_version:
        raise RubricError(f"This district already has a rubric called “{document.title}”. "
                          "Import the file as its next version instead, or change the title "
                          "in the file.")
    else:
        latest = queries.latest_version(existing)
        if latest is not None and not latest.is_frozen:
            raise RubricError(f"Version {latest.number} of “{existing.title}” is a draft that "
                              "has not been used yet; edit it, or freeze it by using it, "
                              "before importing a new version.")
        version = RubricVersion(rubric=existing, number=next_number(existing.id),
                                created_by_id=getattr(actor, "id", None),
                                change_note=document.change_note)
        db.session.add(version)
    _fill(version, document)
    db.session.flush()
    audit.record("rubric_imported", actor=actor, obj=version, rubric_id=version.rubric_id,
                 number=version.number, title=document.title)
    return version
