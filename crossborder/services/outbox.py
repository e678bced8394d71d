"""Putting a message in the outbox: sign it now, send it later.

Signing at enqueue time means the bytes in the outbox are exactly the bytes the
counterpart will receive and digest, however many times delivery is retried.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session
from uuid6 import uuid7

from crossborder.adapters.db.tables import OutboxMessage
from crossborder.adapters.wire.signing import MESSAGE_TYP, digest, sign
from crossborder.bootstrap import Node
from crossborder.domain.messages import AnyMessage


def new_message_id() -> uuid.UUID:
    return uuid.UUID(str(uuid7()))


def enqueue(session: Session, node: Node, message: AnyMessage) -> OutboxMessage:
    signed = sign(message.model_dump(mode="json"), node.signing_key, MESSAGE_TYP)
    now = node.now()
    row = OutboxMessage(
        message_id=str(message.message_id),
        case_id=message.case_id,
        recipient=message.recipient,
        type=message.type.value,
        signed=signed,
        digest=digest(signed),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row
