"""Presence: the time of each participant's last poll, which decides who is "present" for the
reveal nobody clicks. With PRESENCE_REDIS_URL (REDIS_URL) set it is kept in Redis, one hash per
session written on every poll at no cost to the database; without it, in
session_participants.last_seen_at, written at most every PRESENCE_WRITE so that a poll every
2 s is mostly a read."""

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from flask import current_app
from redis import Redis
from sqlalchemy import update

from moderation.core.extensions import db
from moderation.core.timezones import as_utc
from moderation.sessions.models import Session, SessionParticipant

PRESENCE_WRITE = timedelta(seconds=15)
# A session's hash outlives any sitting; it goes by itself afterwards.
KEY_LIFETIME = timedelta(days=2)


def _redis() -> Redis | None:
    url = current_app.config.get("PRESENCE_REDIS_URL")
    if not url:
        return None
    if "presence_redis" not in current_app.extensions:
        current_app.extensions["presence_redis"] = Redis.from_url(url)
    return current_app.extensions["presence_redis"]


def _key(session_id: int) -> str:
    prefix = current_app.config.get("PRESENCE_KEY_PREFIX", "")
    return f"{prefix}moderation:session:{session_id}:seen"


def mark_seen(row: SessionParticipant, now: datetime) -> None:
    redis = _redis()
    if redis is not None:
        key = _key(row.session_id)
        redis.pipeline().hset(key, str(row.user_id), now.timestamp()).expire(
            key, KEY_LIFETIME).execute()
        return
    db.session.execute(update(SessionParticipant).where(
        SessionParticipant.id == row.id,
        SessionParticipant.last_seen_at < now - PRESENCE_WRITE).values(last_seen_at=now)
        .execution_options(synchronize_session=False))


def last_seen(session: Session, user_ids: Collection[int] | None = None) -> dict[int, datetime]:
    """Each participant's last poll (or their joining), by user id; of `user_ids` only when
    given: every poll asks whether a facilitator is there, and must not read a whole session's
    participants for it."""
    if user_ids is None:
        rows = [(p.user_id, p.last_seen_at) for p in session.participants]
    else:
        rows = db.session.execute(
            db.select(SessionParticipant.user_id, SessionParticipant.last_seen_at).where(
                SessionParticipant.session_id == session.id,
                SessionParticipant.user_id.in_(user_ids))).all()
    seen = {user_id: as_utc(moment) for user_id, moment in rows}
    redis = _redis()
    if redis is not None and seen:
        ids = list(seen)
        for user_id, stamp in zip(ids, redis.hmget(_key(session.id), [str(i) for i in ids]),
                                  strict=True):
            if stamp is not None:
                seen[user_id] = max(seen[user_id], datetime.fromtimestamp(float(stamp), UTC))
    return seen
