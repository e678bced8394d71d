"""Notifications of non-compliance (ISPM 13) on a consignment, and their acknowledgement.

The importing side tells the exporting side what it found at the border (a
quarantine pest, a residue over its limit, a document that does not match the
goods) and what it did with the consignment (:func:`notify`). The exporting
side must acknowledge the notice (:func:`acknowledge`) within the time of the
deadline rule ``sps.non_compliance_ack``; both sides register that deadline,
and when it passes the watcher marks the notice overdue on each side
(:func:`escalate`) and tells its duty officer.

One notice per consignment: everything found on it goes into that notice.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from crossborder.adapters.db.engine import insert_now
from crossborder.adapters.db.tables import Consignment, NonComplianceNoticeRow
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict, Forbidden, NotFound
from crossborder.domain.free_text import FreeText
from crossborder.domain.messages import (
    MessageType,
    SpsNonComplianceAckMessage,
    SpsNonComplianceMessage,
)
from crossborder.domain.quarantine import (
    ConsignmentStatus,
    NonComplianceAckPayload,
    NonComplianceNotice,
    NonCompliancePayload,
    NonComplianceStatus,
)
from crossborder.services import deadlines
from crossborder.services.exchange import Sent, note_received, send
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import new_message
from crossborder.services.quarantine import consignment_case, find_consignment

ACK_RULE = "sps.non_compliance_ack"


def _notice_of(session: Session, case_id: str) -> NonComplianceNoticeRow | None:
    return session.scalars(
        select(NonComplianceNoticeRow)
        .where(NonComplianceNoticeRow.case_id == case_id)
        .with_for_update()
    ).one_or_none()


def _notice_params(notice: NonComplianceNotice) -> dict[str, object]:
    """The notice as audit parameters: codes, rendered by label in the reader's language."""
    return {
        "certificate_number": notice.certificate_number,
        "reference": notice.reference,
        "findings": [finding.kind.value for finding in notice.findings],
        "actions": [action.value for action in notice.actions],
        "reply": "expected" if notice.reply_expected else "not_expected",
    }


def _record_notice(
    session: Session,
    node: Node,
    consignment: Consignment,
    notice: NonComplianceNotice,
    actor: Actor,
) -> None:
    if _notice_of(session, consignment.case_id) is not None:
        raise Conflict("NON_COMPLIANCE_ALREADY_NOTIFIED", case_id=consignment.case_id)
    now = node.now()
    insert_now(
        session,
        NonComplianceNoticeRow(
            case_id=consignment.case_id,
            reference=notice.reference,
            content=notice.model_dump(mode="json"),
            status=NonComplianceStatus.NOTIFIED,
            notified_at=now,
        ),
    )
    exporter = consignment.exporting_agency
    deadlines.register(
        session,
        node,
        case_id=consignment.case_id,
        rule_key=ACK_RULE,
        starts_at=now,
        acting_country=cast(Literal["CN", "VN"], exporter[:2]),
        acting_agency=exporter,
        subject=notice.reference,
        actor=actor,
    )


def notify(
    node: Node,
    notice: NonComplianceNotice,
    actor: Actor,
    note: FreeText | None = None,
    case_id: str | None = None,
) -> Sent:
    """The importing side notifies the exporting side of non-compliance on a consignment."""
    with node.transaction() as session:
        if case_id is None:
            case, consignment = find_consignment(
                session, node, notice.certificate_number, exporting=False
            )
        else:
            case, consignment = consignment_case(session, case_id)
        if consignment.certificate_number != notice.certificate_number:
            raise NotFound("CONSIGNMENT_UNKNOWN", reference=notice.certificate_number)
        if consignment.importing_agency != node.agency:
            raise Forbidden("NON_COMPLIANCE_BY_EXPORTING_SIDE", case_id=case.id)
        _record_notice(session, node, consignment, notice, actor)
        case.status = ConsignmentStatus.NON_COMPLIANT.value
        case.updated_at = node.now()
        queued = send(
            session,
            node,
            new_message(
                node,
                SpsNonComplianceMessage,
                recipient=case.counterpart,
                case_id=case.id,
                payload=NonCompliancePayload(notice=notice, note=note),
            ),
            "sps.non_compliance_notified",
            actor,
            recipient=case.counterpart,
            note=note.model_dump() if note else None,
            **_notice_params(notice),
        )
    return Sent(case_id=case.id, message_id=queued.message_id)


def admit_notice(
    session: Session, node: Node, message: SpsNonComplianceMessage, digest: str, actor: Actor
) -> None:
    """The exporting side records the notice and the acknowledgement it now owes."""
    case, consignment = consignment_case(session, message.case_id)
    notice = message.payload.notice
    if consignment.exporting_agency != node.agency or case.counterpart != message.sender:
        raise Forbidden("NON_COMPLIANCE_FROM_WRONG_AGENCY", sender=message.sender)
    if consignment.certificate_number != notice.certificate_number:
        raise NotFound("CONSIGNMENT_UNKNOWN", reference=notice.certificate_number)
    _record_notice(session, node, consignment, notice, actor)
    case.status = ConsignmentStatus.NON_COMPLIANT.value
    case.updated_at = node.now()
    note = message.payload.note
    note_received(
        session,
        node,
        message,
        digest,
        "sps.non_compliance_received",
        actor,
        sender=message.sender,
        note=note.model_dump() if note else None,
        **_notice_params(notice),
    )


