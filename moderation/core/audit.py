"""The append-only audit log.

Services call record() for every security-relevant or score-changing action, inside the same
transaction as the change it describes, so the log and the data cannot disagree. Rows are never
updated or deleted through the ORM: the listeners below refuse it.

Each event belongs to the districts whose administrators may read it. record() derives them from
the object (its district_id, or that of its round, school, rubric, version, criterion or sample),
else from the actor; a person belongs to every district they hold a membership in, so the login
of a teacher who also coaches in a second district is readable by both districts' admins. An
event with no district (a failed login for an address with no account) is for operators only:
every query here takes a Scope, and only Scope.everything() reaches such events.
"""

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from flask import current_app
from sqlalchemy import JSON, ForeignKey, String, event, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.timezones import local_day_bounds

# Attributes that lead from an object to the one that names its district, tried in this order
# (a queue item's round before its sample: the round is what the district runs).
_PARENTS = ("round", "school", "rubric", "version", "criterion", "sample")


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # By name, so core does not import the accounts package that owns users.
    actor = relationship("User", lazy="joined", viewonly=True)
    # passive_deletes="all": the ORM never rewrites links, so a delete reaches the refusal below.
    districts: Mapped[list["AuditEventDistrict"]] = relationship(lazy="selectin",
                                                                 passive_deletes="all")

    @property
    def district_ids(self) -> list[int]:
        return sorted(link.district_id for link in self.districts)


class AuditEventDistrict(db.Model):
    """An event's membership of a district: what scopes an administrator's reading."""

    __tablename__ = "audit_event_districts"

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), primary_key=True,
                                          index=True)


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
@event.listens_for(AuditEventDistrict, "before_update")
@event.listens_for(AuditEventDistrict, "before_delete")
def _refuse_change(mapper, connection, target):
    raise AuditLogIsAppendOnly("Audit events cannot be changed or deleted.")


def record(action: str, *, actor=None, obj=None, object_type=None, object_id=None,
           district=None, **details):
    """Append an audit event for `action` by `actor` on `obj` (or an explicit type and id).

    `district` (a District or its id) names the event's district where the object and actor
    would name others (a role granted in one of a person's several districts); otherwise the
    districts are derived as the module docstring says.
    """
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    if district is not None:
        district_ids = {getattr(district, "id", district)}
    elif object_type == "District" and object_id is not None:
        district_ids = {int(object_id)}
    else:
        district_ids = _districts_of(obj) or _districts_of(actor)
    event_row = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details,
        districts=[AuditEventDistrict(district_id=d) for d in sorted(district_ids)],
    )
    db.session.add(event_row)
    return event_row


def record_many(action: str, *, object_type: str, district_id: int, actor=None,
                items: list[tuple[int, dict[str, Any]]], chunk: int = 900) -> None:
    """Append one event per (object id, details) of `items`, all of one district, in a few
    statements however many there are (a roster import creates thousands of people): the
    events in one executemany, their ids read back by object, the district links in another.
    The same rows as record() would write."""
    if not items:
        return
    now = utcnow()
    db.session.execute(db.insert(AuditEvent), [
        {"occurred_at": now, "actor_id": getattr(actor, "id", None), "action": action,
         "object_type": object_type, "object_id": str(object_id), "details": details}
        for object_id, details in items])
    object_ids = [str(object_id) for object_id, _ in items]
    event_ids = []
    for start in range(0, len(object_ids), chunk):
        event_ids += db.session.execute(db.select(AuditEvent.id).where(
            AuditEvent.action == action, AuditEvent.object_type == object_type,
            AuditEvent.occurred_at == now,
            AuditEvent.object_id.in_(object_ids[start:start + chunk]))).scalars().all()
    db.session.execute(db.insert(AuditEventDistrict), [
        {"district_id": district_id, "event_id": event_id} for event_id in event_ids])


