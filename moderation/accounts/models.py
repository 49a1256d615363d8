"""Districts, schools, users and their role memberships.

A user's roles are memberships: a user can be a teacher at one school and a coach at another. A
coach membership is school-scoped (school_id set) or district-scoped (school_id empty);
district_admin is always district-scoped.
"""

import enum
import functools
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from moderation.core.db import string_enum, utcnow
from moderation.core.extensions import db
from moderation.core.timezones import DEFAULT_ZONE


class Role(enum.StrEnum):
    TEACHER = "teacher"
    COACH = "coach"
    DISTRICT_ADMIN = "district_admin"
    # A principal: sees their school's submissions, never individual raters' results.
    SCHOOL_LEADER = "school_leader"

    @property
    def label(self) -> str:
        return {"teacher": "Teacher", "coach": "Instructional coach",
                "district_admin": "District administrator",
                "school_leader": "School leader"}[self.value]

    @property
    def needs_school(self) -> bool:
        return self in (Role.TEACHER, Role.SCHOOL_LEADER)


class District(db.Model):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The IANA zone its people read times in, unless they choose their own. Times are stored
    # in UTC whatever this says.
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_ZONE,
                                           server_default=DEFAULT_ZONE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    schools: Mapped[list["School"]] = relationship(back_populates="district",
                                                   order_by="School.name")

    @property
    def active_schools(self) -> list["School"]:
        """The schools offered for new work (uploads, round filters): not archived."""
        return [s for s in self.schools if s.archived_at is None]


class School(db.Model):
    """A school; its public context (low-income share and the like) is SchoolContext rows.

    An archived school keeps its samples, ratings and staff, but is offered for no new work."""

    __tablename__ = "schools"
    __table_args__ = (UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    grade_band: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    district: Mapped[District] = relationship(back_populates="schools")
    context: Mapped[list["SchoolContext"]] = relationship(
        back_populates="school", cascade="all, delete-orphan", lazy="selectin")

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class MeasureUnit(enum.StrEnum):
    SHARE = "share"
    COUNT = "count"

    @property
    def label(self) -> str:
        return {"share": "Share (entered as a percentage)", "count": "Count"}[self.value]


class ContextMeasure(db.Model):
    """A kind of public school context a district records, such as its low-income share."""

    __tablename__ = "context_measures"
    __table_args__ = (UniqueConstraint("district_id", "key"),
                      UniqueConstraint("district_id", "label"))

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    # A stable name for the analysis (low_income_share); the label is what people read.
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(120))
    unit: Mapped[MeasureUnit] = mapped_column(string_enum(MeasureUnit, 10))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SchoolContext(db.Model):
    """One public figure about a school: a share is stored as 0-1, a count as itself, each
    with the year it describes and where it was published."""

    __tablename__ = "school_context"
    __table_args__ = (UniqueConstraint("school_id", "measure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("context_measures.id"), index=True)
    value: Mapped[float]
    # Empty only for figures carried over from before years were recorded.
    year: Mapped[int | None]
    source: Mapped[str] = mapped_column(String(300))

    school: Mapped[School] = relationship(back_populates="context")
    measure: Mapped[ContextMeasure] = relationship(lazy="joined")


def _hash_method() -> str | None:
    # PASSWORD_HASH_METHOD is for the test suite, which creates hundreds of users: werkzeug's
    # default (scrypt, about 0.1 s a hash) would dominate its run time. Unset everywhere else.
    return current_app.config.get("PASSWORD_HASH_METHOD")


def _hash_password(password: str, method: str | None) -> str:
    return generate_password_hash(password, method) if method else generate_password_hash(password)


@functools.cache
def _dummy_hash(method: str | None) -> str:
    return _hash_password(secrets.token_hex(16), method)


def check_password_of_no_one(password: str) -> bool:
    """Spend the time of a password check where there is no account to check, so a refused
    login takes as long for an unknown email as for a wrong password. Always False."""
    check_password_hash(_dummy_hash(_hash_method()), password)
    return False


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), index=True)
    # Empty until the person sets one (a district administrator creates people without).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Bumped on logout and password change: session cookies carry it, so old cookies stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    # Set while the account is deactivated: it cannot log in and is in no pool, but its
    # ratings keep their rater. People are never deleted.
    deactivated_at: Mapped[datetime | None]
    # The person's own IANA zone; empty means their district's.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin")

    def set_password(self, password: str) -> None:
        self.password_hash = _hash_password(password, _hash_method())

    def check_password(self, password: str) -> bool:
        if self.password_hash is None:
            return check_password_of_no_one(password)
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def roles(self) -> set[Role]:
        return {m.role for m in self.memberships}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles() & set(roles))

    def memberships_as(self, role: Role) -> list["Membership"]:
        return [m for m in self.memberships if m.role == role]


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "role", "district_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(string_enum(Role))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)

    user: Mapped[User] = relationship(back_populates="memberships")
    district: Mapped[District] = relationship()
    school: Mapped[School | None] = relationship()

    @property
    def scope_label(self) -> str:
        return self.school.name if self.school else f"{self.district.name} (district-wide)"


class TokenPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


class AccountToken(db.Model):
    """A one-time link that lets its holder set a person's password: an invitation or a reset.

    Only the SHA-256 of the token is stored: the token is in the email alone, so a copy of the
    database (a backup, a read-only report login) opens no account. The token has 256 random
    bits, so a plain hash is enough; a slow password hash would buy nothing. A link works until
    `expires_at`, once (`used_at`, set by a compare-and-set), and not after a newer link of the
    same purpose replaced it or the password was set another way (`revoked_at`).
    """

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(string_enum(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Who sent the invitation; empty for a reset the person asked for themselves.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The district an invitation is to (a person may work in several).
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    district: Mapped[District | None] = relationship()
