"""PrivateKeyJWTAuth against a counterpart faked at the transport (pytest-httpx)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from pytest_httpx import HTTPXMock

from crossborder.adapters.oauth import CLIENT_ASSERTION_TYPE
from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth, metadata_url
from crossborder.adapters.oauth.keys import generate_signing_key
from crossborder.domain.errors import Unauthorized

ISSUER = "https://vn-huu-nghi.node.test"
METADATA = f"{ISSUER}/.well-known/oauth-authorization-server"
TOKEN_ENDPOINT = f"{ISSUER}/oauth/token"
MESSAGES = f"{ISSUER}/v1/messages"
CLIENT_ID = "cn-youyiguan-customs"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 6, 2, 1, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client_key() -> ECKey:
    return generate_signing_key("cn-client-1")


@pytest.fixture
def auth(clock: FakeClock, client_key: ECKey) -> PrivateKeyJWTAuth:
    return PrivateKeyJWTAuth(ISSUER, CLIENT_ID, client_key, "co:write", clock)


def _metadata(issuer: str = ISSUER, token_endpoint: str = TOKEN_ENDPOINT) -> dict[str, Any]:
    return {"issuer": issuer, "token_endpoint": token_endpoint}


def _token(value: str, expires_in: int = 300) -> dict[str, Any]:
    return {"access_token": value, "token_type": "Bearer", "expires_in": expires_in}


def _bearers(httpx_mock: HTTPXMock) -> list[str | None]:
    return [
        request.headers.get("authorization") for request in httpx_mock.get_requests(url=MESSAGES)
    ]


def _assertion(request: httpx.Request) -> str:
    return dict(parse_qsl(request.content.decode()))["client_assertion"]


def test_first_call_discovers_the_token_endpoint_and_sends_a_bearer_token(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth
) -> None:
    httpx_mock.add_response(method="GET", url=METADATA, json=_metadata())
    httpx_mock.add_response(method="POST", url=TOKEN_ENDPOINT, json=_token("token-1"))
    httpx_mock.add_response(method="POST", url=MESSAGES, status_code=202)

    response = httpx.Client().post(MESSAGES, json={}, auth=auth)

    assert response.status_code == 202
    assert _bearers(httpx_mock) == ["Bearer token-1"]
    token_request = httpx_mock.get_request(url=TOKEN_ENDPOINT)
    assert token_request is not None
    form = dict(parse_qsl(token_request.content.decode()))
    assert form.keys() == {"grant_type", "client_assertion_type", "client_assertion", "scope"}
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert form["scope"] == "co:write"


def test_client_assertion_follows_the_profile(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth, clock: FakeClock, client_key: ECKey
) -> None:
    httpx_mock.add_response(url=METADATA, json=_metadata())
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-1", expires_in=60))
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-2", expires_in=60))
    httpx_mock.add_response(url=MESSAGES, is_reusable=True)

    with httpx.Client() as client:
        client.post(MESSAGES, auth=auth)
        clock.advance(60)
        client.post(MESSAGES, auth=auth)

    first, second = (
        jwt.decode(_assertion(request), client_key, algorithms=["ES256"])
        for request in httpx_mock.get_requests(url=TOKEN_ENDPOINT)
    )
    assert first.header == {
        "typ": "client-authentication+jwt",
        "alg": "ES256",
        "kid": "cn-client-1",
    }
    issued_at = int((clock.now - timedelta(seconds=60)).timestamp())
    assert first.claims == {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": ISSUER,
        "jti": first.claims["jti"],
        "iat": issued_at,
        "exp": issued_at + 60,
    }
    assert second.claims["jti"] != first.claims["jti"]


def test_token_is_cached(httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth) -> None:
    httpx_mock.add_response(url=METADATA, json=_metadata())
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-1"))
    httpx_mock.add_response(url=MESSAGES, is_reusable=True)

    with httpx.Client() as client:
        for _ in range(3):
            client.post(MESSAGES, auth=auth)

    assert len(httpx_mock.get_requests(url=TOKEN_ENDPOINT)) == 1
    assert _bearers(httpx_mock) == ["Bearer token-1"] * 3


def test_token_is_fetched_again_thirty_seconds_before_it_expires(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth, clock: FakeClock
) -> None:
    httpx_mock.add_response(url=METADATA, json=_metadata())
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-1", expires_in=300))
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-2", expires_in=300))
    httpx_mock.add_response(url=MESSAGES, is_reusable=True)

    with httpx.Client() as client:
        client.post(MESSAGES, auth=auth)
        clock.advance(269)
        client.post(MESSAGES, auth=auth)
        clock.advance(1)
        client.post(MESSAGES, auth=auth)

    assert _bearers(httpx_mock) == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert len(httpx_mock.get_requests(url=METADATA)) == 1


def test_a_401_drops_the_token_and_retries_once(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth
) -> None:
    httpx_mock.add_response(url=METADATA, json=_metadata())
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-1"))
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-2"))
    httpx_mock.add_response(url=MESSAGES, status_code=401)
    httpx_mock.add_response(url=MESSAGES, status_code=202)

    response = httpx.Client().post(MESSAGES, json={"message_id": "m-1"}, auth=auth)

    assert response.status_code == 202
    assert _bearers(httpx_mock) == ["Bearer token-1", "Bearer token-2"]
    retried = httpx_mock.get_requests(url=MESSAGES)[-1]
    assert retried.content == b'{"message_id":"m-1"}'


def test_a_second_401_is_returned_without_another_retry(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth
) -> None:
    httpx_mock.add_response(url=METADATA, json=_metadata())
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-1"))
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-2"))
    httpx_mock.add_response(url=MESSAGES, status_code=401, is_reusable=True)

    response = httpx.Client().post(MESSAGES, auth=auth)

    assert response.status_code == 401
    assert len(httpx_mock.get_requests(url=MESSAGES)) == 2


@pytest.mark.parametrize(
    "issuer",
    [f"{ISSUER}/", "https://attacker.test", "https://VN-HUU-NGHI.node.test", None],
)
def test_metadata_naming_another_issuer_is_refused(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth, issuer: str | None
) -> None:
    httpx_mock.add_response(url=METADATA, json={**_metadata(), "issuer": issuer})

    with pytest.raises(Unauthorized) as refused:
        httpx.Client().post(MESSAGES, auth=auth)

    assert refused.value.code == "AS_ISSUER_MISMATCH"
    assert refused.value.params == {"expected": ISSUER, "actual": str(issuer)}


@pytest.mark.parametrize("token_endpoint", ["http://vn-huu-nghi.node.test/oauth/token", None])
def test_metadata_without_a_secure_token_endpoint_is_refused(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth, token_endpoint: str | None
) -> None:
    httpx_mock.add_response(url=METADATA, json={"issuer": ISSUER, "token_endpoint": token_endpoint})

    with pytest.raises(Unauthorized) as refused:
        httpx.Client().post(MESSAGES, auth=auth)

    assert refused.value.code == "AS_METADATA_INVALID"


def test_unreachable_metadata_reports_the_status(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth
) -> None:
    httpx_mock.add_response(url=METADATA, status_code=503)

    with pytest.raises(Unauthorized) as refused:
        httpx.Client().post(MESSAGES, auth=auth)

    assert (refused.value.code, refused.value.params) == (
        "AS_METADATA_UNAVAILABLE",
        {"status": 503},
    )


def test_a_refused_token_request_reports_status_and_oauth_error(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth
) -> None:
    httpx_mock.add_response(url=METADATA, json=_metadata())
    httpx_mock.add_response(url=TOKEN_ENDPOINT, status_code=401, json={"error": "invalid_client"})

    with pytest.raises(Unauthorized) as refused:
        httpx.Client().post(MESSAGES, auth=auth)

    assert refused.value.code == "TOKEN_REQUEST_FAILED"
    assert refused.value.params == {"status": 401, "error": "invalid_client"}


@pytest.mark.parametrize(
    "body",
    [
        {"token_type": "Bearer", "expires_in": 300},
        {"access_token": "t", "token_type": "MAC", "expires_in": 300},
        {"access_token": "t", "token_type": "Bearer"},
        {"access_token": "t", "token_type": "Bearer", "expires_in": "300"},
        {"access_token": "t", "token_type": "Bearer", "expires_in": 0},
    ],
)
def test_an_unusable_token_response_is_refused(
    httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth, body: dict[str, Any]
) -> None:
    httpx_mock.add_response(url=METADATA, json=_metadata())
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=body)

    with pytest.raises(Unauthorized) as refused:
        httpx.Client().post(MESSAGES, auth=auth)

    assert refused.value.code == "TOKEN_RESPONSE_INVALID"


@pytest.mark.asyncio
async def test_works_with_an_async_client(httpx_mock: HTTPXMock, auth: PrivateKeyJWTAuth) -> None:
    httpx_mock.add_response(url=METADATA, json=_metadata())
    httpx_mock.add_response(url=TOKEN_ENDPOINT, json=_token("token-1"))
    httpx_mock.add_response(url=MESSAGES, is_reusable=True)

    async with httpx.AsyncClient() as client:
        await client.post(MESSAGES, auth=auth)
        await client.post(MESSAGES, auth=auth)

    assert _bearers(httpx_mock) == ["Bearer token-1"] * 2


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        ("https://as.test", "https://as.test/.well-known/oauth-authorization-server"),
        ("https://as.test/", "https://as.test/.well-known/oauth-authorization-server"),
        ("https://as.test/cn", "https://as.test/.well-known/oauth-authorization-server/cn"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001/.well-known/oauth-authorization-server"),
    ],
)
def test_metadata_url_follows_rfc_8414(issuer: str, expected: str) -> None:
    assert metadata_url(issuer) == expected
