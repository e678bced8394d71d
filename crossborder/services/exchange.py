"""Recording a step of a bilateral exchange: a message sent, or a message admitted.

Every handler that sends a message puts it in the outbox and says why in the
audit trail, in the same transaction; every handler that admits one says what
it did with it. These two functions are that pairing, so the audit entry always
carries the message's id, digest and case, whatever the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.messages import AnyMessage
from crossborder.services.node import Node
from crossborder.services.outbox import Queued, enqueue


@dataclass(frozen=True)
class Sent:
    """What a step that sent a message tells whoever took it: the case, and the message."""

    case_id: str
    message_id: str


def send(
    session: Session, node: Node, message: AnyMessage, event: str, actor: Actor, **params: Any
) -> Queued:
    """Queue ``message`` and record ``event``, at the moment the message was made."""
    queued = enqueue(session, node, message)
    record(
        session,
        event,
        actor=actor,
        occurred_at=message.created_at,
        source_tz=node.timezone,
        case_id=message.case_id,
        message_id=queued.message_id,
        message_digest=queued.digest,
        **params,
    )
    return queued


def note_received(
    session: Session,
    node: Node,
    message: AnyMessage,
    digest: str,
    event: str,
    actor: Actor,
    **params: Any,
) -> None:
    """Record ``event`` for an admitted message, with the digest of the bytes received."""
    record(
        session,
        event,
        actor=actor,
        occurred_at=node.now(),
        source_tz=node.timezone,
        case_id=message.case_id,
        message_id=str(message.message_id),
        message_digest=digest,
        **params,
    )
