"""Replicas of one agency on one PostgreSQL: one that stalls must not freeze the others.

Every audited commit locks the one ``audit_head`` row for its last moment; a
replica frozen with that lock held (a paused process, a debugger, a lost
network to the database) would hold every other replica's commits behind it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from crossborder.adapters.db.engine import UNSYNCED, SessionLimits, make_engine
from tests.conftest import Clock
from tests.factories import make_node, register_staff

LOCK_AUDIT_HEAD = text("SELECT next_seq FROM audit_head WHERE id = 1 FOR UPDATE")


def test_node_sessions_are_durable_and_bounded(
    tmp_path: Path, clock: Clock, make_db_url: Callable[[str], str]
) -> None:
    node = make_node("cn", make_db_url("cn"), tmp_path, clock)
    with node.engine.connect() as connection:
        if node.engine.dialect.name == "sqlite":
            # 2 = FULL: the WAL is synced at each commit, before a receipt can leave.
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        else:
            shown = {
                name: connection.exec_driver_sql(f"SHOW {name}").scalar()
                for name in (
                    "synchronous_commit",
                    "lock_timeout",
                    "idle_in_transaction_session_timeout",
                    "statement_timeout",
                    "search_path",
                )
            }
            assert shown["synchronous_commit"] == "on"
            assert shown["lock_timeout"] == "10s"
            assert shown["idle_in_transaction_session_timeout"] == "5s"
            assert shown["statement_timeout"] == "1min"
            assert str(shown["search_path"]).startswith("t_cn_")  # the URL's own options kept
    node.close()


def test_a_transaction_marked_unsynced_is_so_alone(tmp_path: Path, clock: Clock) -> None:
    node = make_node("cn", f"sqlite:///{tmp_path / 'cn.db'}", tmp_path, clock)
    level = "PRAGMA synchronous"
    with node.transaction() as session:
        connection = session.connection(execution_options={UNSYNCED: True})
        # 1 = NORMAL for this one; the next transaction on the same connection is FULL again.
        assert connection.exec_driver_sql(level).scalar() == 1
    with node.transaction() as session:
        assert session.connection().exec_driver_sql(level).scalar() == 2
    with pytest.raises(RuntimeError), node.transaction() as session:
        session.connection(execution_options={UNSYNCED: True})
        raise RuntimeError("rolled back")
    with node.transaction() as session:
        assert session.connection().exec_driver_sql(level).scalar() == 2
    node.close()


def test_a_read_does_not_wait_for_a_writer_and_sees_what_was_committed(
    tmp_path: Path, clock: Clock, make_db_url: Callable[[str], str]
) -> None:
    """An officer's list during a backlog: reads come from their snapshot, not the write queue."""
    node = make_node("cn", make_db_url("cn"), tmp_path, clock)
    register_staff(node)
    count = text("SELECT count(*) FROM officers")
    with node.sessions() as session:
        before = session.scalar(count)
    writing, written = threading.Event(), threading.Event()

    def writer() -> None:
        with node.transaction() as session:
            session.execute(text("UPDATE officers SET full_name = full_name || '.'"))
            writing.set()
            written.wait(timeout=10)

    held = threading.Thread(target=writer)
    held.start()
    try:
        assert writing.wait(timeout=10)
        started = time.monotonic()
        with node.sessions() as session:
            assert session.scalar(count) == before
        assert time.monotonic() - started < 5  # the writer holds its lock for up to 10 s
    finally:
        written.set()
        held.join()
    # Opened with begin(), a session is a writer's, and queues as one.
    with node.sessions.begin() as session:
        session.execute(text("UPDATE officers SET full_name = full_name"))
    node.close()


def test_a_replica_frozen_in_a_transaction_is_ended_and_the_others_commit(
    tmp_path: Path, clock: Clock, make_postgres_url: Callable[[str], str]
) -> None:
    url = make_postgres_url("agency")
    node = make_node("cn", url, tmp_path, clock, database_idle_in_transaction_seconds=1)
    frozen_replica = make_engine(url, SessionLimits(idle_in_transaction_seconds=1))
    with frozen_replica.connect() as frozen:
        frozen.execute(LOCK_AUDIT_HEAD)
        # ...and then sits there, idle in its transaction, holding the lock.
        started = time.monotonic()
        register_staff(node)  # audited commits of the other replica
        waited = time.monotonic() - started
        assert 0.5 < waited < 4
        with pytest.raises(DBAPIError, match="idle-in-transaction timeout"):
            frozen.execute(text("SELECT 1"))
    frozen_replica.dispose()
    node.close()


def test_a_lock_held_too_long_fails_the_waiter_instead_of_holding_it(
    tmp_path: Path, clock: Clock, make_postgres_url: Callable[[str], str]
) -> None:
    """A holder that is busy, not idle, is not ended: its waiters give up in time."""
    url = make_postgres_url("agency")
    node = make_node("cn", url, tmp_path, clock, database_lock_timeout_seconds=0.5)
    other = create_engine(url)  # no limits of ours: a session we cannot end
    with other.connect() as holder:
        holder.execute(LOCK_AUDIT_HEAD)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="lock timeout"):
            register_staff(node)
        assert time.monotonic() - started < 3
    other.dispose()
    node.close()
