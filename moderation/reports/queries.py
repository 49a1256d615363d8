"""Reads for the report pages: the names the report's codes stand for, and a run's parts.

A page loads only the parts it shows (in one statement), never the whole result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func

from moderation.accounts.models import MeasureUnit, School, User
from moderation.accounts.queries import ContextRow, school_context
from moderation.analysis.models import AnalysisRunPart
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind
from moderation.scoring.models import RoundRater
from rubrics.models import Criterion


@dataclass(frozen=True)
class PoolRater:
    user_id: int
    school_id: int | None  # the school they rated for
    name: str


def round_pool(round_id: int) -> list[PoolRater]:
    """The round's raters with the school they rated for and their name."""
    rows = db.session.execute(
        db.select(RoundRater.user_id, RoundRater.school_id, User.display_name)
        .join(User, User.id == RoundRater.user_id)
        .where(RoundRater.round_id == round_id).order_by(RoundRater.id))
    return [PoolRater(*row) for row in rows]


def pool_user_ids(round_id: int) -> set[int]:
    return set(db.session.execute(db.select(RoundRater.user_id).where(
        RoundRater.round_id == round_id)).scalars())


def school_names(district_id: int) -> dict[int, str]:
    """id -> name of every school of the district, archived ones too (a run may name them)."""
    return dict(db.session.execute(db.select(School.id, School.name).where(
        School.district_id == district_id)).all())


def criterion_names(version_id: int) -> dict[int, str]:
    return dict(db.session.execute(db.select(Criterion.id, Criterion.name).where(
        Criterion.version_id == version_id)).all())


def parts(run_id: int, *names: str) -> dict:
    """The fields of the named parts of a run, merged (a part the run lacks adds nothing)."""
    fields: dict = {}
    for data in db.session.execute(db.select(AnalysisRunPart.data).where(
            AnalysisRunPart.run_id == run_id, AnalysisRunPart.name.in_(names))).scalars():
        fields.update(data or {})
    return fields


def rating_period(round_id: int) -> tuple[str, str] | None:
    """The first and last submitted blind rating of the round (ISO 8601, UTC), or None."""
    first, last = db.session.execute(db.select(
        func.min(Rating.submitted_at), func.max(Rating.submitted_at)).where(
        Rating.kind == RatingKind.BLIND, Rating.context_type == "round",
        Rating.context_id == round_id, Rating.submitted_at.is_not(None))).one()
    if first is None:
        return None
    return _iso(first), _iso(last)


def _iso(moment) -> str:
    """SQLite hands back naive times (stored as UTC)."""
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def context_values(district_id: int) -> dict[str, dict[str, float]]:
    """measure key -> school name -> its latest figure, shares in percent (as the engine's
    equity analysis reads a schools file)."""
    latest: dict[tuple[str, str], ContextRow] = {}
    for row in school_context(district_id):
        kept = latest.get((row.measure, row.school))
        if kept is None or (row.year or 0) >= (kept.year or 0):
            latest[row.measure, row.school] = row
    values: dict[str, dict[str, float]] = {}
    for (measure, school), row in latest.items():
        scale = 100.0 if row.unit is MeasureUnit.SHARE else 1.0
        values.setdefault(measure, {})[school] = float(row.value) * scale
    return values
