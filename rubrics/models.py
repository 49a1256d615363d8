"""Rubrics, their versions, criteria and performance levels.

A rubric belongs to a district and is shared by its schools. What teachers score against is a
RubricVersion: its criteria and levels. Once anything has been scored against a version it is
frozen (frozen_at is set) and never changes again; changes go into the next version, so every
old score keeps pointing at the descriptors the teacher actually read.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.core.db import utcnow
from moderation.core.extensions import db


class Rubric(db.Model):
    """The catalogue entry: what the rubric is for. Its content lives in its versions."""

    __tablename__ = "rubrics"
    __table_args__ = (UniqueConstraint("district_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(100))
    grade_band: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list["RubricVersion"]] = relationship(
        back_populates="rubric", order_by="RubricVersion.number", cascade="all, delete-orphan")
    district = relationship("District", viewonly=True)
    created_by = relationship("User", viewonly=True)


class RubricVersion(db.Model):
    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("rubric_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id"), index=True)
    number: Mapped[int]
    # Set when the first score (or anchor paper) uses this version; never cleared.
    frozen_at: Mapped[datetime | None]
    # What changed compared with the previous version, in the author's words.
    change_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    rubric: Mapped[Rubric] = relationship(back_populates="versions")
    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="version", order_by="[Criterion.position, Criterion.id]",
        cascade="all, delete-orphan")
    created_by = relationship("User", viewonly=True)

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def label(self) -> str:
        return f"{self.rubric.title} (version {self.number})"


class Criterion(db.Model):
    __tablename__ = "rubric_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    student_friendly: Mapped[str | None] = mapped_column(Text)
    # Comma-separated standard codes, e.g. "W.9-10.1, W.9-10.1a".
    standard_codes: Mapped[str | None] = mapped_column(String(500))

    version: Mapped[RubricVersion] = relationship(back_populates="criteria")
    levels: Mapped[list["Level"]] = relationship(
        back_populates="criterion", order_by="Level.score", cascade="all, delete-orphan")

    @property
    def standard_code_list(self) -> list[str]:
        return [c.strip() for c in (self.standard_codes or "").split(",") if c.strip()]

    @property
    def proficient_level(self) -> "Level | None":
        return next((level for level in self.levels if level.is_proficient), None)


class Level(db.Model):
    __tablename__ = "rubric_levels"
    __table_args__ = (UniqueConstraint("criterion_id", "score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("rubric_criteria.id"), index=True)
    score: Mapped[int]
    label: Mapped[str] = mapped_column(String(100))
    descriptor: Mapped[str] = mapped_column(Text)
    student_friendly: Mapped[str | None] = mapped_column(Text)
    # Exactly one level per criterion is the proficiency level (services keep it so).
    is_proficient: Mapped[bool] = mapped_column(default=False)

    criterion: Mapped[Criterion] = relationship(back_populates="levels")
