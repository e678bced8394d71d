"""The node's HTTP API: messages in, OAuth, discovery.

Inbound path, in order: size limit → access token → (services.inbound) sender's
signature → schema → admission → receipt. Nothing is *sent* from a request
handler: replies go to the outbox and the delivery loop takes them from there.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crossborder.adapters.db.replay import DatabaseReplayStore
from crossborder.adapters.oauth.authorization_server import AuthorizationServer
from crossborder.adapters.oauth.keys import public_jwks
from crossborder.adapters.oauth.resource_server import AccessTokenValidator, RequestTarget
from crossborder.api import errors
from crossborder.api.rate_limits import RateLimit
from crossborder.console.app import create_console
from crossborder.domain.errors import InvalidInput
from crossborder.domain.messages import KNOWN_SCOPES, SCOPE_FOR_TYPE
from crossborder.services.inbound import receive, record_refusal
from crossborder.services.node import Node
from crossborder.workers import Workers

#: Any message type's scope lets a caller in; the type's own scope (and, for a
#: restricted alert, its audience's) is checked once the signed message says
#: which type it is. Audience scopes alone open no door: they only narrow.
MESSAGE_SCOPES = frozenset(SCOPE_FOR_TYPE.values())


#: The largest field of a token request we read: a client assertion is under 1 kB.
TOKEN_FIELD_BYTES = 16_384

#: The published contract (``contracts/openapi.json``), shipped in the package.
CONTRACT = files("crossborder.api") / "openapi.json"

#: Where an officer's command on the node's own host calls from.
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def create_app(  # noqa: C901 (one closure per route)
    node: Node, *, run_workers: bool = True, monotonic: Callable[[], float] = time.monotonic
) -> FastAPI:
    settings = node.settings
    client_rate = RateLimit(settings.client_rate_per_second, settings.client_burst, clock=monotonic)
    token_rate = RateLimit(settings.token_rate_per_second, settings.token_burst, clock=monotonic)
    # Client assertions and DPoP proofs are each accepted once, whichever process sees them.
    replay = DatabaseReplayStore(node.engine)
    authorization_server = AuthorizationServer(
        issuer=settings.issuer,
        # Read at every token, so that a rotation takes effect without a restart.
        signing_key=lambda: node.token_key,
        clients=node.clients,
        replay=replay,
        audience=settings.audience,
        clock=node.clock,
        token_ttl=settings.access_token_ttl_seconds,
        scopes_supported=KNOWN_SCOPES,
        refresh_client_keys=node.clients.refreshed,
    )
    validator = AccessTokenValidator(
        issuer=settings.issuer,
        audience=settings.audience,
        keys=node.token_keys.verification_keys,
        clock=node.clock,
        replay=replay,
    )
    workers = Workers(node)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if run_workers:
            workers.start()
        try:
            yield
        finally:
            if run_workers:
                workers.stop()
            node.counterparts.close()

    # FastAPI's own document cannot describe a JWS body or the token endpoint: the
    # node serves the published contract instead, the one a counterpart builds against.
    contract = CONTRACT.read_bytes()
    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    errors.install(app)
    app.state.node = node
    app.state.workers = workers
    app.mount("/console", create_console(node, workers.delivery.wake))

    @app.post("/v1/messages", status_code=202)
    async def post_message(request: Request) -> JSONResponse:
        """Deliver one signed message (JWS compact, ``application/jose``); get a signed receipt."""
        target = _target(request, settings.base_url)
        # The DPoP proof's id is written with the message's admission or refusal
        # (``receive``, ``record_refusal``): one transaction a message, not two. In a
        # worker thread all the same: reading the token keys may touch the disk.
        token = await run_in_threadpool(
            partial(validator.validate_any, remember_proof=False),
            request.headers.get("authorization"),
            MESSAGE_SCOPES,
            target,
        )
        # Before the body is read: a client over its rate costs us no work and no record.
        client_rate.take(token.client_id)
        try:
            body = await _read_limited(request, settings.max_body_bytes)
        except InvalidInput as too_large:
            # Kept as refused, without the body we did not read.
            await run_in_threadpool(record_refusal, node, b"", token, too_large)
            raise
        accepted = await run_in_threadpool(receive, node, body, token)
        if accepted.reacts:
            workers.dispatch.wake()
        return JSONResponse(
            {"receipt": accepted.receipt.decode(), "duplicate": accepted.duplicate},
            status_code=202,
        )

    @app.post("/oauth/token")
    async def token(request: Request) -> JSONResponse:
        token_rate.take(request.client.host if request.client else "")
        try:
            # A token request has five fields of a few hundred bytes.
            form_data = await request.form(max_fields=20, max_part_size=TOKEN_FIELD_BYTES)
        except StarletteHTTPException:  # too many fields, or one too large
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        items = form_data.multi_items()
        form = {key: str(value) for key, value in items}
        if len(form) != len(items):
            # RFC 6749 §3.2: a parameter sent twice is an invalid request, not a choice.
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        status, body, headers = await run_in_threadpool(
            authorization_server.handle_token_request, form, dict(request.headers)
        )
        return JSONResponse(body, status_code=status, headers=headers)

    @app.get("/.well-known/oauth-authorization-server")
    async def metadata() -> dict[str, Any]:
        return authorization_server.metadata()

    @app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        """Every message-signing and token key of the agency: in use, next, and retired."""
        return public_jwks(node.published_keys())

    @app.get("/v1/health")
    async def health() -> Response:
        return JSONResponse({"status": "ok", "agency": node.agency})

    @app.get("/openapi.json")
    async def openapi() -> Response:
        return Response(contract, media_type="application/json")

    @app.post("/local/outbox-wake", status_code=204)
    async def outbox_wake(request: Request) -> Response:
        """An officer's command on this host queued a message: deliver it now.

        Only a wake-up — the loop reads the outbox itself — so it needs no
        credentials, but it is answered only on the node's own host.
        """
        if request.client is None or request.client.host not in LOOPBACK:
            raise HTTPException(status_code=404)  # answered as any unknown path is
        workers.delivery.wake()
        return Response(status_code=204)

    return app


def _target(request: Request, base_url: str) -> RequestTarget:
    """What a DPoP proof must name: the node's public URL (as the caller knows it,
    behind any proxy) for this path, and the one ``DPoP`` header, if there is one."""
    proofs = request.headers.getlist("dpop")
    return RequestTarget(
        request.method, f"{base_url}{request.url.path}", proofs[0] if len(proofs) == 1 else None
    )


async def _read_limited(request: Request, limit: int) -> bytes:
    """Read the body, refusing it as soon as it passes ``limit`` (chunked uploads included)."""
    if int(request.headers.get("content-length") or 0) > limit:
        raise InvalidInput("BODY_TOO_LARGE", limit=limit)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise InvalidInput("BODY_TOO_LARGE", limit=limit)
    return bytes(body)
