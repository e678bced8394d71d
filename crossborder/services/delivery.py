"""Delivering the outbox to counterparts, with retries, and recording the receipts.

A worker *claims* due rows for a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, SQLite's write lock otherwise), sends each outside any transaction,
then records the outcome. The lease names its holder (``replica/run/claim``):
right before each send the worker makes sure the row is still its own and has
time left for the send, renewing the lease when it runs short, so two workers
never post the same message at once. If the worker dies in between, another
takes the row when the lease lapses — or at once, when it was this replica's
previous run (:func:`take_back_earlier_claims`) — and sends the same signed
bytes again; the counterpart answers a repeated message id with its original
receipt, so the effect stays single.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Update, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from crossborder.adapters.db.engine import UNSYNCED
from crossborder.adapters.db.tables import OutboxMessage
from crossborder.adapters.delivery_outcome import DeliveryOutcome
from crossborder.adapters.local_node import wake_delivery
from crossborder.adapters.wire.signing import RECEIPT_TYP, unverified_header, verify
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.delivery import OutboxStatus
from crossborder.domain.errors import CrossborderError
from crossborder.domain.messages import Receipt
from crossborder.services.node import Node

LEASE = timedelta(seconds=60)
#: What one send may take: a few requests (a token, the message, one more after a
#: 401) of at most the counterpart client's 10 s each. A lease with less left is
#: renewed before the send, so it never lapses while the message is on its way.
SEND_ALLOWANCE = timedelta(seconds=30)
#: Retries back off exponentially up to this; a counterpart down for days is still
#: tried every quarter of an hour and gets everything when it returns.
MAX_BACKOFF = timedelta(minutes=15)
#: The oldest message waiting for a counterpart that is down is tried at least this
#: often: the first to get through tells that it is back, and the rest then go at
#: once instead of each waiting out its own backoff.
PROBE_INTERVAL = timedelta(seconds=3)


@dataclass(frozen=True)
class Claim:
    id: int
    message_id: str
    case_id: str
    recipient: str
    signed: bytes
    digest: str
    claimed_by: str
    claimed_until: datetime


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts - 1, 20)), MAX_BACKOFF)


def _lease(which: ColumnElement[bool]) -> Update:
    """Lease up to ``:batch`` pending rows picked by ``which``, and read them back.

    One statement, no ORM objects: the subquery locks the rows (skipping those
    another worker holds), the update leases them, RETURNING hands them over.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            or_(
                OutboxMessage.claimed_until.is_(None),
                OutboxMessage.claimed_until < bindparam("now"),
            ),
            which,
        )
        .order_by(OutboxMessage.id)
        .limit(bindparam("batch"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due))
        .values(claimed_until=bindparam("lease_until"), claimed_by=bindparam("owner"))
        .returning(
            OutboxMessage.id,
            OutboxMessage.message_id,
            OutboxMessage.case_id,
            OutboxMessage.recipient,
            OutboxMessage.signed,
            OutboxMessage.digest,
            OutboxMessage.claimed_by,
            OutboxMessage.claimed_until,
        )
    )


#: Another row of the outbox, written before the one being leased.
_EARLIER = aliased(OutboxMessage, name="earlier")


def _earlier_of_its_case(*which: ColumnElement[bool]) -> ColumnElement[bool]:
    """Whether a pending row of the same case to the same counterpart, written before, is ``which``.

    A counterpart gets a case's messages in the order they were written, whoever
    sends them: the node's loop, a Prefect flow's batch, an officer's command.
    An arrival overtaken by the inspection record that follows it is refused.
    """
    return exists().where(
        _EARLIER.case_id == OutboxMessage.case_id,
        _EARLIER.recipient == OutboxMessage.recipient,
        _EARLIER.status == OutboxStatus.PENDING,
        _EARLIER.id < OutboxMessage.id,
        *which,
    )


