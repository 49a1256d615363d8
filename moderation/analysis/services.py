"""Asking for analysis runs and computing them (the job a worker runs).

`request_round_run` records a queued run for a round's current ratings, or returns the run
already queued for it that has not started (it reads the ratings when it starts); it reads no
ratings itself. `run_job` is the background job: it claims the run with a compare-and-set
lease, reads the ratings, and finishes at once as a reuse where a finished run had the same
input (same ratings, context and parameters: no second computation). Otherwise it runs the
engine step by step (committing progress and renewing the lease at each step, and from a
heartbeat thread during long steps), has the result's charts drawn (by the renderers other
domains register: analysis does not know what a report draws), and stores the result and the
charts per part.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict
from datetime import timedelta
from importlib import metadata

import pandas as pd
from flask import current_app
from sqlalchemy import and_, or_, update

from moderation import statistics
from moderation.analysis import inputs
from moderation.analysis.models import (
    CHARTS_STEP,
    PARTS,
    READ_STEP,
    SCOPE_ROUND,
    STORE_STEP,
    SUMMARY,
    AnalysisRun,
    AnalysisRunPart,
    RunStatus,
)
from moderation.core import audit, jobs
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.source_digest import source_digest
from moderation.scoring.models import ScoringRound
from moderation.settings.queries import settings_for
from moderation.statistics.analysis import SCHEMA_VERSION, analyze
from moderation.statistics.levels import ScoreLevels
from moderation.statistics.triggers import Thresholds

JOB = "moderation.analysis.services.run_job"
LEVEL = "ordinal"
# A run whose worker died this many times is given up (it is likely what kills the worker).
MAX_ATTEMPTS = 3
# The district's settings that are the engine's thresholds under another name.
THRESHOLD_NAMES = {"min_raters": "min_school_raters",
                   "min_cross_marked_samples": "min_school_samples"}
SAME_NAMES = ("alpha_discard", "alpha_rely", "false_discovery_rate", "rater_severity",
              "school_effect", "local_gap")

# (run, the engine's report) -> {part name: data} of the charts to store with the run.
ChartRenderer = Callable[[AnalysisRun, dict], dict[str, dict]]
CHART_RENDERERS: list[ChartRenderer] = []


class AnalysisError(Exception):
    """A run that cannot be asked for; the message is for the person who asked."""


def engine_version() -> str:
    """The release and a digest of the engine's code: a run made by other code, even
    unreleased, has other parameters and so is never reused for this code's."""
    return (f"moderation.statistics {metadata.version('moderation-platform')}"
            f"+{source_digest(statistics.__path__[0])}")


def thresholds_for(district_id: int) -> Thresholds:
    """The district's settings as the engine's Thresholds (the rest the engine's defaults)."""
    settings = settings_for(district_id)
    values = {name: getattr(settings, name) for name in SAME_NAMES}
    values |= {engine: getattr(settings, ours) for ours, engine in THRESHOLD_NAMES.items()}
    return Thresholds.from_settings(values)


def round_parameters(scoring_round: ScoringRound) -> dict:
    """What the engine is given besides the ratings; part of the input hash."""
    return {"schema_version": SCHEMA_VERSION, "engine_version": engine_version(),
            "level": LEVEL, "bootstrap": current_app.config["ANALYSIS_BOOTSTRAP"],
            # The round's own seed: the same ratings always give the same intervals.
            "seed": scoring_round.seed,
            "thresholds": asdict(thresholds_for(scoring_round.district_id)),
            "rubric": scoring_round.rubric_version.label,
            "levels": inputs.rubric_levels(scoring_round.rubric_version_id)}


