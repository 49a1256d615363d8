"""Where a school or person came from: their id in the district's roster, and each upload.

A link ties a source id of one district's roster (the student information system's
sourcedId, or the id in the platform's own CSV) to our school or person, so a second import
of the same file finds everything it made the first time. People added by hand have no link,
and no import ever deactivates them.
"""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from moderation.core.db import string_enum, utcnow
from moderation.core.extensions import db


class LinkKind(enum.StrEnum):
    SCHOOL = "school"
    PERSON = "person"


class RosterLink(db.Model):
    __tablename__ = "roster_links"
    __table_args__ = (
        UniqueConstraint("district_id", "kind", "source_id"),
        # One source id per person (and school) in a district, so a person is never two rows.
        UniqueConstraint("district_id", "user_id"),
        UniqueConstraint("district_id", "school_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    kind: Mapped[LinkKind] = mapped_column(string_enum(LinkKind, 10))
    source_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportStatus(enum.StrEnum):
    PLANNED = "planned"  # uploaded and shown as a dry run
    APPLIED = "applied"


class RosterImport(db.Model):
    """An upload kept between its dry run and its apply, so what is applied is what was
    uploaded; the apply plans again against the database as it is then."""

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    # Empty when the command line imported it.
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    format: Mapped[str] = mapped_column(String(20))
    # The CSV files as text, by file name (a zip arrives unpacked).
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    # SHA-256 of the files, to tell the administrator it is the same upload, and to refuse
    # content changed behind the page.
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[ImportStatus] = mapped_column(string_enum(ImportStatus, 10),
                                                 default=ImportStatus.PLANNED)
    applied_at: Mapped[datetime | None]
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # What the apply did, in counts.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
