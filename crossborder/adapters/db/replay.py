"""Replay store on the node's database, shared by every process of the node."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crossborder.adapters.db.engine import UNSYNCED
from crossborder.adapters.db.tables import SeenKey
from crossborder.adapters.oauth.dpop import ProvenKey

#: One plain INSERT: every request with a DPoP proof passes here, and the unit of
#: work's flush of one row cost more than the statement and its commit.
_REMEMBER = insert(SeenKey)


class DatabaseReplayStore:
    """Atomic through the primary key: of two inserts of one key, one fails.

    On the engine itself, not in an ORM session: every request pays for this
    one-row transaction, and a session's own machinery cost more than the row.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # A key lost in a power cut reopens, for a proof's seconds, a replay that
        # still needs the stolen token and its key's proof (UNSYNCED says why).
        self._unsynced = engine.execution_options(**{UNSYNCED: True})

    def first_seen(self, key: str, expires_at: datetime) -> bool:
        try:
            with self._unsynced.begin() as connection:
                connection.execute(_REMEMBER, {"key": key, "expires_at": expires_at})
        except IntegrityError:
            return False
        return True

    def forget_expired(self, now: datetime) -> int:
        with self._engine.begin() as connection:
            result = connection.execute(delete(SeenKey).where(SeenKey.expires_at <= now))
            return int(result.rowcount)


def remember_proof(session: Session, proof: ProvenKey) -> bool:
    """Remember a DPoP proof in the caller's transaction; ``False`` if it was seen before.

    One INSERT in the transaction the request writes anyway, instead of a
    transaction of its own: on ``False`` the caller gives that transaction up
    (on PostgreSQL the failed INSERT has ended it). Two requests with one proof
    at once meet at the primary key, as in :meth:`DatabaseReplayStore.first_seen`.
    """
    try:
        session.connection().execute(_REMEMBER, {"key": proof.once, "expires_at": proof.forget_at})
    except IntegrityError:
        return False
    return True
