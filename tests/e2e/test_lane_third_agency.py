"""A third agency's word on a joint inspection, between three real nodes over HTTP.

A yellow truck's joint inspection is its two sides' alone: Lạng Sơn customs
(VN-CUSKV6), which sent the notice, and Nanning customs (CN-NNCUS), where the
truck enters. Vietnam's plant protection department (VN-PPD) is a registered
counterpart of Nanning too, with every scope, and of a kind of agency that may
send inspection records and countersignatures — but it is no party to this
truck. Its record and its countersignature are refused
(``LANE_FROM_WRONG_AGENCY``); so is a record or countersignature that Lạng Sơn
sends bearing a signature in VN-PPD's name (``LANE_SIGNATURE_MISMATCH``).

Each goes out of its sender's outbox and is delivered by its sender's node,
as every message is. Each refusal is a 403 with its stable code, kept in
Nanning's ``rejected_messages`` with an audit entry, and changes nothing of the
truck, which is then inspected and released as any other. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import (
    AuditEntry,
    InboxMessage,
    OutboxMessage,
    RejectedMessage,
)
from crossborder.adapters.wire.signing import sign
from crossborder.domain.actors import Actor
from crossborder.domain.delivery import OutboxStatus
from crossborder.domain.lane import (
    FindingKind,
    InspectionFinding,
    InspectionResult,
    JointInspectionRecord,
    Lane,
    LaneCountersignPayload,
    LaneInspectionPayload,
    OfficerSignature,
)
from crossborder.domain.messages import AnyMessage, LaneCountersignMessage, LaneInspectionMessage
from crossborder.i18n import error_message
from crossborder.services import lane, lane_inspection
from crossborder.services.cases import case_view
from crossborder.services.delivery import deliver_due, outbox_status
from crossborder.services.lane_inspection import INSPECTION_TYP, record_digest
from crossborder.services.node import Node
from crossborder.services.outbox import enqueue, new_message
from tests.e2e.test_green_lane import (
    OFFICER_CN,
    OFFICER_PPD,
    OFFICER_VN,
    events,
    notified_and_decided,
    status,
    truck,
)
from tests.factories import serving, wait_for

pytestmark = pytest.mark.e2e

FOUND = (InspectionFinding(kind=FindingKind.NONE_FOUND),)


@pytest.fixture
def served(three: tuple[Node, Node, Node]) -> Iterator[tuple[Node, Node, Node]]:
    """The three nodes, each serving. The example notice's truck is yellow at Nanning,
    which holds neither of the certificates it names."""
    vn, ppd, cn = three
    with serving(vn), serving(ppd), serving(cn):
        yield three


def yellow_and_arrived(vn: Node, cn: Node) -> str:
    case_id = notified_and_decided(vn, cn)
    assert truck(cn, case_id).lane == truck(vn, case_id).lane == Lane.YELLOW.value
    lane.arrive(cn, case_id, OFFICER_CN)
    deliver_due(cn)
    wait_for(lambda: status(vn, case_id) == "arrived")
    return case_id


def inspected_by_nanning(vn: Node, cn: Node, case_id: str) -> str:
    """Nanning writes and signs the record; Lạng Sơn holds it. Its digest."""
    lane_inspection.inspect(cn, case_id, FOUND, InspectionResult.PASSED, OFFICER_CN)
    deliver_due(cn)
    wait_for(lambda: truck(vn, case_id).record_digest is not None)
    digest = truck(cn, case_id).record_digest
    assert digest is not None
    return digest


def signature(
    node: Node, officer: Actor, digest: str, case_id: str, agency: str
) -> OfficerSignature:
    """An officer's signature on a record, made as an inspecting node makes it: a JWS by
    ``node``'s key over the record's digest, naming ``agency`` and the officer."""
    claims = {"case_id": case_id, "record_digest": digest, "agency": agency, "officer": officer.id}
    jws = sign(claims, node.signing_key, INSPECTION_TYP).decode()
    return OfficerSignature(agency=agency, officer=officer.id, jws=jws)


def own_record(node: Node, officer: Actor, case_id: str, cn: Node) -> LaneInspectionMessage:
    """A record of the truck's inspection written and signed at ``node``, for Nanning."""
    held = truck(cn, case_id)
    record = JointInspectionRecord(
        case_id=case_id,
        gate=held.gate,
        inspected_at=node.now(),
        lane=Lane.YELLOW,
        findings=FOUND,
        result=InspectionResult.PASSED,
    )
    signed = signature(node, officer, record_digest(record), case_id, node.agency)
    return new_message(
        node,
        LaneInspectionMessage,
        recipient=cn.agency,
        case_id=case_id,
        payload=LaneInspectionPayload(record=record, signature=signed),
    )


