"""What a case holds besides its trail: its documents, and where its workflow stands.

The console shows a consignment's phytosanitary certificate, quarantine result,
recognition decision and notice of non-compliance; a truck's pre-arrival
notice, lane decision, joint inspection record and release; an alert as it now
stands. The facts beside them (which side this node is, what is already done)
are what the console asks to offer only the steps the services would take now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import (
    Alert,
    Case,
    Consignment,
    LaneTruckRow,
    NonComplianceNoticeRow,
    QuarantineResultRow,
)
from crossborder.domain.errors import Conflict, NotFound
from crossborder.domain.workflows import Workflow
from crossborder.services.lane import check_releasable
from crossborder.services.node import Node


@dataclass(frozen=True)
class Document:
    #: ``phytosanitary_certificate``, ``quarantine_result``, ``lane_notice``…
    kind: str
    reference: str
    #: Its own state where it has one (a notice acknowledged, a result's verdict).
    status: str | None
    recorded_at: datetime | None
    content: dict[str, Any]


@dataclass(frozen=True)
class ConsignmentFacts:
    exporting: bool
    result_held: bool
    decided: bool
    #: The notice of non-compliance's status, if one was sent or received.
    notice: str | None


@dataclass(frozen=True)
class TruckFacts:
    importing: bool
    lane: str | None
    arrived: bool
    #: The joint inspection record was written (by either side).
    recorded: bool
    #: This node's officer has signed the record.
    signed_here: bool
    #: Release (not refusal) would be accepted now: the check ``lane.release`` applies.
    releasable: bool
    released: bool


@dataclass(frozen=True)
class CaseDocuments:
    documents: list[Document]
    consignment: ConsignmentFacts | None = None
    truck: TruckFacts | None = None


def case_documents(node: Node, case_id: str) -> CaseDocuments:
    with node.sessions() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("CASE_UNKNOWN", case_id=case_id)
        if case.workflow == Workflow.QUARANTINE:
            return _consignment(session, node, case_id)
        if case.workflow == Workflow.LANE:
            return _truck(session, node, case_id)
        if case.workflow == Workflow.ALERT:
            return _alert(session, case_id)
    return CaseDocuments([])


def _one(session: Session, row: type[Any], case_id: str) -> Any:
    return session.scalars(select(row).where(row.case_id == case_id)).one_or_none()


def _consignment(session: Session, node: Node, case_id: str) -> CaseDocuments:
    consignment: Consignment | None = _one(session, Consignment, case_id)
    result: QuarantineResultRow | None = _one(session, QuarantineResultRow, case_id)
    notice: NonComplianceNoticeRow | None = _one(session, NonComplianceNoticeRow, case_id)
    documents = []
    if consignment is not None and consignment.certificate is not None:
        documents.append(
            Document(
                "phytosanitary_certificate",
                consignment.certificate_number,
                None,
                consignment.recorded_at,
                consignment.certificate,
            )
        )
    if result is not None:
        documents.append(
            Document(
                "quarantine_result",
                result.reference,
                result.verdict,
                result.recorded_at,
                result.content,
            )
        )
        if result.decision is not None:
            documents.append(
                Document(
                    "recognition_decision",
                    result.reference,
                    result.decision.get("outcome"),
                    result.decided_at,
                    result.decision,
                )
            )
    if notice is not None:
        documents.append(
            Document(
                "non_compliance_notice",
                notice.reference,
                notice.status.value,
                notice.notified_at,
                {**notice.content, "acknowledgement": notice.acknowledgement},
            )
        )
    facts = ConsignmentFacts(
        exporting=consignment is not None and consignment.exporting_agency == node.agency,
        result_held=result is not None,
        decided=result is not None and result.decision is not None,
        notice=notice.status.value if notice is not None else None,
    )
    return CaseDocuments(documents, consignment=facts)


def _truck(session: Session, node: Node, case_id: str) -> CaseDocuments:
    truck: LaneTruckRow | None = _one(session, LaneTruckRow, case_id)
    if truck is None:
        return CaseDocuments([])
    documents = [
        Document("lane_notice", truck.notice_reference, None, truck.notified_at, truck.notice)
    ]
    if truck.decision is not None:
        documents.append(
            Document(
                "lane_decision",
                truck.notice_reference,
                truck.lane,
                truck.decided_at,
                truck.decision,
            )
        )
    if truck.inspection is not None:
        record = {
            **truck.inspection,
            "signatures": truck.signatures,
            "added_findings": truck.added_findings,
        }
        documents.append(
            Document(
                "inspection_record",
                truck.record_digest or "",
                truck.inspection.get("result"),
                truck.inspected_at,
                record,
            )
        )
    if truck.release is not None:
        documents.append(
            Document(
                "release_notice", truck.notice_reference, None, truck.released_at, truck.release
            )
        )
    facts = TruckFacts(
        importing=truck.importing_agency == node.agency,
        lane=truck.lane,
        arrived=truck.arrived_at is not None,
        recorded=truck.inspection is not None,
        signed_here=any(s["agency"] == node.agency for s in truck.signatures or []),
        releasable=_releasable(truck, case_id),
        released=truck.released_at is not None,
    )
    return CaseDocuments(documents, truck=facts)


def _releasable(truck: LaneTruckRow, case_id: str) -> bool:
    try:
        check_releasable(truck, case_id)
    except Conflict:
        return False
    return True


def _alert(session: Session, case_id: str) -> CaseDocuments:
    alert = session.get(Alert, case_id)
    if alert is None:
        return CaseDocuments([])
    document = Document("alert", alert.category, alert.status.value, alert.raised_at, alert.content)
    return CaseDocuments([document])
