"""The inbox dispatcher: what a node does, after the receipt, with what it received.

Admission (in the receipt's transaction) already recorded the message's state
change; what is left here are the reactions that may send something back, such
as the automatic acceptance of a valid certificate. Each inbox row with a
reaction is handled in its own transaction together with it, so a crash between
two rows loses nothing and repeats nothing. A row of a type that has none is
stored processed at admission and never comes here (one left received by an
earlier version is only marked processed).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from crossborder.adapters.db.tables import InboxMessage
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.delivery import InboxStatus
from crossborder.domain.errors import CrossborderError
from crossborder.domain.messages import MessageType
from crossborder.services.node import Node

#: A received row, locked, unless another worker holds it. Built once, as is the
#: plain UPDATE that marks it handled (not the unit of work's flush of the loaded row).
_TAKE = (
    select(InboxMessage)
    .where(InboxMessage.id == bindparam("inbox_id"), InboxMessage.status == InboxStatus.RECEIVED)
    .with_for_update(skip_locked=True)
)
_MARK = update(InboxMessage).where(InboxMessage.id == bindparam("inbox_id"))


def pending(node: Node, limit: int) -> list[int]:
    """The oldest received rows still to handle."""
    with node.sessions() as session:
        return list(
            session.scalars(
                select(InboxMessage.id)
                .where(InboxMessage.status == InboxStatus.RECEIVED)
                .order_by(InboxMessage.id)
                .limit(limit)
            )
        )


def process_one(node: Node, inbox_id: int) -> bool:
    """Handle one received message; ``False`` if another worker already did."""
    try:
        with node.transaction() as session:
            row = session.scalars(_TAKE, {"inbox_id": inbox_id}).one_or_none()
            if row is None:
                return False
            react = node.workflows.react.get(MessageType(row.type))
            if react is not None:
                react(session, node, row)
            done = {
                "inbox_id": inbox_id,
                "status": InboxStatus.PROCESSED,
                "processed_at": node.now(),
            }
            session.connection().execute(_MARK, done)
    except CrossborderError as error:
        # The reaction was refused (say an officer decided first): keep the
        # message, mark why, and let a person see it on the case.
        with node.transaction() as session:
            row = session.get(InboxMessage, inbox_id, with_for_update=True)
            if row is None or row.status != InboxStatus.RECEIVED:
                return False
            row.status = InboxStatus.FAILED
            row.error_code = error.code
            row.processed_at = node.now()
            record(
                session,
                "message.processing_failed",
                actor=Actor.system(node.agency),
                occurred_at=node.now(),
                source_tz=node.timezone,
                case_id=row.case_id,
                message_id=row.message_id,
                message_digest=row.digest,
                error=error.code,
            )
    return True


def process_inbox(node: Node, limit: int = 100) -> int:
    return sum(process_one(node, inbox_id) for inbox_id in pending(node, limit))
