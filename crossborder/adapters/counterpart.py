"""Outbound HTTP to counterpart nodes — the one place that classifies failures.

A delivery ends in exactly one of three ways (GOV.UK Notify's rule): delivered,
with the counterpart's signed receipt; *retry* (network error, timeout, 5xx,
429, a proxy's 408: the counterpart may recover); or *final* (any other 4xx: it
will refuse this message however often we send it, so a person must look at
it, and may send it again once the cause is fixed —
``services.outbox_review.resend``). A 401 that a fresh access token did not
cure (the auth flow fetches one and tries again) is retried a limited number of
times: clocks set apart or our rotated key not yet fetched there heal by
themselves, a client the counterpart removed does not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from joserfc.jwk import Key, KeySet
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from crossborder.adapters.db.tables import Counterpart
from crossborder.adapters.delivery_outcome import NETWORK, DeliveryOutcome
from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth, insufficient_scope
from crossborder.adapters.oauth.keys import key_set_from_jwks
from crossborder.adapters.wire.untrusted_json import parse_untrusted
from crossborder.domain.errors import CrossborderError, NotFound

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)

#: A key set fetched from a JWKS URL is refreshed at most this often when an
#: unknown ``kid`` shows up (key rotation), so a forged ``kid`` cannot make us hammer it.
JWKS_REFRESH_INTERVAL = timedelta(seconds=30)
#: How often, at most, a running node asks whether an operator changed a
#: counterpart's registration: one indexed read a second per counterpart costs the
#: per-message path nothing measurable, and a change takes effect within that second.
REGISTRATION_CHECK_SECONDS = 1.0
MESSAGE_CONTENT_TYPE = "application/jose"
#: A counterpart's answer is kept for an officer to read, within these bounds: it is
#: the other side's text, and a faulty node could send megabytes of it.
ANSWER_TEXT_LIMIT = 500
ANSWER_DETAILS_LIMIT = 20

_VERSION = select(Counterpart.version).where(Counterpart.agency == bindparam("agency"))


def classify(response: httpx.Response) -> DeliveryOutcome:
    if response.status_code in (200, 202):
        try:
            receipt = parse_untrusted(response.content)["receipt"]
        except (CrossborderError, KeyError, TypeError):
            return DeliveryOutcome("retry", error="RECEIPT_MALFORMED")
        return DeliveryOutcome("delivered", receipt=str(receipt).encode())
    answer = _answer(response)
    error = f"HTTP_{response.status_code}:{answer['code']}"
    if response.status_code in (408, 429) or response.status_code >= 500:
        return DeliveryOutcome("retry", error=error, answer=answer)
    if response.status_code == 401:
        return DeliveryOutcome("retry", error=error, answer=answer, limited=True)
    return DeliveryOutcome("final", error=error, answer=answer)


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The counterpart's error (the contract's one JSON shape), bounded; its words kept as sent."""
    try:
        error = parse_untrusted(response.content)["error"]
    except (CrossborderError, KeyError, TypeError):
        error = None
    if not isinstance(error, dict):
        error = {}
    details = error.get("details")
    return {
        "status": response.status_code,
        "code": _bounded(error.get("code"), 64) or "NO_ERROR_BODY",
        "message": _bounded(error.get("message"), ANSWER_TEXT_LIMIT),
        "details": [
            {
                "code": _bounded(detail.get("code"), 64),
                "field": _bounded(detail.get("field"), 200),
                "message": _bounded(detail.get("message"), ANSWER_TEXT_LIMIT),
            }
            for detail in (details if isinstance(details, list) else [])[:ANSWER_DETAILS_LIMIT]
            if isinstance(detail, dict)
        ],
    }


def _bounded(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) else None


@dataclass
class _Registration:
    """What a node built from one version of a counterpart's registration."""

    version: int
    #: When the version was last compared with the database (``time.monotonic``).
    checked_at: float
    client: httpx.Client | None = None
    #: The client's access token, obtained with the registration's client id and scope.
    auth: PrivateKeyJWTAuth | None = None
    keys: KeySet | None = None
    keys_fetched_at: datetime | None = None


