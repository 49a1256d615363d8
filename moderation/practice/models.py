"""Practice on anchor papers, and a district's choice of who sees it.

A PracticeAttempt is a teacher scoring an anchor paper of the practice pool on their own; its
scores are PRACTICE Ratings (moderation.ratings) that point at it, and the attempt keeps how
many agreed with the anchor's scores. PracticeSettings holds a district's privacy choice.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.core.db import utcnow
from moderation.core.extensions import db


class PracticeAttempt(db.Model):
    """A teacher scoring an anchor paper on their own, then seeing the agreed scores.

    `nonce` comes from the practice form, so sending the same form twice records one attempt.
    """

    __tablename__ = "practice_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    anchor_id: Mapped[int] = mapped_column(ForeignKey("anchors.id", ondelete="CASCADE"),
                                           index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    n_criteria: Mapped[int]
    n_exact: Mapped[int]
    n_adjacent: Mapped[int]  # within one level, exact included

    user = relationship("User", viewonly=True)
    anchor = relationship("Anchor", viewonly=True)


class PracticeSettings(db.Model):
    """A district's choices about practice; created with the defaults on first change.

    The table kept the name it had when practice was part of scoring."""

    __tablename__ = "scoring_settings"

    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), primary_key=True)
    # May coaches see the practice history of the teachers in their scope? Off by default.
    practice_visible_to_coaches: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime | None]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
