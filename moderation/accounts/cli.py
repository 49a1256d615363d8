"""Operators' commands: `flask district create` and `add-admin` start a district and give it
administrators, who do the rest in the app; `flask audit list` reads the audit log of every
district and the district-less events.

District administrators read their own districts' events in the app; some events belong to no
district (a failed login for an address with no account), and only this command shows them.
"""

from datetime import UTC, date

import click
from flask import current_app
from flask.cli import AppGroup

from moderation.accounts import audit_text, people, queries, services, tokens
from moderation.accounts.models import District, Role
from moderation.core import audit, timezones
from moderation.core.extensions import db
from moderation.core.mail.sender import deliver_due

audit_cli = AppGroup("audit", help="Read the audit log (operators).")


def _date(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(audit_text.DATE_HINT, param_hint=option) from None


@audit_cli.command("list")
@click.option("--district", "district_name", help="Only this district's events.")
@click.option("--without-district", is_flag=True, help="Only events that belong to no district.")
@click.option("--action", help="Only this action, e.g. login_failed.")
@click.option("--email", help="Only failed logins typed with this address (matched by its "
              "keyed hash; the address itself is never stored).")
@click.option("--since", help="From this UTC date (YYYY-MM-DD).")
@click.option("--until", help="To this UTC date (YYYY-MM-DD), inclusive.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="At most this many events, newest first.")
def list_command(district_name, without_district, action, email, since, until, limit):
    """Print audit events, newest first: when, districts, who, action, object, details."""
    scope = audit.Scope.everything()
    if district_name:
        district = queries.district_by_name(district_name)
        if district is None:
            raise click.ClickException(f"There is no district called “{district_name}”.")
        scope = audit.Scope.of_districts([district.id])
    filters = audit.Filters(action=action or None, since=_date(since, "--since"),
                            until=_date(until, "--until"),
                            email_digest=audit.email_digest(email) if email else None,
                            without_district=without_district)
    events = db.session.execute(audit.events_query(scope, filters).limit(limit)).scalars()
    rows = audit_text.rows(events)
    if not rows:
        click.echo("No audit events match.")
    for row in rows:
        click.echo("  ".join((timezones.local_iso(row.occurred_at, UTC),
                              row.districts or "(no district)", row.who, row.action,
                              row.object or "-", row.details)))


district_cli = AppGroup("district", help="Start a district and give it administrators "
                        "(operators).")


@district_cli.command("create")
@click.argument("name")
@click.option("--time-zone", required=True, help="The IANA zone its people read times in, "
              "e.g. America/Chicago.")
@click.option("--admin-name", required=True, help="The first district administrator's name.")
@click.option("--admin-email", required=True, help="Their email: the invitation goes there.")
def create_district_command(name, time_zone, admin_name, admin_email):
    """Create a district and its first administrator, and email them an invitation."""
    district = _or_refuse(lambda: services.create_district(name, time_zone))
    _invite_administrator(district, admin_name, admin_email)


@district_cli.command("add-admin")
@click.argument("district_name")
@click.option("--name", "admin_name", required=True, help="The administrator's name.")
@click.option("--email", "admin_email", required=True, help="Their email.")
def add_admin_command(district_name, admin_name, admin_email):
    """Give a district another administrator (when the only one has left, say): a new person
    is invited; someone who already has an account gains the role."""
    district = queries.district_by_name(district_name)
    if district is None:
        raise click.ClickException(f"There is no district called “{district_name}”.")
    existing = queries.user_by_email(admin_email.strip().lower())
    if existing is None:
        _invite_administrator(district, admin_name, admin_email)
        return
    _or_refuse(lambda: people.add_role(existing, district, None, Role.DISTRICT_ADMIN, None))
    db.session.commit()
    click.echo(f"{existing.display_name} is now an administrator of {district.name}; they log "
               "in as before.")


def _invite_administrator(district: District, name: str, email: str) -> None:
    def create_and_invite():
        admin = people.create_person(district, None, name, email, Role.DISTRICT_ADMIN, None)
        tokens.invite(admin, district, actor=None)
        return admin

    admin = _or_refuse(create_and_invite)
    db.session.commit()
    report = deliver_due()
    click.echo(f"{district.name}: {admin.display_name} <{admin.email}> is a district "
               "administrator.")
    if report.waiting:
        click.echo("The invitation waits in the outbox until SMTP_URL is set.")
    else:
        click.echo("The invitation to choose a password is on its way (its link works "
                   f"for {tokens.days_text(current_app.config['INVITATION_DAYS'])}).")


def _or_refuse(change):
    """Run a change; a refused one rolls back everything and says why (exit status 1)."""
    try:
        return change()
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
