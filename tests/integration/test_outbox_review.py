"""The outbox as an officer reviews it, and sending a refused message again: SQLite and PostgreSQL.

The counterpart is not running here: each delivery attempt's outcome is what
the counterpart adapter makes of a real HTTP answer (``classify``), or a
receipt signed with the counterpart's own key, recorded by the delivery service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crossborder.adapters.counterpart import classify
from crossborder.adapters.db.tables import AuditEntry, InboxMessage, OutboxMessage
from crossborder.adapters.delivery_outcome import DeliveryOutcome
from crossborder.adapters.wire.signing import RECEIPT_TYP, sign
from crossborder.domain.actors import Actor
from crossborder.domain.errors import CrossborderError
from crossborder.domain.messages import CoShareMessage, CoSharePayload, Receipt
from crossborder.services.delivery import claim_due, record_outcome
from crossborder.services.node import Node
from crossborder.services.outbox import enqueue, new_message
from crossborder.services.outbox_review import (
    Answer,
    OutboxState,
    answer_text,
    list_outbox,
    outbox_entry,
    resend,
)
from crossborder.services.registry import remove_counterpart
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node

OFFICER = Actor.officer("li.wei", "CN-NNCUS")
SCOPE_REFUSAL = {
    "json": {
        "error": {
            "code": "SCOPE_MISSING",
            "message": "The access token does not grant the scope “sps:write”.",
            "details": [],
        }
    },
    "headers": {"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="sps:write"'},
}


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    """(CN-NNCUS, VN-CUSKV6): the sender, and the counterpart whose key signs receipts."""
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(cn, vn, tmp_path)
    yield cn, vn
    cn.close()
    vn.close()


def queue(node: Node, recipient: str, number: int) -> str:
    message = new_message(
        node,
        CoShareMessage,
        recipient=recipient,
        case_id=f"CN-NNCUS-20261127-{number:06X}",
        payload=CoSharePayload(certificate=form_e()),
    )
    with node.transaction() as session:
        return enqueue(session, node, message).message_id


def attempt(node: Node, message_id: str, outcome: DeliveryOutcome) -> str:
    (claim,) = claim_due(node, 1, message_id)
    return record_outcome(node, claim, outcome)


def answered(status: int, **body: Any) -> DeliveryOutcome:
    return classify(httpx.Response(status, **body))


def receipted(cn: Node, vn: Node, message_id: str) -> DeliveryOutcome:
    with cn.sessions() as session:
        digest = session.scalar(
            select(OutboxMessage.digest).where(OutboxMessage.message_id == message_id)
        )
    receipt = Receipt.model_validate(
        {
            "message_id": message_id,
            "sender": cn.agency,
            "receiver": vn.agency,
            "digest": digest,
            "received_at": vn.now(),
        }
    )
    return DeliveryOutcome(
        "delivered", receipt=sign(receipt.model_dump(mode="json"), vn.signing_key, RECEIPT_TYP)
    )


def snapshot(node: Node) -> tuple[list[tuple[Any, ...]], int]:
    """Every outbox row as it stands, and the audit trail's length."""
    with node.sessions() as session:
        rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        outbox = [
            (r.status, r.attempts, r.next_attempt_at, r.last_error, r.last_answer) for r in rows
        ]
        entries = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    return outbox, entries


