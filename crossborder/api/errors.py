"""One JSON error shape for every failure, with a stable code and no stack trace.

``{"error": {"code": "SIGNATURE_INVALID", "message": "…", "details": [...]}}``:
the code is the contract a counterpart's software acts on; the message is for
the person reading its logs, in the language its ``Accept-Language`` asks for.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from crossborder.adapters.oauth.keys import ALLOWED_ALGORITHMS
from crossborder.domain.errors import CrossborderError
from crossborder.i18n import error_message, translate

log = logging.getLogger(__name__)

_CODE = r"^[A-Z][A-Z0-9_]*$"


class ErrorDetail(BaseModel):
    """One broken rule: its stable code, where it was found, and a sentence about it."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_CODE, examples=["FIELD_MISSING"])
    field: str = Field(
        description="Path of the offending field (`payload.certificate.items[0].hs_code`), "
        "empty when the rule is not about one field.",
    )
    message: str = Field(description="For a person; in the language of `Accept-Language`.")


class Error(BaseModel):
    """A refusal: the stable code is the contract, the message is for the person reading logs."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=_CODE, examples=["SCHEMA_INVALID"])
    message: str = Field(description="For a person; in the language of `Accept-Language`.")
    details: list[ErrorDetail]


# The node builds every error answer with these models, and ``contracts/``
# publishes their schema: one source, so the two cannot drift apart.
class ErrorResponse(BaseModel):
    """The one shape of every error answered by a node, whatever the status."""

    model_config = ConfigDict(extra="forbid")

    error: Error


STATUS_FOR_KIND = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "unauthorized": 401,
    "forbidden": 403,
    "rate_limited": 429,
}
STATUS_FOR_CODE = {
    "BODY_TOO_LARGE": 413,
    "JSON_MALFORMED": 400,
    "JSON_TOO_DEEP": 400,
    "JSON_DUPLICATE_MEMBER": 400,
    "JWS_MALFORMED": 400,
    "JWS_HEADER_TOO_LARGE": 400,
}
_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}


def error_body(error: CrossborderError, locale: str) -> dict[str, Any]:
    details = [
        ErrorDetail(
            code=violation.code,
            field=violation.field,
            message=translate(
                f"error.{violation.code}", locale, field=violation.field, **violation.params
            ),
        )
        for violation in error.violations
    ]
    message = error_message(error.code, locale, **error.params)
    body = ErrorResponse(error=Error(code=error.code, message=message, details=details))
    return body.model_dump()


def error_response(error: CrossborderError, locale: str) -> JSONResponse:
    status = STATUS_FOR_CODE.get(error.code) or STATUS_FOR_KIND.get(error.kind, 400)
    return JSONResponse(error_body(error, locale), status_code=status, headers=_challenge(error))


#: RFC 9449 §7.1: the algorithms a DPoP proof may be signed with, in every DPoP challenge.
_DPOP_ALGS = f'algs="{" ".join(sorted(ALLOWED_ALGORITHMS))}"'


def _challenge(error: CrossborderError) -> dict[str, str] | None:
    """How a client learns what to do next.

    RFC 6750 §3 and RFC 9449 §7.1: get a new token, or one with more scope, or
    send a better proof (both schemes are offered: a client may be allowed
    bearer tokens); RFC 9110 §10.2.3: when a client over its rate may try again.
    """
    if error.kind == "rate_limited":
        return {"Retry-After": str(error.params.get("retry_after", 1))}
    if error.code == "TOKEN_MISSING":
        # RFC 6750 §3.1: a request that carried no credentials gets no error code.
        return {"WWW-Authenticate": f"DPoP {_DPOP_ALGS}, Bearer"}
    if error.code == "DPOP_PROOF_INVALID":
        return {"WWW-Authenticate": f'DPoP error="invalid_dpop_proof", {_DPOP_ALGS}'}
    if error.kind == "unauthorized":
        return {
            "WWW-Authenticate": f'DPoP error="invalid_token", {_DPOP_ALGS}, '
            'Bearer error="invalid_token"'
        }
    if error.code == "SCOPE_MISSING":
        scope = str(error.params.get("scope", ""))
        return {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'}
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(CrossborderError)
    async def _crossborder(request: Request, error: CrossborderError) -> JSONResponse:
        return error_response(error, request.headers.get("accept-language", "en"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, f"HTTP_{error.status_code}")
        body = error_body(CrossborderError(code), request.headers.get("accept-language", "en"))
        # Starlette's own headers: a 405 carries ``Allow`` (RFC 9110 §15.5.6).
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _: ClientDisconnect) -> Response:
        # The caller hung up before its body was read: nothing was taken, no one to answer.
        log.info("client left before its request was read: %s %s", request.method, request.url.path)
        return Response(status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        body = error_body(
            CrossborderError("INTERNAL_ERROR"), request.headers.get("accept-language", "en")
        )
        return JSONResponse(body, status_code=500)
