"""Writes and rules for a district's schools and their public context.

A school is created, edited and archived, never deleted: its samples and ratings keep pointing
at it. Its public context is one row per measure the district defines (low-income share,
English learners share, enrolment), each figure with the year it describes and its source, so
the equity analysis can say what it compared and from where. Services flush, never commit.
"""

import re
from dataclasses import dataclass

from moderation.accounts.models import (
    ContextMeasure,
    District,
    MeasureUnit,
    School,
    SchoolContext,
    User,
)
from moderation.accounts.services import AccountError
from moderation.core import audit
from moderation.core.db import utcnow
from moderation.core.extensions import db

FIRST_YEAR = 1990
# More than any school's enrolment or staff: a larger count is a typing slip.
MAX_COUNT = 1_000_000


class SchoolError(AccountError):
    """A change to a school or its context that cannot be made; the message is for the user."""


@dataclass(frozen=True)
class Figure:
    """A context value as stored (a share as 0-1), the year it describes and its source."""

    value: float
    year: int | None
    source: str


def last_year() -> int:
    """The latest year a figure may describe: next year's projections are published early."""
    return utcnow().year + 1


def check_figure(measure: ContextMeasure, figure: Figure) -> None:
    """Refuse a value outside its unit's range, a year outside 1990..next year, no source."""
    if measure.unit == MeasureUnit.SHARE and not 0 <= figure.value <= 1:
        raise SchoolError(f"{measure.label}: enter a percentage from 0 to 100.")
    if measure.unit == MeasureUnit.COUNT and not (
            0 <= figure.value <= MAX_COUNT and figure.value == int(figure.value)):
        raise SchoolError(f"{measure.label}: enter a whole number from 0 to {MAX_COUNT:,}.")
    if figure.year is None or not FIRST_YEAR <= figure.year <= last_year():
        raise SchoolError(f"{measure.label}: enter the year it describes, "
                          f"{FIRST_YEAR} to {last_year()}.")
    if not figure.source.strip():
        raise SchoolError(f"{measure.label}: say where the figure was published.")


def figure_text(measure: ContextMeasure, figure: Figure | SchoolContext | None) -> str:
    """A figure in words for the audit log: "52% (2025, State report card)"."""
    if figure is None:
        return "not recorded"
    shown = f"{figure.value:.1%}" if measure.unit == MeasureUnit.SHARE else f"{figure.value:g}"
    year = figure.year if figure.year is not None else "year not recorded"
    return f"{shown} ({year}, {figure.source})"


def _check_name(district: District, name: str, school: School | None = None) -> str:
    name = name.strip()
    if not name:
        raise SchoolError("Enter the school's name.")
    taken = db.session.execute(
        db.select(School.id).where(School.district_id == district.id,
                                   db.func.lower(School.name) == name.lower(),
                                   School.id != (school.id if school else -1))).first()
    if taken:
        raise SchoolError(f"{district.name} already has a school called {name}.")
    return name


def _measures_of(district: District,
                 figures: dict[int, Figure | None]) -> dict[int, ContextMeasure]:
    measures = {m.id: m for m in db.session.execute(
        db.select(ContextMeasure).where(ContextMeasure.district_id == district.id)).scalars()}
    if unknown := set(figures) - set(measures):
        raise SchoolError(f"No such context measure in {district.name}: {sorted(unknown)}.")
    return measures


def _apply_context(school: School, measures: dict[int, ContextMeasure],
                   figures: dict[int, Figure | None]) -> dict[str, list[str]]:
    """Write `figures` (None clears one) and return what changed, by measure label."""
    current = {row.measure_id: row for row in school.context}
    changes = {}
    for measure_id, figure in figures.items():
        measure, row = measures[measure_id], current.get(measure_id)
        if figure is not None:
            check_figure(measure, figure)
        before, after = figure_text(measure, row), figure_text(measure, figure)
        if before == after:
            continue
        changes[measure.label] = [before, after]
        if figure is None:
            school.context.remove(row)
        elif row is None:
            school.context.append(SchoolContext(measure_id=measure_id, value=figure.value,
                                                year=figure.year, source=figure.source.strip()))
        else:
            row.value, row.year, row.source = figure.value, figure.year, figure.source.strip()
    return changes


def create_school(district: District, actor: User, name: str, grade_band: str | None,
                  figures: dict[int, Figure | None]) -> School:
    """A new school in `district` with its context (measure id -> figure). Audited."""
    school = School(district=district, name=_check_name(district, name),
                    grade_band=(grade_band or "").strip() or None)
    db.session.add(school)
    changes = _apply_context(school, _measures_of(district, figures), figures)
    db.session.flush()
    audit.record("school_created", actor=actor, obj=school, name=school.name,
                 grade_band=school.grade_band,
                 context={label: after for label, (_, after) in changes.items()})
    return school


def edit_school(school: School, actor: User, name: str, grade_band: str | None,
                figures: dict[int, Figure | None]) -> bool:
    """Change a school's name, grade band and context; False when nothing changed. Audited
    with each change's before and after."""
    district = school.district
    name, grade_band = _check_name(district, name, school), (grade_band or "").strip() or None
    changes = {}
    if name != school.name:
        changes["Name"] = [school.name, name]
    if grade_band != school.grade_band:
        changes["Grades"] = [school.grade_band or "not recorded", grade_band or "not recorded"]
    changes |= _apply_context(school, _measures_of(district, figures), figures)
    if not changes:
        return False
    school.name, school.grade_band = name, grade_band
    db.session.flush()
    audit.record("school_changed", actor=actor, obj=school, name=school.name, changes=changes)
    return True


def set_archived(school: School, actor: User, archived: bool) -> bool:
    """Archive a school (it leaves uploads and new rounds, keeps its history) or bring it
    back; False when it already was. Audited."""
    if school.is_archived == archived:
        return False
    school.archived_at = utcnow() if archived else None
    db.session.flush()
    audit.record("school_archived" if archived else "school_unarchived", actor=actor,
                 obj=school, name=school.name)
    return True


def _key_of(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:60]


def add_measure(district: District, actor: User, label: str, unit: MeasureUnit,
                description: str = "", key: str | None = None) -> ContextMeasure:
    """A new kind of context the district records for every school. Audited."""
    label = label.strip()
    key = key or _key_of(label)
    if not key:
        raise SchoolError("Name the measure, for example “English learners share”.")
    clash = db.session.execute(
        db.select(ContextMeasure.label).where(
            ContextMeasure.district_id == district.id,
            db.or_(ContextMeasure.key == key,
                   db.func.lower(ContextMeasure.label) == label.lower()))).scalar()
    if clash is not None:
        raise SchoolError(f"{district.name} already records “{clash}”.")
    measure = ContextMeasure(district_id=district.id, key=key, label=label, unit=unit,
                             description=description.strip())
    db.session.add(measure)
    db.session.flush()
    audit.record("context_measure_added", actor=actor, obj=measure, label=label,
                 unit=unit.value, description=measure.description)
    return measure
