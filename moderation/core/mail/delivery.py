"""In-process delivery: one sender thread per web process, woken when queued mail commits.

MAIL_DELIVERY chooses who sends. "background" (the default) starts a daemon thread in each
process at its first request, which sends what is due at once (mail left from before a
restart); a commit that queued mail wakes it, and it looks for due retries every
MAIL_POLL_SECONDS. "manual" starts nothing: `flask mail send-due` (from cron) or a
job worker sends instead; the tests use it to call the sender themselves. Many threads and
processes may send at once: sender.py claims each message, so none goes out twice.
"""

import logging
import threading

from flask import Flask, current_app
from sqlalchemy import event

from moderation.core.config import ConfigError
from moderation.core.extensions import db
from moderation.core.mail.sender import deliver_due
from moderation.core.mail.services import QUEUED_FLAG
from moderation.core.mail.transports import transport_for

logger = logging.getLogger(__name__)
DELIVERY_MODES = ("background", "manual")


class BackgroundSender:
    def __init__(self, app: Flask):
        self.app = app
        self._wake = threading.Event()
        self._stopping = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_started(self) -> None:
        # A thread does not survive a fork (gunicorn --preload): a dead one is started again.
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mail-sender",
                                                daemon=True)
                self._thread.start()

    def wake(self) -> None:
        self.ensure_started()
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        # Delivers first: mail queued before a restart goes out at the first request.
        while not self._stopping:
            self._wake.clear()
            try:
                with self.app.app_context():
                    deliver_due()
            except Exception:
                # The thread must outlive a database hiccup; the next wake tries again.
                logger.exception("Delivering queued mail failed")
            self._wake.wait(timeout=self.app.config["MAIL_POLL_SECONDS"])


def init_app(app: Flask) -> None:
    mode = app.config["MAIL_DELIVERY"]
    if mode not in DELIVERY_MODES:
        raise ConfigError(f"MAIL_DELIVERY must be one of {', '.join(DELIVERY_MODES)}; "
                          f"got {mode!r}.")
    # Also reads SMTP_URL now, so a malformed one stops the app rather than its first email.
    if transport_for(app.config) is None:
        app.logger.warning("SMTP_URL is not set: emails (invitations, password resets) stay in "
                           "the outbox until it is.")
    if mode == "background":
        sender = app.extensions["mail_sender"] = BackgroundSender(app)
        app.before_request(sender.ensure_started)


@event.listens_for(db.session, "after_commit")
def _wake_sender(session) -> None:
    if session.info.pop(QUEUED_FLAG, False):
        sender = current_app.extensions.get("mail_sender")
        if sender is not None:
            sender.wake()


@event.listens_for(db.session, "after_rollback")
def _forget_rolled_back_mail(session) -> None:
    session.info.pop(QUEUED_FLAG, None)
