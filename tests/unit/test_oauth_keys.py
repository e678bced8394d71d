"""Signing keys on disk and in published key sets; the replay store's memory."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from crossborder.adapters.oauth.keys import (
    generate_signing_key,
    key_set_from_jwks,
    load_private_key,
    public_jwks,
    save_private_key,
    signing_algorithm,
)
from crossborder.adapters.oauth.replay import InMemoryReplayStore


def test_a_saved_key_is_readable_by_its_owner_only_and_loads_back(tmp_path: Path) -> None:
    key = generate_signing_key("cn-as-1")
    path = tmp_path / "keys" / "oauth-signing.jwk"

    save_private_key(path, key)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_private_key(path)
    assert loaded.kid == "cn-as-1"
    assert loaded.thumbprint() == key.thumbprint()
    assert loaded.is_private
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_public_key_file_is_not_a_signing_key(tmp_path: Path) -> None:
    path = tmp_path / "public.jwk"
    path.write_text(json.dumps(generate_signing_key("k").as_dict(private=False)), "utf-8")

    with pytest.raises(ValueError, match="private"):
        load_private_key(path)


def test_published_key_set_holds_no_private_part() -> None:
    keys = [generate_signing_key("cn-as-1"), generate_signing_key("cn-as-2")]

    jwks = public_jwks(keys)

    assert [member["kid"] for member in jwks["keys"]] == ["cn-as-1", "cn-as-2"]
    assert all("d" not in member for member in jwks["keys"])
    assert not any(key.is_private for key in key_set_from_jwks(jwks))


@pytest.mark.parametrize(
    ("key", "alg"),
    [
        (ECKey.generate_key("P-256"), "ES256"),
        (OKPKey.generate_key("Ed25519"), "EdDSA"),
        (RSAKey.generate_key(2048), "PS256"),
    ],
)
def test_signing_algorithm_follows_the_key(key: ECKey | OKPKey | RSAKey, alg: str) -> None:
    assert signing_algorithm(key) == alg


@pytest.mark.parametrize(
    "key",
    [ECKey.generate_key("P-384"), RSAKey.generate_key(2048, {"alg": "RS256"})],
)
def test_a_key_without_an_allowed_algorithm_is_refused(key: ECKey | RSAKey) -> None:
    with pytest.raises(ValueError, match="algorithm"):
        signing_algorithm(key)


def test_replay_store_remembers_a_key_until_it_expires() -> None:
    now = datetime(2025, 6, 2, tzinfo=UTC)
    store = InMemoryReplayStore(lambda: now)

    assert store.first_seen("client-assertion:vn:1", now + timedelta(seconds=120))
    assert not store.first_seen("client-assertion:vn:1", now + timedelta(seconds=120))
    assert store.first_seen("client-assertion:vn:2", now + timedelta(seconds=60))

    now += timedelta(seconds=60)
    assert store.first_seen("message:m-9", now + timedelta(seconds=1))
    assert len(store) == 2  # vn:2 has been forgotten

    now += timedelta(seconds=60)
    assert store.first_seen("client-assertion:vn:1", now + timedelta(seconds=120))
