"""Blind scoring rounds: their pools and queues.

The scores themselves are Ratings (moderation.ratings). A ScoringRound of a district assigns
its samples to raters (RoundRater) through QueueItems, each a live sample, a seeded validity
paper or a paper of the common calibration set; the kind is stored but never shown to the
rater. A round's blind ratings point at their queue item, and the database keeps one current
rating per item and criterion, so a double submit cannot store two.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.core import timezones
from moderation.core.db import string_enum as _enum
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.scoring.assignment import ItemKind  # live, validity or calibration


class RoundStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"open": "Open", "closed": "Closed"}[self.value]


class ScoringRound(db.Model):
    """A blind scoring round: samples of one rubric version, a pool of raters, N ratings each.

    Assignment happens when the round is opened (services.open_round), in the same transaction;
    `design` keeps the design report of that moment for the round page.
    """

    __tablename__ = "scoring_rounds"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[RoundStatus] = mapped_column(_enum(RoundStatus), default=RoundStatus.OPEN,
                                                index=True)
    ratings_per_sample: Mapped[int]
    validity_rate: Mapped[float]  # share of a queue that is validity papers (0.1 = one in ten)
    calibration_size: Mapped[int]
    seed: Mapped[int]  # of the random choices, so a preview and the opening give one design
    # The day (in the district's zone) by which raters should have scored their queue; a
    # reminder, nothing closes then.
    due_date: Mapped[date | None]
    design: Mapped[dict] = mapped_column(JSON, default=dict)
    # Empty for a historical round: nobody opened it here.
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    # A past moderation imported from a spreadsheet (`flask ratings import`): closed from the
    # start, without queues or work to show; it feeds statistics and reports only.
    is_historical: Mapped[bool] = mapped_column(default=False, server_default=false())
    source_file: Mapped[str | None] = mapped_column(String(255))  # its file name, when imported

    district = relationship("District", viewonly=True)
    rubric_version = relationship("RubricVersion", viewonly=True)
    opened_by = relationship("User", foreign_keys=[opened_by_id], viewonly=True)
    closed_by = relationship("User", foreign_keys=[closed_by_id], viewonly=True)
    raters: Mapped[list["RoundRater"]] = relationship(back_populates="round",
                                                      cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status == RoundStatus.OPEN

    @property
    def status_label(self) -> str:
        return "Imported" if self.is_historical else self.status.label

    @property
    def is_overdue(self) -> bool:
        """Still open after its due date, a day of the district's calendar."""
        return (self.is_open and self.due_date is not None
                and self.due_date < timezones.today_in(self.district.time_zone))


class RoundRater(db.Model):
    """A teacher in a round's pool, with the school the assignment kept them away from."""

    __tablename__ = "round_raters"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("scoring_rounds.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))

    round: Mapped[ScoringRound] = relationship(back_populates="raters")
    user = relationship("User", viewonly=True)
    school = relationship("School", viewonly=True)


class QueueItem(db.Model):
    """One sample in one rater's queue, at a position; addressed by a random token in URLs, so
    neither the address nor the order of ids tells live work from an anchor paper."""

    __tablename__ = "queue_items"
    __table_args__ = (UniqueConstraint("round_id", "rater_id", "sample_id"),
                      UniqueConstraint("round_id", "rater_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("scoring_rounds.id"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("work_samples.id", ondelete="CASCADE"),
                                           index=True)
    # The anchor paper of a validity or calibration item (its agreed scores).
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("anchors.id", ondelete="CASCADE"),
                                                  index=True)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind))
    position: Mapped[int]
    draft_saved_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    # Set when the rater's account was deactivated before they submitted it: out of the
    # queue and of the round's progress, back if the account is reactivated while the round
    # is open.
    withdrawn_at: Mapped[datetime | None]

    round: Mapped[ScoringRound] = relationship()
    rater = relationship("User", viewonly=True)
    sample = relationship("WorkSample", viewonly=True)
    anchor = relationship("Anchor", viewonly=True)

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None
