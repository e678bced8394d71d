"""A node's authorization and resource servers, called over HTTP by a counterpart.

The counterpart is the real client side (:class:`PrivateKeyJWTAuth`); the node
is its framework-free authorization server and access-token validator behind
an ``httpx.MockTransport``, wired the way the node's API wires them. Hand-made
tokens and assertions then show each way a bad one is refused.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from crossborder.adapters.oauth import CLIENT_ASSERTION_TYPE, RegisteredClient
from crossborder.adapters.oauth.authorization_server import AuthorizationServer
from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth
from crossborder.adapters.oauth.dpop import generate_dpop_key, make_proof
from crossborder.adapters.oauth.keys import generate_signing_key, key_set_from_jwks, public_jwks
from crossborder.adapters.oauth.replay import InMemoryReplayStore
from crossborder.adapters.oauth.resource_server import AccessTokenValidator, RequestTarget
from crossborder.domain.errors import Forbidden, Unauthorized

ISSUER = "https://cn-youyiguan.node.test"
TOKEN_ENDPOINT = f"{ISSUER}/oauth/token"
AUDIENCE = f"{ISSUER}/v1"
MESSAGES = f"{ISSUER}/v1/messages"
CLIENT_ID = "vn-lang-son-customs"
CLIENT_SCOPES = frozenset({"co:write", "alert:write"})


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 6, 2, 1, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Registry:
    clients: dict[str, RegisteredClient] = field(default_factory=dict)

    def get_client(self, client_id: str) -> RegisteredClient | None:
        return self.clients.get(client_id)


@dataclass
class Node:
    """The node under test (Youyiguan) and what its counterpart (Lạng Sơn) holds."""

    clock: FakeClock
    registry: Registry
    replay: InMemoryReplayStore
    client_key: ECKey
    as_key: ECKey = field(init=False)
    server: AuthorizationServer = field(init=False)
    validator: AccessTokenValidator = field(init=False)
    paths: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start(generate_signing_key("cn-as-1"))

    def start(self, as_key: ECKey) -> None:
        """(Re)start the node with ``as_key``: tokens signed with an older key no longer verify."""
        self.as_key = as_key
        self.server = AuthorizationServer(
            ISSUER,
            as_key,
            self.registry,
            self.replay,
            AUDIENCE,
            self.clock,
            scopes_supported=frozenset({"co:write", "alert:write", "sps:write"}),
        )
        self.validator = AccessTokenValidator(
            ISSUER, AUDIENCE, key_set_from_jwks(self.server.jwks()), self.clock
        )

    def auth(self, scope: str = "co:write") -> PrivateKeyJWTAuth:
        return PrivateKeyJWTAuth(ISSUER, CLIENT_ID, self.client_key, scope, self.clock)

    def token_requests(self) -> int:
        return self.paths.count("/oauth/token")


def _serve(node: Node) -> Callable[[httpx.Request], httpx.Response]:
    """The node's HTTP surface, reduced to the three routes that matter here."""

    def handle(request: httpx.Request) -> httpx.Response:
        node.paths.append(request.url.path)
        if request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(200, json=node.server.metadata())
        if request.url.path == "/oauth/token" and request.method == "POST":
            form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
            status, body, headers = node.server.handle_token_request(form, request.headers)
            return httpx.Response(status, json=body, headers=headers)
        if request.url.path == "/v1/messages" and request.method == "POST":
            target = RequestTarget(request.method, str(request.url), request.headers.get("dpop"))
            try:
                access = node.validator.validate(
                    request.headers.get("authorization"), "co:write", target
                )
            except Unauthorized as error:
                return httpx.Response(401, json={"code": error.code, **error.params})
            except Forbidden as error:
                return httpx.Response(403, json={"code": error.code, **error.params})
            return httpx.Response(
                200, json={"client_id": access.client_id, "scopes": sorted(access.scopes)}
            )
        return httpx.Response(404)

    return handle


@pytest.fixture
def node() -> Node:
    clock = FakeClock()
    client_key = generate_signing_key("vn-client-1")
    registration = RegisteredClient(CLIENT_ID, "VNLGS", public_jwks([client_key]), CLIENT_SCOPES)
    return Node(clock, Registry({CLIENT_ID: registration}), InMemoryReplayStore(clock), client_key)


