"""A worker killed mid-run leaves a run that another worker takes up and finishes: real
`flask jobs worker` processes on the local Redis, the first one SIGKILLed while it computes."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from moderation.analysis import inputs, queries, services
from moderation.analysis.models import AnalysisRun, RunStatus
from moderation.core import jobs
from moderation.core.extensions import db
from moderation.scoring.models import ScoringRound
from moderation.statistics.analysis import analyze

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
ROOT = Path(__file__).resolve().parents[3]
BOOTSTRAP = 50
LEASE_SECONDS = 3


@pytest.fixture
def redis_queue(app):
    """A queue of its own on the local Redis, removed afterwards."""
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    name = f"test-{uuid.uuid4().hex[:8]}"
    app.config.update(JOBS_REDIS_URL=REDIS_URL, JOBS_QUEUE=name, ANALYSIS_BOOTSTRAP=BOOTSTRAP)
    yield jobs.RqQueue(app)
    for key in connection.scan_iter(f"rq:*{name}*"):
        connection.delete(key)


def start_worker(database_url: str, queue: str) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": database_url,
           "REDIS_URL": REDIS_URL, "JOBS_BACKEND": "rq", "JOBS_QUEUE": queue,
           "ANALYSIS_BOOTSTRAP": str(BOOTSTRAP), "ANALYSIS_LEASE_SECONDS": str(LEASE_SECONDS),
           "JOBS_SWEEP_SECONDS": "1", "ANALYSIS_STEP_DELAY": "1"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "jobs", "worker"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_for(app, run_id: int, ready, timeout: float) -> AnalysisRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            run = db.session.get(AnalysisRun, run_id)
            if ready(run):
                return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} is {run.status.value} at {run.step!r} after {timeout} s")


@pytest.mark.slow
def test_a_run_whose_worker_is_killed_is_finished_by_the_next(app, database_url, redis_queue,
                                                              scored_round):
    scored = scored_round()
    app.extensions["jobs"] = redis_queue  # as with REDIS_URL set: the commit enqueues on Redis
    with app.app_context():
        scoring_round = db.session.get(ScoringRound, scored.round_id)
        run = services.request_round_run(scoring_round, None)
        db.session.commit()
        run_id, seed = run.id, scoring_round.seed
        expected = analyze(inputs.round_ratings(scored.round_id), bootstrap=BOOTSTRAP, seed=seed,
                           thresholds=services.thresholds_for(scoring_round.district_id),
                           levels=services.score_levels(run.parameters))
    assert redis_queue.queue.count == 1

    first = start_worker(database_url, app.config["JOBS_QUEUE"])
    try:
        wait_for(app, run_id, lambda r: r.step == "Rasch fit", timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    killed = wait_for(app, run_id, lambda r: True, timeout=1)
    assert killed.status is RunStatus.RUNNING and killed.attempts == 1

    second = start_worker(database_url, app.config["JOBS_QUEUE"])
    started = time.monotonic()
    try:
        done = wait_for(app, run_id, lambda r: r.status is RunStatus.DONE, timeout=60)
    finally:
        second.terminate()
        second.wait(10)
    assert time.monotonic() - started < 60
    assert done.attempts == 2 and done.error is None
    with app.app_context():
        assert queries.run_report(run_id) == expected
