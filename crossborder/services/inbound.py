"""Receiving a message from a counterpart: verify, admit, record, sign a receipt.

Order matters: the access token (checked by the API before we get here) says
*which client* is calling; the client's registration says which agency it
speaks for; that agency's keys must verify the signature; only then is one
byte of the payload believed. A message is admitted — inbox row, the state
change its type makes, audit entry and receipt — in one transaction, or not at
all. Refusals of an authenticated caller are kept in ``rejected_messages`` with
an audit entry, so a counterpart's bad message is never lost without a trace.

Only an admitted message counts as received: its id in ``inbox`` is what makes
a second delivery a duplicate (answered with the first receipt, no second
effect). A refused one leaves its id free, and nothing here judges a message by
its age (``created_at``) or keeps a one-time value of it — so when the cause of
a refusal is fixed (a scope granted, keys registered), the sender sends the
very same signed bytes again and they are admitted once. Re-signing them
would change the digest the sender's audit trail already recorded.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crossborder.adapters.db.clients import Sender
from crossborder.adapters.db.engine import insert_now
from crossborder.adapters.db.replay import remember_proof
from crossborder.adapters.db.tables import InboxMessage, RejectedMessage
from crossborder.adapters.oauth.resource_server import AccessToken
from crossborder.adapters.wire.signing import (
    MESSAGE_TYP,
    RECEIPT_TYP,
    digest,
    sign,
    unverified_header,
    verify,
)
from crossborder.adapters.wire.untrusted_json import parse_untrusted, printable
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.delivery import InboxStatus
from crossborder.domain.errors import (
    Conflict,
    CrossborderError,
    Forbidden,
    InvalidInput,
    Unauthorized,
)
from crossborder.domain.messages import (
    AnyMessage,
    Message,
    Receipt,
    required_scopes,
)
from crossborder.domain.validation import violations_from
from crossborder.reference.senders import check_sender
from crossborder.services.node import Node

_MESSAGE = TypeAdapter[AnyMessage](Message)
#: The first delivery's digest and receipt, read when its message id comes again.
_EARLIER = select(InboxMessage.digest, InboxMessage.receipt).where(
    InboxMessage.message_id == bindparam("message_id")
)
#: How much of its refused bodies one client has had us keep in the last day.
_REFUSED_BYTES = select(func.coalesce(func.sum(func.length(RejectedMessage.body)), 0)).where(
    RejectedMessage.client_id == bindparam("client_id"),
    RejectedMessage.received_at > bindparam("since"),
)
#: What is kept of a refused body once its client has spent its day's budget:
#: enough to see the protected header and where the payload starts.
REFUSED_BODY_PREFIX = 1024


@dataclass(frozen=True)
class Accepted:
    receipt: bytes
    duplicate: bool
    #: The message waits in the inbox for its type's reaction (the dispatcher's work).
    reacts: bool = False


class ProofReused(Unauthorized):
    """The request's DPoP proof was seen before: refused as the token check refuses one."""

    def __init__(self) -> None:
        super().__init__("DPOP_PROOF_INVALID")


def receive(node: Node, body: bytes, token: AccessToken) -> Accepted:
    try:
        return _receive(node, body, token)
    except ProofReused:
        # A replayed request, not a counterpart's bad message: nothing to keep.
        raise
    except CrossborderError as error:
        record_refusal(node, body, token, error)
        raise


def _remember_proof(session: Session, token: AccessToken) -> None:
    """The token's DPoP proof, accepted once: remembered with what the request writes.

    The API leaves it to us (``validate_any(remember_proof=False)``), so that the
    proof's id costs no transaction of its own: every message pays for it.
    """
    if token.proof is not None and not remember_proof(session, token.proof):
        raise ProofReused()


def _sender(node: Node, client_id: str, *, fresh: bool = False) -> Sender:
    sender = node.clients.sender(client_id, fresh=fresh)
    if sender is None:
        raise Forbidden("UNKNOWN_SENDER", client_id=client_id)
    return sender


def _missing_scopes(node: Node, message: AnyMessage, token: AccessToken, sender: Sender) -> str:
    """The scopes ``message`` needs that the caller may not use now ("" when none).

    A token keeps the scopes it was issued with for minutes; the registration
    says what the client may send now, so a scope an operator withdrew is
    refused within a second. One the token holds but our copy of the
    registration lacks may have just been granted: read again before refusing.
    """
    needed = required_scopes(message)
    missing = needed - (token.scopes & sender.scopes)
    if missing and missing <= token.scopes:
        missing = needed - (token.scopes & _sender(node, token.client_id, fresh=True).scopes)
    return " ".join(sorted(missing))


def _verified_payload(node: Node, body: bytes, agency: str) -> bytes:
    # By the message's kid: the counterpart may have rotated its key since we last looked.
    keys = node.counterparts.keys_for(agency, unverified_header(body).get("kid"))
    return verify(body, keys, MESSAGE_TYP, max_bytes=node.settings.max_body_bytes)


def _parse(payload: bytes) -> AnyMessage:
    """Parse strictly, as JSON: no "600" for 600, no timestamps for dates — the schema, exactly.

    The schema's parser lets the last of two same-named members win; I-JSON
    refuses the message instead (``JSON_DUPLICATE_MEMBER``), so the
    sender's reading and ours cannot differ.
    """
    parse_untrusted(payload)
    try:
        return _MESSAGE.validate_json(payload, strict=True)
    except ValidationError as exc:
        if any(detail["type"] == "json_invalid" for detail in exc.errors()):
            raise InvalidInput("JSON_MALFORMED") from exc
        violations = violations_from(exc, tagged_union=True)
        raise InvalidInput("SCHEMA_INVALID", violations=violations) from exc


