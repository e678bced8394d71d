"""Two real nodes on loopback exchange a Form E: on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import AuditEntry, Certificate, InboxMessage, OutboxMessage
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict
from crossborder.domain.messages import CertificateDecision, DecisionReason, FreeText
from crossborder.services import certificate_of_origin
from crossborder.services.cases import case_view
from crossborder.services.delivery import claim_due, deliver_due
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node, serving, wait_for

pytestmark = pytest.mark.e2e

OFFICER_CN = Actor.officer("li.wei", "CN-NNCUS")
OFFICER_VN = Actor.officer("nguyen.van.an", "VN-CUSKV6")


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock, request: pytest.FixtureRequest
) -> Iterator[tuple[Node, Node]]:
    auto_accept = getattr(request, "param", True)
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock, auto_accept_certificates=auto_accept)
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    yield cn, vn
    cn.close()
    vn.close()


def count(node: Node, model: type, *where: object) -> int:
    with node.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def events(node: Node, case_id: str) -> list[str]:
    return [entry.event for entry in case_view(node, case_id).audit]


def test_form_e_is_shared_verified_and_accepted(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    with serving(cn), serving(vn):
        shared = certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER_CN)
        deliver_due(cn)
        wait_for(lambda: case_view(cn, shared.case_id).case.status == "accepted")

    assert case_view(vn, shared.case_id).case.status == "accepted"
    assert events(cn, shared.case_id) == [
        "co.shared",
        "message.delivered",
        "message.received",
        "co.counterpart_accepted",
    ]
    assert events(vn, shared.case_id) == [
        "message.received",
        "co.received",
        "co.accepted",
        "message.delivered",
    ]
    with cn.sessions() as session:
        sent = session.scalars(select(OutboxMessage)).one()
    with vn.sessions() as session:
        received = session.scalars(
            select(InboxMessage).where(InboxMessage.message_id == sent.message_id)
        ).one()
    # The receiver keeps the very bytes the sender signed, and the sender keeps the receipt.
    assert received.signed == sent.signed
    assert sent.receipt is not None and sent.status == "delivered"


def test_the_same_message_twice_has_one_effect_and_the_same_receipt(
    pair: tuple[Node, Node],
) -> None:
    cn, vn = pair
    with serving(vn, run_workers=False):
        shared = certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER_CN)
        with cn.sessions() as session:
            signed = session.scalars(select(OutboxMessage.signed)).one()
        first = cn.counterparts.deliver(vn.agency, signed)
        second = cn.counterparts.deliver(vn.agency, signed)

    assert first.kind == second.kind == "delivered"
    assert first.receipt == second.receipt
    assert count(vn, InboxMessage) == 1
    assert count(vn, Certificate) == 1
    assert events(vn, shared.case_id) == ["message.received", "co.received"]


def test_a_counterpart_that_is_down_gets_the_message_when_it_is_back(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    shared = certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER_CN)

    assert deliver_due(cn) == {shared.message_id: "pending"}
    assert deliver_due(cn) == {}  # backing off: not due yet
    with cn.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert row.attempts == 1 and row.last_error and row.last_error.startswith("NETWORK")

    with serving(vn):
        clock.advance(seconds=2)
        assert deliver_due(cn) == {shared.message_id: "delivered"}
        wait_for(lambda: case_view(vn, shared.case_id).case.status == "accepted")
    assert events(cn, shared.case_id) == [
        "co.shared",
        "message.delivery_deferred",
        "message.delivered",
    ]


def test_a_crash_after_sending_and_before_recording_repeats_nothing(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    with serving(vn, run_workers=False):
        shared = certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER_CN)
        # A worker claims the message and sends it, then dies before recording the outcome.
        (claim,) = claim_due(cn, limit=10)
        assert cn.counterparts.deliver(claim.recipient, claim.signed).kind == "delivered"
        assert deliver_due(cn) == {}  # the dead worker's lease still holds
        clock.advance(seconds=61)
        assert deliver_due(cn) == {shared.message_id: "delivered"}

    assert count(vn, InboxMessage) == 1
    assert count(vn, AuditEntry, AuditEntry.event == "co.received") == 1


@pytest.mark.parametrize("pair", [False], indirect=True)
def test_the_importing_side_queries_with_a_reason_and_the_issuer_sees_it(
    pair: tuple[Node, Node],
) -> None:
    cn, vn = pair
    with serving(cn), serving(vn):
        shared = certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER_CN)
        deliver_due(cn)
        wait_for(lambda: case_view(vn, shared.case_id).case.status == "received")
        note = FreeText(lang="vi", text="Đề nghị cung cấp hóa đơn thương mại gốc.")
        certificate_of_origin.decide(
            vn,
            shared.case_id,
            CertificateDecision.QUERIED,
            OFFICER_VN,
            [DecisionReason.INVOICE_MISMATCH],
            note,
        )
        wait_for(lambda: case_view(cn, shared.case_id).case.status == "queried")

    view = case_view(cn, shared.case_id)
    assert view.certificates[0].decision_reasons == ["INVOICE_MISMATCH"]
    last = view.audit[-1]
    assert last.event == "co.counterpart_queried"
    assert last.params["note"] == {"lang": "vi", "text": "Đề nghị cung cấp hóa đơn thương mại gốc."}


@pytest.mark.parametrize("pair", [False], indirect=True)
def test_the_importing_side_rejects_and_cannot_decide_twice(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    with serving(cn), serving(vn):
        shared = certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER_CN)
        deliver_due(cn)
        wait_for(lambda: case_view(vn, shared.case_id).case.status == "received")
        certificate_of_origin.decide(
            vn,
            shared.case_id,
            CertificateDecision.REJECTED,
            OFFICER_VN,
            [DecisionReason.HS_CODE_MISMATCH],
        )
        with pytest.raises(Conflict) as refused:
            certificate_of_origin.decide(
                vn, shared.case_id, CertificateDecision.ACCEPTED, OFFICER_VN
            )
        assert refused.value.code == "CERTIFICATE_ALREADY_DECIDED"
        wait_for(lambda: case_view(cn, shared.case_id).case.status == "rejected")
