"""Putting a message in the outbox: sign it now, send it later.

Signing at enqueue time means the bytes in the outbox are exactly the bytes the
counterpart will receive and digest, however many times delivery is retried.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from uuid6 import uuid7

from crossborder.adapters.db.engine import insert_now
from crossborder.adapters.db.tables import OutboxMessage
from crossborder.adapters.wire.signing import MESSAGE_TYP, digest, sign
from crossborder.domain.delivery import OutboxStatus
from crossborder.domain.messages import AnyMessage, Envelope
from crossborder.reference.senders import check_sender
from crossborder.services.node import Node


def new_message_id() -> uuid.UUID:
    return uuid.UUID(str(uuid7()))


Outgoing = TypeVar("Outgoing", bound=Envelope)


def new_message(
    node: Node,
    kind: Callable[..., Outgoing],
    *,
    recipient: str,
    case_id: str,
    payload: Any,
    created_at: datetime | None = None,
    in_reply_to: uuid.UUID | None = None,
) -> Outgoing:
    """A message from this node: a fresh UUIDv7, our agency as sender, made now."""
    return kind(
        message_id=new_message_id(),
        sender=node.agency,
        recipient=recipient,
        case_id=case_id,
        in_reply_to=in_reply_to,
        created_at=created_at or node.now(),
        payload=payload,
    )


@dataclass(frozen=True)
class Queued:
    """What the handler that queued a message tells its audit entry."""

    message_id: str
    digest: str


def enqueue(session: Session, node: Node, message: AnyMessage) -> Queued:
    """Sign ``message`` and put it in the outbox, if our agency's kind may send its type.

    Every message this node sends passes here, so this is where a customs node
    is refused a quarantine result (``SENDER_KIND_NOT_ALLOWED``): before the
    outbox row, inside the caller's transaction, which then writes nothing.
    """
    check_sender(message.type, node.agency)
    signed = sign(message.model_dump(mode="json"), node.signing_key, MESSAGE_TYP)
    now = node.now()
    queued = Queued(message_id=str(message.message_id), digest=digest(signed))
    insert_now(
        session,
        OutboxMessage(
            message_id=queued.message_id,
            case_id=message.case_id,
            recipient=message.recipient,
            type=message.type.value,
            signed=signed,
            digest=queued.digest,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        ),
    )
    return queued
