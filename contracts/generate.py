"""The wire contract in ``contracts/``, generated from the pydantic models.

A counterpart agency may run other software than ours; what it builds against
is ``contracts/``: JSON Schemas of the messages, the receipt and the error
shape, and an OpenAPI 3.1 document of the node API. Everything there except
the examples, the README and the CHANGELOG is generated here, from the same
models the node validates with, and a test fails when the checked-in files
drift from them. Regenerate with ``python contracts/generate.py`` (``make contracts``).

It is a tool of the repository, not part of the node: nothing the node runs imports it.
The node serves the OpenAPI document at ``/openapi.json`` from a copy written here
into its package (``crossborder/api/openapi.json``), so that a node installed
without the repository serves it too, byte for byte the published one.

The schemas are generated in pydantic's *validation* mode: they describe what a
receiving node accepts, which is exactly what a sender must produce.
(Serialization mode would describe what this node happens to send.)

FastAPI's own OpenAPI document cannot describe ``POST /v1/messages``: its body
is a raw JWS (``application/jose``) whose *payload* is the message. So the
document is assembled here, with the models' schemas as its components.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema
from pydantic.json_schema import JsonSchemaMode, SkipJsonSchema

from crossborder.adapters.oauth import CLIENT_ASSERTION_TYPE
from crossborder.adapters.wire import signing
from crossborder.api.errors import ErrorResponse
from crossborder.domain.agencies import AgencyCode
from crossborder.domain.alerts import AUDIENCE_SCOPES
from crossborder.domain.messages import (
    CONTRACT_VERSION,
    SCOPE_FOR_TYPE,
    AnyMessage,
    Message,
    MessageType,
    Receipt,
)
from crossborder.reference.senders import ANY, sender_table

CONTRACTS_DIR = Path(__file__).resolve().parent
REPOSITORY = CONTRACTS_DIR.parent
REGENERATE = "python contracts/generate.py"
#: Folders that hold only generated files: anything else in them is stale.
GENERATED_DIRS = ("contracts/schemas",)
#: The copy of ``contracts/openapi.json`` the node serves, shipped as package data.
SERVED = "crossborder/api/openapi.json"

_MODE: JsonSchemaMode = "validation"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_COMPONENT = "#/components/schemas/{model}"
_NOTICE = (
    f"Contract {CONTRACT_VERSION}, generated from the pydantic models of crossborder: "
    f"do not edit, run `{REGENERATE}`."
)
_JWS_COMPACT = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
_MESSAGE = TypeAdapter[AnyMessage](Message)
#: The discriminator of :data:`Message`.
_TAG = "type"

T = TypeVar("T")


def _left_out(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


#: A member that is left out when it has no value, never sent as ``null``.
Absent = Annotated[
    T | SkipJsonSchema[None],
    Field(json_schema_extra=_left_out),
]


# --- Documents of the node API that have no model elsewhere ---------------------------


class MessageAccepted(BaseModel):
    """The node holds the message: one effect, however often the same message is delivered."""

    model_config = ConfigDict(extra="forbid")

    #: Described by the OpenAPI component (wrapped: pydantic would resolve a bare ``$ref``).
    receipt: Annotated[
        str, WithJsonSchema({"allOf": [{"$ref": _COMPONENT.format(model="SignedReceipt")}]})
    ]
    duplicate: bool = Field(
        description="True when this message_id had already been received: "
        "the receipt is then the one given the first time."
    )


class TokenRequest(BaseModel):
    """Client credentials grant, authenticated with `private_key_jwt` (RFC 7523 §2.2)."""

    grant_type: Literal["client_credentials"]
    client_assertion_type: str = Field(json_schema_extra={"const": CLIENT_ASSERTION_TYPE})
    client_assertion: str = Field(
        pattern=_JWS_COMPACT,
        description="A JWT signed with the client's registered key: typ "
        "`client-authentication+jwt`, iss = sub = client_id, aud = the issuer, "
        "valid for 60 seconds at most, a fresh jti.",
    )
    scope: Absent[str] = Field(
        default=None, description="Space-separated; absent means every scope the client holds."
    )
    client_id: Absent[str] = Field(default=None, description="If sent, must equal the sub.")


class TokenResponse(BaseModel):
    """An RFC 9068 JWT access token. `DPoP`: bound to the key of the request's DPoP proof
    (its RFC 7638 thumbprint in the token's `cnf.jkt`, RFC 9449 §6), to send as
    `Authorization: DPoP …` with a fresh proof on every call. `Bearer`: only for a client
    its operator allowed bearer tokens, and only when it sent no proof."""

    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(pattern=_JWS_COMPACT)
    token_type: Literal["DPoP", "Bearer"]
    expires_in: int = Field(gt=0, description="Seconds.")
    scope: str


class OAuthError(BaseModel):
    """The token endpoint answers errors as RFC 6749 §5.2 says, not in the node's error shape."""

    model_config = ConfigDict(extra="forbid")

    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_dpop_proof",
        "use_dpop_nonce",
    ]
    error_description: Absent[str] = None
    error_uri: Absent[str] = None


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 metadata of the node's own authorization server."""

    model_config = ConfigDict(extra="forbid")

    issuer: str
    token_endpoint: str
    jwks_uri: str
    response_types_supported: list[str] = Field(max_length=0)
    grant_types_supported: list[Literal["client_credentials"]]
    token_endpoint_auth_methods_supported: list[Literal["private_key_jwt"]]
    token_endpoint_auth_signing_alg_values_supported: list[str]
    dpop_signing_alg_values_supported: list[str] = Field(
        description="RFC 9449 §5.1: the algorithms a DPoP proof may be signed with."
    )
    scopes_supported: Absent[list[str]] = None


