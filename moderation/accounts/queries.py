"""Reads for accounts: users, schools and who is in whose scope."""

from dataclasses import dataclass

from sqlalchemy import func

from moderation.accounts.models import (
    ContextMeasure,
    District,
    MeasureUnit,
    Membership,
    Role,
    School,
    SchoolContext,
    User,
)
from moderation.core import timezones
from moderation.core.extensions import db


def user_by_email(email: str) -> User | None:
    return db.session.execute(
        db.select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()


def user_for_session(user_id: int, session_version: int) -> User | None:
    user = db.session.get(User, user_id)
    if user is None or user.session_version != session_version or not user.is_active:
        return None
    return user


def teachers_in_scope(membership: Membership) -> list[tuple[User, School]]:
    """Teachers a coach or district admin membership covers, with their school, by name."""
    query = (
        db.select(User, School)
        .join(Membership, Membership.user_id == User.id)
        .join(School, School.id == Membership.school_id)
        .where(Membership.role == Role.TEACHER, Membership.district_id == membership.district_id)
        .order_by(School.name, User.display_name)
    )
    if membership.school_id is not None:
        query = query.where(Membership.school_id == membership.school_id)
    return list(db.session.execute(query).all())


def _staff_counts(district_id: int, role: Role) -> dict[int | None, int]:
    """Memberships of `role` per school of a district."""
    return dict(
        db.session.execute(
            db.select(Membership.school_id, func.count(Membership.id))
            .where(Membership.district_id == district_id, Membership.role == role)
            .group_by(Membership.school_id)
        ).all()
    )


def school_overview(district_id: int) -> list[dict]:
    """Each school of a district with its context and its number of teachers and coaches."""
    teachers = _staff_counts(district_id, Role.TEACHER)
    coaches = _staff_counts(district_id, Role.COACH)
    schools = db.session.execute(
        db.select(School).where(School.district_id == district_id).order_by(School.name)
    ).scalars()
    return [
        {"school": s, "n_teachers": teachers.get(s.id, 0), "n_coaches": coaches.get(s.id, 0)}
        for s in schools
    ]


def district_by_name(name: str) -> District | None:
    return db.session.execute(db.select(District).where(District.name == name)).scalar_one_or_none()


def time_zone_name_of(user: User) -> str:
    """The zone `user` reads times in: their own choice, else their district's (the district
    of their first membership, where they belong to several), else UTC."""
    if user.time_zone in timezones.zone_names():
        return user.time_zone  # without loading a district
    return district_time_zone_of(user)


def district_time_zone_of(user: User) -> str:
    """The zone `user` would read times in without a choice of their own."""
    memberships = sorted(user.memberships, key=lambda m: m.id)
    return timezones.first_known(m.district.time_zone for m in memberships)


def context_measures(district_id: int) -> list[ContextMeasure]:
    """The kinds of public context a district records, in the order they were added."""
    return list(db.session.execute(
        db.select(ContextMeasure).where(ContextMeasure.district_id == district_id)
        .order_by(ContextMeasure.id)).scalars())


def schools_of(district_id: int, *, archived: bool) -> list[School]:
    """A district's active or archived schools by name, their context loaded with them."""
    archived_test = School.archived_at.is_not(None) if archived else School.archived_at.is_(None)
    return list(db.session.execute(
        db.select(School).where(School.district_id == district_id, archived_test)
        .order_by(School.name)).scalars())


@dataclass(frozen=True)
class ContextRow:
    """One public figure about one school, as the equity analysis reads it. A share is 0-1;
    `year` is None only for figures carried over from before years were recorded."""

    school_id: int
    school: str
    is_archived: bool
    measure: str
    label: str
    unit: MeasureUnit
    value: float
    year: int | None
    source: str


def school_context(district_id: int) -> list[ContextRow]:
    """Every school's public context in a district (archived schools too: their past results
    are still analysed), by school name and then measure, in one statement."""
    rows = db.session.execute(
        db.select(School.id, School.name, School.archived_at, ContextMeasure.key,
                  ContextMeasure.label, ContextMeasure.unit, SchoolContext.value,
                  SchoolContext.year, SchoolContext.source)
        .join(SchoolContext, SchoolContext.school_id == School.id)
        .join(ContextMeasure, ContextMeasure.id == SchoolContext.measure_id)
        .where(School.district_id == district_id)
        .order_by(School.name, ContextMeasure.id))
    return [ContextRow(school_id=i, school=name, is_archived=archived_at is not None,
                       measure=key, label=label, unit=unit, value=value, year=year,
                       source=source)
            for i, name, archived_at, key, label, unit, value, year, source in rows]
