"""Reads of ratings. Each domain that gives scores narrows them to its own context."""

from sqlalchemy import func

from moderation.core.extensions import db
from moderation.ratings.models import Rating


def current_by_criterion(*where) -> dict[int, Rating]:
    """The current ratings that match `where` (conditions on Rating), by criterion id: one
    rater's scores of one sample in one context give one rating per criterion."""
    rows = db.session.execute(
        db.select(Rating).where(Rating.is_current.is_(True), *where)).scalars()
    return {r.criterion_id: r for r in rows}


def current_ids_by_criterion(*where) -> dict[int, int]:
    """current_by_criterion() as ids only, read afresh: to see whether another request has
    replaced the ratings this one read."""
    return dict(db.session.execute(
        db.select(Rating.criterion_id, Rating.id)
        .where(Rating.is_current.is_(True), *where)).all())


def count_for_sample(sample_id: int) -> int:
    """Every rating of a sample, revisions and drafts included."""
    return db.session.scalar(
        db.select(func.count(Rating.id)).where(Rating.sample_id == sample_id))


def count_for_version(version_id: int) -> int:
    """Scores recorded against a rubric version (they freeze it)."""
    return db.session.scalar(
        db.select(func.count(Rating.id)).where(Rating.rubric_version_id == version_id))
