"""Outgoing email: queued with the change, delivered over a real SMTP server (aiosmtpd),
retried while the server is down, sent once however many senders run."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from app import create_app
from moderation.accounts.models import District
from moderation.core.extensions import db
from moderation.core.mail import sender
from moderation.core.mail.models import OutboxMessage
from moderation.core.mail.sender import MAX_ATTEMPTS, deliver_due
from moderation.core.mail.services import queue_message
from tests.conftest import TEST_CONFIG


@pytest.fixture
def now():
    """A moment just after the test's messages are queued, so they are due at it."""
    return datetime.now(UTC) + timedelta(seconds=5)


def queue(to="amara@school.example", subject="You are invited", body="Follow the link.",
          html=None):
    message = queue_message(to, subject, body, html)
    db.session.commit()
    return message.id


def outbox_row(message_id) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_a_queued_message_arrives_with_its_headers_and_both_bodies(now, smtp_app, smtp_server):
    with smtp_app.app_context():
        message_id = queue(html="<p>Follow the <a href='https://x.example'>link</a>.</p>")
        report = deliver_due(now)

        assert report.sent == 1
        assert outbox_row(message_id).sent_at is not None
    [received] = smtp_server.received
    assert received.recipients == ["amara@school.example"]
    assert received.sender == "no-reply@localhost"
    email = received.message
    assert email["To"] == "amara@school.example"
    assert email["From"] == "Moderation platform <no-reply@localhost>"
    assert email["Subject"] == "You are invited"
    assert email["Message-ID"].startswith(f"<outbox-{message_id}-")
    assert email.get_body(("plain",)).get_content().strip() == "Follow the link."
    assert "href='https://x.example'" in email.get_body(("html",)).get_content()


def test_a_sent_message_is_not_sent_again(now, smtp_app, smtp_server):
    with smtp_app.app_context():
        queue()
        deliver_due(now)
        assert deliver_due(now + timedelta(hours=1)).sent == 0
    assert len(smtp_server.received) == 1


def test_a_rolled_back_change_takes_its_message_with_it(now, smtp_app, smtp_server):
    with smtp_app.app_context():
        db.session.add(District(name="Lakeside"))
        queue_message("helen@district.example", "District created", "Lakeside is ready.")
        db.session.rollback()

        assert db.session.scalars(db.select(OutboxMessage)).all() == []
        assert deliver_due(now).sent == 0
    assert smtp_server.received == []


def test_a_subject_that_would_forge_headers_is_refused_when_queued(app):
    with app.app_context(), pytest.raises(ValueError, match="single lines"):
        queue_message("amara@school.example", "Hello\nBcc: everyone@example.com", "Hi")


def test_while_the_server_is_down_retries_wait_longer_each_time_then_deliver(now, smtp_app,
                                                                            smtp_server):
    smtp_server.stop()
    with smtp_app.app_context():
        message_id = queue()

        assert deliver_due(now).failed == 1
        row = outbox_row(message_id)
        assert row.attempts == 1
        assert "Connection refused" in row.last_error
        assert row.next_attempt_at.replace(tzinfo=UTC) == now + timedelta(minutes=1)

        assert deliver_due(now + timedelta(seconds=30)) == sender.DeliveryReport()
        assert outbox_row(message_id).attempts == 1   # not due yet: nothing was tried

        second_try = now + timedelta(minutes=1)
        assert deliver_due(second_try).failed == 1
        row = outbox_row(message_id)
        assert row.attempts == 2
        assert row.next_attempt_at.replace(tzinfo=UTC) == second_try + timedelta(minutes=5)

        smtp_server.start()
        assert deliver_due(second_try + timedelta(minutes=5)).sent == 1
        row = outbox_row(message_id)
        assert (row.attempts, row.last_error) == (3, None)
        assert row.sent_at is not None
    assert [r.message["Subject"] for r in smtp_server.received] == ["You are invited"]


def test_after_too_many_failures_the_message_is_kept_with_its_error(now, smtp_app, smtp_server):
    smtp_server.stop()
    with smtp_app.app_context():
        message_id = queue()
        moment = now
        for _ in range(MAX_ATTEMPTS):
            deliver_due(moment)
            moment += timedelta(days=1)
        smtp_server.start()
        assert deliver_due(moment).sent == 0

        row = outbox_row(message_id)
        assert row.is_given_up
        assert (row.attempts, row.sent_at) == (MAX_ATTEMPTS, None)
        assert "Connection refused" in row.last_error
    assert smtp_server.received == []


def test_retry_delays_grow_fivefold_up_to_a_cap():
    delays = [sender.retry_delay(n) for n in range(1, 8)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 5, 25, 125)]
    assert delays[-1] == sender.MAX_RETRY_DELAY


def test_two_senders_at_once_deliver_each_message_once(now, smtp_app, smtp_server,
                                                       monkeypatch):
    monkeypatch.setattr(sender, "BATCH_SIZE", 7)   # several batches each, raced as well
    with smtp_app.app_context():
        for n in range(30):
            queue_message(f"rater{n}@school.example", f"Round {n}", "Your queue is ready.")
        db.session.commit()
    start = threading.Barrier(2)
    reports, errors = [], []

    def run_sender():
        try:
            with smtp_app.app_context():
                start.wait()
                reports.append(deliver_due(now))
        except Exception as error:   # surfaced below; a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=run_sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    recipients = sorted(r.recipients[0] for r in smtp_server.received)
    assert recipients == sorted(f"rater{n}@school.example" for n in range(30))
    assert sum(report.sent for report in reports) == 30


