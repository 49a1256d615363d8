"""Reads for accounts: users, schools and who is in whose scope."""

from sqlalchemy import func

from moderation.accounts.models import District, Membership, Role, School, User
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
