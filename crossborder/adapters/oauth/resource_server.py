"""Checking the access token on every inbound call (RFC 9068 JWT access tokens).

The checks run cheapest and most fundamental first: the token's shape, its type,
its algorithm, and only then a key lookup and the signature. Nothing in a token is
believed before its signature is verified, except what is needed to find the key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from crossborder.adapters.oauth import CLOCK_SKEW, Clock, numeric_date
from crossborder.adapters.oauth.keys import ALLOWED_ALGORITHMS
from crossborder.adapters.wire.signing import unverified_header
from crossborder.domain.errors import Forbidden, InvalidInput, Unauthorized

log = logging.getLogger(__name__)

#: RFC 9068 §4: the only media types of a JWT access token (the second is the long form).
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")


@dataclass(frozen=True)
class AccessToken:
    """A verified access token: who called, with what rights, until when."""

    client_id: str
    scopes: frozenset[str]
    jti: str
    expires_at: datetime
    claims: dict[str, Any]


class AccessTokenValidator:
    """Verifies ``Authorization: Bearer`` access tokens issued by one authorization server."""

    def __init__(self, issuer: str, audience: str, keys: KeySet, clock: Clock) -> None:
        self._issuer = issuer
        self._audience = audience
        self._keys = keys
        self._clock = clock

    def validate_any(self, authorization: str | None, scopes: frozenset[str]) -> AccessToken:
        """Like :meth:`validate`, for an endpoint that any one of ``scopes`` opens.

        The message endpoint learns which scope a call needs only from the signed
        message itself; it checks that one once the signature is verified.
        """
        token = self._verified(authorization)
        if not token.scopes & scopes:
            raise Forbidden("SCOPE_MISSING", scope=" ".join(sorted(scopes)))
        return token

    def validate(self, authorization: str | None, required_scope: str) -> AccessToken:
        """The verified token of an ``Authorization`` header, if it grants ``required_scope``.

        Raises :class:`Unauthorized` (HTTP 401) when the token is absent or not
        valid, :class:`Forbidden` (HTTP 403) when it is valid but lacks the scope.
        """
        token = self._verified(authorization)
        if required_scope not in token.scopes:
            raise Forbidden("SCOPE_MISSING", scope=required_scope)
        return token

    def _verified(self, authorization: str | None) -> AccessToken:
        signed = _parse_compact(_bearer_token(authorization))
        header = signed.headers()
        if header.get("typ") not in ACCESS_TOKEN_TYPES:
            raise Unauthorized("TOKEN_TYPE_INVALID", typ=str(header.get("typ")))
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthorized("TOKEN_ALG_NOT_ALLOWED", alg=str(alg))
        self._verify_signature(signed, str(alg))
        return self._check_claims(_claims(signed.payload))

    def _verify_signature(self, signed: jws.CompactSignature, alg: str) -> None:
        try:
            valid = jws.validate_compact(signed, self._keys, algorithms=[alg])
        except (JoseError, ValueError) as error:
            # No key with that kid, or a key of the wrong type for the algorithm.
            log.info("access token key not usable: %s", error)
            valid = False
        if not valid:
            raise Unauthorized("TOKEN_SIGNATURE_INVALID", kid=str(signed.headers().get("kid")))

    def _check_claims(self, claims: Mapping[str, Any]) -> AccessToken:
        for name in _REQUIRED_CLAIMS:
            if claims.get(name) in (None, ""):
                raise Unauthorized("TOKEN_CLAIM_MISSING", claim=name)
        for name in ("iss", "sub", "jti", "client_id", "scope"):
            _require(isinstance(claims.get(name, ""), str), name)
        expires_at = _instant(claims, "exp")
        issued_at = _instant(claims, "iat")
        not_before = _instant(claims, "nbf") if "nbf" in claims else issued_at

        if claims["iss"] != self._issuer:
            raise Unauthorized("TOKEN_ISSUER_INVALID", iss=claims["iss"])
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if self._audience not in audiences:
            raise Unauthorized("TOKEN_AUDIENCE_INVALID", audience=self._audience)
        now = self._clock()
        if expires_at <= now - CLOCK_SKEW:
            raise Unauthorized("TOKEN_EXPIRED")
        if max(issued_at, not_before) > now + CLOCK_SKEW:
            raise Unauthorized("TOKEN_NOT_YET_VALID")

        return AccessToken(
            client_id=claims["client_id"],
            scopes=frozenset(claims.get("scope", "").split()),
            jti=claims["jti"],
            expires_at=expires_at,
            claims=dict(claims),
        )


def _bearer_token(authorization: str | None) -> str:
    # RFC 6750 §2.1 only: a token in the query string or body is never looked at.
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("TOKEN_MISSING")
    token = token.strip()
    if not token:
        raise Unauthorized("TOKEN_MISSING")
    return token


def _parse_compact(token: str) -> jws.CompactSignature:
    try:
        # Bounded, with no member named twice and a string kid, before joserfc reads it.
        unverified_header(token.encode("ascii"))
        signed = jws.extract_compact(token.encode("ascii"))
    except (InvalidInput, JoseError, ValueError) as error:
        raise Unauthorized("TOKEN_MALFORMED") from error
    if not isinstance(signed.headers(), dict):  # valid JSON, but not a JOSE header
        raise Unauthorized("TOKEN_MALFORMED")
    return signed


def _claims(payload: bytes | None) -> dict[str, Any]:
    try:
        claims = json.loads(payload or b"")
    except ValueError as error:
        raise Unauthorized("TOKEN_MALFORMED") from error
    if not isinstance(claims, dict):
        raise Unauthorized("TOKEN_MALFORMED")
    return claims


def _instant(claims: Mapping[str, Any], name: str) -> datetime:
    instant = numeric_date(claims[name])
    if instant is None:
        raise Unauthorized("TOKEN_CLAIM_INVALID", claim=name)
    return instant


def _require(condition: bool, claim: str) -> None:
    if not condition:
        raise Unauthorized("TOKEN_CLAIM_INVALID", claim=claim)
