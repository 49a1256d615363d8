"""Who is present: the time of each participant's last poll, in the database (written at most
every 15 s) or in Redis when configured (here its database 7)."""

import uuid
from datetime import timedelta

import pytest
from redis import Redis

from moderation.accounts.models import User
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.sessions import presence, queries
from moderation.sessions.models import Session, SessionParticipant

REDIS_URL = "redis://localhost:6379/7"


def _present(sessions, session_id, now) -> set[int]:
    with sessions.app.app_context():
        return {p.user_id for p in queries.present(db.session.get(Session, session_id), now)}


def _poll(sessions, session_id, user, now) -> None:
    with sessions.app.app_context():
        session = db.session.get(Session, session_id)
        presence.mark_seen(queries.participant(session, db.session.get(User, user.id)), now)
        db.session.commit()


def _stored(sessions, session_id, user):
    with sessions.app.app_context():
        return db.session.execute(db.select(SessionParticipant.last_seen_at).where(
            SessionParticipant.session_id == session_id,
            SessionParticipant.user_id == user.id)).scalar_one()


@pytest.fixture
def joined(sessions):
    """A session a teacher has just joined: its id, the teacher, their stored last poll."""
    session_id = sessions.create()
    teacher = sessions.teacher(0)
    sessions.join(session_id, teacher)
    return session_id, teacher, _stored(sessions, session_id, teacher)


def test_a_participant_is_present_while_polling_and_the_database_is_spared(sessions, joined):
    session_id, teacher, joined = joined
    soon = utcnow() + timedelta(seconds=5)
    _poll(sessions, session_id, teacher, soon)
    assert _stored(sessions, session_id, teacher) == joined  # within 15 s: not written
    later = utcnow() + timedelta(seconds=40)
    assert teacher.id not in _present(sessions, session_id, later)
    _poll(sessions, session_id, teacher, later)
    assert teacher.id in _present(sessions, session_id, later)
    assert sessions.coach.id not in _present(sessions, session_id, later)


@pytest.fixture
def redis_presence(sessions):
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    sessions.app.config.update(PRESENCE_REDIS_URL=REDIS_URL, PRESENCE_KEY_PREFIX=prefix)
    yield
    client = Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()
    sessions.app.extensions.pop("presence_redis").close()


def test_with_redis_every_poll_counts_and_the_database_is_not_written(sessions, joined,
                                                                      redis_presence):
    session_id, teacher, joined = joined
    later = utcnow() + timedelta(seconds=40)
    _poll(sessions, session_id, teacher, later)
    assert _stored(sessions, session_id, teacher) == joined
    assert _present(sessions, session_id, later) == {teacher.id}
    client = Redis.from_url(REDIS_URL)
    key = f"{sessions.app.config['PRESENCE_KEY_PREFIX']}moderation:session:{session_id}:seen"
    assert client.ttl(key) > 0  # the hash goes by itself after the sitting
    client.close()
