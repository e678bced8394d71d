"""What the importing node holds of the documents and alerts a lane decision reads.

A notice only names its certificate of origin and phytosanitary certificate:
the lane rests on what this node itself received and decided on them (the
certificate-of-origin and quarantine workflows' records), and on the alerts it
holds, never on what the notice says about them.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import Alert, Certificate, LaneTruckRow
from crossborder.domain.alert_lifecycle import AlertStatus
from crossborder.domain.certificate_lifecycle import CertificateStatus
from crossborder.domain.errors import NotFound
from crossborder.domain.lane import DocumentState, LaneNotice, plate_key
from crossborder.domain.recognition import RecognitionOutcome
from crossborder.services import quarantine
from crossborder.services.node import Node

_CO_STATES = {
    CertificateStatus.ACCEPTED: DocumentState.VALID,
    CertificateStatus.RECEIVED: DocumentState.PENDING,
    CertificateStatus.QUERIED: DocumentState.PENDING,
}
_RECOGNITION_STATES = {
    RecognitionOutcome.DOCUMENTARY_CHECK.value: DocumentState.VALID,
    RecognitionOutcome.REDUCED_SAMPLING.value: DocumentState.SAMPLING,
}
#: The newest version of a Form E this node holds: its status, or what it lists. Every
#: notice reads one of them; built once, each reads only the column it needs.
_NEWEST_STATUS, _NEWEST_CONTENT = (
    select(column)
    .where(Certificate.number == bindparam("number"))
    .order_by(Certificate.version.desc())
    .limit(1)
    for column in (Certificate.status, Certificate.content)
)
#: Alerts that still call for care: not closed, not withdrawn.
_ALERT_OPEN = (AlertStatus.SENT, AlertStatus.RECEIVED, AlertStatus.ACKNOWLEDGED)


def certificate_of_origin_state(session: Session, number: str | None) -> DocumentState:
    """The newest version of the Form E ``number`` this node holds: accepted, pending or not."""
    if number is None:
        return DocumentState.MISSING
    status = session.scalar(_NEWEST_STATUS, {"number": number})
    if status is None:
        return DocumentState.UNKNOWN
    # Rejected, revoked (and a superseded version cannot be the newest).
    return _CO_STATES.get(status, DocumentState.INVALID)


def lines_off_certificate(session: Session, notice: LaneNotice) -> list[str]:
    """The HS codes of the notice's lines that the Form E it names does not list.

    Read from the newest version of that Form E this node holds; when it holds
    none, nothing can be compared here (the lane rules then find it unknown).
    """
    number = notice.documents.certificate_of_origin
    if number is None:
        return []
    content = session.scalar(_NEWEST_CONTENT, {"number": number})
    if content is None:
        return []
    listed = {str(item.get("hs_code", ""))[:6] for item in content.get("items", [])}
    return [line.hs_code for line in notice.lines if line.hs_code[:6] not in listed]


def phytosanitary_state(session: Session, node: Node, number: str | None) -> DocumentState:
    """The quarantine result on certificate ``number`` and our recognition decision on it."""
    if number is None:
        return DocumentState.MISSING
    try:
        case, _ = quarantine.find_consignment(session, node, number, exporting=False)
        result = quarantine.result_of(session, case.id)
    except NotFound:
        return DocumentState.UNKNOWN
    if result.decision is None:
        return DocumentState.PENDING
    return _RECOGNITION_STATES.get(str(result.decision["outcome"]), DocumentState.INVALID)


def open_alert_on(session: Session, truck: LaneTruckRow, notice: LaneNotice) -> bool:
    """Whether an open alert names the truck's vehicle, its documents, the notice or the trader."""
    documents = notice.documents
    references = {
        notice.reference,
        notice.trader.id,
        documents.certificate_of_origin,
        documents.phytosanitary_certificate,
    } - {None}
    for content in session.scalars(select(Alert.content).where(Alert.status.in_(_ALERT_OPEN))):
        vehicle = content.get("vehicle") or {}
        consignment = content.get("consignment") or {}
        if vehicle.get("plate") and plate_key(str(vehicle["plate"])) == truck.plate:
            return True
        if consignment.get("reference") in references:
            return True
    return False
