"""Engine and session factory for SQLite (embedded default) and PostgreSQL, and plain INSERTs."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from sqlalchemy import Engine, Insert, create_engine, event, insert
from sqlalchemy.orm import Session, sessionmaker

from crossborder.adapters.db.tables import Base


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets the API read while a worker writes; NORMAL is durable across
            # process crashes (the case we must survive) and fast enough on one disk.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # pysqlite's own transaction handling defers BEGIN; take the write lock at
            # the start instead so two writers queue rather than deadlock on upgrade.
            dbapi_connection.isolation_level = None

        # SQLite admits one writer at a time and makes the others sleep and poll
        # (its busy handler), which gives long tails under load. Writers of this
        # process queue on a lock instead; other processes still meet the busy handler.
        writer = threading.Lock()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            if not writer.acquire(timeout=30):
                raise TimeoutError("no SQLite write lock within 30 s")
            connection.info["holds_writer"] = True
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _end(connection: Any) -> None:
            # Only the connection that took the lock gives it back (a pool reset
            # rolls back connections that never began anything).
            if connection.info.pop("holds_writer", False):
                writer.release()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def insert_now(session: Session, row: Base) -> None:
    """Write a new row at once, as one plain INSERT in the session's transaction.

    For the per-message path, where nothing reads the row back as an object in
    that transaction: the unit of work's flush costs several times the INSERT
    itself. The row is not added to the session. Attributes left unset are left
    to the column defaults, as a flush would leave them.
    """
    statement, columns = _plain_insert(type(row))
    given = row.__dict__
    session.connection().execute(statement, {key: given[key] for key in columns if key in given})


@cache
def _plain_insert(table: type[Base]) -> tuple[Insert, tuple[str, ...]]:
    # One statement object per table, so SQLAlchemy computes its cache key once.
    return insert(table), tuple(column.key for column in table.__table__.columns)
