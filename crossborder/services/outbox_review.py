"""What an officer sees of the outbox, and sending a refused message again.

Delivery leaves a message in one of four states: *queued* (never tried yet),
*deferred* (the counterpart could not take it; retried by itself, with
backoff), *refused* (the counterpart answered with a final refusal: a person
must look at it) and *delivered* (its receipt recorded). A refused message
keeps the counterpart's answer, so the officer sees why; once the cause is
fixed — most often a scope the counterpart's operator had not granted our
client — :func:`resend` puts the same signed bytes back in the queue.

The same bytes, not a new message: the receiving node counts only admitted
messages as received (``services/inbound.py``), so it admits them once, and
the case's audit trail on both sides keeps naming one message with one digest.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select

from crossborder.adapters.db.tables import Counterpart, InboxMessage, OutboxMessage
from crossborder.adapters.delivery_outcome import NETWORK
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.delivery import OutboxStatus
from crossborder.domain.errors import Conflict, NotFound
from crossborder.i18n import error_message
from crossborder.services.node import Node


class OutboxState(StrEnum):
    REFUSED = "refused"
    DEFERRED = "deferred"
    QUEUED = "queued"
    DELIVERED = "delivered"


#: What ``outbox list`` shows when asked for nothing in particular: what has not gone out.
UNDELIVERED = (OutboxState.REFUSED, OutboxState.DEFERRED, OutboxState.QUEUED)
#: How far back delivered messages are listed.
RECENTLY = timedelta(hours=24)
LIST_LIMIT = 500


@dataclass(frozen=True)
class AnswerDetail:
    """One rule the counterpart says the message broke."""

    code: str | None
    field: str | None
    message: str | None


@dataclass(frozen=True)
class Answer:
    """Why the last attempt did not deliver the message.

    Either the counterpart's answer (``http_status`` set; ``message`` and
    ``details`` are its own words, shown as it sent them), or the failure of
    our side of the call (no status: a network error, a token refused, with
    ``params`` for our own text of ``code``).
    """

    code: str
    http_status: int | None = None
    message: str | None = None
    details: tuple[AnswerDetail, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxEntry:
    message_id: str
    case_id: str
    recipient: str
    type: str
    state: OutboxState
    attempts: int
    created_at: datetime
    #: When the node tries next (queued and deferred messages only).
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    answer: Answer | None


@dataclass(frozen=True)
class Resent:
    message_id: str
    case_id: str
    recipient: str


def _condition(state: OutboxState, now: datetime) -> ColumnElement[bool]:
    if state is OutboxState.REFUSED:
        return OutboxMessage.status == OutboxStatus.FAILED
    if state is OutboxState.DEFERRED:
        return and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0)
    if state is OutboxState.QUEUED:
        return and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts == 0)
    return and_(
        OutboxMessage.status == OutboxStatus.DELIVERED, OutboxMessage.delivered_at >= now - RECENTLY
    )


def _state(row: OutboxMessage) -> OutboxState:
    if row.status == OutboxStatus.FAILED:
        return OutboxState.REFUSED
    if row.status == OutboxStatus.DELIVERED:
        return OutboxState.DELIVERED
    return OutboxState.DEFERRED if row.attempts else OutboxState.QUEUED


def _answer(row: OutboxMessage) -> Answer | None:
    stored = row.last_answer
    if not isinstance(stored, dict):
        # Rows from before answers were kept, and network errors: the code is all there is.
        return Answer(code=row.last_error) if row.last_error else None
    status = stored.get("status")
    details = stored.get("details")
    params = stored.get("params")
    return Answer(
        code=str(stored.get("code") or row.last_error or "-"),
        http_status=status if isinstance(status, int) else None,
        message=stored.get("message") if isinstance(stored.get("message"), str) else None,
        details=tuple(
            AnswerDetail(
                code=item.get("code"), field=item.get("field"), message=item.get("message")
            )
            for item in (details if isinstance(details, list) else [])
            if isinstance(item, dict)
        ),
        params=params if isinstance(params, dict) else {},
    )


def answer_text(answer: Answer | None, locale: str) -> str:
    """Why the last attempt failed: the counterpart's status, code and own words, as it sent them.

    Our own failures (a network error, a token refused) have no status and are
    told in the reader's language when the code is one of ours.
    """
    if answer is None:
        return ""
    if answer.code.startswith(NETWORK):
        cause = answer.code.removeprefix(NETWORK)
        return f"{answer.code}\n{error_message('COUNTERPART_UNREACHABLE', locale, cause=cause)}"
    if answer.http_status is None:
        ours = error_message(answer.code, locale, **answer.params)
        return answer.code if ours == f"error.{answer.code}" else f"{answer.code}\n{ours}"
    lines = [f"HTTP {answer.http_status} {answer.code}"]
    if answer.message:
        lines.append(answer.message)
    lines += [
        f"- {detail.code or '-'} {detail.field or ''}: {detail.message or ''}"
        for detail in answer.details
    ]
    return "\n".join(lines)


def list_outbox(
    node: Node,
    *,
    states: Collection[OutboxState] = UNDELIVERED,
    recipient: str | None = None,
    limit: int = LIST_LIMIT,
) -> list[OutboxEntry]:
    """Messages in ``states`` (delivered: within the last day), refused first, oldest first."""
    now = node.now()
    wanted = [state for state in OutboxState if state in states]
    if not wanted:
        return []
    query = select(OutboxMessage).where(or_(*(_condition(state, now) for state in wanted)))
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    # In the order of OutboxState: what needs a person first, then what waits.
    rank = case(
        *((_condition(state, now), index) for index, state in enumerate(OutboxState)),
        else_=len(OutboxState),
    )
    with node.sessions() as session:
        rows = session.scalars(query.order_by(rank, OutboxMessage.id).limit(limit)).all()
    return [_entry(row) for row in rows]


def outbox_entry(node: Node, message_id: str) -> OutboxEntry | None:
    """One message of the outbox, whatever its state."""
    with node.sessions() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id)
        ).one_or_none()
    return None if row is None else _entry(row)


def _entry(row: OutboxMessage) -> OutboxEntry:
    return OutboxEntry(
        message_id=row.message_id,
        case_id=row.case_id,
        recipient=row.recipient,
        type=row.type,
        state=_state(row),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if row.status == OutboxStatus.PENDING else None,
        delivered_at=row.delivered_at,
        answer=_answer(row),
    )


def resend(node: Node, message_id: str, actor: Actor) -> Resent:
    """Put a message the counterpart refused back in the queue, due now, and say who did.

    Refused, changing nothing, for a message this node does not hold
    (``MESSAGE_UNKNOWN``), one it received rather than sent (``MESSAGE_NOT_OURS``),
    one already delivered or still in the queue, and one to an agency no longer
    registered (it could only wait for ever).
    """
    now = node.now()
    with node.transaction() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id).with_for_update()
        ).one_or_none()
        if row is None:
            sender = session.scalar(
                select(InboxMessage.sender).where(InboxMessage.message_id == message_id)
            )
            if sender is not None:
                raise Conflict("MESSAGE_NOT_OURS", message_id=message_id, sender=sender)
            raise NotFound("MESSAGE_UNKNOWN", message_id=message_id)
        if row.status == OutboxStatus.DELIVERED:
            raise Conflict(
                "MESSAGE_ALREADY_DELIVERED", message_id=message_id, recipient=row.recipient
            )
        if row.status != OutboxStatus.FAILED:
            raise Conflict("MESSAGE_NOT_REFUSED", message_id=message_id)
        if session.get(Counterpart, row.recipient) is None:
            raise NotFound("UNKNOWN_COUNTERPART", agency=row.recipient)
        refusal = row.last_error or "-"
        row.status = OutboxStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = now
        row.claimed_until = None
        row.last_error = None
        row.last_answer = None
        record(
            session,
            "message.resend_requested",
            actor=actor,
            occurred_at=now,
            source_tz=node.timezone,
            case_id=row.case_id,
            message_id=row.message_id,
            message_digest=row.digest,
            recipient=row.recipient,
            error=refusal,
        )
        return Resent(message_id=row.message_id, case_id=row.case_id, recipient=row.recipient)
