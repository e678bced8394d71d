"""Recovering from failed deliveries: what is retried, how long, and how soon after a cure.

A counterpart that is down is never given up on, and the first message that
gets through again takes the others with it; a refusal that may heal by itself
(a 401 even with a fresh token, a receipt by a key we cannot find yet) is tried
``delivery_max_attempts`` times, then left to a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from crossborder.adapters.counterpart import classify
from crossborder.adapters.db.tables import AuditEntry, OutboxMessage
from crossborder.adapters.delivery_outcome import DeliveryOutcome
from crossborder.adapters.oauth.keys import generate_signing_key
from crossborder.adapters.wire.signing import RECEIPT_TYP, sign
from crossborder.domain.messages import CoShareMessage, CoSharePayload, Receipt
from crossborder.services.delivery import PROBE_INTERVAL, claim_due, record_outcome
from crossborder.services.node import Node
from crossborder.services.outbox import enqueue, new_message
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node

DOWN = DeliveryOutcome("retry", error="NETWORK:ConnectError")


@pytest.fixture
def pair(
    tmp_path: Path, clock: Clock, make_db_url: Callable[[str], str]
) -> Iterator[tuple[Node, Node]]:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock, delivery_max_attempts=3)
    vn = make_node("vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock)
    connect(cn, vn, tmp_path)
    yield cn, vn
    cn.close()
    vn.close()


def queue(node: Node, recipient: str, count: int = 1) -> list[str]:
    queued = []
    for n in range(count):
        message = new_message(
            node,
            CoShareMessage,
            recipient=recipient,
            case_id=f"CN-NNCUS-20261127-00C0D{n}",
            payload=CoSharePayload(certificate=form_e()),
        )
        with node.transaction() as session:
            queued.append(enqueue(session, node, message).message_id)
    return queued


def attempt(node: Node, outcome: DeliveryOutcome | Callable[[str], DeliveryOutcome]) -> None:
    """One pass over what is due, every attempt ending in ``outcome``."""
    for claim in claim_due(node, 50):
        ended = outcome(claim.message_id) if callable(outcome) else outcome
        record_outcome(node, claim, ended)


def rows(node: Node) -> dict[str, OutboxMessage]:
    with node.sessions() as session:
        return {row.message_id: row for row in session.scalars(select(OutboxMessage))}


def test_a_refusal_that_may_heal_is_tried_a_limited_number_of_times(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    (message_id,) = queue(cn, vn.agency)
    expired = classify(httpx.Response(401, json={"error": {"code": "TOKEN_INVALID"}}))
    for _ in range(2):
        attempt(cn, expired)
        assert rows(cn)[message_id].status == "pending"
        clock.advance(minutes=20)
    attempt(cn, expired)
    assert rows(cn)[message_id].status == "failed"
    with cn.sessions() as session:
        events = session.scalars(
            select(AuditEntry.event).where(AuditEntry.message_id == message_id)
        ).all()
    assert events == ["message.delivery_deferred", "message.delivery_failed"]


def test_a_counterpart_that_is_down_is_never_given_up_on(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    (message_id,) = queue(cn, vn.agency)
    for _ in range(10):
        attempt(cn, DOWN)
        clock.advance(minutes=20)
    assert rows(cn)[message_id].status == "pending"


def test_a_receipt_by_a_key_we_cannot_find_is_retried_a_bad_one_is_final(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    unknown, known = queue(cn, vn.agency, 2)
    stranger = generate_signing_key(f"{vn.agency}-sig-9")  # published nowhere

    def receipt(message_id: str) -> DeliveryOutcome:
        row = rows(cn)[message_id]
        signer = stranger if message_id == unknown else vn.signing_key
        stated = Receipt(
            message_id=message_id,  # type: ignore[arg-type]
            sender=cn.agency,
            receiver=vn.agency,
            # The known key signs a receipt for other bytes: that one will never do.
            digest=row.digest if message_id == unknown else "not-what-we-sent",
            received_at=clock.now,
        )
        return DeliveryOutcome(
            "delivered", receipt=sign(stated.model_dump(mode="json"), signer, RECEIPT_TYP)
        )

    attempt(cn, receipt)
    now = rows(cn)
    assert (now[unknown].status, now[unknown].last_error) == (
        "pending",
        "RECEIPT_INVALID:SIGNATURE_INVALID",
    )
    assert (now[known].status, now[known].last_error) == (
        "failed",
        "RECEIPT_INVALID:RECEIPT_MISMATCH",
    )


def test_the_first_message_through_takes_the_others_with_it(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    oldest, *others = queue(cn, vn.agency, 3)
    # Down for a minute: every message backs off, the oldest no longer than the probe.
    for _ in range(20):
        attempt(cn, DOWN)
        clock.advance(seconds=3)
    waiting = rows(cn)
    assert waiting[oldest].next_attempt_at - clock.now <= PROBE_INTERVAL
    assert all(
        waiting[other].next_attempt_at - clock.now > timedelta(seconds=10) for other in others
    )

    # Back: the oldest gets through, and the others are due at once.
    (claim,) = claim_due(cn, 50)
    assert claim.message_id == oldest
    record_outcome(
        cn, claim, DeliveryOutcome("delivered", receipt=_receipt(cn, vn, claim.message_id, clock))
    )
    assert sorted(claim.message_id for claim in claim_due(cn, 50)) == sorted(others)


def _receipt(cn: Node, vn: Node, message_id: str, clock: Clock) -> bytes:
    stated = Receipt(
        message_id=message_id,  # type: ignore[arg-type]
        sender=cn.agency,
        receiver=vn.agency,
        digest=rows(cn)[message_id].digest,
        received_at=clock.now,
    )
    return sign(stated.model_dump(mode="json"), vn.signing_key, RECEIPT_TYP)
