"""A minimal OpenID Connect provider for tests, on authlib's own ``AuthorizationServer``.

Authorization code flow with PKCE and ``client_secret_basic``, one registered
client, RS256 ID tokens from a key published in its JWKS, and a discovery
document. Whoever the test says is signed in at the provider (``person``) is
approved at once: the console's side is what is under test.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    secret: str
    redirect_uri: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in ("openid", "profile"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, data: dict[str, str], headers: Headers):
        super().__init__(method, uri, headers=headers)
        self._data = data
        self.payload = BasicOAuth2Payload(data)

    @property
    def args(self) -> dict[str, str]:
        return self._data

    @property
    def form(self) -> dict[str, str]:
        return self._data


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, provider: Provider) -> None:
        super().__init__()
        self.provider = provider

    def query_client(self, client_id: str) -> Client | None:
        client = self.provider.client
        return client if client_id == client.client_id else None

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        # The web layer below builds authlib's request itself.
        return request

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        pass

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status, dict(headers))
        return Response(body, status, dict(headers))


class _Grant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]
    server: _Server

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.server.provider.codes[code] = Code(
            code,
            request.client.client_id,
            request.payload.redirect_uri,
            request.payload.scope,
            request.user,
            data.get("nonce"),
            data.get("code_challenge"),
            data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = self.server.provider.codes.get(code)
        return found if found and found.client_id == client.client_id else None

    def delete_authorization_code(self, code: Code) -> None:
        self.server.provider.codes.pop(code.code, None)

    def authenticate_user(self, code: Code) -> str:
        return code.user


class _IdToken(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        """A nonce already used for a code is a replay."""
        return any(code.nonce == nonce for code in self.provider.codes.values())

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": "test-1"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {
            "iss": self.provider.issuer,
            "aud": [client.get_client_id()],
            "exp": int(time.time()) + 300,
        }

    def generate_user_info(self, user: str, scope: str) -> UserInfo:
        return UserInfo(sub=f"sub-{user}", preferred_username=user, **self.provider.extra_claims)


class Provider:
    def __init__(self, issuer: str, client: Client) -> None:
        self.issuer = issuer
        self.client = client
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1", "use": "sig"})
        #: The person signed in at the provider, approved at once.
        self.person = ""
        #: Claims the provider adds to every ID token (a test may spoil one).
        self.extra_claims: dict[str, Any] = {}
        self.codes: dict[str, Code] = {}
        self.server = _Server(self)
        self.server.register_token_generator(
            "default", BearerTokenGenerator(lambda *_, **__: secrets.token_urlsafe(32))
        )
        self.server.register_grant(_Grant, [CodeChallenge(required=True), _IdToken(self)])

    def app(self) -> Starlette:
        async def discovery(_: Request) -> JSONResponse:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                }
            )

        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse({"keys": [self.key.as_dict(private=False)]})

        async def authorize(request: Request) -> Response:
            oauth = _Request(
                "GET", str(request.url), dict(request.query_params), dict(request.headers)
            )
            grant = self.server.get_consent_grant(oauth, end_user=self.person)
            response: Response = self.server.create_authorization_response(
                oauth, grant_user=self.person, grant=grant
            )
            return response

        async def token(request: Request) -> Response:
            form = {k: str(v) for k, v in (await request.form()).items()}
            oauth = _Request("POST", str(request.url), form, request.headers)
            response: Response = self.server.create_token_response(oauth)
            return response

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
            ]
        )
