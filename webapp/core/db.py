"""Database plumbing: declarative base, engine set-up and the request-scoped session."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Engine,
    Executable,
    MetaData,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)  # PostgreSQL returns its session zone; always hand out UTC


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


CONNECT_TIMEOUT_SECONDS = 10


def make_engine(url: str, **kwargs: object) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # A connection is tested before each use (so a restarted server costs one reconnect, not an error),
    # and connecting gives up after CONNECT_TIMEOUT_SECONDS: an unreachable server fails requests quickly.
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}, **kwargs)


_BEGIN = {mode: f"BEGIN {mode}" for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is switched off so we can say BEGIN IMMEDIATE
    # for writes (no lock-upgrade deadlocks) and plain BEGIN for reads.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:  # a sqlite3.Connection
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        # Straight to sqlite3: SQLAlchemy's statement path (events, a result) is wasted on a
        # statement that returns nothing, and every request begins at least one transaction.
        driver: sqlite3.Connection = connection.connection.driver_connection  # type: ignore[assignment]
        driver.execute(_BEGIN[mode])


class Database:
    """One engine and two session factories: reads, and writes that lock early on SQLite."""

    def __init__(self, url: str, **engine_kwargs: object) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.read_session = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self.write_session = sessionmaker(writer, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def rows_changed(db: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and say how many rows it changed."""
    return cast(CursorResult[Any], db.execute(statement)).rowcount


@contextmanager
def standalone_session(url: str) -> Iterator[Session]:
    """One write transaction on a database opened for it and closed after (command-line tools)."""
    database = Database(url)
    try:
        with session_scope(database.write_session) as session:
            yield session
    finally:
        database.dispose()


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit once at the end, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def lock_keys(db: Session, *, keys: list[str]) -> None:
    """Hold named locks until this transaction ends, so work on the same keys runs one at a time.

    SQLite's write transactions already run one at a time; PostgreSQL gets transaction-scoped
    advisory locks, taken in a fixed order so two transactions never wait on each other in a cycle.
    """
    if db.get_bind().dialect.name == "postgresql":
        for key in sorted(keys):
            db.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