@pytest.fixture
def http(node: Node) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(_serve(node)), base_url=ISSUER) as client:
        yield client


# --- the happy path ---------------------------------------------------------------------


def test_counterpart_gets_a_token_and_calls_the_protected_api(
    node: Node, http: httpx.Client
) -> None:
    response = http.post(MESSAGES, json={}, auth=node.auth())

    assert response.status_code == 200
    assert response.json() == {"client_id": CLIENT_ID, "scopes": ["co:write"]}
    assert node.paths == ["/.well-known/oauth-authorization-server", "/oauth/token", "/v1/messages"]


def test_issued_access_token_follows_rfc_9068(node: Node) -> None:
    status, body, headers = node.server.handle_token_request(_token_form(node), _dpop(node))

    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "DPoP"
    assert body["expires_in"] == 300
    token = jwt.decode(body["access_token"], node.as_key, algorithms=["ES256"])
    assert token.header == {"typ": "at+jwt", "alg": "ES256", "kid": "cn-as-1"}
    now = int(node.clock().timestamp())
    assert token.claims == {
        "iss": ISSUER,
        "sub": CLIENT_ID,
        "client_id": CLIENT_ID,
        "aud": AUDIENCE,
        "scope": "alert:write co:write",
        "iat": now,
        "exp": now + 300,
        "jti": token.claims["jti"],
        "cnf": {"jkt": token.claims["cnf"]["jkt"]},
    }
    _, again, _ = node.server.handle_token_request(_token_form(node), _dpop(node))
    assert jwt.decode(again["access_token"], node.as_key).claims["jti"] != token.claims["jti"]


def test_metadata_describes_a_private_key_jwt_only_server(node: Node, http: httpx.Client) -> None:
    metadata = http.get(f"{ISSUER}/.well-known/oauth-authorization-server").json()

    assert metadata == {
        "issuer": ISSUER,
        "token_endpoint": TOKEN_ENDPOINT,
        "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "EdDSA", "PS256"],
        "dpop_signing_alg_values_supported": ["ES256", "EdDSA", "PS256"],
        "scopes_supported": ["alert:write", "co:write", "sps:write"],
    }
    assert all("d" not in key for key in node.server.jwks()["keys"])


@pytest.mark.parametrize(
    ("asked", "granted"),
    [
        (None, "alert:write co:write"),
        ("co:write", "co:write"),
        ("co:write sps:write", "co:write"),
    ],
)
def test_granted_scopes_are_what_the_client_holds_of_what_it_asked(
    node: Node, asked: str | None, granted: str
) -> None:
    status, body, _ = node.server.handle_token_request(_token_form(node, scope=asked), _dpop(node))

    assert status == 200
    assert body["scope"] == granted
    assert jwt.decode(body["access_token"], node.as_key).claims["scope"] == granted


def test_asking_only_for_scopes_not_held_is_invalid_scope(node: Node) -> None:
    status, body, _ = node.server.handle_token_request(
        _token_form(node, scope="sps:write"), _dpop(node)
    )

    assert (status, body["error"]) == (400, "invalid_scope")


def test_other_grant_types_are_not_supported(node: Node) -> None:
    form = _token_form(node) | {"grant_type": "password", "username": "a", "password": "b"}

    status, body, _ = node.server.handle_token_request(form, _dpop(node))

    assert (status, body["error"]) == (400, "unsupported_grant_type")


# --- the client side against the real server ---------------------------------------------


def test_token_is_cached_across_calls(node: Node, http: httpx.Client) -> None:
    auth = node.auth()
    for _ in range(3):
        assert http.post(MESSAGES, json={}, auth=auth).status_code == 200

    assert node.token_requests() == 1


def test_token_is_fetched_again_once_it_is_about_to_expire(node: Node, http: httpx.Client) -> None:
    auth = node.auth()
    http.post(MESSAGES, json={}, auth=auth)
    node.clock.advance(300 - 30)

    assert http.post(MESSAGES, json={}, auth=auth).status_code == 200
    assert node.token_requests() == 2


