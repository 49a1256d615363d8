"""The outbox: every email the app sends, kept after it is sent or given up."""

from datetime import datetime

from sqlalchemy import String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from moderation.core.db import utcnow
from moderation.core.extensions import db

# What a sent message that held a secret (a one-time link) keeps of its bodies.
SECRET_REMOVED = "(Removed once sent: this message held a one-time link.)"
# Attempts before a message is given up; each claim by a sender counts as one (sender.py).
MAX_ATTEMPTS = 6


class OutboxMessage(db.Model):
    """One email to one address.

    Due while `sent_at` is empty, `next_attempt_at` has passed and attempts remain; a message
    given up keeps its `last_error`. `claimed_until` is a sender's lease on it, so two senders
    never deliver it twice (sender.py).
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))   # one address
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow, index=True)
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The bodies hold a secret (a one-time link): they are blanked once sent or given up, so
    # the outbox is no second store of what the account tables keep only hashed.
    holds_secret: Mapped[bool] = mapped_column(default=False, server_default=false())

    @property
    def is_given_up(self) -> bool:
        return self.sent_at is None and self.attempts >= MAX_ATTEMPTS
