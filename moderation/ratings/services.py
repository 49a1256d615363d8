"""Writes of ratings: record a score, amend a draft, revise a submitted score. Services flush
(revise) or only add; they never commit and never check a domain's rules: the domain that
gives the score (samples, scoring, practice) checks them first and audits the change.

A submitted score never changes in place: revise() keeps the old row, no longer current, and
adds its successor pointing at it, with the reason.
"""

from datetime import datetime

from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind, RatingPhase


class RatingError(ValueError):
    """A write that would break the ratings' own rules (a programming error, not user input)."""


def record(*, rater_id: int, sample_id: int, criterion_id: int, rubric_version_id: int,
           score: int, kind: RatingKind, context_type: str | None = None,
           context_id: int | None = None, queue_item_id: int | None = None,
           comment: str | None = None, submitted_at: datetime | None = None,
           phase: RatingPhase | None = None) -> Rating:
    """A new current rating; a draft while `submitted_at` is None."""
    rating = Rating(rater_id=rater_id, sample_id=sample_id, criterion_id=criterion_id,
                    rubric_version_id=rubric_version_id, score=score, kind=kind,
                    context_type=context_type, context_id=context_id, phase=phase,
                    queue_item_id=queue_item_id, comment=comment, submitted_at=submitted_at)
    db.session.add(rating)
    return rating


def amend_draft(draft: Rating, score: int, comment: str | None = None,
                submitted_at: datetime | None = None) -> None:
    """Change a draft in place (nobody has relied on it yet); with `submitted_at`, submit it."""
    if not draft.is_draft:
        raise RatingError("A submitted rating changes only by a revision.")
    draft.score, draft.comment, draft.submitted_at = score, comment, submitted_at


def revise(previous: Rating, score: int, *, reason: str, submitted_at: datetime,
           comment: str | None = None) -> Rating:
    """Replace a current rating by a new one that points at it, with the reason."""
    if not previous.is_current:
        raise RatingError("Only the current rating can be revised.")
    previous.is_current = False
    # The old row stops being current before its successor arrives: the database keeps one
    # current rating per queue item and criterion.
    db.session.flush()
    successor = record(rater_id=previous.rater_id, sample_id=previous.sample_id,
                       criterion_id=previous.criterion_id,
                       rubric_version_id=previous.rubric_version_id, score=score,
                       kind=previous.kind, context_type=previous.context_type,
                       context_id=previous.context_id, queue_item_id=previous.queue_item_id,
                       phase=previous.phase,
                       comment=comment, submitted_at=submitted_at)
    successor.revision_of, successor.reason = previous, reason
    return successor


def delete_for_sample(sample_id: int) -> None:
    """Every rating of a sample (purging it); the caller audits the purge."""
    db.session.execute(db.delete(Rating).where(Rating.sample_id == sample_id))
