"""Checking the access token on every inbound call (RFC 9068 JWT access tokens, RFC 9449 DPoP).

The checks run cheapest and most fundamental first: the token's shape, its type,
its algorithm, and only then a key lookup and the signature. Nothing in a token is
believed before its signature is verified, except what is needed to find the key.

A token bound to a DPoP key (``cnf.jkt``) is accepted only as ``Authorization:
DPoP`` with a proof signed by that key for this very request; sent as a bearer
token it is refused (RFC 9449 §7.1), so a stolen one opens nothing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from crossborder.adapters.oauth import CLOCK_SKEW, Clock, numeric_date
from crossborder.adapters.oauth.dpop import InvalidProof, ProofVerifier, ProvenKey
from crossborder.adapters.oauth.keys import ALLOWED_ALGORITHMS
from crossborder.adapters.oauth.replay import InMemoryReplayStore, ReplayStore
from crossborder.adapters.wire.signing import unverified_header
from crossborder.domain.errors import Forbidden, InvalidInput, Unauthorized

log = logging.getLogger(__name__)

#: RFC 9068 §4: the only media types of a JWT access token (the second is the long form).
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti", "client_id")
#: Tokens whose signature has verified, remembered by their whole text with the
#: key that verified them: a client sends one token with every message for its
#: lifetime, and the same bytes under the same key need not be verified again.
#: A key replaced on disk is a new key object, so its tokens are checked anew;
#: the claims (expiry first) are checked every time.
VERIFIED_TOKENS_KEPT = 1024


@dataclass(frozen=True)
class RequestTarget:
    """The call a DPoP proof must be made for: its method, its public URL, and the proof."""

    method: str
    url: str
    proof: str | None


@dataclass(frozen=True)
class AccessToken:
    """A verified access token: who called, with what rights, until when."""

    client_id: str
    scopes: frozenset[str]
    jti: str
    expires_at: datetime
    claims: dict[str, Any]
    #: The DPoP proof the caller has yet to remember (``validate_any(remember_proof=False)``).
    proof: ProvenKey | None = None


class AccessTokenValidator:
    """Verifies ``Bearer`` and ``DPoP`` access tokens issued by one authorization server.

    ``keys`` may be a function, called on every check, so that the token keys of
    a rotation (``adapters/oauth/key_ring.py``) are picked up while the node runs.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        keys: KeySet | Callable[[], KeySet],
        clock: Clock,
        *,
        replay: ReplayStore | None = None,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._keys = keys
        self._clock = clock
        self._proofs = ProofVerifier(replay or InMemoryReplayStore(clock), clock)
        self._signature_verified: OrderedDict[str, Key] = OrderedDict()
        self._lock = threading.Lock()

    def validate_any(
        self,
        authorization: str | None,
        scopes: frozenset[str],
        target: RequestTarget | None = None,
        *,
        remember_proof: bool = True,
    ) -> AccessToken:
        """Like :meth:`validate`, for an endpoint that any one of ``scopes`` opens.

        The message endpoint learns which scope a call needs only from the signed
        message itself; it checks that one once the signature is verified. It
        also remembers the DPoP proof itself (``remember_proof=False``), in the
        transaction that admits or refuses the message: one write for both.
        """
        token = self._verified(authorization, target, remember_proof)
        if not token.scopes & scopes:
            raise Forbidden("SCOPE_MISSING", scope=" ".join(sorted(scopes)))
        return token

    def validate(
        self,
        authorization: str | None,
        required_scope: str,
        target: RequestTarget | None = None,
    ) -> AccessToken:
        """The verified token of an ``Authorization`` header, if it grants ``required_scope``.

        Raises :class:`Unauthorized` (HTTP 401) when the token is absent or not
        valid, :class:`Forbidden` (HTTP 403) when it is valid but lacks the scope.
        """
        token = self._verified(authorization, target)
        if required_scope not in token.scopes:
            raise Forbidden("SCOPE_MISSING", scope=required_scope)
        return token

    def _verified(
        self, authorization: str | None, target: RequestTarget | None, remember_proof: bool = True
    ) -> AccessToken:
        scheme, value = _credentials(authorization)
        signed = _parse_compact(value)
        header = signed.headers()
        if header.get("typ") not in ACCESS_TOKEN_TYPES:
            raise Unauthorized("TOKEN_TYPE_INVALID", typ=str(header.get("typ")))
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthorized("TOKEN_ALG_NOT_ALLOWED", alg=str(alg))
        self._verify_signature(value, signed, str(alg))
        token = self._check_claims(_claims(signed.payload))
        bound_to = _confirmation(token.claims)
        if scheme == "dpop":
            proven = self._check_possession(value, bound_to, target, remember_proof)
            if not remember_proof:
                token = replace(token, proof=proven)
        elif bound_to is not None:
            raise Unauthorized("TOKEN_DPOP_BOUND")
        return token

    def _check_possession(
        self, token: str, bound_to: str | None, target: RequestTarget | None, remember: bool
    ) -> ProvenKey:
        """RFC 9449 §7.1: a proof for this request, signed by the key the token is bound to."""
        if bound_to is None:
            # A bearer token dressed as DPoP binds nothing: take it as what it is not.
            raise Unauthorized("DPOP_PROOF_INVALID")
        try:
            if target is None:
                raise InvalidProof("the request offers no proof")
            proven = self._proofs.verify(
                target.proof, target.method, target.url, access_token=token, remember=remember
            )
            if proven.jkt != bound_to:
                raise InvalidProof("the proof is signed by another key than the token's")
        except InvalidProof as error:
            log.info("DPoP proof refused: %s", error)
            raise Unauthorized("DPOP_PROOF_INVALID") from error
        return proven

    def _verify_signature(self, token: str, signed: jws.CompactSignature, alg: str) -> None:
        keys = self._keys() if callable(self._keys) else self._keys
        kid = signed.headers().get("kid")
        key = _by_kid(keys, kid)
        with self._lock:
            if key is not None and self._signature_verified.get(token) is key:
                self._signature_verified.move_to_end(token)
                return
        try:
            valid = jws.validate_compact(signed, keys, algorithms=[alg])
        except (JoseError, ValueError) as error:
            # No key with that kid, or a key of the wrong type for the algorithm.
            log.info("access token key not usable: %s", error)
            valid = False
        if not valid:
            raise Unauthorized("TOKEN_SIGNATURE_INVALID", kid=str(kid))
        if key is not None:
            with self._lock:
                self._signature_verified[token] = key
                if len(self._signature_verified) > VERIFIED_TOKENS_KEPT:
                    self._signature_verified.popitem(last=False)

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


def _by_kid(keys: KeySet, kid: object) -> Key | None:
    if not isinstance(kid, str):
        return None
    try:
        return keys.get_by_kid(kid)
    except JoseError:
        return None


def _credentials(authorization: str | None) -> tuple[str, str]:
    """The scheme (``bearer`` or ``dpop``) and the token of an ``Authorization`` header."""
    # RFC 6750 §2.1 only: a token in the query string or body is never looked at.
    scheme, _, token = (authorization or "").strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "dpop"):
        raise Unauthorized("TOKEN_MISSING")
    token = token.strip()
    if not token:
        raise Unauthorized("TOKEN_MISSING")
    return scheme, token


def _confirmation(claims: Mapping[str, Any]) -> str | None:
    """The thumbprint of the DPoP key a token is bound to (RFC 9449 §6.1), if it is bound."""
    if "cnf" not in claims:
        return None
    cnf = claims["cnf"]
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jkt"), str) or not cnf["jkt"]:
        raise Unauthorized("TOKEN_CLAIM_INVALID", claim="cnf")
    jkt: str = cnf["jkt"]
    return jkt


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
