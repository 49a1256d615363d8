"""`flask jobs worker`: run background jobs from the RQ queue (REDIS_URL set)."""

import click
from flask import current_app
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="Background jobs (analysis runs).")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker_command(burst: bool):
    """Run jobs from the queue until stopped, and take up runs a dead worker left."""
    if current_app.config["JOBS_BACKEND"] != "rq":
        raise click.ClickException(
            "Jobs run in the web process (JOBS_BACKEND is "
            f"{current_app.config['JOBS_BACKEND']}); set REDIS_URL to run them in workers.")
    current_app.extensions["jobs"].work(burst=burst)