def request_round_run(scoring_round: ScoringRound, actor, *, enqueue: bool = True
                      ) -> AnalysisRun:
    """A run of the round's current ratings: the round's queued run of the same parameters if
    one has not started, else a new queued run (handed to the job queue when the session
    commits, unless `enqueue` is False: the caller runs it itself)."""
    if not inputs.has_blind_ratings(scoring_round.id):
        raise AnalysisError(f"“{scoring_round.name}” has no submitted blind scores yet: there "
                            "is nothing to analyse.")
    parameters = round_parameters(scoring_round)
    waiting = db.session.execute(
        db.select(AnalysisRun).where(
            AnalysisRun.scope_type == SCOPE_ROUND, AnalysisRun.scope_id == scoring_round.id,
            AnalysisRun.status == RunStatus.QUEUED)
        .order_by(AnalysisRun.id.desc()).limit(1)).scalar_one_or_none()
    if waiting is not None and waiting.parameters == parameters:
        return waiting
    run = AnalysisRun(scope_type=SCOPE_ROUND, scope_id=scoring_round.id,
                      district_id=scoring_round.district_id, status=RunStatus.QUEUED,
                      schema_version=SCHEMA_VERSION, engine_version=engine_version(),
                      parameters=parameters, step_timings=[],
                      requested_by_id=getattr(actor, "id", None))
    db.session.add(run)
    db.session.flush()
    audit.record("analysis_run_requested", actor=actor, obj=run,
                 district=scoring_round.district_id, round_id=scoring_round.id,
                 name=scoring_round.name)
    if enqueue:
        jobs.enqueue_after_commit(JOB, run.id)
    return run


def register_chart_renderer(renderer: ChartRenderer) -> None:
    """Add `renderer` to CHART_RENDERERS once, however many apps create_app() builds."""
    if renderer not in CHART_RENDERERS:
        CHART_RENDERERS.append(renderer)


def request_after_close(scoring_round: ScoringRound, actor) -> None:
    """Registered with scoring: a round that closes is analysed (queued in the same
    transaction); a round closed with no scores has nothing to analyse."""
    with suppress(AnalysisError):
        request_round_run(scoring_round, actor)


def run_job(run_id: int) -> None:
    """The background job: compute the run unless another worker holds it or it is finished.
    Safe to run twice: the claim lets one worker in, and a worker that lost its lease stores
    nothing."""
    attempt = _claim(run_id)
    if attempt is None:
        return
    run = db.session.get(AnalysisRun, run_id)
    heartbeat = _Heartbeat(run_id, attempt)
    heartbeat.start()
    try:
        progress = _Progress(run)
        table, context = _read(run)
        same = _finished_with_the_same_input(run)
        if same is not None:
            _store(run, attempt, progress, {}, reused=same)
            return
        report = _compute(run, table, context, progress)
        progress.step(CHARTS_STEP)
        charts = _charts(run, report)
        progress.step(STORE_STEP)
        _store(run, attempt, progress, split_report(report) | charts)
    except Exception as error:
        db.session.rollback()
        _fail(run_id, attempt, f"The analysis could not finish: {_in_words(error)}")
        current_app.logger.exception("Analysis run %d failed", run_id)
    finally:
        heartbeat.stop()


