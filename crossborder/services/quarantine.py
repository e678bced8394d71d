"""Fresh-produce consignments under plant quarantine: the certificate, then the result.

Exporting side: :func:`attach_certificate` opens the consignment's case from
an ePhyto phytosanitary certificate (``crossborder quarantine import``), and
:func:`share_result` sends the quarantine result with that certificate to the
importing side. Importing side: :func:`admit_result` opens the same case
(same id) when the result arrives, inside the receipt's transaction. What
happens next — the recognition decision, a notice of non-compliance — is in
:mod:`crossborder.services.recognition` and
:mod:`crossborder.services.non_compliance`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crossborder.adapters.db.engine import insert_now
from crossborder.adapters.db.tables import Case, Consignment, QuarantineResultRow
from crossborder.adapters.wire.canonical import canonical_json
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict, InvalidInput, NotFound
from crossborder.domain.messages import MessageType, SpsQuarantineResultMessage
from crossborder.domain.phytosanitary import PhytosanitaryCertificate
from crossborder.domain.quarantine import (
    ConsignmentStatus,
    QuarantineResult,
    QuarantineResultPayload,
)
from crossborder.domain.validation import schema_checked
from crossborder.domain.workflows import Workflow
from crossborder.reference.agencies import agency
from crossborder.reference.gates import gate
from crossborder.services.cases import check_case_new, fresh_case_id, open_case
from crossborder.services.exchange import Sent, note_received, send
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import new_message

WORKFLOW = Workflow.QUARANTINE


@dataclass(frozen=True)
class Attached:
    case_id: str
    certificate_number: str


def certificate_digest(certificate: PhytosanitaryCertificate) -> str:
    """Two reads of the same certificate have the same digest (a re-import is noticed)."""
    return hashlib.sha256(canonical_json(certificate.model_dump(mode="json"))).hexdigest()


def consignment_case(session: Session, case_id: str) -> tuple[Case, Consignment]:
    """The case and consignment ``case_id``, locked; ``CONSIGNMENT_UNKNOWN`` if there is none."""
    case = session.get(Case, case_id, with_for_update=True)
    consignment = session.scalars(
        select(Consignment).where(Consignment.case_id == case_id)
    ).one_or_none()
    if case is None or case.workflow != WORKFLOW or consignment is None:
        raise NotFound("CONSIGNMENT_UNKNOWN", reference=case_id)
    return case, consignment


def find_consignment(
    session: Session, node: Node, certificate_number: str, *, exporting: bool
) -> tuple[Case, Consignment]:
    """This node's consignment on ``certificate_number``, as exporting or importing side."""
    side = Consignment.exporting_agency if exporting else Consignment.importing_agency
    case_id = session.scalar(
        select(Consignment.case_id)
        .where(Consignment.certificate_number == certificate_number, side == node.agency)
        .order_by(Consignment.id.desc())
    )
    if case_id is None:
        raise NotFound("CONSIGNMENT_UNKNOWN", reference=certificate_number)
    return consignment_case(session, case_id)


