"""`flask mail send-due`: deliver the outbox now (from cron, or with MAIL_DELIVERY=manual)."""

import click
from flask.cli import AppGroup

from moderation.core.mail.sender import deliver_due

mail_cli = AppGroup("mail", help="The outbox of outgoing email.")


@mail_cli.command("send-due")
def send_due_command():
    """Send every email that is due, retrying failed ones whose time has come."""
    report = deliver_due()
    click.echo(f"Sent {report.sent}, failed {report.failed} (will retry or given up), "
               f"waiting for SMTP_URL {report.waiting}.")
