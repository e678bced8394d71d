"""Replay store on the node's database, shared by every process of the node."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crossborder.adapters.db.engine import UNSYNCED
from crossborder.adapters.db.tables import SeenKey

#: One plain INSERT: every request with a DPoP proof passes here, and the unit of
#: work's flush of one row cost more than the statement and its commit.
_REMEMBER = insert(SeenKey)


class DatabaseReplayStore:
    """Atomic through the primary key: of two inserts of one key, one fails."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def first_seen(self, key: str, expires_at: datetime) -> bool:
        try:
            with self._sessions.begin() as session:
                connection = session.connection(execution_options={UNSYNCED: True})
                connection.execute(_REMEMBER, {"key": key, "expires_at": expires_at})
        except IntegrityError:
            return False
        return True

    def forget_expired(self, now: datetime) -> int:
        with self._sessions.begin() as session:
            result = session.execute(delete(SeenKey).where(SeenKey.expires_at <= now))
            return int(cast(CursorResult[Any], result).rowcount)
