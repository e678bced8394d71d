"""Verification requests (retroactive checks) of a certificate of origin, with deadlines.

The importing side asks the issuing authority to verify a certificate it holds;
the issuing side must answer by a deadline set per agreement in data
(``co.verification_reply``). Both sides register the deadline; the deadline
watcher reminds before it and, when it passes, calls :func:`escalate` on each
side: the case is marked overdue on both, the importing side sends a notice to
the issuer, and its officer is told that preferential treatment may be refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import Case, Certificate, Verification
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.certificate_lifecycle import (
    AWAITING_REPLY,
    VerificationStatus,
    check_awaiting_reply,
)
from crossborder.domain.errors import Conflict, Forbidden, NotFound
from crossborder.domain.messages import (
    CoVerificationOverdueMessage,
    CoVerificationOverduePayload,
    CoVerificationReplyMessage,
    CoVerificationReplyPayload,
    CoVerificationRequestMessage,
    CoVerificationRequestPayload,
    MessageType,
)
from crossborder.services import deadlines
from crossborder.services.co_amendment import latest_certificate
from crossborder.services.exchange import note_received, send
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import enqueue, new_message

REPLY_RULE = "co.verification_reply"


def _country(agency: str) -> str:
    """Agency codes start with the country (``CN-…``, ``VN-…``)."""
    return agency[:2]


def _open_verification(session: Session, case_id: str) -> Verification | None:
    return session.scalars(
        select(Verification)
        .where(Verification.case_id == case_id)
        .order_by(Verification.id.desc())
        .with_for_update()
    ).first()


def _refuse_second_request(session: Session, case_id: str) -> None:
    """One open verification per certificate: a second would race the first's deadline."""
    earlier = _open_verification(session, case_id)
    if earlier is not None and earlier.status in AWAITING_REPLY:
        raise Conflict("VERIFICATION_ALREADY_OPEN", case_id=case_id)


def _register_deadline(
    session: Session, node: Node, certificate: Certificate, actor: Actor
) -> None:
    deadlines.register(
        session,
        node,
        case_id=certificate.case_id,
        rule_key=REPLY_RULE,
        starts_at=node.now(),
        acting_country=_country(certificate.issuing_agency),  # type: ignore[arg-type]
        acting_agency=certificate.issuing_agency,
        subject=certificate.number,
        actor=actor,
    )


def request(node: Node, case_id: str, payload: CoVerificationRequestPayload, actor: Actor) -> str:
    """The importing side asks for a retroactive check; returns the message id."""
    with node.transaction() as session:
        case, certificate = latest_certificate(session, case_id)
        if certificate.issuing_agency == node.agency:
            raise Forbidden("VERIFICATION_OF_OWN_CERTIFICATE", case_id=case_id)
        _refuse_second_request(session, case_id)
        payload = payload.model_copy(update={"certificate_number": certificate.number})
        _record_request(session, node, certificate, payload, requested_by=node.agency)
        _register_deadline(session, node, certificate, actor)
        row = send(
            session,
            node,
            new_message(
                node,
                CoVerificationRequestMessage,
                recipient=case.counterpart,
                case_id=case_id,
                payload=payload,
            ),
            "co.verification_requested",
            actor,
            certificate_number=certificate.number,
            verification_reasons=[reason.value for reason in payload.reasons],
            documents=[kind.value for kind in payload.documents_requested],
            note=payload.note.model_dump() if payload.note else None,
        )
        return row.message_id


def _record_request(
    session: Session,
    node: Node,
    certificate: Certificate,
    payload: CoVerificationRequestPayload,
    requested_by: str,
) -> None:
    session.add(
        Verification(
            case_id=certificate.case_id,
            certificate_number=certificate.number,
            requested_by=requested_by,
            reasons=[reason.value for reason in payload.reasons],
            documents_requested=[kind.value for kind in payload.documents_requested],
            request_note=payload.note.model_dump() if payload.note else None,
            status=VerificationStatus.REQUESTED,
            requested_at=node.now(),
        )
    )


def admit_request(
    session: Session, node: Node, message: CoVerificationRequestMessage, digest: str, actor: Actor
) -> None:
    """The issuing side records the request and the deadline it now has to meet."""
    case, certificate = latest_certificate(session, message.case_id)
    if certificate.issuing_agency != node.agency or case.counterpart != message.sender:
        raise NotFound("CERTIFICATE_UNKNOWN", number=message.payload.certificate_number)
    if message.payload.certificate_number != certificate.number:
        raise NotFound("CERTIFICATE_UNKNOWN", number=message.payload.certificate_number)
    _refuse_second_request(session, message.case_id)
    _record_request(session, node, certificate, message.payload, requested_by=message.sender)
    _register_deadline(session, node, certificate, actor)
    note = message.payload.note
    note_received(
        session,
        node,
        message,
        digest,
        "co.verification_request_received",
        actor,
        certificate_number=certificate.number,
        sender=message.sender,
        verification_reasons=[reason.value for reason in message.payload.reasons],
        documents=[kind.value for kind in message.payload.documents_requested],
        note=note.model_dump() if note else None,
    )