# The statements of the per-message path are built once, with bound parameters:
# building one and its cache key costs SQLAlchemy more than running it.
_LEASE_DUE = _lease(
    (OutboxMessage.next_attempt_at <= bindparam("now"))
    # Counterparts a sender of this process is busy with wait for it to finish.
    & OutboxMessage.recipient.not_in(bindparam("busy", expanding=True))
    # A row waits while an earlier one of its case is held by another sender or
    # waits out its backoff. One that is due and free is leased with it, and goes
    # first: a batch sends each case's rows in order.
    & ~_earlier_of_its_case(
        or_(_EARLIER.next_attempt_at > bindparam("now"), _EARLIER.claimed_until >= bindparam("now"))
    )
)
# Asked for by itself, a row goes only when nothing of its case is before it.
_LEASE_ONE = _lease((OutboxMessage.message_id == bindparam("wanted")) & ~_earlier_of_its_case())
#: A lock of the transaction, by a number this node's database gives no other use.
_CLAIMS_TAKE_TURNS = select(func.pg_advisory_xact_lock(0x6F7574626F78))  # "outbox"
_RECORD = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("outbox_id"), OutboxMessage.status == OutboxStatus.PENDING)
    # The outcome's own columns come as parameters of the execution.
    .values(attempts=OutboxMessage.attempts + 1, claimed_until=None, claimed_by=None)
    .returning(OutboxMessage.attempts, OutboxMessage.case_id, OutboxMessage.status)
)
_FAIL = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("outbox_id"))
    .values(status=OutboxStatus.FAILED)
)
#: A counterpart's deferred messages, made due now.
_RESUME = (
    update(OutboxMessage)
    .where(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at > bindparam("now"),
        OutboxMessage.recipient == bindparam("counterpart"),
    )
    .values(next_attempt_at=bindparam("now"))
)
_OLDEST_PENDING = select(func.min(OutboxMessage.id)).where(
    OutboxMessage.status == OutboxStatus.PENDING,
    OutboxMessage.recipient == bindparam("counterpart"),
)
#: Gives back leases untried: the rows are due again at once, their attempts unchanged.
_RELEASE = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id.in_(bindparam("outbox_ids", expanding=True)),
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.claimed_by == bindparam("owner"),
    )
    .values(claimed_until=None, claimed_by=None)
)
#: Renews a lease only its holder still holds: another worker that took the row
#: over after a lapse (or recorded it) makes this match nothing.
_RENEW = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id == bindparam("outbox_id"),
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.claimed_by == bindparam("owner"),
    )
    .values(claimed_until=bindparam("lease_until"))
    .returning(OutboxMessage.id)
)


def claim_due(
    node: Node, limit: int, message_id: str | None = None, *, skip: Collection[str] = ()
) -> list[Claim]:
    """Lease what is due (or one given message), leaving the counterparts in ``skip`` alone."""
    now = node.now()
    # The claim's own name within the run: two threads of one process never share a lease.
    owner = f"{node.run}/{secrets.token_hex(4)}"
    params = {"now": now, "batch": limit, "lease_until": now + LEASE, "owner": owner}
    with node.transaction() as session:
        # A lease lost in a power cut is taken again, and the same bytes sent again.
        connection = session.connection(execution_options={UNSYNCED: True})
        if connection.dialect.name == "postgresql":
            # Claims take turns (SQLite's write lock does this there): a case's row
            # locked by a claim not yet committed would look free to this one, and
            # leave the row after it to a second sender.
            connection.execute(_CLAIMS_TAKE_TURNS)
        if message_id is None:
            rows = connection.execute(_LEASE_DUE, {**params, "busy": list(skip)}).all()
        else:
            rows = connection.execute(_LEASE_ONE, {**params, "wanted": message_id}).all()
    # RETURNING promises no order; deliver oldest first, as the queue is ordered.
    return sorted((Claim(**row._mapping) for row in rows), key=lambda claim: claim.id)


def still_held(node: Node, claim: Claim) -> bool:
    """Whether ``claim`` is still ours, with time left for one send (renewed if short).

    Checked right before each send: the rows of a batch wait their turn, and a
    slow counterpart may let a later row's lease run out, another worker take
    it over — and this one must then leave it alone.
    """
    now = node.now()
    if claim.claimed_until - now >= SEND_ALLOWANCE:
        return True
    params = {"outbox_id": claim.id, "owner": claim.claimed_by, "lease_until": now + LEASE}
    with node.transaction() as session:
        return session.connection().execute(_RENEW, params).first() is not None


def take_back_earlier_claims(node: Node) -> int:
    """Free the rows a previous run of this replica had claimed; how many.

    A node that crashed or was killed while sending leaves its leases behind;
    they would hold those messages for up to :data:`LEASE`. Only this replica's
    own are freed: another replica on the same database may be sending its own.
    """
    own = OutboxMessage.claimed_by.startswith(f"{node.settings.replica_name}/", autoescape=True)
    this_run = OutboxMessage.claimed_by.startswith(f"{node.run}/", autoescape=True)
    with node.transaction() as session:
        freed = session.connection().execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING, own, ~this_run)
            .values(claimed_until=None, claimed_by=None)
            .returning(OutboxMessage.id)
        )
        return len(freed.all())