def attach_certificate(
    node: Node,
    certificate: PhytosanitaryCertificate,
    actor: Actor,
    *,
    recipient: str | None,
    case_id: str | None = None,
) -> Attached:
    """Open a consignment on ``certificate`` (or attach it to consignment ``case_id``).

    A consignment's certificate can be replaced (a corrected re-issue read
    again) until its result is shared: after that, the result rests on it.
    """
    number = certificate.document.id
    digest = certificate_digest(certificate)
    now = node.now()
    with node.transaction() as session:
        if case_id is not None:
            return _replace_certificate(session, node, case_id, certificate, digest, actor)
        existing = session.scalar(
            select(Consignment.case_id).where(
                Consignment.certificate_number == number,
                Consignment.exporting_agency == node.agency,
            )
        )
        if existing is not None:
            raise Conflict("CERTIFICATE_ALREADY_ATTACHED", number=number, case_id=existing)
        if recipient is None:
            raise InvalidInput("RECIPIENT_REQUIRED")
        _check_countries(certificate, node.agency, recipient)
        case_id = fresh_case_id(session, node, now)
        open_case(
            session,
            case_id=case_id,
            workflow=WORKFLOW,
            counterpart=recipient,
            subject=number,
            status=ConsignmentStatus.CERTIFIED.value,
            at=now,
        )
        insert_now(
            session,
            Consignment(
                case_id=case_id,
                certificate_number=number,
                certificate=certificate.model_dump(mode="json"),
                certificate_digest=digest,
                exporting_agency=node.agency,
                importing_agency=recipient,
                recorded_at=now,
            ),
        )
        record(
            session,
            "sps.certificate_attached",
            actor=actor,
            occurred_at=now,
            source_tz=node.timezone,
            case_id=case_id,
            certificate_number=number,
            recipient=recipient,
        )
    return Attached(case_id=case_id, certificate_number=number)


def _replace_certificate(
    session: Session,
    node: Node,
    case_id: str,
    certificate: PhytosanitaryCertificate,
    digest: str,
    actor: Actor,
) -> Attached:
    case, consignment = consignment_case(session, case_id)
    number = certificate.document.id
    if consignment.exporting_agency != node.agency:
        raise Conflict("CONSIGNMENT_NOT_OURS", case_id=case_id)
    if number != consignment.certificate_number:
        raise Conflict(
            "CERTIFICATE_CONSIGNMENT_MISMATCH",
            number=number,
            expected=consignment.certificate_number,
        )
    _check_countries(certificate, node.agency, case.counterpart)
    if consignment.certificate_digest == digest:
        raise Conflict("CERTIFICATE_ALREADY_ATTACHED", number=number, case_id=case_id)
    if _result_of(session, case_id) is not None:
        raise Conflict("QUARANTINE_RESULT_ALREADY_SHARED", case_id=case_id)
    consignment.certificate = certificate.model_dump(mode="json")
    consignment.certificate_digest = digest
    case.updated_at = node.now()
    record(
        session,
        "sps.certificate_replaced",
        actor=actor,
        occurred_at=node.now(),
        source_tz=node.timezone,
        case_id=case_id,
        certificate_number=number,
        recipient=case.counterpart,
    )
    return Attached(case_id=case_id, certificate_number=number)


def _result_of(session: Session, case_id: str) -> QuarantineResultRow | None:
    return session.scalars(
        select(QuarantineResultRow).where(QuarantineResultRow.case_id == case_id).with_for_update()
    ).one_or_none()


def result_of(session: Session, case_id: str) -> QuarantineResultRow:
    row = _result_of(session, case_id)
    if row is None:
        raise NotFound("QUARANTINE_RESULT_UNKNOWN", case_id=case_id)
    return row


def _check_countries(
    certificate: PhytosanitaryCertificate, exporting_agency: str, importing_agency: str
) -> None:
    """The certificate is for this trade: from the exporting side's country to the importer's.

    A certificate for Vietnamese durian bound for Laos must not become the basis
    of a result shared with China, however valid it is otherwise.
    """
    consignment = certificate.consignment
    exporting, importing = agency(exporting_agency).country, agency(importing_agency).country
    if consignment.export_country.id != exporting or consignment.import_country.id != importing:
        raise InvalidInput(
            "CERTIFICATE_COUNTRY_MISMATCH",
            number=certificate.document.id,
            export_country=consignment.export_country.id,
            import_country=consignment.import_country.id,
            expected_export=exporting,
            expected_import=importing,
        )