def test_a_401_after_a_key_rotation_drops_the_token_and_retries_once(
    node: Node, http: httpx.Client
) -> None:
    auth = node.auth()
    http.post(MESSAGES, json={}, auth=auth)
    node.start(generate_signing_key("cn-as-2"))

    response = http.post(MESSAGES, json={}, auth=auth)

    assert response.status_code == 200
    assert node.token_requests() == 2
    assert node.paths[-3:] == ["/v1/messages", "/oauth/token", "/v1/messages"]


@pytest.mark.asyncio
async def test_the_same_auth_works_with_an_async_client(node: Node) -> None:
    transport = httpx.MockTransport(_serve(node))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        auth = node.auth()
        first = await client.post(MESSAGES, json={}, auth=auth)
        second = await client.post(MESSAGES, json={}, auth=auth)

    assert (first.status_code, second.status_code) == (200, 200)
    assert node.token_requests() == 1


# --- the resource server refuses bad tokens ----------------------------------------------


def _claims(node: Node, **changes: Any) -> dict[str, Any]:
    now = int(node.clock().timestamp())
    claims = {
        "iss": ISSUER,
        "sub": CLIENT_ID,
        "client_id": CLIENT_ID,
        "aud": AUDIENCE,
        "scope": "co:write",
        "iat": now,
        "exp": now + 300,
        "jti": "at-1",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _access_token(
    node: Node, key: Any = None, header: dict[str, Any] | None = None, **changes: Any
) -> str:
    protected = {"typ": "at+jwt", "alg": "ES256", "kid": "cn-as-1"} | (header or {})
    protected = {name: value for name, value in protected.items() if value is not None}
    signing_key = key if key is not None else node.as_key
    return jwt.encode(
        protected,
        _claims(node, **changes),
        signing_key,
        algorithms=[protected["alg"]],
        default_type=None,
    )


def _unsigned(node: Node) -> str:
    def segment(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{segment({'typ': 'at+jwt', 'alg': 'none'})}.{segment(_claims(node))}."


def _expired(node: Node) -> str:
    token = _access_token(node)
    node.clock.advance(300 + 61)
    return token


def _issued_in_the_future(node: Node) -> str:
    return _access_token(node, iat=int(node.clock().timestamp()) + 120)


_HS256_SECRET = OctKey.import_key(b"a shared secret of 32 bytes!!!!!")

REJECTIONS: dict[str, tuple[Callable[[Node], str | None], int, str]] = {
    "no Authorization header": (lambda node: None, 401, "TOKEN_MISSING"),
    "another scheme": (lambda node: "Basic dm46c2VjcmV0", 401, "TOKEN_MISSING"),
    "bearer without token": (lambda node: "Bearer ", 401, "TOKEN_MISSING"),
    "not a JWT": (lambda node: "Bearer not-a-jwt", 401, "TOKEN_MALFORMED"),
    "expired": (lambda node: f"Bearer {_expired(node)}", 401, "TOKEN_EXPIRED"),
    "issued in the future": (
        lambda node: f"Bearer {_issued_in_the_future(node)}",
        401,
        "TOKEN_NOT_YET_VALID",
    ),
    "wrong audience": (
        lambda node: f"Bearer {_access_token(node, aud='https://vn-huu-nghi.node.test/v1')}",
        401,
        "TOKEN_AUDIENCE_INVALID",
    ),
    "wrong issuer": (
        lambda node: f"Bearer {_access_token(node, iss='https://elsewhere.test')}",
        401,
        "TOKEN_ISSUER_INVALID",
    ),
    "typ JWT": (
        lambda node: f"Bearer {_access_token(node, header={'typ': 'JWT'})}",
        401,
        "TOKEN_TYPE_INVALID",
    ),
    "no typ": (
        lambda node: f"Bearer {_access_token(node, header={'typ': None})}",
        401,
        "TOKEN_TYPE_INVALID",
    ),
    "alg none": (lambda node: f"Bearer {_unsigned(node)}", 401, "TOKEN_ALG_NOT_ALLOWED"),
    "HS256": (
        lambda node: (
            f"Bearer {_access_token(node, _HS256_SECRET, header={'alg': 'HS256', 'kid': None})}"
        ),
        401,
        "TOKEN_ALG_NOT_ALLOWED",
    ),
    "RS256": (
        lambda node: (
            "Bearer "
            + _access_token(node, RSAKey.generate_key(2048), header={"alg": "RS256", "kid": None})
        ),
        401,
        "TOKEN_ALG_NOT_ALLOWED",
    ),
    "unknown key": (
        lambda node: (
            f"Bearer {_access_token(node, generate_signing_key('intruder'), {'kid': 'intruder'})}"
        ),
        401,
        "TOKEN_SIGNATURE_INVALID",
    ),
    "unknown key posing as the server's kid": (
        lambda node: f"Bearer {_access_token(node, generate_signing_key('cn-as-1'))}",
        401,
        "TOKEN_SIGNATURE_INVALID",
    ),
    "no client_id": (
        lambda node: f"Bearer {_access_token(node, client_id=None)}",
        401,
        "TOKEN_CLAIM_MISSING",
    ),
    "no jti": (lambda node: f"Bearer {_access_token(node, jti=None)}", 401, "TOKEN_CLAIM_MISSING"),
    "exp not a number": (
        lambda node: f"Bearer {_access_token(node, exp='tomorrow')}",
        401,
        "TOKEN_CLAIM_INVALID",
    ),
    "scope missing": (
        lambda node: f"Bearer {_access_token(node, scope='alert:write')}",
        403,
        "SCOPE_MISSING",
    ),
}


@pytest.mark.parametrize("case", REJECTIONS)
def test_resource_server_rejects(node: Node, case: str, http: httpx.Client) -> None:
    make_header, status, code = REJECTIONS[case]
    authorization = make_header(node)
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = http.post(MESSAGES, json={}, headers=headers)

    assert (response.status_code, response.json()["code"]) == (status, code)


def test_resource_server_accepts_the_long_form_of_the_token_type(
    node: Node, http: httpx.Client
) -> None:
    # RFC 9068 §4 names both spellings; a counterpart's server may send either.
    token = _access_token(node, header={"typ": "application/at+jwt"})

    response = http.post(MESSAGES, json={}, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200


def test_resource_server_tolerates_sixty_seconds_of_clock_skew(
    node: Node, http: httpx.Client
) -> None:
    token = _access_token(node, iat=int(node.clock().timestamp()) + 59)
    node.clock.advance(300 + 59)

    response = http.post(MESSAGES, json={}, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200


def test_hs256_is_refused_even_when_a_shared_secret_with_its_kid_is_known(node: Node) -> None:
    # The classic key-confusion attack: had the algorithm been checked after the key
    # lookup, this token would verify against the symmetric key in the set.
    secret = OctKey.import_key(b"a shared secret of 32 bytes!!!!!", {"kid": "shared"})
    keys = KeySet([*key_set_from_jwks(node.server.jwks()), secret])
    validator = AccessTokenValidator(ISSUER, AUDIENCE, keys, node.clock)
    token = _access_token(node, secret, header={"alg": "HS256", "kid": "shared"})

    with pytest.raises(Unauthorized) as refused:
        validator.validate(f"Bearer {token}", "co:write")

    assert refused.value.code == "TOKEN_ALG_NOT_ALLOWED"


def test_scope_error_names_the_missing_scope(node: Node) -> None:
    token = _access_token(node, scope="alert:write")

    with pytest.raises(Forbidden) as refused:
        node.validator.validate(f"Bearer {token}", "co:write")

    assert refused.value.params == {"scope": "co:write"}


# --- the authorization server refuses bad client assertions ------------------------------


def _assertion(
    node: Node, key: Any = None, header: dict[str, Any] | None = None, **changes: Any
) -> str:
    now = int(node.clock().timestamp())
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": ISSUER,
        "jti": "assertion-1",
        "iat": now,
        "exp": now + 60,
    } | changes
    protected = {"typ": "client-authentication+jwt", "alg": "ES256", "kid": "vn-client-1"}
    protected |= header or {}
    signing_key = key if key is not None else node.client_key
    return jwt.encode(protected, claims, signing_key, algorithms=[protected["alg"]])


def _dpop(node: Node) -> dict[str, str]:
    """The headers of a token request with a fresh DPoP proof from a key of its own."""
    return {"DPoP": make_proof(generate_dpop_key(), "POST", TOKEN_ENDPOINT, node.clock)}


def _token_form(
    node: Node, assertion: str | None = None, scope: str | None = None
) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion or _assertion(node, jti=uuid.uuid4().hex),
    }
    if scope is not None:
        form["scope"] = scope
    return form


def _expired_assertion(node: Node) -> str:
    assertion = _assertion(node)
    node.clock.advance(60 + 61)
    return assertion


ASSERTION_REJECTIONS: dict[str, tuple[Callable[[Node], dict[str, str]], str]] = {
    "unknown client": (
        lambda node: _token_form(
            node, _assertion(node, generate_signing_key("x"), iss="nobody", sub="nobody")
        ),
        "unknown client",
    ),
    "aud is the token endpoint": (
        lambda node: _token_form(node, _assertion(node, aud=TOKEN_ENDPOINT)),
        "aud must be the issuer",
    ),
    "aud is a list": (
        lambda node: _token_form(node, _assertion(node, aud=[ISSUER, TOKEN_ENDPOINT])),
        "aud must be the issuer",
    ),
    "valid for two minutes": (
        lambda node: _token_form(node, _assertion(node, exp=int(node.clock().timestamp()) + 120)),
        "60 seconds at most",
    ),
    "expired": (lambda node: _token_form(node, _expired_assertion(node)), "has expired"),
    "typ JWT": (
        lambda node: _token_form(node, _assertion(node, header={"typ": "JWT"})),
        "typ must be",
    ),
    "HS256": (
        lambda node: _token_form(node, _assertion(node, _HS256_SECRET, header={"alg": "HS256"})),
        "alg is not allowed",
    ),
    "signed with a key the client never registered": (
        lambda node: _token_form(node, _assertion(node, generate_signing_key("vn-client-1"))),
        "signature is invalid",
    ),
    "iss is not the client": (
        lambda node: _token_form(node, _assertion(node, iss="cn-youyiguan")),
        "iss must equal sub",
    ),
    "client_id names another client": (
        lambda node: _token_form(node) | {"client_id": "cn-dongxing"},
        "client_id does not match",
    ),
    "no jti": (lambda node: _token_form(node, _assertion(node, jti="")), "needs a jti"),
    "client secret instead of an assertion": (
        lambda node: {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": "s",
        },
        "client assertion is required",
    ),
}


@pytest.mark.parametrize("case", ASSERTION_REJECTIONS)
def test_token_endpoint_rejects(node: Node, case: str, http: httpx.Client) -> None:
    make_form, reason = ASSERTION_REJECTIONS[case]

    response = http.post(TOKEN_ENDPOINT, data=make_form(node))

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert reason in response.json()["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "WWW-Authenticate" not in response.headers


def test_a_client_assertion_is_accepted_once(node: Node, http: httpx.Client) -> None:
    form = _token_form(node, _assertion(node, jti="only-once"))

    first = http.post(TOKEN_ENDPOINT, data=form, headers=_dpop(node))
    replayed = http.post(TOKEN_ENDPOINT, data=form, headers=_dpop(node))

    assert first.status_code == 200
    assert replayed.status_code == 401
    assert replayed.json()["error_description"] == "the client assertion was already used"


def test_a_forged_assertion_does_not_burn_the_jti(node: Node, http: httpx.Client) -> None:
    forged = _assertion(node, generate_signing_key("vn-client-1"), jti="next")
    http.post(TOKEN_ENDPOINT, data=_token_form(node, forged))

    genuine = http.post(
        TOKEN_ENDPOINT, data=_token_form(node, _assertion(node, jti="next")), headers=_dpop(node)
    )

    assert genuine.status_code == 200


def test_an_issuer_over_plain_http_is_refused_at_start_up(node: Node) -> None:
    with pytest.raises(ValueError, match="https"):
        AuthorizationServer(
            "http://cn-youyiguan.node.test",
            node.as_key,
            Registry(),
            InMemoryReplayStore(node.clock),
            AUDIENCE,
            node.clock,
        )