def countersignature(
    node: Node, cn: Node, case_id: str, digest: str, signed: OfficerSignature
) -> AnyMessage:
    """``node``'s countersignature, for Nanning, of the record of digest ``digest``."""
    return new_message(
        node,
        LaneCountersignMessage,
        recipient=cn.agency,
        case_id=case_id,
        payload=LaneCountersignPayload(record_digest=digest, signature=signed),
    )


def refused_over_the_wire(sender: Node, message: AnyMessage, code: str, /, **params: Any) -> None:
    """``sender``'s node signs and queues ``message`` and delivers it; the counterpart
    refuses it for good with HTTP 403 and ``code``, and the sender keeps that answer."""
    with sender.transaction() as session:
        queued = enqueue(session, sender, message)
    deliver_due(sender)
    # The node's own delivery loop may have taken the row first.
    wait_for(lambda: outbox_status(sender, queued.message_id) != OutboxStatus.PENDING)
    with sender.sessions() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_id == queued.message_id)
        ).one()
        failed = session.scalars(
            select(AuditEntry.params).where(
                AuditEntry.event == "message.delivery_failed",
                AuditEntry.message_id == queued.message_id,
            )
        ).all()
    assert row.status == OutboxStatus.FAILED
    assert row.last_error == f"HTTP_403:{code}"
    assert row.last_answer is not None
    assert row.last_answer["status"] == 403
    assert row.last_answer["code"] == code
    # No language asked for: the counterpart answers in English, from its catalog.
    assert row.last_answer["message"] == error_message(code, "en", **params)
    assert [entry["error"] for entry in failed] == [f"HTTP_403:{code}"]


def held(node: Node, case_id: str) -> dict[str, Any]:
    """What ``node`` holds of the truck: its case, its record and signatures, its trail."""
    row = truck(node, case_id)
    with node.sessions() as session:
        inbox = session.scalar(
            select(func.count()).select_from(InboxMessage).where(InboxMessage.case_id == case_id)
        )
    columns = (
        "lane",
        "arrived_at",
        "inspection",
        "record_digest",
        "signatures",
        "added_findings",
        "inspected_at",
        "release",
        "released_at",
    )
    return {
        "status": status(node, case_id),
        "updated_at": case_view(node, case_id).case.updated_at,
        **{name: getattr(row, name) for name in columns},
        "inbox": inbox,
        "trail": events(node, case_id),
    }


def refusals(node: Node) -> list[tuple[str, str]]:
    """Each delivery ``node`` refused, as kept: (client, code) of the row and of its audit entry."""
    with node.sessions() as session:
        rows = session.scalars(select(RejectedMessage).order_by(RejectedMessage.id)).all()
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.event == "message.rejected")
            .order_by(AuditEntry.seq)
        ).all()
    kept = [(row.client_id, row.error_code) for row in rows]
    audited = [(str(e.params["client_id"]), str(e.params["error"])) for e in entries]
    assert kept == audited
    return kept


def signing_agencies(node: Node, case_id: str) -> set[str]:
    return {s["agency"] for s in truck(node, case_id).signatures or []}


def released_as_any_other(vn: Node, cn: Node, case_id: str) -> None:
    """Lạng Sơn countersigns Nanning's record and Nanning releases the truck, on both sides."""
    lane_inspection.countersign(vn, case_id, OFFICER_VN)
    deliver_due(vn)
    wait_for(lambda: status(cn, case_id) == "inspected")
    both = {"CN-NNCUS", "VN-CUSKV6"}
    assert signing_agencies(cn, case_id) == signing_agencies(vn, case_id) == both
    assert truck(cn, case_id).record_digest == truck(vn, case_id).record_digest
    lane.release(cn, case_id, OFFICER_CN)
    deliver_due(cn)
    wait_for(lambda: status(vn, case_id) == "released")
    assert status(cn, case_id) == "released"


