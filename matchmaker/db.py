"""The declarative base: one naming convention, UTC timestamps and enums stored by value."""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# PostgreSQL's SQLSTATEs for a transaction refused because of another one's locks: a lock not
# taken (NOWAIT, or lock_timeout passed), and a deadlock (the two waited for each other: the
# server failed this one so that the other could go on).
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"


def database_busy(error: BaseException) -> bool:
    """Whether ``error`` says another transaction held what this one locks or writes, so that
    this one was given up and the same work may simply be tried again: PostgreSQL's
    lock_timeout, NOWAIT or a deadlock it broke, SQLite's busy_timeout ("database is locked": a
    full matcher run there holds the database's write lock until it commits)."""
    if not isinstance(error, sa.exc.OperationalError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    sqlite_code = getattr(error.orig, "sqlite_errorcode", 0) & 0xFF  # the primary code
    return sqlstate in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED) or sqlite_code == sqlite3.SQLITE_BUSY


@contextmanager
def not_waiting_for_sqlite(connection: sa.Connection) -> Iterator[None]:
    """The statements inside do not wait for SQLite's write lock: while another transaction
    holds it they are refused at once (busy), not after the busy timeout. For bookkeeping that
    may be given up (a job's heartbeat, a token's last use). The connection's own timeout is
    put back after them, for whoever takes it from the pool next. Nothing on other engines."""
    if connection.dialect.name != "sqlite":
        yield
        return
    waits = int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one())
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={waits}")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp that comes back aware on every engine (SQLite drops tzinfo)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_cls: type[enum.Enum], length: int = 32) -> sa.Enum:
    """Store an enum by its value (``"academic_institution"``), as plain text on every engine."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    # Set on the registry (not the class) so Flask-SQLAlchemy's subclass inherits both.
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=sa.func.now()
    )


class UpdatedMixin(TimestampMixin):
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=sa.func.now()
    )


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """What Alembic compares: not the full-text search index, which migrations manage by hand
    (SQLite's FTS5 tables, PostgreSQL's generated tsvector column and its GIN index)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith("listings_fts")
    if type_ == "column":
        return name != "search_vector"
    if type_ == "index":
        return name != "ix_listings_search_vector"
    return True
