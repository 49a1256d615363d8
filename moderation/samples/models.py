"""Anonymised work samples, the separate link to their students, and anchor papers.

A WorkSample is known to raters only by its pseudonymous code. Its stored file has been stripped
of metadata (processing.py) and holds no trace of the original file name. Who the student is
lives in StudentLink, a table only staff of the uploading school may read (permissions.py); it is
never joined into lists, exports or the audit log.
"""

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.core.db import string_enum as _enum
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.samples.processing import KIND_BY_CONTENT_TYPE, FileKind


class SampleStatus(StrEnum):
    DRAFT = "draft"  # uploaded; the uploader has not yet confirmed that no names are visible
    READY = "ready"  # may enter cross-school scoring
    ARCHIVED = "archived"  # withdrawn after scoring: hidden from queues and lists, kept for stats

    @property
    def label(self) -> str:
        return {"draft": "Draft: check for names", "ready": "Ready for scoring",
                "archived": "Archived"}[self.value]


class WorkSample(db.Model):
    __tablename__ = "work_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    # Empty for external work (is_external): nobody uploaded it here.
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))  # the task, e.g. "Should homework be banned?"
    status: Mapped[SampleStatus] = mapped_column(_enum(SampleStatus), default=SampleStatus.DRAFT,
                                                 index=True)
    redaction_confirmed_at: Mapped[datetime | None]
    redaction_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    archived_at: Mapped[datetime | None]
    # The anonymised file as stored (moderation.core.storage): key, size, type and checksum.
    storage_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    checksum_sha256: Mapped[str] = mapped_column(String(64))
    page_count: Mapped[int] = mapped_column(default=1)
    width: Mapped[int | None]  # of an image sample
    height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Work known only by its scores, from a past moderation's spreadsheet (`flask ratings
    # import`): no file and no pages (the storage fields are empty), archived from the start
    # so that no list, queue or anchor pool offers it; `external_label` is its id in the file.
    is_external: Mapped[bool] = mapped_column(default=False, server_default=false())
    external_label: Mapped[str | None] = mapped_column(String(200))

    school = relationship("School", viewonly=True)
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id], viewonly=True)
    redaction_confirmed_by = relationship("User", foreign_keys=[redaction_confirmed_by_id],
                                          viewonly=True)
    rubric_version = relationship("RubricVersion", viewonly=True)
    pages: Mapped[list["SamplePage"]] = relationship(
        back_populates="sample", order_by="SamplePage.number", cascade="all, delete-orphan")
    anchors: Mapped[list["Anchor"]] = relationship(back_populates="sample",
                                                   cascade="all, delete-orphan")

    @property
    def kind(self) -> FileKind:
        return KIND_BY_CONTENT_TYPE[self.content_type]

    @property
    def is_draft(self) -> bool:
        return self.status == SampleStatus.DRAFT

    @property
    def is_archived(self) -> bool:
        return self.status == SampleStatus.ARCHIVED

    @property
    def image_version(self) -> str:
        """Changes whenever the stored file does (a redaction), so image URLs carrying it are
        never answered from a browser's cache of the unredacted image."""
        return _version(self.storage_key)

    @property
    def download_name(self) -> str:
        """The name a download gets: the code, never the original file name."""
        return self.code + self.kind.extension


class SamplePage(db.Model):
    """One page of a PDF sample, rendered to PNG on the server and stored like any object."""

    __tablename__ = "sample_pages"
    __table_args__ = (UniqueConstraint("sample_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("work_samples.id"), index=True)
    number: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]

    sample: Mapped[WorkSample] = relationship(back_populates="pages")

    @property
    def image_version(self) -> str:
        return _version(self.storage_key)


def _version(storage_key: str) -> str:
    return hashlib.sha256(storage_key.encode()).hexdigest()[:12]


class StudentLink(db.Model):
    """Whose work a sample is. Readable only by staff of the uploading school (permissions.py).

    WorkSample has deliberately no relationship to this table, so no template, list or export
    can reach a name by walking from a sample; only queries.student_link() reads it.
    """

    __tablename__ = "student_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("work_samples.id"), unique=True)
    student_name: Mapped[str | None] = mapped_column(String(200))
    student_local_id: Mapped[str | None] = mapped_column(String(100))
    original_filename: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sample: Mapped[WorkSample] = relationship()


class AnchorPool(StrEnum):
    """What an anchor paper is for. Any teacher may practise any practice anchor and then knows
    its agreed scores, so the papers that measure raters (validity papers and the common
    calibration set of a scoring round) come from a separate pool that practice never shows."""

    PRACTICE = "practice"
    CALIBRATION = "calibration"

    @property
    def label(self) -> str:
        return {"practice": "Practice", "calibration": "Calibration"}[self.value]

    @property
    def description(self) -> str:
        return {"practice": "Practice: teachers score it on their own and then see the agreed "
                            "scores. Never used in scoring rounds.",
                "calibration": "Calibration: kept for scoring rounds, as a validity paper or in "
                               "the common calibration set. Never shown in practice."}[self.value]


class Anchor(db.Model):
    """A sample promoted to show what each level looks like, with agreed scores per criterion.

    Anchors promoted before pools existed are calibration anchors: none of them becomes visible
    in practice unasked, and those already practised are kept out of the practising teacher's
    rounds by scoring.services (which skips every anchor a rater has practised).
    """

    __tablename__ = "anchors"
    __table_args__ = (UniqueConstraint("sample_id", "rubric_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("work_samples.id"), index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"), index=True)
    # Empty for the anchor of external work, whose agreed scores were imported.
    promoted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pool: Mapped[AnchorPool] = mapped_column(_enum(AnchorPool), default=AnchorPool.CALIBRATION,
                                             server_default=AnchorPool.CALIBRATION.value,
                                             index=True)

    sample: Mapped[WorkSample] = relationship(back_populates="anchors")
    rubric_version = relationship("RubricVersion", viewonly=True)
    promoted_by = relationship("User", viewonly=True)
    scores: Mapped[list["AnchorScore"]] = relationship(
        back_populates="anchor", cascade="all, delete-orphan", lazy="selectin")


class AnchorScore(db.Model):
    __tablename__ = "anchor_scores"
    __table_args__ = (UniqueConstraint("anchor_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    anchor_id: Mapped[int] = mapped_column(ForeignKey("anchors.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("rubric_criteria.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    rationale: Mapped[str] = mapped_column(Text)

    anchor: Mapped[Anchor] = relationship(back_populates="scores")
    criterion = relationship("Criterion", viewonly=True)
