"""Setting a session up: its agenda, its facilitators, its join code and who may run one."""

import pytest
from sqlalchemy.exc import IntegrityError

from moderation.accounts.models import District, User
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.sessions import services
from moderation.sessions.models import (
    ItemState,
    ParticipantRole,
    Session,
    SessionScope,
    SessionState,
)
from moderation.settings import services as settings_services


def test_a_coach_sets_up_a_session_in_briefing_with_its_agenda_in_order(sessions):
    samples = sessions.world.samples[:3]
    co = sessions.teacher(1)
    session = sessions.session(sessions.create(samples=samples, co_facilitator=co,
                                               timer_minutes=5))
    assert session.state == SessionState.BRIEFING and session.version == 1
    assert [i.sample_id for i in session.items] == [s.id for s in samples]
    assert {i.state for i in session.items} == {ItemState.PENDING}
    assert {(p.user_id, p.role) for p in session.participants} == {
        (sessions.coach.id, ParticipantRole.FACILITATOR), (co.id, ParticipantRole.CO_FACILITATOR)}
    assert not session.is_names_at_reveal  # scores without names unless the session says so
    assert len(session.join_code) == services.JOIN_CODE_LENGTH
    assert set(session.join_code) <= set(services.JOIN_ALPHABET)
    with sessions.app.app_context():
        assert db.session.execute(db.select(AuditEvent.action).where(
            AuditEvent.object_type == "Session")).scalars().all() == ["session_created"]


def test_a_join_code_is_unique_among_open_sessions_only(sessions):
    first = sessions.session(sessions.create())
    second_id = sessions.create(samples=sessions.world.samples[2:4])
    with sessions.app.app_context():
        second = db.session.get(Session, second_id)
        second.join_code = first.join_code
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        db.session.get(Session, first.id).state = SessionState.CLOSED
        db.session.flush()
        db.session.get(Session, second_id).join_code = first.join_code
        db.session.commit()  # a closed session's code is free again


def test_a_teacher_runs_a_session_only_where_the_district_allows_it(sessions):
    teacher = sessions.teacher(0)
    with pytest.raises(services.SessionError, match="coaches run sessions"):
        sessions.create(by=teacher)
    with sessions.app.app_context():
        settings_services.update_settings(
            db.session.get(District, sessions.world.district.id),
            db.session.get(User, sessions.world.admin.id), {"teachers_facilitate_sessions": True})
        db.session.commit()
    assert sessions.session(sessions.create(by=teacher)).facilitator_id == teacher.id


def test_a_within_school_session_takes_its_own_schools_work(sessions):
    world = sessions.world
    own = [s for s in world.samples if s.school_id == world.schools[0].id]
    other = [s for s in world.samples if s.school_id != world.schools[0].id]
    sessions.create(samples=own, scope=SessionScope.WITHIN_SCHOOL, school=0)
    with pytest.raises(services.SessionError, match="another school's work"):
        sessions.create(samples=other[:1], scope=SessionScope.WITHIN_SCHOOL, school=0)


def test_samples_in_an_open_round_cannot_go_on_an_agenda(sessions, open_round):
    scoring_round = open_round(sessions.world, samples=sessions.world.samples[:2], n=1)
    assert scoring_round.id
    with pytest.raises(services.SessionError, match="open scoring round"):
        sessions.create(samples=sessions.world.samples[:1])


@pytest.mark.parametrize(("change", "message"), [
    ({"title": " "}, "Give the session a title"),
    ({"samples": []}, "at least one work sample"),
    ({"timer_minutes": 0}, "A timer runs from 1"),
])
def test_a_bad_set_up_is_refused_with_a_message(sessions, change, message):
    with pytest.raises(services.SessionError, match=message):
        sessions.create(**change)