class JsonWebKey(BaseModel):
    """A public key (RFC 7517); its other members depend on `kty`."""

    model_config = ConfigDict(extra="allow")

    kty: Literal["EC", "OKP", "RSA"]
    kid: str = Field(min_length=1)
    use: Absent[Literal["sig"]] = None
    alg: Absent[str] = None


class JsonWebKeySet(BaseModel):
    """The agency's message-signing keys and its authorization server's token keys."""

    keys: list[JsonWebKey]


class Health(BaseModel):
    """The node is up, and says which agency it speaks for."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]
    agency: AgencyCode


_DOCUMENTS: tuple[type[BaseModel], ...] = (
    Receipt,
    MessageAccepted,
    ErrorResponse,
    TokenRequest,
    TokenResponse,
    OAuthError,
    AuthorizationServerMetadata,
    JsonWebKeySet,
    Health,
)

#: Error codes a caller of the node API can meet, by HTTP status: every code the node
#: answers with (a test checks both ways). Software should still act on the status when
#: it meets a code it does not know: a later version may add codes.
ERROR_CODES_BY_STATUS: dict[int, tuple[str, tuple[str, ...]]] = {
    400: (
        "The body is not a JWS compact serialization, or its payload is not a JSON object; "
        "or the protected header or the payload nests arrays and objects more than 32 deep, "
        "names a member twice in one object (I-JSON, RFC 7493), or the protected header is "
        "larger than 512 bytes (encoded).",
        (
            "JWS_MALFORMED",
            "JSON_MALFORMED",
            "JSON_TOO_DEEP",
            "JSON_DUPLICATE_MEMBER",
            "JWS_HEADER_TOO_LARGE",
        ),
    ),
    401: (
        "The access token is missing or not accepted: get a new one and retry. "
        'Comes with `WWW-Authenticate: DPoP …, Bearer …`, with `error="invalid_token"` '
        "unless the request carried no token at all (`TOKEN_MISSING`: no error code, "
        "RFC 6750 §3.1); a DPoP proof that is missing, "
        "does not match the request (`htm`, `htu`, `ath`), is stale, replayed, or signed by "
        "another key than the token's `cnf.jkt` is `DPOP_PROOF_INVALID` with `DPoP "
        'error="invalid_dpop_proof"`; a DPoP-bound token sent as `Bearer` is `TOKEN_DPOP_BOUND`.',
        (
            "TOKEN_MISSING",
            "TOKEN_MALFORMED",
            "TOKEN_TYPE_INVALID",
            "TOKEN_ALG_NOT_ALLOWED",
            "TOKEN_SIGNATURE_INVALID",
            "TOKEN_CLAIM_MISSING",
            "TOKEN_CLAIM_INVALID",
            "TOKEN_ISSUER_INVALID",
            "TOKEN_AUDIENCE_INVALID",
            "TOKEN_EXPIRED",
            "TOKEN_NOT_YET_VALID",
            "TOKEN_DPOP_BOUND",
            "DPOP_PROOF_INVALID",
        ),
    ),
    403: (
        "The message is refused, do not retry it as it is: its signature does not verify "
        "with the sender's published keys, the sender is not a registered counterpart or "
        "not the agency the token was issued to, the token lacks the type's scope "
        '(`SCOPE_MISSING`, with `WWW-Authenticate: Bearer error="insufficient_scope"`), the '
        "sending agency's kind may not send the type (`x-sender-kinds`), or the sender is "
        "not the party to the case that may take this step. "
        "Once the cause is fixed (the scope granted, the keys registered), the same bytes "
        "may be sent again: a node records only the messages it accepted, so a refused "
        "message id is not a replay.",
        (
            "SIGNATURE_INVALID",
            "UNKNOWN_SENDER",
            "SCOPE_MISSING",
            "SENDER_KIND_NOT_ALLOWED",
            "ACK_FROM_NON_RECIPIENT",
            "ALERT_ACTION_SENDER_ONLY",
            "ALERT_AUDIENCE_MISMATCH",
            "AMENDMENT_FROM_NON_ISSUER",
            "CHECKPOINT_MISMATCH",
            "HANDLING_RESTRICTION_NOT_ALLOWED",
            "NON_COMPLIANCE_FROM_WRONG_AGENCY",
            "RECOGNITION_FROM_WRONG_AGENCY",
            "VERIFICATION_REPLY_FROM_NON_ISSUER",
            "LANE_FROM_WRONG_AGENCY",
            "LANE_SIGNATURE_MISMATCH",
        ),
    ),
    404: (
        "The message refers to a case, a certificate, a consignment, an alert, a deadline or "
        "a gate this node does not hold, or names an agency it does not know; or there is "
        "no such path.",
        (
            "CASE_UNKNOWN",
            "AGENCY_UNKNOWN",
            "ALERT_UNKNOWN",
            "CERTIFICATE_UNKNOWN",
            "CONSIGNMENT_UNKNOWN",
            "DEADLINE_UNKNOWN",
            "GATE_UNKNOWN",
            "LANE_CASE_UNKNOWN",
            "NON_COMPLIANCE_UNKNOWN",
            "QUARANTINE_RESULT_UNKNOWN",
            "NOT_FOUND",
        ),
    ),
    405: (
        "The path does not take this method; `Allow` lists the methods it takes.",
        ("METHOD_NOT_ALLOWED",),
    ),
    409: (
        "The message contradicts what the node already holds: a message_id reused for "
        "other bytes, a case id, a case or certificate number already taken, or a step the "
        "case's state no longer allows (decided, revoked, closed, withdrawn, acknowledged).",
        (
            "MESSAGE_ID_REUSED",
            "CASE_ALREADY_EXISTS",
            "CERTIFICATE_ALREADY_SHARED",
            "CERTIFICATE_NUMBER_REUSED",
            "ALERT_CASE_REUSED",
            "ALERT_CLOSED",
            "ALERT_TRANSITION_ILLEGAL",
            "ALERT_WITHDRAWN",
            "CERTIFICATE_ALREADY_DECIDED",
            "CERTIFICATE_ALREADY_REVOKED",
            "CERTIFICATE_REVOKED",
            "DEADLINE_CLOSED",
            "DEADLINE_EXISTS",
            "NON_COMPLIANCE_ALREADY_ACKNOWLEDGED",
            "NON_COMPLIANCE_ALREADY_NOTIFIED",
            "QUARANTINE_RESULT_UNKNOWN",
            "RECOGNITION_ALREADY_DECIDED",
            "VERIFICATION_ALREADY_OPEN",
            "VERIFICATION_CLOSED",
            "VERIFICATION_UNKNOWN",
            "LANE_ALREADY_ARRIVED",
            "LANE_ALREADY_DECIDED",
            "LANE_ALREADY_SIGNED",
            "LANE_CASE_CLOSED",
            "LANE_INSPECTION_ALREADY_RECORDED",
            "LANE_NO_INSPECTION",
            "LANE_NO_RECORD",
            "LANE_NOT_ARRIVED",
            "LANE_RECORD_MISMATCH",
            "LANE_RECORD_OF_ANOTHER_CASE",
        ),
    ),
    413: ("The body is larger than the node accepts.", ("BODY_TOO_LARGE",)),
    422: (
        "The message breaks the schema (each problem in `details`) or a business rule.",
        (
            "SCHEMA_INVALID",
            "WRONG_RECIPIENT",
            "FORM_E_INVALID",
            "CERTIFICATE_ISSUER_MISMATCH",
            "DECISION_FROM_WRONG_AGENCY",
            "DECISION_CERTIFICATE_MISMATCH",
            "AMENDMENT_NUMBER_MISMATCH",
            "AMENDMENT_VERSION_OUT_OF_ORDER",
            "CERTIFICATE_COUNTRY_MISMATCH",
            "CHECKPOINT_CONFLICT",
            "CHECKPOINT_MALFORMED",
            "DEADLINE_COUNTRY_MISMATCH",
            "QUARANTINE_GATE_NOT_EXIT",
            "QUARANTINE_HS_CODE_UNKNOWN",
            "LANE_GATE_NOT_ENTRY",
            "LANE_HS_CODE_UNKNOWN",
            "LANE_LINES_NOT_ON_CERTIFICATE",
            "RECOGNITION_OF_FAILED_RESULT",
        ),
    ),
    429: (
        "The client sent more than the node takes from it: wait the seconds `Retry-After` "
        "says, then send the same bytes again. Nothing was recorded.",
        ("RATE_LIMITED",),
    ),
    500: (
        "The node failed and did not take the message. Send the same bytes again later.",
        ("INTERNAL_ERROR",),
    ),
}


# --- JSON Schemas -------------------------------------------------------------------------


def message_models() -> dict[MessageType, type[BaseModel]]:
    """The model of each message type, read from the discriminated union itself."""
    models: tuple[type[BaseModel], ...] = get_args(AnyMessage)
    return {MessageType(model.model_fields[_TAG].default): model for model in models}


def _require(schema: dict[str, Any], name: str) -> None:
    required: list[str] = schema.setdefault("required", [])
    if name not in required:
        required.append(name)


def _require_tags(union: dict[str, Any], definitions: dict[str, Any]) -> None:
    """Mark the discriminator required in every member of ``union``.

    The models give ``type`` a default so code can build a message without
    repeating it, which pydantic renders as optional. But the receiver's
    discriminated union refuses a message without it (``MESSAGE_TYPE_MISSING``):
    the schema must say what the receiver enforces.
    """
    tag = union["discriminator"]["propertyName"]
    for reference in union["discriminator"]["mapping"].values():
        _require(definitions[reference.rsplit("/", 1)[-1]], tag)


def _schema_file(schema: dict[str, Any], **annotations: str) -> dict[str, Any]:
    return {"$schema": _DIALECT, "$comment": _NOTICE, **annotations, **schema}


def message_schema() -> dict[str, Any]:
    """The discriminated union of every message type, self-contained (``$defs``)."""
    schema = _MESSAGE.json_schema(mode=_MODE)
    _require_tags(schema, schema["$defs"])
    return _schema_file(
        schema,
        title="Message",
        description="One message of the crossborder wire contract: the envelope and the "
        "payload of its `type`. Sent as the payload of a JWS (typ `crossborder-message+jws`).",
    )


def _type_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode=_MODE)
    _require(schema, _TAG)
    return _schema_file(schema)


def _schemas() -> dict[str, dict[str, Any]]:
    files = {"schemas/message.schema.json": message_schema()}
    for message_type, model in message_models().items():
        files[f"schemas/{message_type.value}.schema.json"] = _type_schema(model)
    files["schemas/receipt.schema.json"] = _schema_file(Receipt.model_json_schema(mode=_MODE))
    files["schemas/error.schema.json"] = _schema_file(ErrorResponse.model_json_schema(mode=_MODE))
    return files


# --- OpenAPI ------------------------------------------------------------------------------


def _signed(typ: str, payload: str, description: str) -> dict[str, Any]:
    """A JWS compact serialization; its header and payload schemas as annotations."""
    return {
        "type": "string",
        "pattern": _JWS_COMPACT,
        "description": description,
        "x-jws-protected-header": {
            "type": "object",
            "required": ["alg", "kid", "typ"],
            "properties": {
                "alg": {"enum": list(signing.ALLOWED_ALGORITHMS)},
                "kid": {"type": "string", "minLength": 1},
                "typ": {"const": typ},
                "cty": {"const": "json"},
            },
        },
        "x-jws-payload": {"$ref": _COMPONENT.format(model=payload)},
    }


def _components() -> dict[str, Any]:
    inputs: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [("Message", _MODE, _MESSAGE)]
    inputs += [(model.__name__, _MODE, TypeAdapter[Any](model)) for model in _DOCUMENTS]
    references, top = TypeAdapter.json_schemas(inputs, ref_template=_COMPONENT)
    definitions: dict[str, Any] = top["$defs"]
    message = references[("Message", _MODE)]
    _require_tags(message, definitions)
    return {
        **definitions,
        "Message": message,
        "SignedMessage": _signed(
            signing.MESSAGE_TYP,
            "Message",
            "A message, signed by the sending agency with a key of its published JWKS: "
            "JWS compact serialization over the UTF-8 JSON of a `Message`.",
        ),
        "SignedReceipt": _signed(
            signing.RECEIPT_TYP,
            "Receipt",
            "The receiving agency's signed statement that it holds the message. Keep it: "
            "it proves delivery.",
        ),
    }


def _json(schema: str, description: str, **extra: Any) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": _COMPONENT.format(model=schema)}}}
    return {"description": description, "content": content, **extra}


_ERROR_RESPONSE_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "ContentTooLarge",
    422: "UnprocessableContent",
    429: "TooManyRequests",
    500: "InternalError",
}


def _error_responses() -> dict[str, Any]:
    responses = {}
    for status, (meaning, codes) in ERROR_CODES_BY_STATUS.items():
        listed = ", ".join(f"`{code}`" for code in codes)
        extra: dict[str, Any] = {}
        if status in (401, 403):
            extra["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status == 405:
            extra["headers"] = {"Allow": {"schema": {"type": "string"}}}
        if status == 429:
            extra["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[_ERROR_RESPONSE_NAMES[status]] = _json(
            "ErrorResponse", f"{meaning} Codes: {listed}.", **extra
        )
    return responses


def _error_refs(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {"$ref": f"#/components/responses/{_ERROR_RESPONSE_NAMES[status]}"}
        for status in statuses
    }


def _scopes() -> dict[str, str]:
    types: dict[str, list[str]] = {}
    for message_type, scope in SCOPE_FOR_TYPE.items():
        types.setdefault(scope, []).append(f"`{message_type.value}`")
    described = {
        scope: "Send messages of type " + ", ".join(names) for scope, names in types.items()
    }
    for scope in sorted(AUDIENCE_SCOPES):
        described[scope] = (
            f"Also needed to send an alert restricted to the `{scope.split(':', 1)[1]}` audience"
        )
    return described


def _sender_kinds() -> dict[str, str | list[str]]:
    """Which kinds of agency (``agencies.json``) may send each message type."""
    return {
        message_type.value: ANY if kinds is None else sorted(kinds)
        for message_type, kinds in sender_table().items()
    }


def _post_message() -> dict[str, Any]:
    return {
        "operationId": "postMessage",
        "tags": ["messages"],
        "summary": "Deliver one signed message",
        "description": (
            "The receiver checks, in order: body size, access token, the signature against "
            "the sending agency's published keys, the schema, then the business rules. "
            "Delivering the same message (same message_id, same bytes) again returns the "
            "original receipt with `duplicate: true`; the same message_id with other bytes is "
            "`MESSAGE_ID_REUSED`. Business answers come later, as messages of their own "
            "with `in_reply_to`. The token must hold the scope of the message's type, and "
            "the sending agency must be of a kind that `x-sender-kinds` lists for the type "
            "(`any`: every kind), as the receiver's register of agencies has it."
        ),
        "x-sender-kinds": _sender_kinds(),
        # Alternatives: any one message scope lets the call in; the type's own is checked next.
        "security": [{"oauth2": [scope]} for scope in sorted(set(SCOPE_FOR_TYPE.values()))],
        "requestBody": {
            "required": True,
            "content": {
                "application/jose": {"schema": {"$ref": _COMPONENT.format(model="SignedMessage")}}
            },
        },
        "responses": {
            "202": _json("MessageAccepted", "Received (or received before): the signed receipt."),
            **_error_refs(400, 401, 403, 404, 409, 413, 422, 429, 500),
        },
    }


def _token() -> dict[str, Any]:
    return {
        "operationId": "requestToken",
        "tags": ["oauth"],
        "summary": "Obtain an access token (client credentials, private_key_jwt)",
        "security": [],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"$ref": _COMPONENT.format(model="TokenRequest")}
                }
            },
        },
        "responses": {
            "200": _json("TokenResponse", "An access token."),
            "400": _json(
                "OAuthError",
                "The request is malformed or asks for an unknown scope, or its `DPoP` proof "
                "is missing or not valid (`invalid_dpop_proof`).",
            ),
            "401": _json("OAuthError", "The client assertion is not accepted (`invalid_client`)."),
            **_error_refs(429, 500),
        },
    }


def _discovery(operation_id: str, summary: str, schema: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "tags": ["discovery"],
        "summary": summary,
        "security": [],
        "responses": {"200": _json(schema, summary), **_error_refs(500)},
    }


def _this_document() -> dict[str, Any]:
    return {
        "operationId": "openapi",
        "tags": ["discovery"],
        "summary": "This document, as the node serves it",
        "security": [],
        "responses": {
            "200": {
                "description": "The OpenAPI document of the contract the node speaks.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **_error_refs(500),
        },
    }


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the node API."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": _DIALECT,
        "info": {
            "title": "crossborder node API",
            "version": CONTRACT_VERSION,
            "description": (
                "Machine-to-machine exchange between two border agencies' nodes. Every "
                "exchange is one signed message posted to the receiving node; the answer is "
                "a signed receipt. Each node publishes its base URL, its JWKS and its "
                "authorization server metadata to its counterpart. " + _NOTICE
            ),
        },
        "tags": [
            {"name": "messages", "description": "Signed messages between agencies."},
            {"name": "oauth", "description": "The node's own authorization server."},
            {"name": "discovery", "description": "What a counterpart needs to talk to the node."},
        ],
        "paths": {
            "/v1/messages": {"post": _post_message()},
            "/oauth/token": {"post": _token()},
            "/.well-known/oauth-authorization-server": {
                "get": _discovery(
                    "authorizationServerMetadata",
                    "Authorization server metadata (RFC 8414)",
                    "AuthorizationServerMetadata",
                )
            },
            "/.well-known/jwks.json": {
                "get": _discovery("jwks", "The node's public keys (RFC 7517)", "JsonWebKeySet")
            },
            "/v1/health": {"get": _discovery("health", "Liveness", "Health")},
            "/openapi.json": {"get": _this_document()},
        },
        "components": {
            "schemas": _components(),
            "responses": _error_responses(),
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": (
                        "Client credentials. The client authenticates with `private_key_jwt` "
                        "(RFC 7523) only, signing its assertion with a key of the JWKS it "
                        "registered with the node; no client secret exists. Access tokens "
                        "are RFC 9068 JWTs, short-lived: fetch a new one when it expires. "
                        "They are sender-constrained (DPoP, RFC 9449): send a `DPoP` proof "
                        "(`typ` `dpop+jwt`, the public key in `jwk`, `htm`, `htu`, `iat`, a "
                        "fresh `jti`) with the token request, and with every call `Authorization: "
                        "DPoP <token>` and a new proof that also carries `ath`. An operator may "
                        "allow one client bearer tokens instead, while its software cannot do DPoP."
                    ),
                    "flows": {
                        "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": _scopes()}
                    },
                }
            },
        },
    }


# --- Files ----------------------------------------------------------------------------------


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate() -> dict[str, str]:
    """Every generated file: path relative to the repository → content."""
    documents = {**_schemas(), "openapi.json": openapi()}
    files = {f"contracts/{path}": _dump(document) for path, document in documents.items()}
    return {**files, SERVED: files["contracts/openapi.json"]}


def _stale(root: Path, generated: dict[str, str]) -> list[str]:
    found = (
        path.relative_to(root).as_posix()
        for folder in GENERATED_DIRS
        for path in (root / folder).rglob("*")
        if path.is_file()
    )
    return sorted(path for path in found if path not in generated)


def drift(root: Path = REPOSITORY) -> list[str]:
    """Generated files under ``root`` that are missing, differ from the models, or are stale."""
    generated = generate()
    differing = [
        path
        for path, content in generated.items()
        if not (root / path).is_file() or (root / path).read_text("utf-8") != content
    ]
    return sorted(differing + _stale(root, generated))


def write(root: Path = REPOSITORY) -> list[str]:
    """Bring ``root`` up to date with the models; returns the paths changed or removed."""
    changed = drift(root)
    generated = generate()
    for path in changed:
        target = root / path
        if path in generated:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(generated[path], "utf-8")
        else:
            target.unlink()
    return changed


def main(argv: Sequence[str] | None = None, *, root: Path = REPOSITORY) -> int:
    parser = argparse.ArgumentParser(
        prog=REGENERATE, description="Generate contracts/ from the pydantic models."
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the contract has drifted"
    )
    arguments = parser.parse_args(argv)
    if arguments.check:
        drifted = drift(root)
        for path in drifted:
            sys.stderr.write(f"drifted: {path}\n")
        if drifted:
            sys.stderr.write(f"run `{REGENERATE}` and commit the result\n")
        return 1 if drifted else 0
    for path in write(root):
        sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