def _apply_reply(
    session: Session, node: Node, case_id: str, payload: CoVerificationReplyPayload, actor: Actor
) -> Verification:
    verification = _open_verification(session, case_id)
    check_awaiting_reply(verification.status if verification else None)
    assert verification is not None
    verification.status = VerificationStatus.REPLIED
    verification.result = payload.result.value
    verification.findings = payload.findings.model_dump()
    verification.documents = [document.model_dump() for document in payload.documents]
    verification.replied_at = node.now()
    deadlines.settle(session, node, case_id=case_id, rule_key=REPLY_RULE, actor=actor)
    return verification


def reply(node: Node, case_id: str, payload: CoVerificationReplyPayload, actor: Actor) -> str:
    """The issuing side answers a verification request; returns the message id."""
    with node.transaction() as session:
        case, certificate = latest_certificate(session, case_id)
        if certificate.issuing_agency != node.agency:
            raise Forbidden("VERIFICATION_REPLY_FROM_NON_ISSUER", agency=node.agency)
        payload = payload.model_copy(update={"certificate_number": certificate.number})
        _apply_reply(session, node, case_id, payload, actor)
        row = send(
            session,
            node,
            new_message(
                node,
                CoVerificationReplyMessage,
                recipient=case.counterpart,
                case_id=case_id,
                payload=payload,
            ),
            f"co.verification_{payload.result.value}",
            actor,
            certificate_number=certificate.number,
            note=payload.findings.model_dump(),
        )
        return row.message_id


def admit_reply(
    session: Session, node: Node, message: CoVerificationReplyMessage, digest: str, actor: Actor
) -> None:
    """The importing side receives the issuer's findings; the deadline is met."""
    _, certificate = latest_certificate(session, message.case_id)
    if certificate.issuing_agency != message.sender:
        raise Forbidden("VERIFICATION_REPLY_FROM_NON_ISSUER", agency=message.sender)
    _apply_reply(session, node, message.case_id, message.payload, actor)
    note_received(
        session,
        node,
        message,
        digest,
        f"co.counterpart_verification_{message.payload.result.value}",
        actor,
        certificate_number=certificate.number,
        sender=message.sender,
        note=message.payload.findings.model_dump(),
    )


def escalate(session: Session, node: Node, deadline: deadlines.DeadlineRow) -> None:
    """The reply deadline passed: mark overdue here; the importing side also tells the issuer."""
    verification = _open_verification(session, deadline.case_id)
    # Already overdue is fine: the importer's notice may have arrived before our own watcher ran.
    if verification is None or verification.status not in AWAITING_REPLY:
        return
    verification.status = VerificationStatus.OVERDUE
    case = session.get(Case, deadline.case_id)
    assert case is not None
    common: dict[str, Any] = {
        "actor": Actor.system(node.agency),
        "occurred_at": node.now(),
        "source_tz": node.timezone,
        "case_id": case.id,
        "certificate_number": verification.certificate_number,
        "counterpart": case.counterpart,
    }
    if verification.requested_by == node.agency:
        enqueue(
            session,
            node,
            new_message(
                node,
                CoVerificationOverdueMessage,
                recipient=case.counterpart,
                case_id=case.id,
                payload=CoVerificationOverduePayload(
                    certificate_number=verification.certificate_number, due_at=deadline.due_at
                ),
            ),
        )
        # The importing side's officer decides on preferential treatment now.
        record(session, "co.verification_overdue_importer", **common)

    else:
        record(session, "co.verification_overdue_issuer", **common)


def admit_overdue(
    session: Session, node: Node, message: CoVerificationOverdueMessage, digest: str, actor: Actor
) -> None:
    """The issuer hears that its reply is overdue (its own watcher may not have run yet)."""
    verification = _open_verification(session, message.case_id)
    if verification is None:
        raise Conflict("VERIFICATION_UNKNOWN")
    if verification.status == VerificationStatus.REQUESTED:
        verification.status = VerificationStatus.OVERDUE
    note_received(
        session,
        node,
        message,
        digest,
        "co.verification_overdue_notice_received",
        actor,
        certificate_number=verification.certificate_number,
        sender=message.sender,
    )


HANDLERS = WorkflowHandlers(
    admit={
        MessageType.CO_VERIFICATION_REQUEST: admit_request,
        MessageType.CO_VERIFICATION_REPLY: admit_reply,
        MessageType.CO_VERIFICATION_OVERDUE: admit_overdue,
    },
    escalate={REPLY_RULE: escalate},
)
