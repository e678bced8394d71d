"""Signing keys: generate, keep on disk, publish.

A node's private keys live in JSON Web Key files readable by the node's user
only; what a counterpart gets is the public JWKS. Keys always carry a ``kid`` so
a verifier can pick the right one during a rotation.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from joserfc.jwk import (
    ECKey,
    Key,
    KeySet,
    KeySetSerialization,
    OKPKey,
    RSAKey,
    import_key,
)

#: The only JWS algorithms accepted for access tokens and client assertions
#: (FAPI 2.0 §5.4.1). Anything else — ``none``, HMAC, RSA PKCS#1 v1.5 — is refused
#: before a key is even looked up, so a token cannot choose how it is checked.
ALLOWED_ALGORITHMS: frozenset[str] = frozenset({"ES256", "PS256", "EdDSA"})


def generate_signing_key(kid: str) -> ECKey:
    """A fresh P-256 private key for ES256, tagged with ``kid``."""
    return ECKey.generate_key("P-256", {"kid": kid, "use": "sig", "alg": "ES256"}, private=True)


def signing_algorithm(key: Key) -> str:
    """The JWS ``alg`` this node signs with when using ``key``.

    Raises ``ValueError`` for a key that cannot sign with an allowed algorithm,
    so a wrong key in the configuration fails at start-up, not at the first token.
    """
    if key.alg is not None:
        alg = key.alg
    elif isinstance(key, ECKey) and key.curve_name == "P-256":
        alg = "ES256"
    elif isinstance(key, OKPKey) and key.curve_name == "Ed25519":
        alg = "EdDSA"
    elif isinstance(key, RSAKey):
        alg = "PS256"
    else:
        raise ValueError(f"no allowed signing algorithm for a {key.key_type} key")
    if alg not in ALLOWED_ALGORITHMS:
        raise ValueError(f"signing algorithm {alg} is not in {sorted(ALLOWED_ALGORITHMS)}")
    return alg


def require_private_signing_key(key: Key) -> str:
    """Check that ``key`` can sign for this node and return its ``kid``."""
    if not key.is_private:
        raise ValueError("a signing key must be a private key")
    if not key.kid:
        raise ValueError("a signing key must have a kid")
    signing_algorithm(key)
    return key.kid


def save_private_key(path: Path, key: Key) -> None:
    """Write ``key`` as a private JWK file that only the owner can read (mode 0600)."""
    require_private_signing_key(key)
    write_private_file(path, dict(key.as_dict(private=True)))


def write_private_file(path: Path, document: dict[str, Any]) -> None:
    """Write a key file as JSON that only the owner can read (mode 0600).

    The file is written next to its final place and renamed over it, so a crash
    never leaves a half-written key, and it is never readable by others, even briefly.
    """
    # The folder too: its listing says which keys are pending and when they were made.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=2, sort_keys=True)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def load_private_key(path: Path) -> Key:
    """Read a private JWK file written by :func:`save_private_key`."""
    key = import_key(json.loads(path.read_text(encoding="utf-8")))
    require_private_signing_key(key)
    return key


def public_jwks(keys: Iterable[Key]) -> dict[str, Any]:
    """The public JWKS to publish for ``keys`` (private parts stripped)."""
    return {"keys": [dict(key.as_dict(private=False)) for key in keys]}


def key_set_from_jwks(jwks: dict[str, Any]) -> KeySet:
    """Import a published JWKS (members of a key type we do not know are skipped, RFC 7517 §5).

    The same JWKS is imported once: a joint inspection's signature is checked
    with the sender's stored keys inside the admission's transaction, where
    every millisecond holds the database's write lock.
    """
    return _imported(json.dumps(jwks, sort_keys=True))


@lru_cache(maxsize=64)
def _imported(jwks: str) -> KeySet:
    return KeySet.import_key_set(cast(KeySetSerialization, json.loads(jwks)))