def _receive(node: Node, body: bytes, token: AccessToken) -> Accepted:
    if len(body) > node.settings.max_body_bytes:
        raise InvalidInput("BODY_TOO_LARGE", limit=node.settings.max_body_bytes)
    sender = _sender(node, token.client_id)
    agency = sender.agency
    message = _parse(_verified_payload(node, body, agency))
    if message.sender != agency:
        raise Forbidden("UNKNOWN_SENDER", sender=message.sender)
    if message.recipient != node.agency:
        raise InvalidInput("WRONG_RECIPIENT", recipient=message.recipient)
    missing = _missing_scopes(node, message, token, sender)
    if missing:
        raise Forbidden("SCOPE_MISSING", scope=missing)
    # The client's registration, not the message, says which agency is speaking.
    check_sender(message.type, agency)

    message_digest = digest(body)
    received_at = node.now()
    receipt = sign(
        Receipt(
            message_id=message.message_id,
            sender=message.sender,
            receiver=node.agency,
            digest=message_digest,
            received_at=received_at,
        ).model_dump(mode="json"),
        node.signing_key,
        RECEIPT_TYP,
    )
    actor = Actor(kind="system", id=token.client_id, agency=agency, role="counterpart")
    # A type with no reaction is done once admitted: its row is stored processed, and
    # the dispatcher need neither find it nor mark it in a transaction of its own.
    reacts = message.type in node.workflows.react
    try:
        with node.transaction() as session:
            _remember_proof(session, token)
            # A repeated delivery is refused by the inbox's unique message id, below:
            # not looked for first, as every message would then pay for the rare repeat.
            insert_now(
                session,
                InboxMessage(
                    message_id=str(message.message_id),
                    sender=message.sender,
                    type=message.type.value,
                    case_id=message.case_id,
                    signed=body,
                    digest=message_digest,
                    receipt=receipt,
                    status=InboxStatus.RECEIVED if reacts else InboxStatus.PROCESSED,
                    received_at=received_at,
                    processed_at=None if reacts else received_at,
                ),
            )
            record(
                session,
                "message.received",
                actor=actor,
                occurred_at=received_at,
                source_tz=node.timezone,
                case_id=message.case_id,
                message_id=str(message.message_id),
                message_digest=message_digest,
                type=message.type.value,
                sender=message.sender,
            )
            node.workflows.admit[message.type](session, node, message, message_digest, actor)
    except IntegrityError:
        # The same message again, or twice at once: the first delivery's receipt is the
        # answer. (The receipt signed above is then not used.)
        earlier = _earlier_delivery(node, message, message_digest)
        if earlier is None:
            raise
        # The admission that failed took the proof's id with it.
        with node.transaction() as session:
            _remember_proof(session, token)
        return earlier
    return Accepted(receipt=receipt, duplicate=False, reacts=reacts)


def _earlier_delivery(node: Node, message: AnyMessage, message_digest: str) -> Accepted | None:
    """The receipt we already gave for this message id, if any: one effect per message."""
    with node.sessions() as session:
        row = session.execute(_EARLIER, {"message_id": str(message.message_id)}).one_or_none()
    if row is None:
        return None
    if row.digest != message_digest:
        raise Conflict("MESSAGE_ID_REUSED", message_id=str(message.message_id))
    return Accepted(receipt=row.receipt, duplicate=True)


def record_refusal(node: Node, body: bytes, token: AccessToken, error: CrossborderError) -> None:
    """Keep an authenticated caller's refused delivery, and say so in the audit trail.

    The body is kept truncated (``refused_body_keep_bytes``), and once the
    client has had ``refused_body_budget_bytes`` kept in a day, only its first
    bytes: a flood of refusals must not fill the disk, but each still has its
    row and its audit entry.
    """
    claimed_id = _claimed_message_id(body)
    now = node.now()
    with node.transaction() as session:
        _remember_proof(session, token)
        kept = body[: _keep_bytes(session, node, token.client_id, now)]
        session.add(
            RejectedMessage(
                client_id=token.client_id,
                claimed_message_id=claimed_id,
                error_code=error.code,
                detail=[{"code": v.code, "field": v.field, **v.params} for v in error.violations],
                body=kept,
                received_at=now,
            )
        )
        record(
            session,
            "message.rejected",
            actor=Actor(kind="system", id=token.client_id, agency="", role="counterpart"),
            occurred_at=now,
            source_tz=node.timezone,
            message_id=claimed_id,
            message_digest=digest(body),
            client_id=token.client_id,
            error=error.code,
            violations=[v.code for v in error.violations],
            body_bytes=len(body),
            body_kept_bytes=len(kept),
        )


def _keep_bytes(session: Session, node: Node, client_id: str, now: datetime) -> int:
    settings = node.settings
    since = now - timedelta(days=1)
    spent = session.scalar(_REFUSED_BYTES, {"client_id": client_id, "since": since})
    if (spent or 0) >= settings.refused_body_budget_bytes:
        return min(REFUSED_BODY_PREFIX, settings.refused_body_keep_bytes)
    return settings.refused_body_keep_bytes


def _claimed_message_id(body: bytes) -> str | None:
    """The message id the body claims, read without trusting it (for the record only)."""
    try:
        encoded = body.split(b".")[1]
        payload = parse_untrusted(base64.urlsafe_b64decode(encoded + b"=" * (-len(encoded) % 4)))
    except (CrossborderError, ValueError, binascii.Error, IndexError):
        return None
    value = payload.get("message_id") if isinstance(payload, dict) else None
    if value is None or isinstance(value, list | dict):
        return None
    return printable(str(value))
