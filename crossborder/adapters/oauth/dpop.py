"""DPoP (RFC 9449): access tokens bound to a key the client proves it holds.

On each token request and each API call the client signs a short-lived proof
JWT over the request's method and URL (and, on an API call, over the access
token) with its DPoP key, and puts the public key in the proof's header. The
authorization server writes that key's RFC 7638 thumbprint into the token
(``cnf.jkt``); the resource server accepts the token only with a fresh proof
signed by that same key. A token copied off the wire or out of a log is then
useless: whoever took it cannot sign the next proof.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, import_key

from crossborder.adapters.oauth import CLOCK_SKEW, Clock, numeric_date
from crossborder.adapters.oauth.keys import ALLOWED_ALGORITHMS, signing_algorithm
from crossborder.adapters.oauth.replay import ReplayStore

log = logging.getLogger(__name__)

DPOP_JWT_TYPE = "dpop+jwt"
#: The request header that carries a proof, and the response header that carries a nonce.
DPOP_HEADER = "DPoP"
NONCE_HEADER = "DPoP-Nonce"
#: How long after its ``iat`` a proof is accepted (RFC 9449 §11.1: "a few seconds" to minutes).
PROOF_LIFETIME = timedelta(seconds=60)
#: RFC 7518 §6 and RFC 8037: members of a JWK that only a private key has.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class InvalidProof(Exception):
    """A DPoP proof that does not prove possession for this request; the reason is for the log."""


def generate_dpop_key() -> ECKey:
    """A fresh P-256 key for one client's proofs; it lives in memory only (see README)."""
    return ECKey.generate_key("P-256", {"use": "sig", "alg": "ES256"}, private=True)


def token_hash(access_token: str) -> str:
    """The proof's ``ath``: base64url SHA-256 of the access token (RFC 9449 §4.2)."""
    return _b64(hashlib.sha256(access_token.encode("ascii")).digest())


def target_uri(url: str | httpx.URL) -> str:
    """The ``htu`` of a request: its URL without query and fragment (RFC 9449 §4.2)."""
    return str(httpx.URL(url).copy_with(query=None, fragment=None))


def make_proof(
    key: Key,
    method: str,
    url: str | httpx.URL,
    clock: Clock,
    *,
    access_token: str | None = None,
    nonce: str | None = None,
) -> str:
    """A one-time proof for ``method url``, bound to ``access_token`` when there is one."""
    alg = signing_algorithm(key)
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(18),
        "htm": method,
        "htu": target_uri(url),
        "iat": int(clock().timestamp()),
    }
    if access_token is not None:
        claims["ath"] = token_hash(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    header = {"typ": DPOP_JWT_TYPE, "alg": alg, "jwk": dict(key.as_dict(private=False))}
    return jwt.encode(header, claims, key, algorithms=[alg])


@dataclass(frozen=True)
class ProvenKey:
    """What a verified proof establishes: the thumbprint (``jkt``) of the key it was signed with.

    ``once`` is the id under which the proof is remembered until ``forget_at``,
    so that it is accepted once.
    """

    jkt: str
    once: str
    forget_at: datetime


class ProofVerifier:
    """Checks proofs as RFC 9449 §4.3 lists the checks; every proof is accepted once."""

    def __init__(self, replay: ReplayStore, clock: Clock) -> None:
        self._replay = replay
        self._clock = clock

    def verify(
        self,
        proof: str | None,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        remember: bool = True,
    ) -> ProvenKey:
        """The key a genuine proof for this request was made with, the proof remembered.

        ``remember=False`` leaves remembering it (``once``, until ``forget_at``) to
        the caller, who records it in the transaction of what the request does.
        """
        if not proof:
            raise InvalidProof("no DPoP proof")
        key, claims = _read(proof)
        if claims.get("htm") != method:
            raise InvalidProof("htm does not match the request")
        if not isinstance(claims.get("htu"), str) or not _same_uri(claims["htu"], url):
            raise InvalidProof("htu does not match the request")
        if access_token is not None and claims.get("ath") != token_hash(access_token):
            raise InvalidProof("ath does not match the access token")
        issued_at = numeric_date(claims.get("iat"))
        now = self._clock()
        if issued_at is None or not now - PROOF_LIFETIME - CLOCK_SKEW <= issued_at:
            raise InvalidProof("iat is missing or too old")
        if issued_at > now + CLOCK_SKEW:
            raise InvalidProof("iat is in the future")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 200:
            raise InvalidProof("jti is missing")
        jkt = key.thumbprint()
        # Last, once the proof is known to be genuine: a forged proof burns no jti.
        proven = ProvenKey(jkt, f"dpop:{jkt}:{jti}", issued_at + PROOF_LIFETIME + CLOCK_SKEW)
        if remember and not self._replay.first_seen(proven.once, proven.forget_at):
            raise InvalidProof("the proof was already used")
        return proven


def _read(proof: str) -> tuple[Key, dict[str, Any]]:
    """The proof, its embedded public key and its claims, signature verified."""
    try:
        signed = jws.extract_compact(proof.encode("ascii"))
        claims = json.loads(signed.payload or b"")
    except (JoseError, ValueError, UnicodeEncodeError) as error:
        raise InvalidProof("not a compact JWS") from error
    header = signed.headers()
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidProof("not a JWT")
    if header.get("typ") != DPOP_JWT_TYPE:
        raise InvalidProof(f"typ must be {DPOP_JWT_TYPE}")
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise InvalidProof("alg is not allowed")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or _PRIVATE_MEMBERS & jwk.keys():
        # A private key in a header is a leaked key, not a proof of holding one.
        raise InvalidProof("jwk must be a public key")
    try:
        key = _public_key(json.dumps(jwk, sort_keys=True))
        valid = not key.is_private and jws.validate_compact(signed, key, algorithms=[str(alg)])
    except (JoseError, ValueError, TypeError, KeyError) as error:
        log.info("DPoP proof key not usable: %s", error)
        valid = False
    if not valid:
        raise InvalidProof("signature does not verify with the embedded jwk")
    return key, claims


@lru_cache(maxsize=256)
def _public_key(jwk: str) -> Key:
    """The key of a proof's ``jwk``, imported once: a client proves with one key call after call."""
    return import_key(json.loads(jwk))


def _same_uri(stated: str, actual: str) -> bool:
    """RFC 9449 §4.3: the same URI after syntax-based normalisation, without query or fragment."""
    one = _normalised(stated)
    return one is not None and one == _normalised(actual)


@lru_cache(maxsize=256)
def _normalised(uri: str) -> tuple[str, str, int | None, str] | None:
    # Cached: a node is called at a handful of URLs, each parsed once, not per request.
    try:
        parsed = httpx.URL(uri)
    except httpx.InvalidURL:
        return None
    return parsed.scheme, parsed.host, parsed.port, parsed.path or "/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
