"""The node's own authorization server: client credentials with ``private_key_jwt`` only.

Built on authlib's framework-free :class:`authlib.oauth2.rfc6749.AuthorizationServer`
so that a fresh node needs no other service, and so that the web layer only
passes the token request's form through (:meth:`AuthorizationServer.handle_token_request`).

Tokens are DPoP-bound (RFC 9449): a token request with a valid ``DPoP`` proof
gets a token carrying the proof key's thumbprint (``cnf.jkt``), and one without
is refused unless the client's registration allows bearer tokens.

The client assertion is checked here on joserfc rather than with authlib's
``JWTBearerClientAssertion``, which is weaker than the profile: it reads the wall
clock instead of the node's, does not check the ``typ`` header, bounds neither
the algorithm nor the assertion's lifetime, and accepts any of several audiences.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from authlib.common.security import is_secure_transport
from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import (
    AuthorizationServer as _AuthlibAuthorizationServer,
)
from authlib.oauth2.rfc6749 import (
    ClientCredentialsGrant,
    ClientMixin,
    InvalidClientError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key

from crossborder.adapters.oauth import (
    CLIENT_ASSERTION_JWT_TYPE,
    CLIENT_ASSERTION_TYPE,
    CLOCK_SKEW,
    MAX_ASSERTION_LIFETIME,
    ClientRegistry,
    Clock,
    RegisteredClient,
    numeric_date,
)
from crossborder.adapters.oauth.dpop import DPOP_HEADER, InvalidProof, ProofVerifier
from crossborder.adapters.oauth.keys import (
    ALLOWED_ALGORITHMS,
    key_set_from_jwks,
    public_jwks,
    require_private_signing_key,
    signing_algorithm,
)
from crossborder.adapters.oauth.replay import ReplayStore
from crossborder.adapters.wire.signing import unverified_header
from crossborder.adapters.wire.untrusted_json import parse_untrusted
from crossborder.domain.errors import InvalidInput

log = logging.getLogger(__name__)

PRIVATE_KEY_JWT = "private_key_jwt"
CLIENT_CREDENTIALS = "client_credentials"


class _TokenHttpRequest(NamedTuple):
    uri: str
    form: Mapping[str, str]
    headers: Mapping[str, str]


class _TokenRequest(OAuth2Request):  # type: ignore[misc]
    """A token request as authlib sees it, built from the form the web layer passes on."""

    def __init__(self, http: _TokenHttpRequest) -> None:
        super().__init__("POST", http.uri, headers=dict(http.headers))
        self._form = dict(http.form)
        self.payload = BasicOAuth2Payload(self._form)

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _Client(ClientMixin):  # type: ignore[misc]
    """A registered counterpart, as authlib's grants query it."""

    def __init__(self, registered: RegisteredClient) -> None:
        self.registered = registered

    def get_client_id(self) -> str:
        return self.registered.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == PRIVATE_KEY_JWT and endpoint == "token"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == CLIENT_CREDENTIALS

    def get_allowed_scope(self, scope: str | None) -> str:
        """The scopes asked for that the client holds; all it holds if it asked for none."""
        if not scope:
            return " ".join(sorted(self.registered.scopes))
        return " ".join(sorted(set(scope.split()) & self.registered.scopes))


class InvalidDPoPProofError(OAuth2Error):  # type: ignore[misc]
    """RFC 9449 §5: the token request's DPoP proof is missing or not valid."""

    error = "invalid_dpop_proof"
    status_code = 400


