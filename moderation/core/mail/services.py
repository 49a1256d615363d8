"""Queueing mail: the one write other packages call."""

from moderation.core.extensions import db
from moderation.core.mail.models import OutboxMessage

# Set on the session when it holds queued mail, so the commit can wake the sender (delivery.py).
QUEUED_FLAG = "mail_queued"


def queue_message(to: str, subject: str, text_body: str,
                  html_body: str | None = None, *, holds_secret: bool = False) -> OutboxMessage:
    """Add an email to the outbox in the caller's transaction; it is sent after the commit.

    Never commits: the caller's commit stores the message together with the change it describes,
    and a rollback drops both. A line break in the address or subject is refused here, in the
    caller's request, rather than by every later delivery attempt (it would forge headers).
    `holds_secret` (a one-time link in the bodies) has the bodies blanked once it is sent.
    """
    if any(breaker in value for value in (to, subject) for breaker in "\r\n"):
        raise ValueError("An email's address and subject must be single lines.")
    message = OutboxMessage(recipient=to, subject=subject, text_body=text_body, html_body=html_body,
                            holds_secret=holds_secret)
    db.session.add(message)
    db.session.info[QUEUED_FLAG] = True
    return message