def _check_reference(node: Node, result: QuarantineResult, exporting_agency: str) -> None:
    """The gate is one of the exporting country's, and the HS code exists."""
    identity = result.consignment
    exit_gate = gate(identity.gate)
    if exit_gate.country != agency(exporting_agency).country:
        raise InvalidInput("QUARANTINE_GATE_NOT_EXIT", gate=identity.gate)
    if not node.reference.hs_code_exists(identity.hs_code):
        raise InvalidInput("QUARANTINE_HS_CODE_UNKNOWN", hs_code=identity.hs_code)


def share_result(
    node: Node, result: QuarantineResult, actor: Actor, case_id: str | None = None
) -> Sent:
    """The exporting side sends its quarantine result, with the certificate it rests on."""
    _check_reference(node, result, node.agency)
    with node.transaction() as session:
        if case_id is None:
            case, consignment = find_consignment(
                session, node, result.certificate_number, exporting=True
            )
        else:
            case, consignment = consignment_case(session, case_id)
        if (
            consignment.exporting_agency != node.agency
            or consignment.certificate_number != result.certificate_number
            or consignment.certificate is None
        ):
            raise NotFound("CONSIGNMENT_UNKNOWN", reference=result.certificate_number)
        if _result_of(session, case.id) is not None:
            raise Conflict("QUARANTINE_RESULT_ALREADY_SHARED", case_id=case.id)
        with schema_checked():
            payload = QuarantineResultPayload(
                result=result,
                certificate=PhytosanitaryCertificate.model_validate(consignment.certificate),
            )
        now = node.now()
        _store_result(session, case.id, result, now)
        case.status = ConsignmentStatus.RESULT_SHARED.value
        case.updated_at = now
        queued = send(
            session,
            node,
            new_message(
                node,
                SpsQuarantineResultMessage,
                recipient=case.counterpart,
                case_id=case.id,
                created_at=now,
                payload=payload,
            ),
            "sps.result_shared",
            actor,
            certificate_number=result.certificate_number,
            recipient=case.counterpart,
            verdict=result.verdict.value,
            commodity=_commodity(result),
            botanical_name=result.consignment.botanical_name,
        )
    return Sent(case_id=case.id, message_id=queued.message_id)


def _commodity(result: QuarantineResult) -> str | None:
    commodity = result.consignment.commodity
    return commodity.value if commodity else None


def _store_result(session: Session, case_id: str, result: QuarantineResult, now: datetime) -> None:
    insert_now(
        session,
        QuarantineResultRow(
            case_id=case_id,
            reference=result.reference,
            content=result.model_dump(mode="json"),
            verdict=result.verdict.value,
            recorded_at=now,
        ),
    )


def admit_result(
    session: Session, node: Node, message: SpsQuarantineResultMessage, digest: str, actor: Actor
) -> None:
    """The importing side opens the consignment's case (same id) from the received result."""
    result = message.payload.result
    certificate = message.payload.certificate
    _check_reference(node, result, message.sender)
    _check_countries(certificate, message.sender, node.agency)
    check_case_new(session, message.case_id)
    now = node.now()
    open_case(
        session,
        case_id=message.case_id,
        workflow=WORKFLOW,
        counterpart=message.sender,
        subject=result.certificate_number,
        status=ConsignmentStatus.RESULT_RECEIVED.value,
        at=now,
    )
    insert_now(
        session,
        Consignment(
            case_id=message.case_id,
            certificate_number=result.certificate_number,
            certificate=certificate.model_dump(mode="json"),
            certificate_digest=certificate_digest(certificate),
            exporting_agency=message.sender,
            importing_agency=node.agency,
            recorded_at=now,
        ),
    )
    _store_result(session, message.case_id, result, now)
    note_received(
        session,
        node,
        message,
        digest,
        "sps.result_received",
        actor,
        certificate_number=result.certificate_number,
        sender=message.sender,
        verdict=result.verdict.value,
        commodity=_commodity(result),
        botanical_name=result.consignment.botanical_name,
    )


HANDLERS = WorkflowHandlers(admit={MessageType.SPS_QUARANTINE_RESULT: admit_result})
