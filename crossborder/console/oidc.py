"""Signing in through the agency's OpenID Connect provider (authorization code flow with PKCE).

authlib's client-side helpers build the authorization request (with the
PKCE challenge) and the token request; httpx sends them, as everywhere in
the node (authlib's own httpx integration would pull in another HTTP client
library). The ID token is checked here on joserfc (signature by a key of the provider's
published set, exact ``iss``, our client id in ``aud``, ``exp``, and the
``nonce`` this request sent). The claim named by
``console_oidc_officer_claim`` must be the id of an active officer of this
node: the provider vouches for the person, the node decides what they may do.
Every outcome is audited.

The request's state, nonce and PKCE verifier are kept in the node's database,
keyed by the state, so that the provider's answer may come back to any replica
of the node; the browser holds only a random value that must come back with
it, and the database only its hash. That cookie is ``SameSite=Lax``: the
provider's redirect back is a navigation from another site, which a
``Strict`` cookie would not survive.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import CursorResult, delete

from crossborder.adapters.db.tables import ConsoleSignIn
from crossborder.console.sessions import SESSION_COOKIE, digest
from crossborder.console.sign_in import console_of, local_target, set_cookie
from crossborder.domain.errors import NotFound, Unauthorized
from crossborder.services.node import Node
from crossborder.services.officers import sign_in_by_provider

router = APIRouter()

FLOW_COOKIE = "cb_oidc"
#: How long a sign-in at the provider may take before it must be started again.
FLOW_SECONDS = 600
#: Signature algorithms accepted on an ID token (never ``none``, never HMAC).
ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]


@dataclass(frozen=True)
class _Flow:
    nonce: str
    verifier: str
    next_page: str


def _begin(node: Node, state: str, browser: str, flow: _Flow) -> None:
    now = node.now()
    with node.transaction() as db:
        db.execute(delete(ConsoleSignIn).where(ConsoleSignIn.expires_at <= now))
        db.add(
            ConsoleSignIn(
                state=state,
                browser_hash=digest(browser),
                nonce=flow.nonce,
                verifier=flow.verifier,
                next_page=flow.next_page,
                expires_at=now + timedelta(seconds=FLOW_SECONDS),
            )
        )


def _take(node: Node, state: str, browser: str) -> _Flow:
    """The sign-in this answer is for, used up: of two replicas handed one answer, one gets it."""
    now = node.now()
    with node.transaction() as db:
        row = db.get(ConsoleSignIn, state)
        taken = db.execute(delete(ConsoleSignIn).where(ConsoleSignIn.state == state))
        if (
            row is None
            or cast(CursorResult[Any], taken).rowcount != 1
            or row.expires_at <= now
            or not hmac.compare_digest(row.browser_hash, digest(browser))
        ):
            flow = None
        else:
            flow = _Flow(row.nonce, row.verifier, row.next_page)
    if flow is None:
        raise Unauthorized("OIDC_STATE_INVALID")
    return flow


def _settings(request: Request) -> tuple[str, str, str]:
    settings = console_of(request).node.settings
    if not settings.console_oidc_issuer or not settings.console_oidc_client_id:
        raise NotFound("OIDC_NOT_CONFIGURED")
    secret = settings.console_oidc_client_secret
    return (
        settings.console_oidc_issuer.rstrip("/"),
        settings.console_oidc_client_id,
        secret.get_secret_value() if secret else "",
    )


def _metadata(issuer: str) -> dict[str, Any]:
    """The provider's discovery document, which must name exactly the configured issuer."""
    try:
        answer = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
        answer.raise_for_status()
        metadata: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unauthorized("OIDC_PROVIDER_UNAVAILABLE") from exc
    if metadata.get("issuer", "").rstrip("/") != issuer:
        raise Unauthorized("OIDC_PROVIDER_UNAVAILABLE")
    return metadata


def _redirect_uri(request: Request) -> str:
    """The node's own address, the one registered at the provider: behind a load balancer a
    replica's request names the replica, and perhaps plain http where the world sees https."""
    return f"{console_of(request).node.settings.base_url}/console/sign-in/oidc/callback"


@router.get("/sign-in/oidc")
def start(request: Request, next: str = "") -> RedirectResponse:
    issuer, client_id, secret = _settings(request)
    metadata = _metadata(issuer)
    browser, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    url = prepare_grant_uri(
        metadata["authorization_endpoint"],
        client_id=client_id,
        response_type="code",
        redirect_uri=_redirect_uri(request),
        scope="openid profile",
        state=state,
        nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    _begin(console_of(request).node, state, browser, _Flow(nonce, verifier, local_target(next)))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        browser,
        max_age=FLOW_SECONDS,
        path="/console/sign-in/oidc",
        secure=console_of(request).node.settings.console_secure_cookie,
        httponly=True,
        samesite="lax",
    )
    return response


def _claims(id_token: str, metadata: dict[str, Any], issuer: str, client_id: str) -> jwt.Claims:
    try:
        keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"], timeout=10).json())
        token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
        ).validate(token.claims)
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise Unauthorized("OIDC_ID_TOKEN_INVALID") from exc
    return token.claims


@router.get("/sign-in/oidc/callback", response_model=None)
def callback(request: Request, state: str = "", code: str = "") -> Response:
    console = console_of(request)
    issuer, client_id, secret = _settings(request)
    flow = _take(console.node, state, request.cookies.get(FLOW_COOKIE, ""))
    if not code:
        # The provider said no (the person cancelled, or may not use this client).
        raise Unauthorized("OIDC_SIGN_IN_REFUSED")
    metadata = _metadata(issuer)
    body = prepare_token_request(
        "authorization_code",
        code=code,
        redirect_uri=_redirect_uri(request),
        code_verifier=flow.verifier,
    )
    try:
        answer = httpx.post(
            metadata["token_endpoint"],
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=(client_id, secret),  # client_secret_basic
            timeout=10,
        )
        answer.raise_for_status()
        token: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unauthorized("OIDC_SIGN_IN_REFUSED") from exc
    claims = _claims(str(token.get("id_token", "")), metadata, issuer, client_id)
    if not hmac.compare_digest(str(claims.get("nonce", "")), flow.nonce):
        raise Unauthorized("OIDC_ID_TOKEN_INVALID")
    officer_id = str(claims.get(console.node.settings.console_oidc_officer_claim, ""))
    address = request.client.host if request.client else ""
    officer = sign_in_by_provider(
        console.node, officer_id, issuer=issuer, subject=str(claims["sub"]), address=address
    )
    session = console.sessions.start(officer.id)
    response = RedirectResponse(flow.next_page, status_code=303)
    set_cookie(console, response, SESSION_COOKIE, session.id)
    response.delete_cookie(FLOW_COOKIE, path="/console/sign-in/oidc")
    return response
