"""Queueing mail: the one write other packages call."""

from moderation.core.extensions import db
from moderation.core.mail.models import OutboxMessage

# Set on the session when it holds queued mail, so the commit can wake the sender (delivery.py).
QUEUED_FLAG = "mail_queued"


def queue_message(to: str, subject: str, text_body: str,
                  html_body: str | None = None) -> OutboxMessage:
    """Add an email to the outbox in the caller's transaction; it is sent after the commit.

    Never commits: the caller's commit stores the message together with the change it describes,
    and a rollback drops both.
    """
    message = OutboxMessage(to=to, subject=subject, text_body=text_body, html_body=html_body)
    db.session.add(message)
    db.session.info[QUEUED_FLAG] = True
    return message
