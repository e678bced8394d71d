"""JWS signing and verification of message bodies and receipts (DESIGN.md §3).

A message travels as a JWS compact serialization (``application/jose``) signed
by the sending agency. The receiver verifies it against the sender's published
keys before it trusts a single field, and keeps the exact bytes it received:
those bytes, not a re-serialisation, are what non-repudiation rests on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from crossborder.adapters.oauth.keys import signing_algorithm
from crossborder.adapters.wire.canonical import canonical_json
from crossborder.adapters.wire.untrusted_json import parse_untrusted
from crossborder.domain.errors import Forbidden, InvalidInput

#: Algorithms we accept on messages and receipts; anything else is refused before key lookup.
ALLOWED_ALGORITHMS = ("ES256", "EdDSA")
MESSAGE_TYP = "crossborder-message+jws"
RECEIPT_TYP = "crossborder-receipt+jws"
#: joserfc's bound on the encoded protected header; ours is a few dozen bytes.
MAX_HEADER_BYTES = jws.JWSRegistry.max_header_length
#: Header members we read before the signature is checked, and so whose type we check first.
_STRING_MEMBERS = ("alg", "kid", "typ", "cty")


def digest(signed: bytes) -> str:
    """SHA-256 of the exact signed bytes, base64url without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(signed).digest()).rstrip(b"=").decode()


def sign(payload: dict[str, Any], key: Key, typ: str) -> bytes:
    alg = signing_algorithm(key)
    header = {"alg": alg, "kid": key.kid, "typ": typ, "cty": "json"}
    return jws.serialize_compact(header, canonical_json(payload), key, algorithms=[alg]).encode()


def unverified_header(signed: bytes) -> dict[str, Any]:
    """The protected header, bounded in size and depth, its members of the types JWS gives them."""
    protected = signed.split(b".", 1)[0]
    if len(protected) > MAX_HEADER_BYTES:
        raise InvalidInput("JWS_HEADER_TOO_LARGE", limit=MAX_HEADER_BYTES)
    try:
        decoded = base64.urlsafe_b64decode(protected + b"=" * (-len(protected) % 4))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInput("JWS_MALFORMED") from exc
    try:
        header = parse_untrusted(decoded)
    except InvalidInput as exc:
        if exc.code == "JSON_MALFORMED":
            raise InvalidInput("JWS_MALFORMED") from exc
        raise
    if not isinstance(header, dict) or any(
        not isinstance(header.get(name, ""), str) for name in _STRING_MEMBERS
    ):
        raise InvalidInput("JWS_MALFORMED")
    return header


def verify(signed: bytes, keys: KeySet, typ: str, *, max_bytes: int) -> bytes:
    """Check the signature against ``keys`` and return the signed payload (403 when it fails).

    Raises ``SIGNATURE_INVALID`` for anything that is not a valid signature by
    one of ``keys`` with an allowed algorithm, whatever the reason, so a prober
    learns nothing about which check failed. ``max_bytes`` is the caller's own
    bound on what it accepts (joserfc's default stops at 128,000 payload bytes,
    which would refuse a legal Form E of a hundred items as unsigned).
    """
    if len(signed) > max_bytes:
        raise InvalidInput("BODY_TOO_LARGE", limit=max_bytes)
    header = unverified_header(signed)
    if header.get("alg") not in ALLOWED_ALGORITHMS or header.get("typ") != typ:
        raise Forbidden("SIGNATURE_INVALID")
    registry = jws.JWSRegistry(algorithms=ALLOWED_ALGORITHMS)
    registry.max_payload_length = max_bytes
    try:
        token = jws.deserialize_compact(signed.decode("ascii"), keys, registry=registry)
    except (JoseError, ValueError, UnicodeDecodeError) as exc:
        raise Forbidden("SIGNATURE_INVALID") from exc
    return bytes(token.payload)