def _check_receipt(node: Node, claim: Claim, receipt: bytes) -> DeliveryOutcome | None:
    """``None`` for a good receipt; else how the attempt ended."""
    kid = unverified_header(receipt).get("kid")
    # By the receipt's kid: the counterpart may have rotated its key since we last looked.
    keys = node.counterparts.keys_for(claim.recipient, kid)
    try:
        payload = verify(receipt, keys, RECEIPT_TYP, max_bytes=node.settings.max_body_bytes)
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
    except CrossborderError as error:
        failed = f"RECEIPT_INVALID:{error.code}"
        # Our own side's failure: its code and parameters, told in the reader's words.
        answer = {"code": error.code, "params": error.params}
        if kid in {key.kid for key in keys.keys}:
            return DeliveryOutcome("final", error=failed, answer=answer)
        # A key we do not hold even after looking again (its JWKS down, or looked at
        # a moment ago): sent again, the message brings the same receipt back, by
        # when we may have the key.
        return DeliveryOutcome("retry", error=failed, answer=answer, limited=True)
    return None


def record_delivery(
    session: Session, event: str, node: Node, claim: Claim, case_id: str | None, **params: Any
) -> None:
    """One delivery step on the audit trail: the message, to whom, on the node's clock."""
    record(
        session,
        event,
        actor=Actor.system(node.agency),
        occurred_at=node.now(),
        source_tz=node.timezone,
        case_id=case_id,
        message_id=claim.message_id,
        message_digest=claim.digest,
        recipient=claim.recipient,
        **params,
    )


def record_outcome(node: Node, claim: Claim, outcome: DeliveryOutcome) -> OutboxStatus | None:
    """Store what happened to one delivery attempt; returns the row's new status."""
    return record_outcomes(node, [(claim, outcome)])[claim.message_id]


def record_outcomes(
    node: Node, attempts: Sequence[tuple[Claim, DeliveryOutcome]]
) -> dict[str, OutboxStatus | None]:
    """Store what happened to several attempts in one transaction: message id → new status.

    Receipts are checked first, outside it (checking may fetch the counterpart's
    keys). Until the commit a delivered message is still pending here: after a
    crash it is sent again, and the counterpart answers with the receipt it gave
    the first time, so its effect there stays single.
    """
    checked = [
        (claim, _checked(node, claim, outcome) if outcome.kind == "delivered" else outcome)
        for claim, outcome in attempts
    ]
    with node.transaction() as session:
        return {
            claim.message_id: _record_in(session, node, claim, outcome)
            for claim, outcome in checked
        }


def _checked(node: Node, claim: Claim, outcome: DeliveryOutcome) -> DeliveryOutcome:
    if outcome.receipt is None:
        return outcome
    return _check_receipt(node, claim, outcome.receipt) or outcome


def _record_in(
    session: Session, node: Node, claim: Claim, outcome: DeliveryOutcome
) -> OutboxStatus | None:
    now = node.now()
    if outcome.kind == "delivered":
        changes: dict[str, Any] = {
            "status": OutboxStatus.DELIVERED,
            "receipt": outcome.receipt,
            "delivered_at": now,
            "last_error": None,
            "last_answer": None,
        }
    else:
        changes = {"last_error": outcome.error[:200], "last_answer": outcome.answer}
        if outcome.kind == "final":
            changes["status"] = OutboxStatus.FAILED
    connection = session.connection()
    # Only a row still pending is ours to record: a lease that lapsed while we
    # waited may have let another worker record it first.
    row = connection.execute(_RECORD, {"outbox_id": claim.id, **changes}).one_or_none()
    if row is None:
        return connection.scalar(select(OutboxMessage.status).where(OutboxMessage.id == claim.id))
    attempts, case_id, status = row
    if (
        outcome.kind == "retry"
        and outcome.limited
        and attempts >= node.settings.delivery_max_attempts
    ):
        # Refused as often as we may try: a person must look at it now.
        status = OutboxStatus.FAILED
        connection.execute(_FAIL, {"outbox_id": claim.id})
        outcome = replace(outcome, kind="final")
    if outcome.kind == "delivered":
        record_delivery(session, "message.delivered", node, claim, case_id, attempts=attempts)
        # It answers again: what waits for it goes now, not when each backoff ends.
        connection.execute(_RESUME, {"counterpart": claim.recipient, "now": now})
    elif outcome.kind == "retry":
        delay = backoff(attempts)
        if not outcome.limited and claim.id == connection.scalar(
            _OLDEST_PENDING, {"counterpart": claim.recipient}
        ):
            delay = min(delay, PROBE_INTERVAL)
        connection.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claim.id)
            .values(next_attempt_at=now + delay)
        )
        # Only the first failure is audited: the trail says the counterpart was
        # unreachable, not how many times we knocked.
        if attempts == 1:
            record_delivery(
                session,
                "message.delivery_deferred",
                node,
                claim,
                case_id,
                error=outcome.error,
            )
    else:
        record_delivery(
            session, "message.delivery_failed", node, claim, case_id, error=outcome.error
        )
    return OutboxStatus(status)


