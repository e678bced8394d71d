"""Registered counterpart clients, from the database: for the authorization server and the inbox."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from crossborder.adapters.db.tables import Counterpart, OAuthClient
from crossborder.adapters.oauth import RegisteredClient

if TYPE_CHECKING:
    import httpx

#: How long the inbox trusts what it last read of a client's registration. Every
#: inbound message asks, and the answer changes only when an operator changes a
#: registration (possibly from another process, so nothing could tell this one):
#: re-reading it once a second costs the per-message path nothing measurable, and a
#: removed client or a withdrawn scope is refused within that second — not when the
#: caller's access token, valid for minutes, expires.
SENDER_CACHE_SECONDS = 1.0
#: A client's JWKS URL is fetched again at most this often, when an assertion names
#: a key we do not hold (the same interval as a counterpart's, in ``adapters/counterpart.py``).
JWKS_REFRESH_SECONDS = 30.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sender:
    """Who a client speaks for, and what it may send, as registered now."""

    agency: str
    scopes: frozenset[str]


class DatabaseClientRegistry:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        cache_seconds: float = SENDER_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._sessions = sessions
        self._cache_seconds = cache_seconds
        # Not the node's clock: this is about how stale a copy may be, in real seconds.
        self._monotonic = monotonic
        self._senders: dict[str, tuple[Sender, float]] = {}
        self._refreshed_at: dict[str, float] = {}
        self._refreshing: dict[str, threading.Lock] = {}
        self._transport = transport
        self._lock = threading.Lock()

    def get_client(self, client_id: str) -> RegisteredClient | None:
        # Read afresh: a token request is rare, and must see a changed key or scope at once.
        with self._sessions() as session:
            row = session.get(OAuthClient, client_id)
            if row is None:
                return None
            return RegisteredClient(
                client_id=row.client_id,
                agency=row.agency,
                jwks=row.jwks,
                scopes=frozenset(row.scopes.split()),
                bearer_allowed=row.bearer_allowed,
            )

    def refreshed(self, client_id: str) -> RegisteredClient | None:
        """The client with the keys its JWKS URL publishes now, as far as we may know them.

        Called when a client assertion names a key we do not hold (the client's
        agency rotated its keys). The URL is fetched at most once per
        :data:`JWKS_REFRESH_SECONDS` per client, so that assertions with made-up key
        ids cannot make us hammer it. One fetch at a time per client: a node that
        has just rotated asks for several tokens at once (one per case it
        delivers), and each must see the keys the first one fetched, not be
        refused while that fetch is in flight.
        """
        # httpx is loaded for this case only: an officer's command never needs it.
        import httpx

        from crossborder.adapters.counterpart import fetch_jwks

        with self._lock:
            refreshing = self._refreshing.setdefault(client_id, threading.Lock())
        with refreshing:
            now = self._monotonic()
            last = self._refreshed_at.get(client_id)
            if last is not None and now - last < JWKS_REFRESH_SECONDS:
                return self.get_client(client_id)
            self._refreshed_at[client_id] = now
            with self._sessions() as session:
                row = session.get(OAuthClient, client_id)
                url = row.jwks_url if row is not None else None
            if url is None:
                return None
            try:
                jwks = fetch_jwks(url, self._transport)
            except (httpx.HTTPError, ValueError) as error:
                log.warning("JWKS of client %s not fetched: %s", client_id, error)
                return None
            with self._sessions.begin() as session:
                row = session.get(OAuthClient, client_id)
                if row is None:
                    return None
                row.jwks = jwks
        return self.get_client(client_id)

    def sender(self, client_id: str, *, fresh: bool = False) -> Sender | None:
        """The agency ``client_id`` speaks for, if it is also a registered counterpart.

        Only a known sender is remembered (for ``cache_seconds``): an unknown
        client id is looked up every time, so a new registration works at once
        and refused callers cannot fill the cache. ``fresh`` reads it now.
        """
        now = self._monotonic()
        with self._lock:
            cached = self._senders.get(client_id)
        if cached is not None and now < cached[1] and not fresh:
            return cached[0]
        with self._sessions() as session:
            client = session.get(OAuthClient, client_id)
            sender = None
            if client is not None and session.get(Counterpart, client.agency) is not None:
                sender = Sender(agency=client.agency, scopes=frozenset(client.scopes.split()))
        with self._lock:
            if sender is None:
                self._senders.pop(client_id, None)
            else:
                self._senders[client_id] = (sender, now + self._cache_seconds)
        return sender
