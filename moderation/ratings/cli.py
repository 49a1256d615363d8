"""`flask ratings export --round ID -o FILE`: a round's ratings in the statistics engine's input
format (the same table an analysis run reads), for `python -m moderation.statistics analyze`
or a spreadsheet."""

from pathlib import Path

import click
from flask.cli import AppGroup

from moderation.analysis.cli import round_or_fail
from moderation.analysis.inputs import export_table
from moderation.ratings.export import FORMATS, write_csv, write_xlsx

ratings_cli = AppGroup("ratings", help="Ratings in bulk: export.")


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
