"""The declarative base every model shares.

The naming convention makes constraint names deterministic, so Alembic autogenerate produces the
same migration on SQLite and PostgreSQL and constraints can be dropped by name later (indico's
core/db/sqlalchemy does the same).
"""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    # Store every datetime with its zone (PostgreSQL timestamptz); values are always UTC.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: DateTime(timezone=True)},
    )


def utcnow() -> datetime:
    """Timezone-aware now; every *_at column stores UTC."""
    return datetime.now(UTC)


def string_enum(enum_class, length: int = 20) -> Enum:
    """A column type storing a StrEnum's values as strings (no native enum type, so adding a
    member needs no migration)."""
    return Enum(enum_class, native_enum=False, length=length,
                values_callable=lambda e: [member.value for member in e])


def sets_by_key(pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    """Rows of (key, value) gathered as key -> the set of its values."""
    result: dict[int, set[int]] = {}
    for key, value in pairs:
        result.setdefault(key, set()).add(value)
    return result