def _districts_of(thing) -> set[int]:
    if thing is None:
        return set()
    if getattr(thing, "district_id", None) is not None:
        return {thing.district_id}
    for name in _PARENTS:
        parent = getattr(thing, name, None)
        if parent is not None:
            return _districts_of(parent)
    return {m.district_id for m in getattr(thing, "memberships", None) or ()}


def email_digest(email: str) -> str:
    """A keyed hash (HMAC-SHA256 with the app's secret key, RFC 2104) of a typed address.

    Failed logins keep this instead of the text, because people type passwords into the email
    box. Operators can still find the attempts on one address by hashing it the same way; a new
    SECRET_KEY starts a new series.
    """
    key = current_app.config["SECRET_KEY"].encode()
    normalised = email.strip().lower().encode()
    return hmac.new(key, normalised, hashlib.sha256).hexdigest()


# --- reading -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """Whose events a reader sees: those of some districts, or (operators) every event."""

    district_ids: frozenset[int] = frozenset()
    is_everything: bool = False

    @classmethod
    def of_districts(cls, district_ids: Iterable[int]) -> "Scope":
        return cls(frozenset(district_ids))

    @classmethod
    def everything(cls) -> "Scope":
        return cls(is_everything=True)


@dataclass(frozen=True)
class Filters:
    """What a reader narrowed the log to; empty fields do not narrow. Dates are inclusive,
    and are days in the reader's `time_zone`."""

    actor_id: int | None = None
    action: str | None = None
    object_type: str | None = None
    since: date | None = None
    until: date | None = None
    email_digest: str | None = None
    without_district: bool = False
    time_zone: tzinfo = UTC


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    number: int
    size: int
    total: int

    @property
    def first_position(self) -> int:
        return (self.number - 1) * self.size + 1 if self.events else 0

    @property
    def last_position(self) -> int:
        return self.first_position + len(self.events) - 1 if self.events else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total


def _in_scope(query, scope: Scope):
    if scope.is_everything:
        return query
    linked = db.select(AuditEventDistrict.event_id).where(
        AuditEventDistrict.district_id.in_(scope.district_ids))
    return query.where(AuditEvent.id.in_(linked))


def _filtered(query, filters: Filters):
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.since:
        start, _ = local_day_bounds(filters.since, filters.time_zone)
        query = query.where(AuditEvent.occurred_at >= start)
    if filters.until:
        _, end = local_day_bounds(filters.until, filters.time_zone)
        query = query.where(AuditEvent.occurred_at < end)
    if filters.email_digest:
        query = query.where(
            AuditEvent.details["email_digest"].as_string() == filters.email_digest)
    if filters.without_district:
        query = query.where(~AuditEvent.districts.any())
    return query


def events_query(scope: Scope, filters: Filters | None = None):
    """The events `scope` may read that match `filters`, newest first (a select to run)."""
    query = _filtered(_in_scope(db.select(AuditEvent), scope), filters or Filters())
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def page_of_events(scope: Scope, filters: Filters, number: int, size: int = 50) -> Page:
    """Page `number` (from 1; past the end gives the last page) of the matching events."""
    counted = _filtered(_in_scope(db.select(func.count(AuditEvent.id)), scope), filters)
    total = db.session.execute(counted).scalar_one()
    number = max(1, min(number, -(-total // size) or 1))
    rows = db.session.execute(
        events_query(scope, filters).limit(size).offset((number - 1) * size)).scalars()
    return Page(list(rows), number, size, total)


def facets(scope: Scope) -> dict[str, list]:
    """The actor ids, actions and object types that occur in `scope`, for filter menus."""
    def distinct(column):
        query = _in_scope(db.select(column).distinct(), scope).where(column.is_not(None))
        return sorted(db.session.execute(query).scalars())

    return {"actor_ids": distinct(AuditEvent.actor_id), "actions": distinct(AuditEvent.action),
            "object_types": distinct(AuditEvent.object_type)}
