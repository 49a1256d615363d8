"""Reads of analysis runs: a round's latest run, its finished result by part, and how many
ratings arrived since (so a page can say "as of N ratings at <time>" and offer a re-run)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func

from moderation.analysis.models import (
    CHARTS,
    SCOPE_ROUND,
    AnalysisRun,
    AnalysisRunPart,
    RunStatus,
)
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind


@dataclass(frozen=True)
class RoundAnalysis:
    """The latest run of a round (any status), the finished run whose result is the latest
    (a run that reused another's gives the other), and the blind ratings submitted since that
    finished run started."""

    latest: AnalysisRun | None
    finished: AnalysisRun | None
    new_ratings: int

    @property
    def version(self) -> str:
        """Changes whenever what the status fragment shows changes (the polling etag)."""
        if self.latest is None:
            return "none"
        return f"{self.latest.id}.{self.latest.progress_version}"


def _round_runs(round_id: int):
    return (db.select(AnalysisRun)
            .where(AnalysisRun.scope_type == SCOPE_ROUND, AnalysisRun.scope_id == round_id)
            .order_by(AnalysisRun.id.desc()).limit(1))


def round_analysis(round_id: int) -> RoundAnalysis:
    latest = db.session.execute(_round_runs(round_id)).scalar_one_or_none()
    finished = latest if latest is not None and latest.status is RunStatus.DONE else \
        db.session.execute(_round_runs(round_id).where(
            AnalysisRun.status == RunStatus.DONE)).scalar_one_or_none()
    if finished is not None and finished.reused_run_id is not None:
        finished = db.session.get(AnalysisRun, finished.reused_run_id)  # whose result it is
    return RoundAnalysis(latest, finished,
                         0 if finished is None else ratings_since(round_id, finished))


def ratings_since(round_id: int, run: AnalysisRun) -> int:
    """Blind ratings of the round submitted after `run` read them (revisions included)."""
    return db.session.execute(db.select(func.count(Rating.id)).where(
        Rating.kind == RatingKind.BLIND, Rating.context_type == "round",
        Rating.context_id == round_id, Rating.submitted_at > run.started_at)).scalar_one()


def run_part(run_id: int, name: str) -> dict | None:
    """One stored part of a run's result (a page loads only the part it shows)."""
    return db.session.execute(db.select(AnalysisRunPart.data).where(
        AnalysisRunPart.run_id == run_id, AnalysisRunPart.name == name)).scalar_one_or_none()


def run_report(run_id: int) -> dict:
    """The whole result reassembled from its parts: the engine's report (charts left out)."""
    report: dict = {}
    for name, data in db.session.execute(db.select(AnalysisRunPart.name, AnalysisRunPart.data)
                                         .where(AnalysisRunPart.run_id == run_id)):
        if not name.startswith(CHARTS) and data:
            report.update(data)
    return report
