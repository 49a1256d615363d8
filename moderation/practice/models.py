"""Practice on anchor papers.

A PracticeAttempt is a teacher scoring an anchor paper of the practice pool on their own; its
scores are PRACTICE Ratings (moderation.ratings) that point at it, and the attempt keeps how
many agreed with the anchor's scores.
Whether coaches see it is a district setting (moderation.settings).
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

