"""The authorization server's view of registered counterpart clients, from the database."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from crossborder.adapters.db.tables import OAuthClient
from crossborder.adapters.oauth import RegisteredClient


class DatabaseClientRegistry:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get_client(self, client_id: str) -> RegisteredClient | None:
        with self._sessions() as session:
            row = session.get(OAuthClient, client_id)
            if row is None:
                return None
            return RegisteredClient(
                client_id=row.client_id,
                agency=row.agency,
                jwks=row.jwks,
                scopes=frozenset(row.scopes.split()),
            )
