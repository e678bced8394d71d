"""Outbound HTTP to counterpart nodes — the one place that classifies failures.

A delivery ends in exactly one of three ways (GOV.UK Notify's rule): delivered,
with the counterpart's signed receipt; *retry* (network error, timeout, 5xx,
429: the counterpart may recover); or *final* (any other 4xx: it will refuse
this message however often we send it, so a person must look at it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import httpx
from joserfc.jwk import Key, KeySet
from sqlalchemy.orm import Session, sessionmaker

from crossborder.adapters.db.tables import Counterpart
from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth
from crossborder.adapters.oauth.keys import key_set_from_jwks
from crossborder.domain.errors import CrossborderError, NotFound

Clock = Callable[[], datetime]

#: A key set fetched from a JWKS URL is refreshed at most this often when an
#: unknown ``kid`` shows up (key rotation), so a forged ``kid`` cannot make us hammer it.
JWKS_REFRESH_INTERVAL = timedelta(seconds=30)
MESSAGE_CONTENT_TYPE = "application/jose"


@dataclass(frozen=True)
class DeliveryOutcome:
    kind: Literal["delivered", "retry", "final"]
    #: The counterpart's signed receipt (``delivered``), else why it failed.
    receipt: bytes | None = None
    error: str = ""


def classify(response: httpx.Response) -> DeliveryOutcome:
    if response.status_code in (200, 202):
        try:
            receipt = json.loads(response.content)["receipt"]
        except (ValueError, KeyError, TypeError):
            return DeliveryOutcome("retry", error="RECEIPT_MALFORMED")
        return DeliveryOutcome("delivered", receipt=str(receipt).encode())
    code = _error_code(response)
    if response.status_code == 429 or response.status_code >= 500:
        return DeliveryOutcome("retry", error=f"HTTP_{response.status_code}:{code}")
    return DeliveryOutcome("final", error=f"HTTP_{response.status_code}:{code}")


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "NO_ERROR_BODY"


class CounterpartClient:
    """One authenticated HTTP client per counterpart, and the keys each one signs with."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        signing_key: Key,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._signing_key = signing_key
        self._clock = clock
        self._transport = transport
        self._timeout = timeout
        self._clients: dict[str, httpx.Client] = {}
        self._keys: dict[str, tuple[KeySet, datetime]] = {}
        self._lock = threading.Lock()

    def _record(self, agency: str) -> Counterpart:
        with self._sessions() as session:
            record = session.get(Counterpart, agency)
            if record is None:
                raise NotFound("UNKNOWN_COUNTERPART", agency=agency)
            session.expunge(record)
            return record

    def _client(self, agency: str) -> httpx.Client:
        with self._lock:
            client = self._clients.get(agency)
            if client is None:
                record = self._record(agency)
                auth = PrivateKeyJWTAuth(
                    issuer=record.issuer,
                    client_id=record.client_id,
                    private_key=self._signing_key,
                    scope=record.scope,
                    clock=self._clock,
                )
                client = httpx.Client(
                    base_url=record.base_url,
                    auth=auth,
                    transport=self._transport,
                    timeout=self._timeout,
                )
                self._clients[agency] = client
            return client

    def deliver(self, agency: str, signed: bytes) -> DeliveryOutcome:
        try:
            client = self._client(agency)
            response = client.post(
                "/v1/messages", content=signed, headers={"Content-Type": MESSAGE_CONTENT_TYPE}
            )
        except httpx.TransportError as exc:
            return DeliveryOutcome("retry", error=f"NETWORK:{type(exc).__name__}")
        except CrossborderError as exc:
            # The token request failed (counterpart's authorization server down or
            # refusing us). Down is transient; a refusal needs an operator, but a
            # retry costs little and picks up a fixed registration by itself.
            return DeliveryOutcome("retry", error=exc.code)
        return classify(response)

    def keys(self, agency: str, *, refresh: bool = False) -> KeySet:
        """The counterpart's public keys, re-fetched from its JWKS URL on request."""
        with self._lock:
            cached = self._keys.get(agency)
            now = self._clock()
            if cached and not (refresh and now - cached[1] >= JWKS_REFRESH_INTERVAL):
                return cached[0]
        record = self._record(agency)
        jwks = record.jwks
        if record.jwks_url and (refresh or not jwks.get("keys")):
            jwks = fetch_jwks(record.jwks_url, self._transport)
            with self._sessions.begin() as session:
                stored = session.get(Counterpart, agency)
                if stored is not None:
                    stored.jwks = jwks
        key_set = key_set_from_jwks(jwks)
        with self._lock:
            self._keys[agency] = (key_set, self._clock())
        return key_set

    def forget(self, agency: str) -> None:
        """Drop cached clients and keys after the counterpart's registration changed."""
        with self._lock:
            client = self._clients.pop(agency, None)
            self._keys.pop(agency, None)
        if client is not None:
            client.close()

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def fetch_jwks(url: str, transport: httpx.BaseTransport | None = None) -> dict[str, object]:
    with httpx.Client(transport=transport, timeout=10.0) as client:
        response = client.get(url)
        response.raise_for_status()
        jwks = response.json()
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("not a JWKS document")
    return jwks
