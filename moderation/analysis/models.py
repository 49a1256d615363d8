"""Analysis runs: the statistics engine's result for a scope (a scoring round), computed in the
background and stored per part, so a report page reads only the part it shows.

A run is keyed by its scope and the hash of its input (the canonical ratings rows and the
parameters, engine version included), which its job computes when it has read the ratings (a
district's take seconds to read, too long for the request that closes a round): a run whose
input is a finished run's finishes at once as a reuse of it (`reused_run_id`), its result the
finished run's (`result_id`). A worker holds
a run by a lease (`claimed_until`) that it renews while it computes; a run whose lease ran out
(its worker died) is queued again by the sweep (services.requeue_abandoned).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.core.db import string_enum, utcnow
from moderation.core.extensions import db
from moderation.statistics.analysis import STEPS

# The steps of a run as its progress names them: reading, the engine's own, drawing the
# charts, storing.
READ_STEP, CHARTS_STEP, STORE_STEP = "read the ratings", "draw the charts", "store the results"
STEP_NAMES = (READ_STEP, *STEPS, CHARTS_STEP, STORE_STEP)

# The scopes a run can be of; sessions and cycles come later, by the same two columns.
SCOPE_ROUND = "round"

# The report's top-level fields by the part that stores them; a field not named here (a later
# engine's) is stored with the summary. Charts are parts of their own, one per chart
# (chart_part_name), drawn by the reports' code (registered with the job), never by the engine.
PARTS = {
    "criteria": ("criteria",),
    "reliability": ("overall", "score_levels"),
    "rasch": ("rasch",),
    "raters": ("raters", "rater_effects", "drift_power"),
    "schools": ("schools", "school_counts"),
    "equity": ("equity",),
    "bias": ("bias",),
    "design": ("design",),
    "triggers": ("triggers",),
}
SUMMARY, CHARTS = "summary", "charts"


def chart_part_name(key: str) -> str:
    """The part that stores the chart of this key (reports.round_report.chart_key)."""
    return f"{CHARTS}:{key}"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": "Waiting to start", "running": "Running", "done": "Finished",
                "failed": "Failed"}[self.value]

    @property
    def is_active(self) -> bool:
        return self in (RunStatus.QUEUED, RunStatus.RUNNING)


class AnalysisRun(db.Model):
    __tablename__ = "analysis_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_type: Mapped[str] = mapped_column(String(20))
    scope_id: Mapped[int] = mapped_column(index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    status: Mapped[RunStatus] = mapped_column(
        string_enum(RunStatus), default=RunStatus.QUEUED)
    schema_version: Mapped[int]
    engine_version: Mapped[str] = mapped_column(String(60))
    # level, bootstrap, seed and the Thresholds the district's settings gave the engine.
    parameters: Mapped[dict] = mapped_column(JSON)
    # sha256 of the canonical input rows and the parameters (inputs.input_hash); None until
    # the job has read them.
    input_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # The finished run of the same input whose result this run's is, instead of its own.
    reused_run_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_runs.id"))
    n_ratings: Mapped[int | None]
    # The step running now (one of statistics.analysis.STEPS, or the run's own read/store).
    step: Mapped[str | None] = mapped_column(String(60))
    # [{"name", "seconds"}] of the steps finished, in order.
    step_timings: Mapped[list] = mapped_column(JSON, default=list)
    # Goes up at every visible change, so a polling page asks "anything new since N?".
    progress_version: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    parts: Mapped[list[AnalysisRunPart]] = relationship(
        back_populates="run", cascade="all, delete-orphan", lazy="raise")

    @property
    def result_id(self) -> int:
        """The run whose parts hold this run's result."""
        return self.reused_run_id or self.id

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class AnalysisRunPart(db.Model):
    """One table of a run's result (summary, criteria, raters, schools, triggers, ...): the
    report's top-level fields of that part, as the engine gave them."""

    __tablename__ = "analysis_run_parts"
    __table_args__ = (UniqueConstraint("run_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_runs.id", ondelete="CASCADE"),
                                        index=True)
    name: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict | None] = mapped_column(JSON)

    run: Mapped[AnalysisRun] = relationship(back_populates="parts")