def _acknowledge(
    session: Session, node: Node, case_id: str, note: FreeText | None, actor: Actor
) -> NonComplianceNoticeRow:
    row = _notice_of(session, case_id)
    if row is None:
        raise NotFound("NON_COMPLIANCE_UNKNOWN", case_id=case_id)
    if row.status == NonComplianceStatus.ACKNOWLEDGED:
        raise Conflict("NON_COMPLIANCE_ALREADY_ACKNOWLEDGED", case_id=case_id)
    now = node.now()
    row.status = NonComplianceStatus.ACKNOWLEDGED
    row.acknowledgement = {"note": note.model_dump() if note else None}
    row.acknowledged_at = now
    deadlines.settle(session, node, case_id=case_id, rule_key=ACK_RULE, actor=actor)
    return row


def acknowledge(node: Node, case_id: str, actor: Actor, note: FreeText | None = None) -> Sent:
    """The exporting side acknowledges a notice (late acknowledgements are still taken)."""
    with node.transaction() as session:
        case, consignment = consignment_case(session, case_id)
        if consignment.exporting_agency != node.agency:
            raise Forbidden("NON_COMPLIANCE_ACK_BY_IMPORTING_SIDE", case_id=case_id)
        row = _acknowledge(session, node, case_id, note, actor)
        case.status = ConsignmentStatus.NON_COMPLIANCE_ACKNOWLEDGED.value
        case.updated_at = node.now()
        queued = send(
            session,
            node,
            new_message(
                node,
                SpsNonComplianceAckMessage,
                recipient=case.counterpart,
                case_id=case_id,
                payload=NonComplianceAckPayload(
                    notice_reference=row.reference,
                    certificate_number=consignment.certificate_number,
                    note=note,
                ),
            ),
            "sps.non_compliance_acknowledged",
            actor,
            certificate_number=consignment.certificate_number,
            reference=row.reference,
            recipient=case.counterpart,
            note=note.model_dump() if note else None,
        )
    return Sent(case_id=case_id, message_id=queued.message_id)


def admit_ack(
    session: Session, node: Node, message: SpsNonComplianceAckMessage, digest: str, actor: Actor
) -> None:
    """The importing side hears that its notice was acknowledged; the deadline is met."""
    case, consignment = consignment_case(session, message.case_id)
    if consignment.importing_agency != node.agency or case.counterpart != message.sender:
        raise Forbidden("NON_COMPLIANCE_FROM_WRONG_AGENCY", sender=message.sender)
    row = _notice_of(session, case.id)
    if row is None or row.reference != message.payload.notice_reference:
        raise NotFound("NON_COMPLIANCE_UNKNOWN", case_id=case.id)
    _acknowledge(session, node, case.id, message.payload.note, actor)
    case.status = ConsignmentStatus.NON_COMPLIANCE_ACKNOWLEDGED.value
    case.updated_at = node.now()
    note = message.payload.note
    note_received(
        session,
        node,
        message,
        digest,
        "sps.counterpart_acknowledged_non_compliance",
        actor,
        certificate_number=consignment.certificate_number,
        reference=row.reference,
        sender=message.sender,
        note=note.model_dump() if note else None,
    )


def escalate(session: Session, node: Node, deadline: deadlines.DeadlineRow) -> None:
    """No acknowledgement in time: mark the notice and the case overdue, on this side."""
    row = _notice_of(session, deadline.case_id)
    if row is None or row.status != NonComplianceStatus.NOTIFIED:
        return
    case, consignment = consignment_case(session, deadline.case_id)
    row.status = NonComplianceStatus.OVERDUE
    case.status = ConsignmentStatus.NON_COMPLIANCE_ACK_OVERDUE.value
    case.updated_at = node.now()
    common: dict[str, Any] = {
        "actor": Actor.system(node.agency),
        "occurred_at": node.now(),
        "source_tz": node.timezone,
        "case_id": case.id,
        "certificate_number": consignment.certificate_number,
        "reference": row.reference,
        "counterpart": case.counterpart,
    }
    if consignment.importing_agency == node.agency:
        record(session, "sps.non_compliance_ack_overdue_importer", **common)
    else:
        record(session, "sps.non_compliance_ack_overdue_exporter", **common)


HANDLERS = WorkflowHandlers(
    admit={
        MessageType.SPS_NON_COMPLIANCE: admit_notice,
        MessageType.SPS_NON_COMPLIANCE_ACK: admit_ack,
    },
    escalate={ACK_RULE: escalate},
)
