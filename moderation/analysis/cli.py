"""`flask analysis run --round ID [--json]`: analyse a round now, in this process, with the
same services the pages use (an operator's command: no person is recorded as asking)."""

import json

import click
from flask.cli import AppGroup

from moderation.analysis import queries, services
from moderation.core.extensions import db
from moderation.scoring.models import ScoringRound

analysis_cli = AppGroup("analysis", help="Analysis runs of the statistics engine.")


class BadInput(click.ClickException):
    """A refusal of the command's input: message and exit status 2."""

    exit_code = 2


def round_or_fail(round_id: int) -> ScoringRound:
    scoring_round = db.session.get(ScoringRound, round_id)
    if scoring_round is None:
        raise BadInput(f"There is no scoring round with id {round_id}.")
    return scoring_round


@analysis_cli.command("run")
@click.option("--round", "round_id", type=int, required=True, help="The scoring round's id.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the stored result (the engine's JSON report) instead of the status.")
def run_command(round_id: int, as_json: bool):
    """Analyse the round's current ratings now; a finished run of the same ratings and
    settings is reused, not computed again."""
    try:
        run = services.request_round_run(round_or_fail(round_id), None, enqueue=False)
    except services.AnalysisError as error:
        raise BadInput(str(error)) from None
    db.session.commit()
    if run.status.is_active:
        services.run_job(run.id)
        db.session.expire_all()
    if as_json:
        if run.status is not run.status.DONE:
            raise click.ClickException(run.error or f"Run {run.id} is {run.status.value}.")
        click.echo(json.dumps(queries.run_report(run.result_id), indent=2, allow_nan=False))
        return
    click.echo(f"Run {run.id}: {run.status.value}, {run.n_ratings} ratings"
               + (f" in {run.seconds:.1f} s" if run.seconds is not None else "")
               + (f"; the same input as run {run.reused_run_id}, whose results stand"
                  if run.reused_run_id else ""))
    if run.error:
        raise click.ClickException(run.error)