def test_a_message_claimed_by_a_sender_that_died_is_sent_once_its_lease_runs_out(now, smtp_app,
                                                                                 smtp_server):
    with smtp_app.app_context():
        message_id = queue()
        row = outbox_row(message_id)
        row.claimed_until = now + sender.CLAIM_LEASE   # claimed, then the sender crashed
        db.session.commit()

        assert deliver_due(now).sent == 0
        assert deliver_due(now + sender.CLAIM_LEASE + timedelta(seconds=1)).sent == 1
    assert len(smtp_server.received) == 1


def test_a_message_that_crashes_its_sender_each_time_stops_being_tried(now, app):
    def crashing(email):
        raise RuntimeError("a bug in the transport")

    with app.app_context():
        message_id = queue()
        for attempt in range(MAX_ATTEMPTS):   # each once the dead sender's lease has run out
            with pytest.raises(RuntimeError):
                deliver_due(now + attempt * (sender.CLAIM_LEASE + timedelta(seconds=1)),
                            transport=crashing)
            db.session.rollback()
        assert deliver_due(now + timedelta(days=1), transport=crashing).sent == 0
        row = outbox_row(message_id)
        assert row.is_given_up
        assert row.attempts == MAX_ATTEMPTS


def test_in_development_without_smtp_the_console_shows_the_message(now, app, capsys):
    app.config.update(APP_ENV="development", SMTP_URL="")
    with app.app_context():
        message_id = queue(to="maya@school.example", subject="Reset your password",
                           body="Choose a new password here.")
        assert deliver_due(now).sent == 1
        assert outbox_row(message_id).sent_at is not None
    printed = capsys.readouterr().out
    assert "To: maya@school.example" in printed
    assert "Subject: Reset your password" in printed
    assert "Choose a new password here." in printed


def test_in_production_without_smtp_messages_wait_and_a_warning_says_why(now, app, caplog):
    app.config.update(APP_ENV="production", SMTP_URL="")
    with app.app_context():
        message_id = queue()
        assert deliver_due(now).waiting == 1
        assert outbox_row(message_id).attempts == 0
    assert "SMTP_URL is not set: 1 email(s) wait in the outbox" in caplog.text


def test_the_login_in_smtp_url_is_given_to_the_server(now, app, smtp_server_with_login):
    server = smtp_server_with_login
    base = f"127.0.0.1:{server.port}"
    with app.app_context():
        first = queue(subject="With a wrong password")
        app.config["SMTP_URL"] = f"smtp://mailer%40district.example:wrong@{base}"
        assert deliver_due(now).failed == 1
        assert "SMTPAuthenticationError" in outbox_row(first).last_error

        app.config["SMTP_URL"] = f"smtp://mailer%40district.example:p%40ss%3Aword@{base}"
        assert deliver_due(now + timedelta(minutes=1)).sent == 1
    assert [r.message["Subject"] for r in server.received] == ["With a wrong password"]


def test_over_tls_the_server_certificate_is_checked(now, app, smtp_server_with_tls,
                                                    smtp_certificate, monkeypatch):
    server = smtp_server_with_tls
    app.config["SMTP_URL"] = server.url
    with app.app_context():
        untrusted = queue(subject="To a server nobody vouches for")
        assert deliver_due(now).failed == 1
        assert "CERTIFICATE_VERIFY_FAILED" in outbox_row(untrusted).last_error

        monkeypatch.setenv("SSL_CERT_FILE", smtp_certificate.cert)
        assert deliver_due(now + timedelta(minutes=1)).sent == 1
    [received] = server.received
    assert received.message["Subject"] == "To a server nobody vouches for"


def test_the_command_sends_what_is_due(smtp_app, smtp_server):
    with smtp_app.app_context():
        queue()
    result = smtp_app.test_cli_runner().invoke(args=["mail", "send-due"])
    assert "Sent 1, failed 0" in result.output
    assert len(smtp_server.received) == 1


@pytest.fixture
def background_app(app, database_url, smtp_server):
    """An app sending from its own thread, as a web process does (`app` empties the tables)."""
    background = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                             "MAIL_DELIVERY": "background", "SMTP_URL": smtp_server.url})
    yield background
    background.extensions["mail_sender"].stop()
    with background.app_context():
        db.engine.dispose()


def subjects_received(smtp_server, expected: int) -> list[str]:
    deadline = time.monotonic() + 10
    while len(smtp_server.received) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return [r.message["Subject"] for r in smtp_server.received]


def test_in_background_mode_a_commit_that_queued_mail_sends_it(background_app, smtp_server):
    with background_app.app_context():
        queue(subject="Sent by the thread")
    assert subjects_received(smtp_server, 1) == ["Sent by the thread"]


def test_in_background_mode_mail_left_from_before_a_restart_goes_at_the_first_request(
        background_app, smtp_server):
    with background_app.app_context():
        # Stored without waking anyone, as by a process that stopped before sending it.
        db.session.add(OutboxMessage(recipient="amara@school.example", subject="Left over",
                                     text_body="Sent after the restart."))
        db.session.commit()
    time.sleep(0.3)
    assert smtp_server.received == []   # no thread yet: no request has come

    assert background_app.test_client().get("/healthz").status_code == 200
    assert subjects_received(smtp_server, 1) == ["Left over"]


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "smtp://host:notaport"])
def test_a_malformed_smtp_url_stops_the_app_with_a_clear_message(database_url, url):
    from moderation.core.config import ConfigError

    with pytest.raises(ConfigError, match="SMTP_URL"):
        create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "SMTP_URL": url})
