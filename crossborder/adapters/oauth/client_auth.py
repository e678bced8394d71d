"""Calling a counterpart node as an OAuth client: ``private_key_jwt`` as an ``httpx.Auth``.

The auth flow yields its own metadata and token requests (as ``httpx.DigestAuth``
yields its challenge round-trip), so the same object works with ``httpx.Client``
and ``httpx.AsyncClient``, over whatever transport the client has — a real
network, an ASGI app in a test, or pytest-httpx.

Tokens are DPoP-bound (RFC 9449): every token request and every call carries a
proof signed with the client's DPoP key. A server that still issues bearer
tokens gets the proof on its token request, ignores it, and is then called
with ``Bearer`` as before.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from authlib.common.security import is_secure_transport
from joserfc import jwt
from joserfc.jwk import Key

from crossborder.adapters.oauth import (
    CLIENT_ASSERTION_JWT_TYPE,
    CLIENT_ASSERTION_TYPE,
    MAX_ASSERTION_LIFETIME,
    Clock,
)
from crossborder.adapters.oauth.dpop import (
    DPOP_HEADER,
    NONCE_HEADER,
    generate_dpop_key,
    make_proof,
)
from crossborder.adapters.oauth.keys import require_private_signing_key, signing_algorithm
from crossborder.domain.errors import Unauthorized

_ACCEPT_JSON = {"Accept": "application/json"}


def metadata_url(issuer: str) -> str:
    """Where an issuer publishes its RFC 8414 metadata.

    RFC 8414 §3.1 puts the well-known segment between the host and the issuer's
    path, so ``https://as.example/cn`` is described at
    ``https://as.example/.well-known/oauth-authorization-server/cn``.
    """
    url = httpx.URL(issuer)
    return str(url.copy_with(path="/.well-known/oauth-authorization-server" + url.path.rstrip("/")))


@dataclass(frozen=True)
class _CachedToken:
    value: str
    expires_at: datetime
    #: The scopes granted (RFC 6749 §5.1); ``None`` when the server did not say.
    scope: frozenset[str] | None = None
    #: ``DPoP`` for a token bound to our DPoP key, else ``Bearer``.
    scheme: str = "Bearer"


def _no_more_scope(refused: _CachedToken, fresh: _CachedToken) -> bool:
    """Whether ``fresh`` is known to grant nothing ``refused`` did not."""
    if refused.scope is None or fresh.scope is None:
        return False
    return fresh.scope <= refused.scope


def insufficient_scope(response: httpx.Response) -> bool:
    """RFC 6750 §3.1: the resource server says the token lacks a scope the call needs."""
    challenge = response.headers.get("www-authenticate", "")
    return challenge.lower().startswith(("bearer", "dpop")) and (
        'error="insufficient_scope"' in challenge
    )


def _nonce_asked(response: httpx.Response) -> str | None:
    """RFC 9449 §8–9: the server wants a proof with this nonce (token endpoint or API)."""
    nonce = response.headers.get(NONCE_HEADER)
    if nonce is None:
        return None
    if response.status_code == httpx.codes.BAD_REQUEST:
        asked = _json_object(response).get("error") == "use_dpop_nonce"
    else:
        challenge = response.headers.get("www-authenticate", "")
        asked = response.status_code == httpx.codes.UNAUTHORIZED and "use_dpop_nonce" in challenge
    return nonce if asked else None


class PrivateKeyJWTAuth(httpx.Auth):
    """DPoP-bound access tokens from a counterpart's authorization server, fetched as needed.

    The token is cached and fetched again ``refresh_margin`` before it expires,
    so a request never leaves with a token that dies in flight. A 401 from the
    resource server (it may have rotated keys, or restarted) drops the token and
    retries once with a fresh one. After a 403 ``insufficient_scope`` the
    caller asks :meth:`more_scope_granted` whether a fresh token would do better.

    The lock guards the cache only; it is never held across a request, which an
    ``AsyncClient`` could not tolerate. Two concurrent first calls may therefore
    each fetch a token: both are valid, and the later one is kept.

    The DPoP key is made here, in memory, and never written anywhere: it needs to
    outlive only the tokens bound to it, and a node that restarts simply gets new
    tokens. A server that asks for a nonce (``DPoP-Nonce``) gets one retry with it.
    """

    # The request may be sent twice (after a 401), so its body must be replayable.
    requires_request_body = True
    # The flow reads the metadata and token responses itself.
    requires_response_body = True

    def __init__(
        self,
        issuer: str,
        client_id: str,
        private_key: Key | Callable[[], Key],
        scope: str,
        clock: Clock,
        *,
        refresh_margin: timedelta = timedelta(seconds=30),
        dpop_key: Key | None = None,
    ) -> None:
        if not callable(private_key):
            require_private_signing_key(private_key)
        self._issuer = issuer
        self._client_id = client_id
        self._private_key = private_key
        self._scope = scope
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._lock = threading.Lock()
        self._token_endpoint: str | None = None
        self._token: _CachedToken | None = None
        self._dpop_key = dpop_key or generate_dpop_key()
        signing_algorithm(self._dpop_key)
        #: The last nonce each server gave us (RFC 9449 §8 and §9 keep them apart).
        self._nonces: dict[str, str] = {}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._cached_token()
        if token is None:
            token = yield from self._fetch_token()
        self._authorize(request, token)
        response = yield request
        if response.status_code != httpx.codes.UNAUTHORIZED:
            self._keep_nonce("resource", response)
            return
        if self._keep_nonce("resource", response) and _nonce_asked(response):
            # The same token, with a proof carrying the nonce the server asked for.
            response = yield self._authorize(_copy(request), token)
            if response.status_code != httpx.codes.UNAUTHORIZED:
                return
        self._forget(token)
        token = yield from self._fetch_token()
        # A copy, so that the refused attempt in the response history keeps the token it carried.
        yield self._authorize(_copy(request), token)

    def _authorize(self, request: httpx.Request, token: _CachedToken) -> httpx.Request:
        request.headers["Authorization"] = f"{token.scheme} {token.value}"
        if token.scheme == "DPoP":
            request.headers[DPOP_HEADER] = self._proof(
                "resource", request.method, request.url, access_token=token.value
            )
        return request

    def _proof(
        self, server: str, method: str, url: httpx.URL | str, *, access_token: str | None = None
    ) -> str:
        with self._lock:
            nonce = self._nonces.get(server)
        return make_proof(
            self._dpop_key, method, url, self._clock, access_token=access_token, nonce=nonce
        )

    def _keep_nonce(self, server: str, response: httpx.Response) -> bool:
        """Remember a nonce the server sent; whether it sent one."""
        nonce = response.headers.get(NONCE_HEADER)
        if nonce is not None:
            with self._lock:
                self._nonces[server] = nonce
        return nonce is not None

    def more_scope_granted(self, client: httpx.Client, response: httpx.Response) -> bool:
        """After a 403 ``insufficient_scope`` (RFC 6750 §3.1): a fresh token; does it grant more?

        The counterpart's operator may have granted the missing scope since our
        token was issued, and a token cached for minutes must not hide that. The
        caller sends its request again only when the fresh token grants more than
        the refused one (or the server does not say what it granted), so a scope
        still withheld costs one token request, not a second refusal. Not part of
        :meth:`auth_flow`: a flow ends on the last response it was given, which
        here would be the token response instead of the refusal.
        """
        if response.status_code != httpx.codes.FORBIDDEN or not insufficient_scope(response):
            return False
        with self._lock:
            refused, self._token = self._token, None
        flow = self._fetch_token()
        request = next(flow)
        while True:
            try:
                request = flow.send(client.send(request, auth=None))
            except StopIteration as fetched:
                fresh: _CachedToken = fetched.value
                break
        return refused is None or not _no_more_scope(refused, fresh)

    def _cached_token(self) -> _CachedToken | None:
        with self._lock:
            token = self._token
        if token is None or self._clock() >= token.expires_at - self._refresh_margin:
            return None
        return token

    def _forget(self, token: _CachedToken) -> None:
        with self._lock:
            # Another request may already have replaced it with a good one.
            if self._token is not None and self._token.value == token.value:
                self._token = None

    def _fetch_token(self) -> Generator[httpx.Request, httpx.Response, _CachedToken]:
        with self._lock:
            token_endpoint = self._token_endpoint
        if token_endpoint is None:
            response = yield httpx.Request("GET", metadata_url(self._issuer), headers=_ACCEPT_JSON)
            token_endpoint = self._read_metadata(response)
            with self._lock:
                self._token_endpoint = token_endpoint
        response = yield self._token_request(token_endpoint)
        self._keep_nonce("authorization", response)
        if _nonce_asked(response):
            response = yield self._token_request(token_endpoint)
        token = self._read_token(response)
        with self._lock:
            self._token = token
        return token

    def _token_request(self, token_endpoint: str) -> httpx.Request:
        """A token request with a fresh client assertion and a fresh DPoP proof."""
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self._client_assertion(),
        }
        if self._scope:
            form["scope"] = self._scope
        proof = self._proof("authorization", "POST", token_endpoint)
        headers = {**_ACCEPT_JSON, DPOP_HEADER: proof}
        return httpx.Request("POST", token_endpoint, data=form, headers=headers)

    def _client_assertion(self) -> str:
        """A one-time RFC 7523 client assertion, addressed to the issuer itself."""
        issued_at = int(self._clock().timestamp())
        claims = {
            "iss": self._client_id,
            "sub": self._client_id,
            "aud": self._issuer,
            "jti": secrets.token_urlsafe(18),
            "iat": issued_at,
            "exp": issued_at + int(MAX_ASSERTION_LIFETIME.total_seconds()),
        }
        # A function when the node rotates its signing key: the assertion is signed
        # with the key in use now, which the counterpart finds by its kid.
        key = self._private_key() if callable(self._private_key) else self._private_key
        alg = signing_algorithm(key)
        header = {"typ": CLIENT_ASSERTION_JWT_TYPE, "alg": alg, "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[alg])

    def _read_metadata(self, response: httpx.Response) -> str:
        if response.status_code != httpx.codes.OK:
            raise Unauthorized("AS_METADATA_UNAVAILABLE", status=response.status_code)
        metadata = _json_object(response)
        # RFC 8414 §3.3: the issuer must be exactly the one asked about, or an
        # attacker's metadata could send the client assertion elsewhere.
        if metadata.get("issuer") != self._issuer:
            raise Unauthorized(
                "AS_ISSUER_MISMATCH", expected=self._issuer, actual=str(metadata.get("issuer"))
            )
        token_endpoint = metadata.get("token_endpoint")
        if not isinstance(token_endpoint, str) or not is_secure_transport(token_endpoint):
            raise Unauthorized("AS_METADATA_INVALID", field="token_endpoint")
        return token_endpoint

    def _read_token(self, response: httpx.Response) -> _CachedToken:
        body = _json_object(response)
        if response.status_code != httpx.codes.OK:
            raise Unauthorized(
                "TOKEN_REQUEST_FAILED",
                status=response.status_code,
                error=str(body.get("error") or "-"),
            )
        access_token = body.get("access_token")
        expires_in = body.get("expires_in")
        scheme = {"bearer": "Bearer", "dpop": "DPoP"}.get(str(body.get("token_type", "")).lower())
        if (
            not isinstance(access_token, str)
            or not access_token
            or scheme is None
            or isinstance(expires_in, bool)
            or not isinstance(expires_in, int)
            or expires_in <= 0
        ):
            raise Unauthorized("TOKEN_RESPONSE_INVALID")
        granted = body.get("scope")
        return _CachedToken(
            access_token,
            self._clock() + timedelta(seconds=expires_in),
            frozenset(granted.split()) if isinstance(granted, str) else None,
            scheme,
        )


def _copy(request: httpx.Request) -> httpx.Request:
    return httpx.Request(
        request.method,
        request.url,
        headers=request.headers,
        content=request.content,
        extensions=request.extensions,
    )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
