"""Engine and session factory for SQLite (embedded default) and PostgreSQL, and plain INSERTs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Engine, Insert, create_engine, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransactionOrigin, sessionmaker

from crossborder.adapters.db.tables import Base


@dataclass(frozen=True)
class SessionLimits:
    """How long a node's PostgreSQL session may wait or sit idle, and how many it opens.

    Replicas of one agency share one database and one ``audit_head`` row: a
    replica that stalls inside a transaction must not freeze the others. Its
    session is ended after ``idle_in_transaction_seconds`` (releasing its locks),
    while the others wait up to ``lock_seconds``, longer than that, before
    giving up. Zero switches a limit off.
    """

    lock_seconds: float = 10.0
    idle_in_transaction_seconds: float = 5.0
    statement_seconds: float = 60.0
    pool_size: int = 5
    max_overflow: int = 5

    def options(self) -> str:
        """The session settings, as libpq's ``options`` (``-c name=value``)."""
        settings = {
            "lock_timeout": self.lock_seconds,
            "idle_in_transaction_session_timeout": self.idle_in_transaction_seconds,
            "statement_timeout": self.statement_seconds,
        }
        given = [f"-c {name}={round(seconds * 1000)}" for name, seconds in settings.items()]
        # A receipt says "recorded": it may leave only once the commit is on disk,
        # whatever the server's default (an operator may have turned it off for speed).
        return " ".join([*given, "-c synchronous_commit=on"])


#: Execution option of a transaction that may go unsynced on SQLite: one whose
#: loss in a power cut (not a crash: the WAL keeps it then) harms no one, because
#: nothing outside learnt of it before a later, synced commit. A lease taken
#: before a send is taken again, and the same bytes are answered with the same
#: receipt; a DPoP proof id forgotten reopens, for the proof's seconds, a replay
#: that still needs the stolen token and its key's proof. The next synced commit
#: syncs these with it: the WAL is written in order.
UNSYNCED = "crossborder_unsynced"
#: Execution option of a session that only reads (one not opened with ``begin()``):
#: on SQLite it reads its WAL snapshot without queueing for the write lock.
READ_ONLY = "crossborder_read_only"


def make_engine(url: str, limits: SessionLimits | None = None) -> Engine:
    limits = limits or SessionLimits()
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    parsed = make_url(url)
    # Options the URL already carries (a search path) are kept; ours come after.
    options = " ".join(filter(None, [str(parsed.query.get("options", "")), limits.options()]))
    return create_engine(
        parsed.difference_update_query(["options"]),
        connect_args={"options": options},
        pool_size=limits.pool_size,
        max_overflow=limits.max_overflow,
        pool_pre_ping=True,
    )


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the API read while a worker writes. FULL syncs the WAL at every
        # commit: a signed receipt leaves only after the commit it acknowledges,
        # so a power cut must not roll that commit back (NORMAL survives only the
        # process dying). What it costs is measured by bench/exchange.py.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # pysqlite's own transaction handling defers BEGIN; take the write lock at
        # the start instead so two writers queue rather than deadlock on upgrade.
        dbapi_connection.isolation_level = None

    # SQLite admits one writer at a time and makes the others sleep and poll
    # (its busy handler), which gives long tails under load. Writers of this
    # process queue on a lock instead; other processes still meet the busy handler.
    writer = threading.Lock()
    event.listen(engine, "begin", _beginning(writer))
    event.listen(engine, "commit", _ending(writer, "COMMIT"))
    event.listen(engine, "rollback", _ending(writer, "ROLLBACK"))
    return engine


def _beginning(writer: threading.Lock) -> Callable[[Any], None]:
    def begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(READ_ONLY):
            # A reader of a WAL database needs no lock: its snapshot is its own.
            connection.exec_driver_sql("BEGIN")
            return
        if not writer.acquire(timeout=30):
            raise TimeoutError("no SQLite write lock within 30 s")
        connection.info["holds_writer"] = True
        if options.get(UNSYNCED):
            # The level may change only outside a transaction: here, and back at its end.
            connection.info[UNSYNCED] = True
            connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return begin


def _ending(writer: threading.Lock, statement: str) -> Callable[[Any], None]:
    def end(connection: Any) -> None:
        # Only the connection that took the lock gives it back (a pool reset
        # rolls back connections that never began anything, and a reader took none).
        if not connection.info.pop("holds_writer", False):
            return
        # The event comes before SQLAlchemy ends the transaction: ended here
        # first, the next writer finds SQLite's lock free. Left to
        # SQLAlchemy, it would meet the lock still held for the commit's
        # sync and sleep in SQLite's busy handler, a millisecond or more.
        # The driver's own COMMIT/ROLLBACK then finds nothing left to end.
        try:
            driver = connection.connection.dbapi_connection
            if driver.in_transaction:  # SQLite may have rolled back on an error
                driver.execute(statement)
            if connection.info.pop(UNSYNCED, False):
                driver.execute("PRAGMA synchronous=FULL")
        finally:
            writer.release()

    return end


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for ``engine``: ``sessions.begin()`` to write, ``sessions()`` to read.

    That is the rule throughout: what writes commits, and only a session opened
    with ``begin()`` commits. A session that began by itself (a plain
    ``sessions()``) only reads, so it runs on the same engine marked
    :data:`READ_ONLY`, and on SQLite it does not wait behind the writers.
    """
    reader = engine.execution_options(**{READ_ONLY: True})

    class _Session(Session):
        def get_bind(self, *args: Any, **kwargs: Any) -> Any:
            # Asked before the session's first statement begins its transaction: none
            # yet means it was not opened with begin(), and will begin by itself.
            transaction = self.get_transaction()
            if transaction is None or transaction.origin is SessionTransactionOrigin.AUTOBEGIN:
                return reader
            return super().get_bind(*args, **kwargs)

    return sessionmaker(engine, class_=_Session, expire_on_commit=False)


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
