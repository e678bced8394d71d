"""Delivering the outbox to counterparts, with retries, and recording the receipts.

A worker *claims* a due row for a short lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, SQLite's write lock otherwise), sends it outside any transaction,
then records the outcome. If the worker dies in between, the lease lapses and
another worker sends the same signed bytes again; the counterpart answers a
repeated message id with its original receipt, so the effect stays single.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import or_, select

from crossborder.adapters.counterpart import DeliveryOutcome
from crossborder.adapters.db.tables import OutboxMessage
from crossborder.adapters.wire.signing import RECEIPT_TYP, verify
from crossborder.audit.trail import Actor, record
from crossborder.bootstrap import Node
from crossborder.domain.errors import CrossborderError
from crossborder.domain.messages import Receipt

LEASE = timedelta(seconds=60)
#: Retries back off exponentially up to this; a counterpart down for days is still
#: tried every quarter of an hour and gets everything when it returns.
MAX_BACKOFF = timedelta(minutes=15)


@dataclass(frozen=True)
class Claim:
    id: int
    message_id: str
    recipient: str
    signed: bytes
    digest: str


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts - 1, 20)), MAX_BACKOFF)


def claim_due(node: Node, limit: int, message_id: str | None = None) -> list[Claim]:
    now = node.now()
    with node.transaction() as session:
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if message_id is None:
            query = query.where(OutboxMessage.next_attempt_at <= now)
        else:
            query = query.where(OutboxMessage.message_id == message_id)
        rows = list(session.scalars(query))
        for row in rows:
            row.claimed_until = now + LEASE
        return [Claim(r.id, r.message_id, r.recipient, r.signed, r.digest) for r in rows]


def _check_receipt(node: Node, claim: Claim, receipt: bytes) -> None:
    payload = verify(receipt, node.counterparts.keys(claim.recipient), RECEIPT_TYP)
    try:
        stated = Receipt.model_validate_json(payload, strict=True)
    except ValidationError as exc:
        raise CrossborderError("RECEIPT_MALFORMED") from exc
    if (
        str(stated.message_id) != claim.message_id
        or stated.digest != claim.digest
        or stated.receiver != claim.recipient
    ):
        raise CrossborderError("RECEIPT_MISMATCH")


def record_outcome(node: Node, claim: Claim, outcome: DeliveryOutcome) -> str:
    """Store what happened to one delivery attempt; returns the row's new status."""
    if outcome.kind == "delivered" and outcome.receipt is not None:
        try:
            _check_receipt(node, claim, outcome.receipt)
        except CrossborderError as error:
            outcome = DeliveryOutcome("final", error=f"RECEIPT_INVALID:{error.code}")
    now = node.now()
    with node.transaction() as session:
        row = session.get(OutboxMessage, claim.id, with_for_update=True)
        if row is None or row.status != "pending":
            return row.status if row else "missing"
        row.attempts += 1
        row.claimed_until = None
        common = {
            "actor": Actor.system(node.agency),
            "occurred_at": now,
            "source_tz": node.timezone,
            "case_id": row.case_id,
            "message_id": row.message_id,
            "message_digest": row.digest,
            "recipient": row.recipient,
        }
        if outcome.kind == "delivered":
            row.status = "delivered"
            row.receipt = outcome.receipt
            row.delivered_at = now
            row.last_error = None
            record(session, "message.delivered", attempts=row.attempts, **common)
        elif outcome.kind == "retry":
            # Only the first failure is audited: the trail says the counterpart was
            # unreachable, not how many times we knocked.
            if row.attempts == 1:
                record(session, "message.delivery_deferred", error=outcome.error, **common)
            row.next_attempt_at = now + backoff(row.attempts)
            row.last_error = outcome.error[:200]
        else:
            row.status = "failed"
            row.last_error = outcome.error[:200]
            record(session, "message.delivery_failed", error=outcome.error, **common)
        return row.status


def deliver_due(node: Node, limit: int = 50, message_id: str | None = None) -> dict[str, str]:
    """Send what is due (or one given message); returns message id → new status."""
    results = {}
    for claim in claim_due(node, limit, message_id):
        outcome = node.counterparts.deliver(claim.recipient, claim.signed)
        results[claim.message_id] = record_outcome(node, claim, outcome)
    return results


def outbox_status(node: Node, message_id: str) -> str | None:
    with node.sessions() as session:
        return session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.message_id == message_id)
        )
