"""Live joint-scoring sessions: a group scores the same work alone, sees the scores together,
discusses them with evidence from the work and records a consensus with its rationale.

A Session runs an agenda of SessionItems (work samples, some of them anchor papers) through
its states, driven by its facilitator. `version` is bumped in the same transaction as every
change that pages show (a state change, a submit), by compare-and-set (services), so two
simultaneous clicks cannot both change the state and a poll knows whether anything changed.

The scores are Ratings (moderation.ratings) with the session as context: kind BLIND for the
independent scores given before the reveal (the only ones that enter statistics), kind
INFORMED with a phase tag for those given after it (a late joiner's, or a rescore after
discussion). A SessionSubmission records that a person submitted an item in a phase; the
database keeps one per (item, person, phase), so a double submit cannot count twice.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.core.db import string_enum as _enum
from moderation.core.db import utcnow
from moderation.core.extensions import db


class SessionScope(StrEnum):
    WITHIN_SCHOOL = "within_school"
    CROSS_SCHOOL = "cross_school"


class SessionState(StrEnum):
    BRIEFING = "briefing"
    SCORING = "scoring"
    REVEALED = "revealed"
    DISCUSSING = "discussing"
    RESCORING = "rescoring"
    DEBRIEF = "debrief"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class ItemState(StrEnum):
    PENDING = "pending"
    SCORING = "scoring"
    REVEALED = "revealed"
    DISCUSSING = "discussing"
    RESCORING = "rescoring"
    AGREED = "agreed"
    DEFERRED = "deferred"  # to a third reader
    SKIPPED = "skipped"

    @property
    def is_finished(self) -> bool:
        return self in (ItemState.AGREED, ItemState.DEFERRED, ItemState.SKIPPED)


class ParticipantRole(StrEnum):
    FACILITATOR = "facilitator"
    CO_FACILITATOR = "co_facilitator"
    PARTICIPANT = "participant"
    RECORDER = "recorder"
    OBSERVER = "observer"  # watches, never scores

    @property
    def scores(self) -> bool:
        """Whether this role scores the work (the facilitator runs the session instead)."""
        return self not in (ParticipantRole.FACILITATOR, ParticipantRole.OBSERVER)


class ConsensusMethod(StrEnum):
    UNANIMOUS = "unanimous"
    FACILITATOR = "facilitator"  # the facilitator's decision
    VOTE = "vote"
    DEFERRED = "deferred"  # to a third reader: no level yet
    AUTO = "auto"  # adjacent scores on one side of the proficient cut, where allowed

    @property
    def label(self) -> str:
        return {"unanimous": "Unanimous", "facilitator": "Facilitator's decision",
                "vote": "Vote", "deferred": "Deferred to a third reader",
                "auto": "Agreed automatically (adjacent, same side of the cut)"}[self.value]


class Session(db.Model):
    __tablename__ = "moderation_sessions"
    __table_args__ = (
        # A join code names one session among those still open; closed ones free theirs.
        Index("uq_moderation_sessions_open_join_code", "join_code", unique=True,
              sqlite_where=text("state <> 'closed'"), postgresql_where=text("state <> 'closed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    co_facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scope: Mapped[SessionScope] = mapped_column(_enum(SessionScope))
    # The school of a within-school session: only its staff may join.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    is_names_at_reveal: Mapped[bool] = mapped_column(default=False)
    allows_auto_agree: Mapped[bool] = mapped_column(default=False)
    join_code: Mapped[str] = mapped_column(String(8))
    state: Mapped[SessionState] = mapped_column(_enum(SessionState),
                                                default=SessionState.BRIEFING)
    version: Mapped[int] = mapped_column(default=1)
    # SET NULL: the two tables refer to each other, so deleting a session's items (purging a
    # sample, emptying a test database) must not wait for the session.
    current_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_items.id", use_alter=True, ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    district = relationship("District", viewonly=True)
    rubric_version = relationship("RubricVersion", viewonly=True)
    school = relationship("School", viewonly=True)
    facilitator = relationship("User", foreign_keys=[facilitator_id], viewonly=True)
    co_facilitator = relationship("User", foreign_keys=[co_facilitator_id], viewonly=True)
    items: Mapped[list["SessionItem"]] = relationship(
        back_populates="session", foreign_keys="SessionItem.session_id",
        order_by="SessionItem.position", cascade="all, delete-orphan")
    participants: Mapped[list["SessionParticipant"]] = relationship(
        back_populates="session", cascade="all, delete-orphan")
    current_item: Mapped["SessionItem | None"] = relationship(
        foreign_keys=[current_item_id], post_update=True, viewonly=True)

    @property
    def is_closed(self) -> bool:
        return self.state == SessionState.CLOSED


class SessionItem(db.Model):
    """One piece of work on the agenda, at a position; an anchor paper names its anchor."""

    __tablename__ = "session_items"
    __table_args__ = (UniqueConstraint("session_id", "sample_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("moderation_sessions.id"), index=True)
    # CASCADE, as a round's queue items: purging a sample (its student's data) takes its place
    # on every agenda with it, and what was said about it.
    sample_id: Mapped[int] = mapped_column(ForeignKey("work_samples.id", ondelete="CASCADE"),
                                           index=True)
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("anchors.id", ondelete="SET NULL"))
    position: Mapped[int]
    state: Mapped[ItemState] = mapped_column(_enum(ItemState), default=ItemState.PENDING)
    # The timer for scoring it, set on the agenda; the deadline once scoring starts. A poll
    # after the deadline reveals the item when nobody facilitates (no scheduler needed).
    timer_minutes: Mapped[int | None]
    deadline_at: Mapped[datetime | None]
    scoring_started_at: Mapped[datetime | None]
    revealed_at: Mapped[datetime | None]

    session: Mapped[Session] = relationship(back_populates="items", foreign_keys=[session_id])
    sample = relationship("WorkSample", viewonly=True)
    anchor = relationship("Anchor", viewonly=True)
    consensus: Mapped[list["Consensus"]] = relationship(back_populates="item",
                                                        cascade="all, delete-orphan")


class SessionParticipant(db.Model):
    __tablename__ = "session_participants"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("moderation_sessions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(_enum(ParticipantRole),
                                                 default=ParticipantRole.PARTICIPANT)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Presence: the time of the person's last poll, written at most every PRESENCE_WRITE_S.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[Session] = relationship(back_populates="participants")
    user = relationship("User", viewonly=True)


class SessionSubmission(db.Model):
    """That a person submitted their scores of an item in a phase (None: independent)."""

    __tablename__ = "session_submissions"
    __table_args__ = (UniqueConstraint("item_id", "user_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("session_items.id", ondelete="CASCADE"),
                                         index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Independent scores have no phase; NULLs differ in a unique constraint, so "independent"
    # is stored as its own value here.
    phase: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", viewonly=True)


# The phase of a submission of independent scores (the others are the values of
# moderation.ratings.models.RatingPhase).
INDEPENDENT = "independent"


class Consensus(db.Model):
    """The group's agreed level of one criterion of one item, how it was reached and why."""

    __tablename__ = "session_consensus"
    __table_args__ = (UniqueConstraint("item_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("session_items.id", ondelete="CASCADE"),
                                         index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("rubric_criteria.id"))
    level: Mapped[int | None]  # None when deferred
    method: Mapped[ConsensusMethod] = mapped_column(_enum(ConsensusMethod))
    rationale: Mapped[str | None] = mapped_column(Text)
    # Where in the work: "page 2, second paragraph", or a quoted passage.
    evidence: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[SessionItem] = relationship(back_populates="consensus")
    criterion = relationship("Criterion", viewonly=True)


class DissentNote(db.Model):
    """A disagreement with a consensus, kept without its author: anyone may dissent freely."""

    __tablename__ = "session_dissent_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("session_items.id", ondelete="CASCADE"),
                                         index=True)
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("rubric_criteria.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
