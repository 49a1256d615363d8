"""`flask roster import FILE... --district NAME [--dry-run]`: the page's import for operators.

The same services as the page: the files are read and planned, every problem printed with
its file and line (exit status 2, nothing saved), else the plan is printed and, without
--dry-run, applied and committed. The audit log names no actor: the operator's command.
"""

from pathlib import Path

import click
from flask.cli import AppGroup

from moderation.accounts import queries
from moderation.accounts.roster import services
from moderation.accounts.roster.plan import Plan
from moderation.core.extensions import db

roster_cli = AppGroup("roster", help="Import a district's schools and people from a roster.")


def plan_lines(plan: Plan, limit: int = 50) -> list[str]:
    """The plan in words, each list capped at `limit` lines with a count of the rest."""
    counts = plan.counts()
    lines = [f"Schools: {counts['new_schools']} to create, {counts['changed_schools']} to "
             f"change, {counts['unchanged_schools']} unchanged.",
             f"People: {counts['new_people']} to create, {counts['changed_people']} to change "
             f"({counts['linked_people']} linked by email), {counts['deactivated']} to "
             f"deactivate, {counts['unchanged_people']} unchanged, {counts['ignored']} "
             "ignored."]

    def section(title, items):
        if not items:
            return
        lines.append(title)
        lines.extend(f"  {text}" for text in items[:limit])
        if len(items) > limit:
            lines.append(f"  ... and {len(items) - limit} more")

    section("New schools:", [p.record.name for p in plan.new_schools])
    section("Changed schools:", [f"{p.school.name}: " + ("linked to roster id "
                                 f"{p.record.source_id}; " if p.linked else "") + "; ".join(
        f"{k} {a} → {b}" for k, (a, b) in p.changes.items()) for p in plan.changed_schools])
    section("New people:", [f"{p.record.name} <{p.record.email}>" for p in plan.new_people])
    section("Changed people:", [f"{p.user.display_name}: " + "; ".join(change_words(p, plan))
                                for p in plan.changed_people])
    section("To deactivate:", [f"{d.user.display_name} <{d.user.email}>: {d.reason}"
                               for d in plan.deactivations])
    section("Schools not in this roster (kept):", [s.name for s in plan.absent_schools])
    section("Left as they are:", [f"{who}: {why}" for who, why in plan.held])
    section("Ignored:", [f"{n} {reason}" for reason, n in sorted(plan.ignored.items())])
    return lines


def change_words(person, plan: Plan) -> list[str]:
    words = []
    if person.linked:
        words.append(f"matched by email, linked to roster id {person.record.source_id}")
    words += [f"{field} “{a}” → “{b}”" for field, (a, b) in person.changes.items()]
    words += [f"new role {r.role.label.lower()}" + (
        f" at {plan.school_name(r.school_source_id)}" if r.school_source_id else "")
              for r in person.add_roles]
    words += [f"role removed: {m.role.label.lower()}"
              + (f" at {m.school.name}" if m.school else "") for m in person.remove_roles]
    if person.reactivate:
        words.append("reactivated")
    return words


@roster_cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False,
                                                                   path_type=Path))
@click.option("--district", "district_name", required=True, help="The district's name.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
def import_command(files, district_name, dry_run):
    """Import a roster: one CSV in the platform's format, or OneRoster's orgs.csv, users.csv
    and roles.csv (or their zip)."""
    district = queries.district_by_name(district_name)
    if district is None:
        raise click.ClickException(f"There is no district called “{district_name}”.")
    uploads = [(path.name, path.read_bytes()) for path in files]
    kept, plan = services.upload(district, None, uploads)
    if plan.problems:
        db.session.rollback()
        for problem in plan.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(plan.problems)} problems; nothing was saved.", err=True)
        raise SystemExit(2)
    for line in plan_lines(plan):
        click.echo(line)
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was changed.")
        return
    services.apply(kept, district, None, seen=plan.digest())
    db.session.commit()
    click.echo("Applied.")
