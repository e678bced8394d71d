"""After a 403 ``insufficient_scope``, the OAuth client asks once for a token with more scope.

The counterpart's operator may have granted the missing scope a moment ago; a
token cached for minutes must not keep the message refused. Only the RFC 6750
challenge counts, and a fresh token that grants nothing more is not tried: the
counterpart then sees one refusal, not two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth
from crossborder.adapters.oauth.keys import generate_signing_key

ISSUER = "https://cn-youyiguan.node.test"
METADATA = f"{ISSUER}/.well-known/oauth-authorization-server"
TOKEN_ENDPOINT = f"{ISSUER}/oauth/token"
MESSAGES = f"{ISSUER}/v1/messages"
CHALLENGE = {"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="sps:write"'}


def clock() -> datetime:
    return datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def auth() -> PrivateKeyJWTAuth:
    key = generate_signing_key("vn-client-1")
    return PrivateKeyJWTAuth(ISSUER, "VN-PPD", key, "co:write sps:write", clock)


def token(value: str, scope: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": value, "token_type": "Bearer", "expires_in": 300}
    if scope is not None:
        body["scope"] = scope
    return body


def bearers(httpx_mock: HTTPXMock) -> list[str | None]:
    return [
        request.headers.get("authorization") for request in httpx_mock.get_requests(url=MESSAGES)
    ]


def send(client: httpx.Client, auth: PrivateKeyJWTAuth) -> httpx.Response:
    """What the delivery does: post, and post again only when a fresh token grants more."""
    response = client.post(MESSAGES, content=b"signed", auth=auth)
    if auth.more_scope_granted(client, response):
        response = client.post(MESSAGES, content=b"signed", auth=auth)
    return response


def test_a_scope_granted_since_the_token_was_issued_is_used_at_once(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth
) -> None:
    httpx_mock.add_response(url=METADATA, json={"issuer": ISSUER, "token_endpoint": TOKEN_ENDPOINT})
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=token("token-1", "co:write"))
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=token("token-2", "co:write sps:write"))
    httpx_mock.add_response(url=MESSAGES, status_code=403, headers=CHALLENGE)
    httpx_mock.add_response(url=MESSAGES, status_code=202, is_reusable=True)

    with httpx.Client() as client:
        response = send(client, auth)
        again = send(client, auth)

    assert (response.status_code, again.status_code) == (202, 202)
    # The refused attempt, the retry, and the next call on the new token.
    assert bearers(httpx_mock) == ["Bearer token-1", "Bearer token-2", "Bearer token-2"]
    assert httpx_mock.get_requests(url=MESSAGES)[1].content == b"signed"


@pytest.mark.parametrize("fresh_scope", ["co:write", ""])
def test_a_fresh_token_granting_nothing_more_is_not_tried(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth, fresh_scope: str
) -> None:
    httpx_mock.add_response(url=METADATA, json={"issuer": ISSUER, "token_endpoint": TOKEN_ENDPOINT})
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=token("token-1", "co:write"))
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=token("token-2", fresh_scope))
    httpx_mock.add_response(url=MESSAGES, status_code=403, headers=CHALLENGE)

    with httpx.Client() as client:
        response = send(client, auth)

    assert response.status_code == 403
    assert bearers(httpx_mock) == ["Bearer token-1"]
    assert len(httpx_mock.get_requests(url=TOKEN_ENDPOINT)) == 2


def test_a_server_that_does_not_say_what_it_granted_gets_one_retry(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth
) -> None:
    httpx_mock.add_response(url=METADATA, json={"issuer": ISSUER, "token_endpoint": TOKEN_ENDPOINT})
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=token("token-1", None))
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=token("token-2", None))
    httpx_mock.add_response(url=MESSAGES, status_code=403, headers=CHALLENGE, is_reusable=True)

    with httpx.Client() as client:
        response = send(client, auth)

    assert response.status_code == 403
    assert bearers(httpx_mock) == ["Bearer token-1", "Bearer token-2"]


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (403, {}),
        (403, {"WWW-Authenticate": 'Bearer error="invalid_request"'}),
        (422, {"WWW-Authenticate": 'Bearer error="insufficient_scope"'}),
    ],
    ids=["403 without challenge", "403 another error", "not a 403"],
)
def test_any_other_refusal_is_final_and_keeps_the_token(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth, status: int, headers: dict[str, str]
) -> None:
    httpx_mock.add_response(url=METADATA, json={"issuer": ISSUER, "token_endpoint": TOKEN_ENDPOINT})
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=token("token-1", "co:write"))
    httpx_mock.add_response(url=MESSAGES, status_code=status, headers=headers)
    httpx_mock.add_response(url=MESSAGES, status_code=202)

    with httpx.Client() as client:
        refused = send(client, auth)
        accepted = send(client, auth)

    assert (refused.status_code, accepted.status_code) == (status, 202)
    assert len(httpx_mock.get_requests(url=TOKEN_ENDPOINT)) == 1
    assert bearers(httpx_mock) == ["Bearer token-1", "Bearer token-1"]