def requeue_abandoned() -> None:
    """The sweep: a running run whose lease ran out lost its worker; queue it again (or give
    it up after MAX_ATTEMPTS). A queued run waiting longer than a lease with no job (the
    in-process queue died with its process) is enqueued again too; a duplicate job is
    harmless, the claim lets one in."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["ANALYSIS_LEASE_SECONDS"])
    expired = db.session.execute(db.select(AnalysisRun.id, AnalysisRun.attempts).where(
        or_(and_(AnalysisRun.status == RunStatus.RUNNING, AnalysisRun.claimed_until < now),
            and_(AnalysisRun.status == RunStatus.QUEUED, AnalysisRun.created_at < now - lease,
                 or_(AnalysisRun.claimed_until.is_(None),
                     AnalysisRun.claimed_until < now))))).all()
    for run_id, attempts in expired:
        if attempts >= MAX_ATTEMPTS:
            _fail(run_id, attempts, f"The analysis stopped {attempts} times without "
                                    "finishing (its worker was stopped or ran out of memory).")
            continue
        db.session.execute(_unclaimed(run_id, now).values(
            status=RunStatus.QUEUED, claimed_until=now + lease, step=None,
            progress_version=AnalysisRun.progress_version + 1))
        db.session.commit()
        current_app.logger.warning("Analysis run %d lost its worker; queued again", run_id)
        jobs.enqueue(JOB, run_id)


def _unclaimed(run_id: int, now):
    return (update(AnalysisRun)
            .where(AnalysisRun.id == run_id, AnalysisRun.status.in_(
                   (RunStatus.QUEUED, RunStatus.RUNNING)),
                   or_(AnalysisRun.claimed_until.is_(None), AnalysisRun.claimed_until < now))
            .execution_options(synchronize_session=False))


def _claim(run_id: int) -> int | None:
    """Compare-and-set: the run becomes this worker's for a lease, if it is unfinished and no
    one holds it. Returns the attempt number (the worker's claim), or None."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["ANALYSIS_LEASE_SECONDS"])
    # A queued run may carry the sweep's claim (which keeps the next sweep from enqueueing it
    # again meanwhile): any job for it may take it.
    claimed = db.session.execute(
        update(AnalysisRun)
        .where(AnalysisRun.id == run_id,
               AnalysisRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)),
               or_(AnalysisRun.claimed_until.is_(None), AnalysisRun.claimed_until < now,
                   AnalysisRun.status == RunStatus.QUEUED))
        .values(status=RunStatus.RUNNING, claimed_until=now + lease, started_at=now,
                attempts=AnalysisRun.attempts + 1, step=READ_STEP, step_timings=[],
                error=None, progress_version=AnalysisRun.progress_version + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    return db.session.execute(db.select(AnalysisRun.attempts)
                              .where(AnalysisRun.id == run_id)).scalar_one()


def _read(run: AnalysisRun) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The round's ratings and the district's school context; the run's hash and n from them."""
    table = inputs.round_ratings(run.scope_id)
    context = inputs.school_context(run.district_id)
    run.n_ratings = len(table)
    run.input_hash = inputs.input_hash(table, run.parameters, context)
    return table, context


def _finished_with_the_same_input(run: AnalysisRun) -> AnalysisRun | None:
    """The round's finished run (with a result of its own) of the same input hash, if any."""
    return db.session.execute(
        db.select(AnalysisRun).where(
            AnalysisRun.scope_type == run.scope_type, AnalysisRun.scope_id == run.scope_id,
            AnalysisRun.input_hash == run.input_hash, AnalysisRun.status == RunStatus.DONE,
            AnalysisRun.reused_run_id.is_(None), AnalysisRun.id != run.id)
        .order_by(AnalysisRun.id.desc()).limit(1)).scalar_one_or_none()


def _compute(run: AnalysisRun, table: pd.DataFrame, context: pd.DataFrame | None,
             progress: _Progress) -> dict:
    parameters = run.parameters
    return analyze(table, level=parameters["level"], bootstrap=parameters["bootstrap"],
                   seed=parameters["seed"],
                   thresholds=Thresholds.from_settings(parameters["thresholds"]),
                   levels=score_levels(parameters), schools=context, on_step=progress.step)


def score_levels(parameters: dict) -> ScoreLevels | None:
    """The rubric's levels the run was asked with (a run queued before runs had them: None)."""
    if "levels" not in parameters:
        return None
    return ScoreLevels(criteria={code: tuple(scores)
                                 for code, scores in parameters["levels"].items()},
                       source=parameters["rubric"])


def _charts(run: AnalysisRun, report: dict) -> dict[str, dict]:
    """The registered renderers' charts. A chart that fails to draw fails nothing else: the
    stored charts only spare the pages drawing them, and a page draws what is missing."""
    charts: dict[str, dict] = {}
    for renderer in CHART_RENDERERS:
        try:
            charts |= renderer(run, report)
        except Exception:
            db.session.rollback()
            current_app.logger.exception("Drawing the charts of analysis run %d failed", run.id)
    return charts


def _store(run: AnalysisRun, attempt: int, progress: _Progress, parts: dict[str, dict], *,
           reused: AnalysisRun | None = None) -> None:
    """The result's parts (none for a reuse of `reused`'s) and the run done, only if this
    worker still holds the run."""
    finished = db.session.execute(
        update(AnalysisRun).where(AnalysisRun.id == run.id, AnalysisRun.attempts == attempt,
                                  AnalysisRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.DONE, finished_at=utcnow(), claimed_until=None, step=None,
                reused_run_id=None if reused is None else reused.id,
                progress_version=AnalysisRun.progress_version + 1)
        .execution_options(synchronize_session=False))
    if finished.rowcount != 1:
        db.session.rollback()
        return
    db.session.add_all(AnalysisRunPart(run_id=run.id, name=name, data=data)
                       for name, data in parts.items())
    db.session.flush()
    run.step_timings = progress.timings()   # the store's own time included
    db.session.commit()


def _fail(run_id: int, attempt: int, message: str) -> None:
    db.session.execute(
        update(AnalysisRun).where(AnalysisRun.id == run_id, AnalysisRun.attempts == attempt,
                                  AnalysisRun.status.in_((RunStatus.QUEUED,
                                                          RunStatus.RUNNING)))
        .values(status=RunStatus.FAILED, error=message[:2000], finished_at=utcnow(),
                claimed_until=None, step=None,
                progress_version=AnalysisRun.progress_version + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()


def split_report(report: dict) -> dict[str, dict]:
    """The report's fields by part (PARTS); the rest in the summary."""
    named = {field for fields in PARTS.values() for field in fields}
    parts = {SUMMARY: {key: value for key, value in report.items() if key not in named}}
    for name, fields in PARTS.items():
        parts[name] = {field: report[field] for field in fields if field in report}
    return parts


def _in_words(error: Exception) -> str:
    """The engine's refusals (a malformed table, an impossible setting) say what is wrong;
    anything else is a fault to report, named by its kind."""
    if isinstance(error, ValueError) and str(error).strip():
        return str(error).strip()
    return (f"the statistics engine stopped with an internal error ({type(error).__name__}). "
            "Retry; if it fails again, tell your administrator.")


class _Progress:
    """Commits the step a run is at and the time the one before took; renews the lease."""

    def __init__(self, run: AnalysisRun):
        self.run = run
        self.started = time.monotonic()
        self.delay = current_app.config["ANALYSIS_STEP_DELAY"]

    def timings(self) -> list[dict]:
        """The finished steps' timings and the current step's so far."""
        return [*self.run.step_timings, {"name": self.run.step,
                                         "seconds": round(time.monotonic() - self.started, 3)}]

    def step(self, name: str) -> None:
        self.run.step_timings = self.timings()
        self.started = time.monotonic()
        self.run.step = name
        self.run.progress_version += 1
        self.run.claimed_until = utcnow() + timedelta(
            seconds=current_app.config["ANALYSIS_LEASE_SECONDS"])
        db.session.commit()
        if self.delay:
            time.sleep(self.delay)


class _Heartbeat:
    """Renews the run's lease from a thread while a long step computes (one Rasch fit of a
    district takes longer than a lease). Its own connection, so it never waits for the job's
    session; it renews only the claim of this attempt."""

    def __init__(self, run_id: int, attempt: int):
        self.run_id, self.attempt = run_id, attempt
        self.engine = db.engine
        self.lease = current_app.config["ANALYSIS_LEASE_SECONDS"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{run_id}",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.lease / 3):
            with self.engine.begin() as connection:
                connection.execute(
                    update(AnalysisRun).where(AnalysisRun.id == self.run_id,
                                              AnalysisRun.attempts == self.attempt,
                                              AnalysisRun.status == RunStatus.RUNNING)
                    .values(claimed_until=utcnow() + timedelta(seconds=self.lease)))
