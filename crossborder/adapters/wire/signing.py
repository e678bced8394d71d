"""JWS signing and verification of message bodies and receipts (DESIGN.md §3).

A message travels as a JWS compact serialization (``application/jose``) signed
by the sending agency. The receiver verifies it against the sender's published
keys before it trusts a single field, and keeps the exact bytes it received:
those bytes, not a re-serialisation, are what non-repudiation rests on.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from crossborder.adapters.oauth.keys import signing_algorithm
from crossborder.adapters.wire.canonical import canonical_json
from crossborder.domain.errors import Forbidden, InvalidInput

#: Algorithms we accept on messages and receipts; anything else is refused before key lookup.
ALLOWED_ALGORITHMS = ("ES256", "EdDSA")
MESSAGE_TYP = "crossborder-message+jws"
RECEIPT_TYP = "crossborder-receipt+jws"


def digest(signed: bytes) -> str:
    """SHA-256 of the exact signed bytes, base64url without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(signed).digest()).rstrip(b"=").decode()


def sign(payload: dict[str, Any], key: Key, typ: str) -> bytes:
    alg = signing_algorithm(key)
    header = {"alg": alg, "kid": key.kid, "typ": typ, "cty": "json"}
    return jws.serialize_compact(header, canonical_json(payload), key, algorithms=[alg]).encode()


def unverified_header(signed: bytes) -> dict[str, Any]:
    try:
        protected = signed.split(b".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(protected + b"=" * (-len(protected) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("JWS_MALFORMED") from exc
    if not isinstance(header, dict):
        raise InvalidInput("JWS_MALFORMED")
    return header


def verify(signed: bytes, keys: KeySet, typ: str) -> bytes:
    """Check the signature against ``keys`` and return the signed payload (403 when it fails).

    Raises ``SIGNATURE_INVALID`` for anything that is not a valid signature by
    one of ``keys`` with an allowed algorithm, whatever the reason, so a prober
    learns nothing about which check failed.
    """
    header = unverified_header(signed)
    if header.get("alg") not in ALLOWED_ALGORITHMS or header.get("typ") != typ:
        raise Forbidden("SIGNATURE_INVALID")
    try:
        token = jws.deserialize_compact(
            signed.decode("ascii"), keys, algorithms=list(ALLOWED_ALGORITHMS)
        )
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise Forbidden("SIGNATURE_INVALID") from exc
    return bytes(token.payload)