def release(node: Node, claims: Sequence[Claim]) -> None:
    """Give back the leases of ``claims`` that are still ours, without an attempt."""
    by_owner: dict[str, list[int]] = {}
    for claim in claims:
        by_owner.setdefault(claim.claimed_by, []).append(claim.id)
    with node.transaction() as session:
        for owner, ids in by_owner.items():
            session.connection().execute(_RELEASE, {"outbox_ids": ids, "owner": owner})


def deliver_claims(node: Node, claims: Sequence[Claim]) -> dict[str, OutboxStatus | None]:
    """Send claimed rows; returns message id → new status of those tried.

    Each case's rows go in order, one after the other, so a counterpart gets a
    case's messages in the order they were written; different cases' rows go
    side by side, up to ``delivery_concurrency`` at once, so neither node sits
    idle waiting for the other's answer.

    A counterpart that does not answer at all (refused, reset, timed out: up to
    the client's 10 s a request) is not tried again in this batch: its other
    rows are given back untried, for the next pass, so a counterpart that drops
    packets costs one time-out a pass, not one a message, and holds up nobody's
    messages behind it. They keep their own attempts and backoff: one message
    that times out cannot hold the others of its counterpart back for long.
    The batch's outcomes are recorded together at its end, one commit for all.
    """
    unreachable: set[str] = set()

    def send(chain: Sequence[Claim]) -> tuple[list[tuple[Claim, DeliveryOutcome]], list[Claim]]:
        attempts, untried = [], []
        for claim in chain:
            if claim.recipient in unreachable:
                untried.append(claim)
                continue
            if not still_held(node, claim):
                continue
            outcome = node.counterparts.deliver(claim.recipient, claim.signed)
            attempts.append((claim, outcome))
            if outcome.unreachable:
                unreachable.add(claim.recipient)
        return attempts, untried

    by_case: dict[str, list[Claim]] = {}
    for claim in claims:
        by_case.setdefault(claim.case_id, []).append(claim)
    width = min(node.settings.delivery_concurrency, len(by_case))
    if width <= 1:
        sent = [send(claims)]
    else:
        with ThreadPoolExecutor(width, thread_name_prefix="delivery") as pool:
            sent = list(pool.map(send, by_case.values()))
    attempts = [attempt for done, _ in sent for attempt in done]
    if untried := [claim for _, given_back in sent for claim in given_back]:
        release(node, untried)
    return record_outcomes(node, attempts) if attempts else {}


def deliver_due(
    node: Node, limit: int = 50, message_id: str | None = None
) -> dict[str, OutboxStatus | None]:
    """Send what is due (or one given message); returns message id → new status."""
    return deliver_claims(node, claim_due(node, limit, message_id))


def outbox_status(node: Node, message_id: str) -> OutboxStatus | None:
    with node.sessions() as session:
        return session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.message_id == message_id)
        )


@dataclass(frozen=True)
class Delivery:
    """How far a message got while the person who sent it was waiting."""

    message_id: str
    #: Pending here means queued or deferred: the node's loop goes on.
    status: OutboxStatus
    #: The counterpart's answer when it was not delivered, as the classifier wrote it
    #: (``HTTP_403:SCOPE_INSUFFICIENT``, ``NETWORK:ConnectError``).
    error: str | None


def deliver_now(node: Node, message_id: str, settle_seconds: float = 15.0) -> Delivery:
    """Deliver a message an officer just queued, and say how it went.

    The node running on this host is asked to deliver it: it holds a live
    connection and an access token at the counterpart. With no node running,
    this process tries once itself. Either way a row goes out once — whoever
    claims it sends it — and the answer is how the first attempt ended, waited
    for up to ``settle_seconds`` (the counterpart's own time-out, and some). A
    counterpart that is down leaves the message in the outbox for the loop's
    retries.
    """
    if not wake_delivery(node.settings.host, node.settings.port):
        deliver_due(node, message_id=message_id)
    settle_by = time.monotonic() + settle_seconds
    while True:
        with node.sessions() as session:
            # Untried, or held by a worker's lease (a lapsed one is a crashed worker's).
            waiting = (OutboxMessage.attempts == 0) | (
                OutboxMessage.claimed_until.is_not(None)
                & (OutboxMessage.claimed_until > node.now())
            )
            status, error, in_flight = session.execute(
                select(OutboxMessage.status, OutboxMessage.last_error, waiting).where(
                    OutboxMessage.message_id == message_id
                )
            ).one()
        if status != OutboxStatus.PENDING or not in_flight or time.monotonic() >= settle_by:
            delivered = status == OutboxStatus.DELIVERED
            return Delivery(message_id, status, None if delivered else error)
        time.sleep(0.02)
