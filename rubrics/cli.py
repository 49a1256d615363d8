"""`flask rubrics ...`: import, export and list rubrics from the command line."""

from pathlib import Path

import click
from flask.cli import AppGroup

from moderation.accounts.models import District
from moderation.core.extensions import db
from rubrics import jsonformat, queries, services
from rubrics.models import Rubric

rubrics_cli = AppGroup("rubrics", help="Import, export and list rubrics.")


def _district(name: str | None) -> District:
    if name:
        district = db.session.execute(
            db.select(District).where(District.name == name)).scalar_one_or_none()
        if district is None:
            raise click.ClickException(f"There is no district called “{name}”.")
        return district
    districts = list(db.session.execute(db.select(District).order_by(District.name)).scalars())
    if len(districts) == 1:
        return districts[0]
    if not districts:
        raise click.ClickException("There are no districts yet. Run `flask seed-demo` or "
                                   "create one first.")
    names = "; ".join(d.name for d in districts)
    raise click.ClickException(f"Name the district with --district; there are "
                               f"{len(districts)}: {names}.")


@rubrics_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--district", "district_name", help="District name (needed when there are "
              "several).")
@click.option("--new-version", is_flag=True, help="If the district has a rubric with this "
              "title, add the file as its next version.")
def import_command(file: Path, district_name: str | None, new_version: bool):
    """Import a rubric from a JSON FILE (the format the rubric page downloads)."""
    district = _district(district_name)
    try:
        document = jsonformat.parse(file.read_bytes())
        if not new_version and queries.rubric_by_title(district.id, document.title):
            raise click.ClickException(
                f"{file.name}: {district.name} already has a rubric called “{document.title}”. "
                f"To add this file as its next version: flask rubrics import --new-version "
                f"{file}")
        version = services.import_rubric(document, district.id, as_new_version=new_version)
    except services.RubricError as error:
        db.session.rollback()
        raise click.ClickException(f"{file.name}: {error}") from None
    db.session.commit()
    n_levels = sum(len(c.levels) for c in version.criteria)
    click.echo(f"Imported “{version.rubric.title}” version {version.number} into "
               f"{district.name}: {len(version.criteria)} criteria, {n_levels} levels.")


@rubrics_cli.command("export")
@click.argument("rubric_id", type=int)
@click.option("--version", "number", type=int, help="Version number (default: the latest).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def export_command(rubric_id: int, number: int | None, output: Path | None):
    """Export a rubric version as JSON (ids are listed by `flask rubrics list`)."""
    rubric = db.session.get(Rubric, rubric_id)
    if rubric is None:
        raise click.ClickException(f"There is no rubric with id {rubric_id}.")
    version = (queries.latest_version(rubric) if number is None else next(
        (v for v in rubric.versions if v.number == number), None))
    if version is None:
        raise click.ClickException(f"“{rubric.title}” has no version {number}.")
    text = jsonformat.dumps(version)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}.")


@rubrics_cli.command("list")
@click.option("--district", "district_name", help="Only this district.")
def list_command(district_name: str | None):
    """List rubrics with their ids and versions."""
    query = (db.select(Rubric, District.name).join(District, District.id == Rubric.district_id)
             .order_by(District.name, Rubric.title))
    if district_name:
        query = query.where(District.name == _district(district_name).name)
    rows = db.session.execute(query).all()
    if not rows:
        click.echo("No rubrics yet.")
    for rubric, district_name_ in rows:
        versions = ", ".join(f"v{v.number}{' (in use)' if v.is_frozen else ' (draft)'}"
                             for v in rubric.versions)
        click.echo(f"{rubric.id:>4}  {rubric.title} · {rubric.subject} · {rubric.grade_band} · "
                   f"{district_name_} · {versions}")

