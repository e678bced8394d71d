"""The console as an app of its own, mounted on the node's API under ``/console``.

Its own error pages (in the officer's language, with the stable code), its own
security headers: a Content-Security-Policy that lets no inline script or style
run (scripts and styles come from the console's own files; a script may fetch
from the node itself only, as the alerts board does), no framing, no referrer,
and pages that are not cached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from crossborder.api.errors import STATUS_FOR_KIND
from crossborder.console import (
    alerts,
    cases,
    certificates,
    lane,
    oidc,
    operations,
    quarantine,
    sign_in,
)
from crossborder.console.desk import Console, Desk, SignInNeeded, error_page
from crossborder.domain.errors import CrossborderError
from crossborder.services.node import Node

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_console(node: Node, wake_delivery: Callable[[], None]) -> FastAPI:
    """The console of ``node``; ``wake_delivery`` has the node's loop send what an action queued."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console = Console(node, wake_delivery)
    app.state.console = console
    for module in (sign_in, oidc, cases, certificates, quarantine, lane, alerts, operations):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(packages=[("crossborder.console", "static")]), "static")

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/console/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, needed: SignInNeeded) -> Response:
        if needed.expired:
            return sign_in.sign_in_page(
                console, request, CrossborderError("SESSION_EXPIRED"), status=401
            )
        target = quote(request.url.path, safe="/")
        return RedirectResponse(f"/console/sign-in?next={target}", status_code=303)

    @app.exception_handler(CrossborderError)
    async def _refused(request: Request, error: CrossborderError) -> Response:
        status = STATUS_FOR_KIND.get(error.kind, 400)
        return error_page(console, request, error, status, _desk_if_any(console, request))

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, _: RequestValidationError) -> Response:
        error = CrossborderError("FORM_MALFORMED")
        return error_page(console, request, error, 422, _desk_if_any(console, request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = "NOT_FOUND" if error.status_code == 404 else "METHOD_NOT_ALLOWED"
        return error_page(console, request, CrossborderError(code), error.status_code, None)

    return app


def _desk_if_any(console: Console, request: Request) -> Desk | None:
    try:
        return console.desk(request)
    except SignInNeeded:
        return None
