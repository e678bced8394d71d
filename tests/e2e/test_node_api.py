"""What a node answers at its door, over real HTTP: the published contract, methods, challenges.

And a caller that hangs up half-way costs one quiet log line, not a traceback.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contracts.generate import CONTRACTS_DIR
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import make_node, serving

pytestmark = pytest.mark.e2e


@pytest.fixture
def node(tmp_path: Path, clock: Clock) -> Iterator[Node]:
    node = make_node("vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock)
    with serving(node, run_workers=False):
        yield node
    node.close()


def test_the_node_serves_the_published_contract(node: Node) -> None:
    response = httpx.get(f"{node.settings.base_url}/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == (CONTRACTS_DIR / "openapi.json").read_bytes()
    assert "/oauth/token" in json.loads(response.content)["paths"]
    assert httpx.get(f"{node.settings.base_url}/docs").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/messages", {"POST"}),
        ("DELETE", "/oauth/token", {"POST"}),
        ("POST", "/v1/health", {"GET"}),
        ("PUT", "/openapi.json", {"GET"}),
    ],
)
def test_a_method_the_path_does_not_take_is_answered_with_allow(
    node: Node, method: str, path: str, allowed: set[str]
) -> None:
    response = httpx.request(method, f"{node.settings.base_url}{path}")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert set(response.headers["allow"].split(", ")) == allowed


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwYXNz", "Bearer", "DPoP"])
def test_no_credentials_get_a_challenge_without_an_error_code(
    node: Node, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.post(f"{node.settings.base_url}/v1/messages", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "TOKEN_MISSING"
    assert response.headers["www-authenticate"] == 'DPoP algs="ES256 EdDSA PS256", Bearer'


def test_a_bad_token_is_challenged_with_invalid_token(node: Node) -> None:
    response = httpx.post(
        f"{node.settings.base_url}/v1/messages", headers={"Authorization": "Bearer abc"}
    )

    assert response.status_code == 401
    assert 'Bearer error="invalid_token"' in response.headers["www-authenticate"]


def test_a_client_that_hangs_up_half_way_is_logged_quietly(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    server_log = logging.getLogger("uvicorn.error")  # uvicorn's own, which does not propagate
    server_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        with socket.create_connection(("127.0.0.1", node.settings.port)) as client:
            client.sendall(
                b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1000\r\n\r\ngrant_type=client_credentials"
            )
            time.sleep(0.2)
        deadline = time.monotonic() + 5
        while "client left" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server_log.removeHandler(caplog.handler)

    assert "client left before its request was read" in caplog.text
    assert "Exception in ASGI application" not in caplog.text
    assert "Traceback" not in caplog.text
