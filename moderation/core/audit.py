"""The append-only audit log.

Services call record() for every security-relevant or score-changing action, inside the same
transaction as the change it describes, so the log and the data cannot disagree. Rows are never
updated or deleted through the ORM: the listeners below refuse it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.core.db import utcnow
from moderation.core.extensions import db


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


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise AuditLogIsAppendOnly("Audit events cannot be changed or deleted.")


def record(action: str, *, actor=None, obj=None, object_type=None, object_id=None, **details):
    """Append an audit event for `action` by `actor` on `obj` (or an explicit type and id)."""
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    event_row = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details,
    )
    db.session.add(event_row)
    return event_row


def recent_events(limit: int = 200) -> list[AuditEvent]:
    """The newest audit events first."""
    return list(db.session.execute(
        db.select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).scalars())
