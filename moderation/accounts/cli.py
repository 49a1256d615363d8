"""`flask audit list`: the audit log for operators, every district and the district-less events.

District administrators read their own districts' events in the app; some events belong to no
district (a failed login for an address with no account), and only this command shows them.
"""

from datetime import UTC, date

import click
from flask.cli import AppGroup

from moderation.accounts import audit_text, queries
from moderation.core import audit, timezones
from moderation.core.extensions import db

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
