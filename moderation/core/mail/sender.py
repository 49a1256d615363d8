"""Delivering the outbox: what is due is claimed, sent, and marked sent or scheduled again.

Several senders may run at once (a thread in each web process, `flask mail send-due` from cron,
later a job worker). Each message is claimed first with a compare-and-set UPDATE that only one
of them can win; the claim is a lease, so a sender that dies mid-send leaves the message to be
tried again once the lease runs out. Delivery is therefore at least once: a crash between the
SMTP server accepting a message and the row being marked sent repeats it, with the same
Message-ID, which lets a mail client tell the two apart.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app
from sqlalchemy import and_, or_, update

from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.mail.models import MAX_ATTEMPTS, SECRET_REMOVED, OutboxMessage
from moderation.core.mail.transports import Transport, transport_for
from moderation.core.timezones import as_utc

logger = logging.getLogger(__name__)

MAX_RETRY_DELAY = timedelta(hours=6)
CLAIM_LEASE = timedelta(minutes=5)   # far longer than one SMTP conversation may take
BATCH_SIZE = 100
# What a failed delivery raises: the server's refusals and every network or TLS error. Anything
# else is a bug, and is left to surface rather than be retried quietly.
DELIVERY_ERRORS = (smtplib.SMTPException, OSError)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    waiting: int = 0   # due, but left queued because no transport is configured


def retry_delay(attempts: int) -> timedelta:
    """1, 5, 25, 125 minutes... after the first, second, third, fourth failure, capped."""
    return min(timedelta(minutes=5 ** (attempts - 1)), MAX_RETRY_DELAY)


def deliver_due(now: datetime | None = None, transport: Transport | None = None) -> DeliveryReport:
    """Send every message due at `now` over `transport` (by default the configured one).

    Commits after each message, so what was sent stays marked sent whatever happens next.
    """
    now = now or utcnow()
    transport = transport or transport_for(current_app.config)
    if transport is None:
        waiting = len(_due_ids(now))
        if waiting:
            logger.warning("SMTP_URL is not set: %d%s email(s) wait in the outbox and will be "
                           "sent once it is.", waiting, "+" if waiting == BATCH_SIZE else "")
        return DeliveryReport(waiting=waiting)
    sent = failed = 0
    while True:   # batch by batch: what is sent, or failed and rescheduled, is due no longer
        due_ids = _due_ids(now)
        for message_id in due_ids:
            if not _claim(message_id, now):
                continue   # another sender has it
            if _send(db.session.get(OutboxMessage, message_id), transport, now):
                sent += 1
            else:
                failed += 1
            db.session.commit()
        if len(due_ids) < BATCH_SIZE:
            return DeliveryReport(sent=sent, failed=failed)


def _due_ids(now: datetime) -> list[int]:
    due_ids = db.session.scalars(
        db.select(OutboxMessage.id).where(_is_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(BATCH_SIZE)).all()
    db.session.commit()   # end the read, so each claim after it is its own short transaction
    return list(due_ids)


def _is_due(now: datetime):
    return and_(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                OutboxMessage.attempts < MAX_ATTEMPTS)


def _claim(message_id: int, now: datetime) -> bool:
    # The attempt is counted with the claim: a message that crashes its sender every time (not
    # a refusal, a bug) still stops after MAX_ATTEMPTS instead of being retried for ever.
    claimed = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, _is_due(now))
        .values(claimed_until=now + CLAIM_LEASE, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return claimed.rowcount == 1


def _send(message: OutboxMessage, transport: Transport, now: datetime) -> bool:
    message.claimed_until = None
    try:
        transport(email_of(message))
    except DELIVERY_ERRORS as error:
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.next_attempt_at = None
            _forget_secret(message)
            logger.error("Gave up on email %d to %s after %d attempts: %s", message.id,
                         message.recipient, message.attempts, message.last_error)
        else:
            message.next_attempt_at = now + retry_delay(message.attempts)
            logger.warning("Email %d to %s failed (attempt %d), retrying at %s: %s", message.id,
                           message.recipient, message.attempts, message.next_attempt_at.isoformat(),
                           message.last_error)
        return False
    message.sent_at = now
    message.last_error = None
    _forget_secret(message)
    return True


def _forget_secret(message: OutboxMessage) -> None:
    if message.holds_secret:
        message.text_body, message.html_body = SECRET_REMOVED, None


def email_of(message: OutboxMessage) -> EmailMessage:
    """The message as it goes out; its Message-ID is the same on every attempt."""
    sender = current_app.config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    created_at = as_utc(message.created_at)   # SQLite gives it back without its zone
    email["Date"] = format_datetime(created_at)
    email["Message-ID"] = f"<outbox-{message.id}-{int(created_at.timestamp())}@{domain}>"
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    return email
