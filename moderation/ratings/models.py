"""The one ratings table the whole product uses.

Every score a person gives is a Rating: a class teacher's own (local) judgement of a sample, a
blind score in a round, a practice score against an anchor, a score in a live session or a
district cycle. Each records rater, sample, criterion, rubric version, score, time and the context
it was given in (docs/methods.md: the unit of reliability is a (sample, criterion) pair). A changed
score is a new row pointing at the one it revises (revision_of_id); the old row stays with
is_current False, so analyses use the current rows and the audit trail keeps them all.

The domains that give scores point at their own rows through the context (context_type and
context_id), and a blind rating of a scoring round at its queue item, by table name only: this
package imports none of them.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.core.db import string_enum, utcnow
from moderation.core.extensions import db


class RatingKind(StrEnum):
    BLIND = "blind"
    LOCAL = "local"
    PRACTICE = "practice"
    # Given in a live session after seeing the others' scores: never an independent judgement.
    INFORMED = "informed"


class RatingPhase(StrEnum):
    """When an INFORMED rating was given: by someone who joined after the reveal, or as a
    rescore after the discussion."""

    POST_REVEAL = "post_reveal"
    RESCORE = "rescore"


class Rating(db.Model):
    __tablename__ = "ratings"
    __table_args__ = (
        # One current rating per queue item and criterion: a retried or doubled submit, or two
        # tabs saving at once, cannot leave two. Partial, because revisions keep their old rows.
        Index("uq_ratings_current_item_criterion", "queue_item_id", "criterion_id", unique=True,
              sqlite_where=text("is_current"), postgresql_where=text("is_current")),
        # A round's (session's, ...) ratings of one kind, by time: the analysis reads them and
        # every report page asks for the first and last and for those since its run, which
        # would otherwise scan every rating of every round (0.1-0.3 s each at a million).
        Index("ix_ratings_context", "context_type", "context_id", "kind", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("work_samples.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("rubric_criteria.id"), index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"), index=True)
    score: Mapped[int]
    kind: Mapped[RatingKind] = mapped_column(
        string_enum(RatingKind))
    # "round", "session", "cycle" or "practice", with the id of that round, session, ...
    context_type: Mapped[str | None] = mapped_column(String(20))
    context_id: Mapped[int | None]
    phase: Mapped[RatingPhase | None] = mapped_column(
        string_enum(RatingPhase))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None while the rater is still drafting; analyses use submitted ratings only.
    submitted_at: Mapped[datetime | None]
    is_current: Mapped[bool] = mapped_column(default=True)
    revision_of_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id"))
    # Why a score was revised, in the rater's words.
    reason: Mapped[str | None] = mapped_column(Text)
    # The queue item of a blind rating given in a scoring round.
    queue_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("queue_items.id", ondelete="CASCADE"), index=True)

    rater = relationship("User", viewonly=True)
    criterion = relationship("Criterion", viewonly=True)
    revision_of: Mapped["Rating | None"] = relationship(remote_side=[id])

    @property
    def is_draft(self) -> bool:
        return self.submitted_at is None