class _ClientCredentialsGrant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = [PRIVATE_KEY_JWT]
    server: AuthorizationServer
    #: The thumbprint of the key the request proved it holds; ``None`` for a bearer token.
    _jkt: str | None = None

    def validate_token_request(self) -> None:
        super().validate_token_request()
        # After client authentication: only a registered client learns what DPoP wants.
        self._jkt = self.server.proven_key(self.request, self.request.client)

    def generate_token(
        self,
        user: object = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        return self.server.issue_token(self.request.client, scope, self._jkt)

    def validate_requested_scope(self) -> None:
        """RFC 6749 §5.2: asking only for scopes the client does not hold is ``invalid_scope``."""
        requested = self.request.payload.scope
        if requested and not self.client.get_allowed_scope(requested):
            raise InvalidScopeError()


class _ClientAuthenticationFailed(InvalidClientError):  # type: ignore[misc]
    """``invalid_client`` with HTTP 401 (RFC 6749 §5.2).

    authlib adds a ``WWW-Authenticate: Basic`` challenge to a 401; this server
    offers no Basic authentication, so the challenge would only mislead.
    """

    status_code = 401

    def get_headers(self) -> list[tuple[str, str]]:
        return list(default_json_headers)


def _rejected(reason: str) -> _ClientAuthenticationFailed:
    log.info("client authentication failed: %s", reason)
    return _ClientAuthenticationFailed(description=reason)


class AuthorizationServer(_AuthlibAuthorizationServer):  # type: ignore[misc]
    """Issues RFC 9068 JWT access tokens to registered counterparts."""

    def __init__(
        self,
        issuer: str,
        signing_key: Key | Callable[[], Key],
        clients: ClientRegistry,
        replay: ReplayStore,
        audience: str,
        clock: Clock,
        token_ttl: int = 300,
        *,
        scopes_supported: frozenset[str] = frozenset(),
        token_endpoint: str | None = None,
        jwks_uri: str | None = None,
        refresh_client_keys: Callable[[str], RegisteredClient | None] | None = None,
    ) -> None:
        super().__init__(scopes_supported=sorted(scopes_supported))
        self.issuer = issuer
        self.token_endpoint = token_endpoint or f"{issuer.rstrip('/')}/oauth/token"
        self.jwks_uri = jwks_uri or f"{issuer.rstrip('/')}/.well-known/jwks.json"
        for url in (issuer, self.token_endpoint):
            # authlib refuses plain http per request; say so once, at start-up.
            if not is_secure_transport(url):
                raise ValueError(f"{url!r} must be an https URL (or http on loopback)")
        # A function when the node rotates its token key: read at every token issued.
        self._signing_key = signing_key
        require_private_signing_key(self._current_key())
        self._clients = clients
        # Fetches a client's JWKS again when an assertion names a key we do not hold.
        self._refresh_client_keys = refresh_client_keys
        self._replay = replay
        self._proofs = ProofVerifier(replay, clock)
        self._audience = audience
        self._clock = clock
        self._token_ttl = token_ttl
        self.register_grant(_ClientCredentialsGrant)
        self.register_client_auth_method(PRIVATE_KEY_JWT, self._authenticate_private_key_jwt)

    def _current_key(self) -> Key:
        key = self._signing_key
        return key() if callable(key) else key

    def metadata(self) -> dict[str, Any]:
        """RFC 8414 authorization server metadata."""
        document: dict[str, Any] = {
            "issuer": self.issuer,
            "token_endpoint": self.token_endpoint,
            "jwks_uri": self.jwks_uri,
            # Required by RFC 8414, and empty: there is no authorization endpoint.
            "response_types_supported": [],
            "grant_types_supported": [CLIENT_CREDENTIALS],
            "token_endpoint_auth_methods_supported": [PRIVATE_KEY_JWT],
            "token_endpoint_auth_signing_alg_values_supported": sorted(ALLOWED_ALGORITHMS),
            "dpop_signing_alg_values_supported": sorted(ALLOWED_ALGORITHMS),
        }
        if self.scopes_supported:
            document["scopes_supported"] = self.scopes_supported
        return document

    def jwks(self) -> dict[str, Any]:
        """The public keys resource servers verify this server's access tokens with."""
        return public_jwks([self._current_key()])

    def handle_token_request(
        self, form: Mapping[str, str], headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer a ``POST`` to the token endpoint: status, JSON body, response headers.

        ``form`` is the decoded ``application/x-www-form-urlencoded`` body. RFC 6749
        §3.2 forbids repeating a parameter; a caller that can see repeats should
        refuse them (``invalid_request``) rather than let one value win silently.
        """
        response: tuple[int, dict[str, Any], dict[str, str]] = self.create_token_response(
            _TokenHttpRequest(self.token_endpoint, form, headers)
        )
        return response

    # --- authlib's framework hooks -------------------------------------------------

    def create_oauth2_request(self, request: _TokenHttpRequest) -> _TokenRequest:
        return _TokenRequest(request)

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        return status, body, dict(headers)

    def query_client(self, client_id: str) -> _Client | None:
        registered = self._clients.get_client(client_id)
        return _Client(registered) if registered else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store: an access token is a self-contained signed JWT."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """authlib's grants announce steps here; the web layer audits the response instead."""

    # --- private_key_jwt (RFC 7523 §2.2) ----------------------------------------------

    def _authenticate_private_key_jwt(
        self, query_client: object, request: _TokenRequest
    ) -> _Client:
        """authlib's client-auth hook; its ``query_client`` is our own :meth:`query_client`."""
        signed, claims = _read_assertion(request.form)
        client_id = claims.get("sub")
        if not isinstance(client_id, str) or (client := self.query_client(client_id)) is None:
            raise _rejected("unknown client")
        if request.form.get("client_id", client_id) != client_id:
            raise _rejected("client_id does not match the client assertion")
        client = self._with_key(client, signed.headers().get("kid"))
        try:
            verified = jws.validate_compact(
                signed,
                key_set_from_jwks(client.registered.jwks),
                algorithms=[signed.headers()["alg"]],
            )
        except (JoseError, ValueError) as error:
            log.info("client %s assertion key not usable: %s", client_id, error)
            verified = False
        if not verified:
            raise _rejected("the client assertion signature is invalid")
        self._check_assertion_claims(client_id, claims)
        return client

    def _with_key(self, client: _Client, kid: object) -> _Client:
        """``client``, its keys fetched again if they lack ``kid`` (its agency rotated them)."""
        known = {key.get("kid") for key in client.registered.jwks.get("keys", [])}
        if kid in known or self._refresh_client_keys is None:
            return client
        refreshed = self._refresh_client_keys(client.get_client_id())
        return _Client(refreshed) if refreshed is not None else client

    def _check_assertion_claims(self, client_id: str, claims: dict[str, Any]) -> None:
        if claims.get("iss") != client_id:
            raise _rejected("the client assertion iss must equal sub")
        # A single string, exactly the issuer: a token endpoint URL or a list of
        # audiences would let an assertion meant for one server be spent at another.
        if claims.get("aud") != self.issuer:
            raise _rejected("the client assertion aud must be the issuer")
        issued_at = numeric_date(claims.get("iat"))
        expires_at = numeric_date(claims.get("exp"))
        if issued_at is None or expires_at is None:
            raise _rejected("the client assertion needs numeric iat and exp")
        if expires_at - issued_at > MAX_ASSERTION_LIFETIME:
            raise _rejected("the client assertion may be valid for 60 seconds at most")
        now = self._clock()
        if expires_at <= now - CLOCK_SKEW:
            raise _rejected("the client assertion has expired")
        not_before = numeric_date(claims.get("nbf", claims["iat"]))
        if not_before is None or max(issued_at, not_before) > now + CLOCK_SKEW:
            raise _rejected("the client assertion is not valid yet")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise _rejected("the client assertion needs a jti")
        # Checked last, once the assertion is known to be genuine: a forged one
        # must not be able to burn a jti that the real client is about to use.
        if not self._replay.first_seen(
            f"client-assertion:{client_id}:{jti}", expires_at + CLOCK_SKEW
        ):
            raise _rejected("the client assertion was already used")

    # --- DPoP (RFC 9449 §5) ------------------------------------------------------------

    def proven_key(self, request: _TokenRequest, client: _Client) -> str | None:
        """The thumbprint of the key the token request's proof is signed with.

        ``None`` (a bearer token) only for a client whose registration allows it,
        and that sent no proof: a client that offers a proof gets a bound token.
        """
        proofs = [value for name, value in request.headers.items() if name.lower() == "dpop"]
        if not proofs and client.registered.bearer_allowed:
            return None
        if len(proofs) > 1:
            raise InvalidDPoPProofError(description=f"one {DPOP_HEADER} header, not several")
        try:
            return self._proofs.verify(
                proofs[0] if proofs else None, "POST", self.token_endpoint
            ).jkt
        except InvalidProof as error:
            log.info("client %s DPoP proof refused: %s", client.get_client_id(), error)
            raise InvalidDPoPProofError(description=str(error)) from error

    # --- access tokens (RFC 9068) -------------------------------------------------------

    def issue_token(self, client: _Client, scope: str | None, jkt: str | None) -> dict[str, Any]:
        """An access token for ``client``, bound to the DPoP key ``jkt`` when there is one."""
        granted = client.get_allowed_scope(scope)
        lifetime = self._token_ttl
        issued_at = int(self._clock().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": client.registered.client_id,
            "client_id": client.registered.client_id,
            "aud": self._audience,
            "scope": granted,
            "iat": issued_at,
            "exp": issued_at + lifetime,
            "jti": secrets.token_urlsafe(18),
        }
        if jkt is not None:
            claims["cnf"] = {"jkt": jkt}
        key = self._current_key()
        alg = signing_algorithm(key)
        header = {"typ": "at+jwt", "alg": alg, "kid": require_private_signing_key(key)}
        access_token = jwt.encode(header, claims, key, algorithms=[alg])
        return {
            "access_token": access_token,
            "token_type": "DPoP" if jkt is not None else "Bearer",
            "expires_in": lifetime,
            "scope": granted,
        }


def _read_assertion(form: Mapping[str, str]) -> tuple[jws.CompactSignature, dict[str, Any]]:
    """The client assertion of a token request and its claims, not yet verified.

    Its header and claims are read bounded in depth, with no member named twice,
    before joserfc reads them; type and algorithm are checked here, before the
    client's keys are even looked up.
    """
    assertion = form.get("client_assertion")
    if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE or not assertion:
        raise _rejected("a private_key_jwt client assertion is required")
    try:
        unverified_header(assertion.encode("ascii"))
        signed = jws.extract_compact(assertion.encode("ascii"))
        claims = parse_untrusted(signed.payload or b"")
    except (InvalidInput, JoseError, ValueError) as error:
        raise _rejected("the client assertion is not a compact JWS") from error
    header = signed.headers()
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _rejected("the client assertion is not a JWT")
    if header.get("typ") != CLIENT_ASSERTION_JWT_TYPE:
        raise _rejected(f"the client assertion typ must be {CLIENT_ASSERTION_JWT_TYPE}")
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        raise _rejected("the client assertion alg is not allowed")
    return signed, claims