class CounterpartClient:
    """One authenticated HTTP client per counterpart, and the keys each one signs with.

    Both follow the counterpart's registration while the node runs: when an
    operator changes it (another URL, scope or client id, new keys), the next
    delivery or signature check after :data:`REGISTRATION_CHECK_SECONDS` builds
    them again — so an access token obtained under the old registration, with
    its old scopes, is never used again.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        signing_key: Key | Callable[[], Key],
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._signing_key = signing_key
        self._clock = clock
        self._transport = transport
        self._timeout = timeout
        # Not the node's clock: how stale a copy may be is counted in real seconds.
        self._monotonic = monotonic
        self._registrations: dict[str, _Registration] = {}
        # Clients of replaced registrations. Another thread may still be sending on
        # one, so they are closed with the node rather than under its feet.
        self._retired: list[httpx.Client] = []
        self._lock = threading.Lock()

    def _record(self, agency: str) -> Counterpart:
        with self._sessions() as session:
            record = session.get(Counterpart, agency)
            if record is None:
                raise NotFound("UNKNOWN_COUNTERPART", agency=agency)
            session.expunge(record)
            return record

    def _registration(self, agency: str, *, recheck: bool = False) -> _Registration:
        """What we hold for ``agency``, rebuilt if its registration changed since we built it.

        ``recheck`` looks at the database now rather than at most once a second.
        """
        now = self._monotonic()
        with self._lock:
            current = self._registrations.get(agency)
            if current is not None and not recheck:
                if now - current.checked_at < REGISTRATION_CHECK_SECONDS:
                    return current
        with self._sessions() as session:
            version = session.execute(_VERSION, {"agency": agency}).scalar_one_or_none()
        with self._lock:
            current = self._registrations.get(agency)
            if current is not None and current.version == version:
                current.checked_at = now
                return current
            self._retire(agency)
            if version is None:
                raise NotFound("UNKNOWN_COUNTERPART", agency=agency)
            current = _Registration(version=version, checked_at=now)
            self._registrations[agency] = current
            return current

    def _retire(self, agency: str) -> None:
        """Drop what was built for ``agency``; the caller holds the lock."""
        registration = self._registrations.pop(agency, None)
        if registration is not None and registration.client is not None:
            self._retired.append(registration.client)

    def _client(
        self, agency: str, *, recheck: bool = False
    ) -> tuple[httpx.Client, PrivateKeyJWTAuth]:
        registration = self._registration(agency, recheck=recheck)
        with self._lock:
            if registration.client is not None and registration.auth is not None:
                return registration.client, registration.auth
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
            registration.client, registration.auth = client, auth
            if self._registrations.get(agency) is not registration:
                # Replaced while we read the record: use it this once, close it with the node.
                self._retired.append(client)
            return client, auth

    def deliver(self, agency: str, signed: bytes) -> DeliveryOutcome:
        try:
            client, auth = self._client(agency)
            response = _post(client, signed)
            if insufficient_scope(response):
                # Since our token was issued, its operator may have granted the scope, or
                # ours may have changed the scope we ask for: look now, not within a second.
                client, auth = self._client(agency, recheck=True)
                if auth.more_scope_granted(client, response):
                    response = _post(client, signed)
        except httpx.TransportError as exc:
            return DeliveryOutcome("retry", error=f"{NETWORK}{type(exc).__name__}")
        except CrossborderError as exc:
            # The token request failed (counterpart's authorization server down or
            # refusing us), or the counterpart is no longer registered. Down is
            # transient; a refusal needs an operator, but a retry costs little and
            # picks up a fixed registration by itself.
            answer = {"status": None, "code": exc.code, "params": exc.params}
            return DeliveryOutcome("retry", error=exc.code, answer=answer)
        return classify(response)

    def keys(self, agency: str, *, refresh: bool = False) -> KeySet:
        """The counterpart's public keys, re-fetched from its JWKS URL on request.

        A re-fetch happens at most once per :data:`JWKS_REFRESH_INTERVAL`, counted
        from the last fetch, not from when the registered keys were first read.
        """
        registration = self._registration(agency)
        now = self._clock()
        with self._lock:
            cached, fetched_at = registration.keys, registration.keys_fetched_at
        if cached is not None and (
            not refresh or (fetched_at is not None and now - fetched_at < JWKS_REFRESH_INTERVAL)
        ):
            return cached
        record = self._record(agency)
        jwks = record.jwks
        fetched = None
        if record.jwks_url and (refresh or not jwks.get("keys")):
            fetched = now
            try:
                jwks = fetch_jwks(record.jwks_url, self._transport)
            except (httpx.HTTPError, ValueError) as error:
                # Its JWKS is down: verify with what we hold; the next try waits its turn.
                log.warning("JWKS of %s not fetched: %s", agency, error)
            else:
                # The keys it publishes now, not a change of registration: the version stays.
                with self._sessions.begin() as session:
                    stored = session.get(Counterpart, agency)
                    if stored is not None:
                        stored.jwks = jwks
        key_set = key_set_from_jwks(jwks)
        with self._lock:
            registration.keys = key_set
            registration.keys_fetched_at = fetched or registration.keys_fetched_at
        return key_set

    def keys_for(self, agency: str, kid: object) -> KeySet:
        """The counterpart's keys, fetched again once if ``kid`` is not among them.

        A message, receipt or checkpoint signed with a key we have not seen is how
        we learn that the counterpart rotated its keys: no operator step is needed
        when it registered a JWKS URL.
        """
        keys = self.keys(agency)
        if kid not in {key.kid for key in keys.keys}:
            keys = self.keys(agency, refresh=True)
        return keys

    def forget(self, agency: str) -> None:
        """Drop the client and keys built for ``agency`` now, without waiting for the check."""
        with self._lock:
            self._retire(agency)

    def close(self) -> None:
        with self._lock:
            clients = [r.client for r in self._registrations.values() if r.client is not None]
            clients += self._retired
            self._registrations.clear()
            self._retired.clear()
        for client in clients:
            client.close()


def _post(client: httpx.Client, signed: bytes) -> httpx.Response:
    return client.post(
        "/v1/messages", content=signed, headers={"Content-Type": MESSAGE_CONTENT_TYPE}
    )


def fetch_jwks(url: str, transport: httpx.BaseTransport | None = None) -> dict[str, object]:
    with httpx.Client(transport=transport, timeout=10.0) as client:
        response = client.get(url)
        response.raise_for_status()
        try:
            jwks = parse_untrusted(response.content)
        except CrossborderError as exc:
            raise ValueError("not a JWKS document") from exc
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("not a JWKS document")
    return jwks