def test_the_outbox_shows_each_state_and_the_counterparts_answer(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    refused, deferred, queued, delivered = (queue(cn, vn.agency, n) for n in range(4))
    assert attempt(cn, refused, answered(403, **SCOPE_REFUSAL)) == "failed"
    assert attempt(cn, deferred, answered(503, json={"error": {"code": "INTERNAL_ERROR"}})) == (
        "pending"
    )
    assert attempt(cn, delivered, receipted(cn, vn, delivered)) == "delivered"

    listed = list_outbox(cn)
    assert [(e.message_id, e.state) for e in listed] == [
        (refused, OutboxState.REFUSED),
        (deferred, OutboxState.DEFERRED),
        (queued, OutboxState.QUEUED),
    ]
    first = listed[0]
    assert first.answer is not None
    assert (first.answer.http_status, first.answer.code) == (403, "SCOPE_MISSING")
    assert first.answer.message is not None and "sps:write" in first.answer.message
    assert first.next_attempt_at is None and first.case_id == "CN-NNCUS-20261127-000000"
    second = listed[1]
    # Deferred for a second, then made due at once when the counterpart took another.
    assert (second.attempts, second.next_attempt_at) == (1, clock.now)
    assert second.answer is not None and second.answer.http_status == 503
    assert listed[2].answer is None and listed[2].attempts == 0

    assert [e.message_id for e in list_outbox(cn, states=[OutboxState.DELIVERED])] == [delivered]
    assert [e.message_id for e in list_outbox(cn, states=[OutboxState.REFUSED])] == [refused]
    assert len(list_outbox(cn, recipient=vn.agency)) == 3
    assert list_outbox(cn, recipient="VN-BGLS") == []
    clock.advance(hours=25)
    assert list_outbox(cn, states=[OutboxState.DELIVERED]) == []


def test_a_refused_message_goes_back_in_the_queue_with_who_asked(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    message_id = queue(cn, vn.agency, 1)
    attempt(cn, message_id, answered(403, **SCOPE_REFUSAL))
    clock.advance(minutes=30)

    resent = resend(cn, message_id, OFFICER)

    assert (resent.message_id, resent.recipient) == (message_id, vn.agency)
    entry = outbox_entry(cn, message_id)
    assert entry is not None
    assert (entry.state, entry.attempts, entry.next_attempt_at) == (
        OutboxState.QUEUED,
        0,
        clock.now,
    )
    assert entry.answer is None
    with cn.sessions() as session:
        audited = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        signed_before = session.scalar(
            select(OutboxMessage.signed).where(OutboxMessage.message_id == message_id)
        )
    assert audited is not None
    assert (audited.event, audited.actor_id, audited.actor_kind) == (
        "message.resend_requested",
        "li.wei",
        "person",
    )
    assert audited.params == {"recipient": vn.agency, "error": "HTTP_403:SCOPE_MISSING"}
    assert (audited.message_id, audited.case_id) == (message_id, resent.case_id)

    # The same signed bytes go out again, and their receipt closes the matter.
    (claim,) = claim_due(cn, 1, message_id)
    assert claim.signed == signed_before
    assert record_outcome(cn, claim, receipted(cn, vn, message_id)) == "delivered"


def _in_the_inbox(cn: Node, vn: Node) -> str:
    """A message this node received from its counterpart (not one it may send)."""
    message_id = "0196a4c2-0000-7000-8000-000000000001"
    with cn.transaction() as session:
        session.add(
            InboxMessage(
                message_id=message_id,
                sender=vn.agency,
                type="co.decision",
                case_id="CN-NNCUS-20261127-000001",
                signed=b"a.b.c",
                digest="d",
                receipt=b"r",
                status="processed",
                received_at=cn.now(),
            )
        )
    return message_id


def _unknown(cn: Node, vn: Node) -> str:
    return "0196a4c2-0000-7000-8000-00000000ffff"


def _delivered(cn: Node, vn: Node) -> str:
    message_id = queue(cn, vn.agency, 2)
    attempt(cn, message_id, receipted(cn, vn, message_id))
    return message_id


def _queued(cn: Node, vn: Node) -> str:
    return queue(cn, vn.agency, 3)


def _deferred(cn: Node, vn: Node) -> str:
    message_id = queue(cn, vn.agency, 4)
    attempt(cn, message_id, DeliveryOutcome("retry", error="NETWORK:ConnectError"))
    return message_id


def _refused_by_a_counterpart_since_removed(cn: Node, vn: Node) -> str:
    message_id = queue(cn, vn.agency, 5)
    attempt(cn, message_id, answered(403, **SCOPE_REFUSAL))
    # Only refused messages to it: removing it is allowed.
    remove_counterpart(cn, vn.agency, OFFICER)
    return message_id


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (_unknown, "MESSAGE_UNKNOWN"),
        (_in_the_inbox, "MESSAGE_NOT_OURS"),
        (_delivered, "MESSAGE_ALREADY_DELIVERED"),
        (_queued, "MESSAGE_NOT_REFUSED"),
        (_deferred, "MESSAGE_NOT_REFUSED"),
        (_refused_by_a_counterpart_since_removed, "UNKNOWN_COUNTERPART"),
    ],
)
def test_resend_refuses_what_it_cannot_send_again_and_changes_nothing(
    pair: tuple[Node, Node], make: Callable[[Node, Node], str], code: str
) -> None:
    cn, vn = pair
    message_id = make(cn, vn)
    before = snapshot(cn)

    with pytest.raises(CrossborderError) as refused:
        resend(cn, message_id, OFFICER)

    assert refused.value.code == code
    assert snapshot(cn) == before


def test_resend_twice_puts_the_message_in_the_queue_once(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    message_id = queue(cn, vn.agency, 1)
    attempt(cn, message_id, answered(403, **SCOPE_REFUSAL))
    resend(cn, message_id, OFFICER)
    with pytest.raises(CrossborderError) as again:
        resend(cn, message_id, OFFICER)
    assert again.value.code == "MESSAGE_NOT_REFUSED"
    assert again.value.params == {"message_id": message_id}


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", "The counterpart did not answer (ConnectError)"),
        ("vi", "Cơ quan đối tác không phản hồi (ConnectError)"),
        ("zh_Hans", "对方机构未应答（ConnectError）"),
    ],
)
def test_a_counterpart_that_did_not_answer_is_told_in_the_readers_words(
    locale: str, words: str
) -> None:
    told = answer_text(Answer(code="NETWORK:ConnectError"), locale)
    assert told.splitlines()[0] == "NETWORK:ConnectError"
    assert told.splitlines()[1].startswith(words)
