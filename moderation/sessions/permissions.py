"""Who may run, join and see a live session.

- A coach of the district facilitates; a teacher too where the district allows it (the
  setting teachers_facilitate_sessions). A district administrator oversees, never facilitates.
- A session is within one school or across the district's schools. Teachers and coaches whose
  scope covers it may join it by its code: staff of its school (and district-wide coaches) for a
  within-school session, any teacher or coach of the district for a cross-school one.
- Nobody sees anyone's scores of an item before it is revealed, the facilitator included: they
  see who has submitted, as counts and names (queries.item_view decides what a page gets).
- The facilitator and co-facilitator drive the states; the recorder may record consensus too.
"""

from moderation.accounts.models import Role
from moderation.accounts.permissions import district_ids, school_ids
from moderation.sessions.models import ParticipantRole, Session, SessionScope
from moderation.settings import queries as settings_queries

FACILITATING = (ParticipantRole.FACILITATOR, ParticipantRole.CO_FACILITATOR)


def may_facilitate_in(user, district_id: int) -> bool:
    """A coach of the district, or one of its teachers where the district allows it."""
    if district_id in district_ids(user, Role.COACH):
        return True
    return (district_id in district_ids(user, Role.TEACHER)
            and settings_queries.settings_for(district_id).teachers_facilitate_sessions)


def facilitation_district_ids(user) -> set[int]:
    candidates = district_ids(user, Role.COACH, Role.TEACHER)
    return {d for d in candidates if may_facilitate_in(user, d)}


def in_scope(user, session: Session) -> bool:
    """Whether the session's scope covers the user (checked on joining and on every page)."""
    return covers(user, session.district_id, session.scope, session.school_id)


def covers(user, district_id: int, scope: SessionScope, school_id: int | None) -> bool:
    """Whether a session of this scope would cover the user: any teacher or coach of the
    district across schools; the school's staff and district-wide coaches within one."""
    if scope == SessionScope.CROSS_SCHOOL:
        return district_id in district_ids(user, Role.TEACHER, Role.COACH)
    return (school_id in school_ids(user, Role.TEACHER, Role.COACH)
            or district_id in district_ids(user, Role.COACH, district_wide=True))


def oversees(user, session: Session) -> bool:
    """Whether the user follows the session from the district's list of sessions and reads its
    summary without taking part: the district's administrators, and the coaches whose scope
    the session is in (a school's coaches its own sessions, any coach of the district the
    cross-school ones)."""
    if session.district_id in district_ids(user, Role.DISTRICT_ADMIN):
        return True
    if session.scope == SessionScope.CROSS_SCHOOL:
        return session.district_id in district_ids(user, Role.COACH)
    return (session.school_id in school_ids(user, Role.COACH)
            or session.district_id in district_ids(user, Role.COACH, district_wide=True))


def is_facilitating(user, session: Session) -> bool:
    return user.id in (session.facilitator_id, session.co_facilitator_id)


def may_record_consensus(user, session: Session, role: ParticipantRole | None) -> bool:
    return is_facilitating(user, session) or role == ParticipantRole.RECORDER
