"""The inbox dispatcher: what a node does, after the receipt, with what it received.

Admission (in the receipt's transaction) already recorded the message's state
change; what is left here are the reactions that may send something back, such
as the automatic acceptance of a valid certificate. Each inbox row with a
reaction is handled in its own transaction together with it, so a crash between
two rows loses nothing and repeats nothing; the rows of types that have none
are only marked processed, all of a pass in one transaction.
"""

from __future__ import annotations

from sqlalchemy import select, update

from crossborder.adapters.db.engine import UNSYNCED
from crossborder.adapters.db.tables import InboxMessage
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.delivery import InboxStatus
from crossborder.domain.errors import CrossborderError
from crossborder.domain.messages import MessageType
from crossborder.services.node import Node


def pending(node: Node, limit: int) -> list[tuple[int, str]]:
    """The oldest received rows still to handle: (id, message type)."""
    with node.sessions() as session:
        rows = session.execute(
            select(InboxMessage.id, InboxMessage.type)
            .where(InboxMessage.status == InboxStatus.RECEIVED)
            .order_by(InboxMessage.id)
            .limit(limit)
        )
        return [(inbox_id, kind) for inbox_id, kind in rows]


def mark_processed(node: Node, inbox_ids: list[int]) -> int:
    """Rows that call for no reaction: processed, in one transaction; how many were still due."""
    with node.transaction() as session:
        # Marked again after a power cut: these rows call for nothing else.
        session.connection(execution_options={UNSYNCED: True})
        done = session.scalars(
            update(InboxMessage)
            .where(InboxMessage.id.in_(inbox_ids), InboxMessage.status == InboxStatus.RECEIVED)
            .values(status=InboxStatus.PROCESSED, processed_at=node.now())
            .returning(InboxMessage.id)
        )
        return len(done.all())


def process_one(node: Node, inbox_id: int) -> bool:
    """Handle one received message; ``False`` if another worker already did."""
    try:
        with node.transaction() as session:
            row = session.scalars(
                select(InboxMessage)
                .where(InboxMessage.id == inbox_id, InboxMessage.status == InboxStatus.RECEIVED)
                .with_for_update(skip_locked=True)
            ).one_or_none()
            if row is None:
                return False
            react = node.workflows.react.get(MessageType(row.type))
            if react is not None:
                react(session, node, row)
            row.status = InboxStatus.PROCESSED
            row.processed_at = node.now()
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
    rows = pending(node, limit)
    reacting = [i for i, kind in rows if MessageType(kind) in node.workflows.react]
    quiet = [i for i, kind in rows if MessageType(kind) not in node.workflows.react]
    handled = mark_processed(node, quiet) if quiet else 0
    return handled + sum(process_one(node, inbox_id) for inbox_id in reacting)
