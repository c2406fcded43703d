"""The declarative base, the constraint naming convention and shared column types."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp kept in UTC on every engine and always handed back timezone-aware.

    SQLite has no time zone support, so values are stored naive in UTC and made aware on the
    way out; PostgreSQL stores ``timestamp with time zone``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use market.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    # Set on the registry, not the class: Flask-SQLAlchemy subclasses the base.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Make SQLite behave like a database: real transactions, foreign keys, WAL for readers.

    pysqlite's own transaction handling breaks SAVEPOINT (used by per-test rollback) and cannot
    do BEGIN IMMEDIATE (used to claim outbox rows), so we turn it off and emit BEGIN ourselves.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # With WAL, NORMAL is safe against corruption and skips an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    with contextlib.suppress(sqlite3.OperationalError):  # in-memory databases
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Any) -> None:
    """BEGIN IMMEDIATE for transactions that may write, plain BEGIN for page views.

    A deferred transaction that reads and then writes fails at once ("database is locked",
    not retried by busy_timeout) if another connection committed in between; taking the write
    lock first makes it wait instead. Readers keep plain BEGIN, so WAL lets them run alongside.
    """
    if conn.dialect.name != "sqlite":
        return
    immediate = conn.get_execution_options().get("sqlite_immediate", False) or _writing_request()
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _writing_request() -> bool:
    """Everything but a plain page view may write: form posts, jobs, commands."""
    from flask import g, has_request_context, request

    if not has_request_context():
        return True
    return request.method not in ("GET", "HEAD", "OPTIONS") or g.get("market_writes", False)


def writes(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a GET view that writes (following an e-mailed link), for BEGIN IMMEDIATE."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from flask import g

        g.market_writes = True
        return view(*args, **kwargs)

    return wrapper
