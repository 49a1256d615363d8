"""`flask ratings ...`: ratings in bulk. `import` brings a past moderation's spreadsheet in as a
closed historical round; `export` writes a round's ratings in the statistics engine's input
format (the same table an analysis run reads), for `python -m moderation.statistics analyze` or
a spreadsheet.

A command module, registered by create_app like the composition root it serves: it may call
the packages above ratings (the import itself is scoring.imports, which owns rounds; the
export's table is analysis.inputs), and nothing in the domain packages imports it.
"""

from pathlib import Path

import click
from flask.cli import AppGroup

from moderation.accounts import queries as account_queries
from moderation.analysis.cli import round_or_fail
from moderation.analysis.inputs import export_table
from moderation.core.extensions import db
from moderation.ratings.export import FORMATS, write_csv, write_xlsx
from moderation.scoring.imports import ImportRefused, import_round
from rubrics import queries as rubric_queries

ratings_cli = AppGroup("ratings", help="Ratings in bulk: import a past moderation, export a round.")


class Refused(click.ClickException):
    """A refused command: its message, and exit status 2 (as the statistics command's)."""

    exit_code = 2


@ratings_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--district", "district_name", required=True, help="The district's name.")
@click.option("--rubric", "rubric_title", required=True,
              help="The title of the district's rubric the scores were given on.")
@click.option("--version", "version_number", type=click.IntRange(min=1),
              help="Its version number (default: the latest).")
@click.option("--name", required=True, help="The round's name, unique in the district.")
@click.option("--create-schools", is_flag=True, help="Create the schools the file names that "
              "the district does not have (otherwise an unknown school is refused).")
def import_command(file: Path, district_name: str, rubric_title: str,
                   version_number: int | None, name: str, create_schools: bool):
    """Import a past moderation's ratings FILE (CSV or XLSX, the statistics engine's columns:
    rater, sample, criterion, score; optional scored_at, rater_school, sample_school, kind)
    as a closed historical round, and print its id. Every line is checked first: one bad
    line is named with its problem and nothing is saved."""
    district = account_queries.district_by_name(district_name)
    if district is None:
        raise Refused(f"There is no district called “{district_name}”.")
    rubric = rubric_queries.rubric_by_title(district.id, rubric_title)
    if rubric is None:
        raise Refused(f"{district.name} has no rubric called “{rubric_title}”.")
    version = (rubric_queries.latest_version(rubric) if version_number is None
               else rubric_queries.version_by_number(rubric.id, version_number))
    if version is None:
        raise Refused(f"“{rubric.title}” has no version {version_number or ''}".rstrip()
                      + ".")
    try:
        result = import_round(district, version, file, name, create_schools=create_schools)
    except ImportRefused as error:
        db.session.rollback()
        raise Refused(f"{file.name}: {error}; nothing was saved.") from None
    db.session.commit()
    click.echo(f"Imported “{result.round.name}” into {district.name} as round "
               f"{result.round.id}: {result.ratings:,} ratings ({result.local_ratings:,} local) "
               f"by {result.raters:,} raters ({result.new_raters:,} new), {result.samples:,} "
               f"samples, {result.anchors:,} anchor papers.")
    if result.new_schools:
        click.echo("New schools: " + ", ".join(result.new_schools) + ".")
    click.echo(result.round.id)



@ratings_cli.command("export")
@click.option("--round", "round_id", type=int, required=True, help="The scoring round's id.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write.")
@click.option("--format", "file_format", type=click.Choice(FORMATS), default=None,
              help="csv or xlsx (default: from the file's extension, else csv).")
@click.option("--anonymous", is_flag=True,
              help="Rater codes drawn at random for this export and no rater schools: for "
                   "someone who may not see individual raters.")
def export_command(round_id: int, output: Path, file_format: str | None, anonymous: bool):
    """Write the round's ratings: raters, samples, schools and criteria by pseudonymous code."""
    table = export_table(round_or_fail(round_id).id, anonymous=anonymous)
    file_format = file_format or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
    if file_format == "xlsx":
        write_xlsx(table, str(output))
    else:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_csv(table, out)
    click.echo(f"Wrote {len(table)} ratings of round {round_id} to {output}"
               + (" (anonymous rater codes)." if anonymous else "."))