def test_a_third_agency_may_neither_write_nor_countersign_a_truck_s_record(
    served: tuple[Node, Node, Node],
) -> None:
    vn, ppd, cn = served
    case_id = yellow_and_arrived(vn, cn)
    # Registered at Nanning as a counterpart that may send lane messages.
    registered = cn.clients.sender(ppd.agency)
    assert registered is not None and "lane:write" in registered.scopes

    # VN-PPD sends a record of its own of the truck's inspection, before anyone wrote one.
    before = held(cn, case_id)
    refused_over_the_wire(
        ppd, own_record(ppd, OFFICER_PPD, case_id, cn), "LANE_FROM_WRONG_AGENCY", sender="VN-PPD"
    )
    assert held(cn, case_id) == before
    assert before["status"] == "arrived" and before["record_digest"] is None

    # Nanning writes the record; VN-PPD countersigns it, over the very digest both sides hold.
    digest = inspected_by_nanning(vn, cn, case_id)
    before = held(cn, case_id)
    signed = signature(ppd, OFFICER_PPD, digest, case_id, ppd.agency)
    refused_over_the_wire(
        ppd,
        countersignature(ppd, cn, case_id, digest, signed),
        "LANE_FROM_WRONG_AGENCY",
        sender="VN-PPD",
    )
    assert held(cn, case_id) == before
    assert before["status"] == "arrived"
    assert before["record_digest"] == digest
    assert signing_agencies(cn, case_id) == {"CN-NNCUS"}

    assert refusals(cn) == [("VN-PPD", "LANE_FROM_WRONG_AGENCY")] * 2
    released_as_any_other(vn, cn, case_id)
    assert refusals(cn) == [("VN-PPD", "LANE_FROM_WRONG_AGENCY")] * 2


def test_a_record_or_countersignature_signed_in_a_third_agency_s_name_is_refused(
    served: tuple[Node, Node, Node],
) -> None:
    vn, ppd, cn = served
    case_id = yellow_and_arrived(vn, cn)

    # Lạng Sơn sends a record signed by a VN-PPD officer, with VN-PPD's key.
    before = held(cn, case_id)
    written_at_ppd = own_record(ppd, OFFICER_PPD, case_id, cn)
    relayed = new_message(
        vn,
        LaneInspectionMessage,
        recipient=cn.agency,
        case_id=case_id,
        payload=written_at_ppd.payload,
    )
    refused_over_the_wire(vn, relayed, "LANE_SIGNATURE_MISMATCH", agency="VN-PPD")
    assert held(cn, case_id) == before

    digest = inspected_by_nanning(vn, cn, case_id)
    before = held(cn, case_id)
    # A VN-PPD officer's countersignature, with VN-PPD's key, sent by Lạng Sơn…
    by_ppd = signature(ppd, OFFICER_PPD, digest, case_id, ppd.agency)
    refused_over_the_wire(
        vn,
        countersignature(vn, cn, case_id, digest, by_ppd),
        "LANE_SIGNATURE_MISMATCH",
        agency="VN-PPD",
    )
    # …and one made with Lạng Sơn's own key that names VN-PPD as the signing agency.
    in_ppd_name = signature(vn, OFFICER_PPD, digest, case_id, ppd.agency)
    refused_over_the_wire(
        vn,
        countersignature(vn, cn, case_id, digest, in_ppd_name),
        "LANE_SIGNATURE_MISMATCH",
        agency="VN-PPD",
    )
    assert held(cn, case_id) == before
    assert before["status"] == "arrived" and before["record_digest"] == digest
    assert signing_agencies(cn, case_id) == {"CN-NNCUS"}

    assert refusals(cn) == [("VN-CUSKV6", "LANE_SIGNATURE_MISMATCH")] * 3
    released_as_any_other(vn, cn, case_id)
