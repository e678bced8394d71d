"""Amending and revoking an issued certificate of origin, on both sides.

The issuing side sends a new version (same number, corrected content, a
reason) or a revocation; the importing side's copy follows. The old version is
kept as ``superseded``, so a case shows every version with who changed what and
when. A revoked certificate accepts nothing more: no amendment, no acceptance.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import Case, Certificate
from crossborder.domain.actors import Actor
from crossborder.domain.certificate_lifecycle import (
    CertificateStatus,
    check_amendable,
    check_revocable,
)
from crossborder.domain.certificate_of_origin import FormE, form_e_digest_content
from crossborder.domain.errors import Forbidden, InvalidInput, NotFound
from crossborder.domain.messages import (
    CoAmendMessage,
    CoAmendPayload,
    CoRevokeMessage,
    CoRevokePayload,
    FreeText,
    MessageType,
)
from crossborder.domain.rules import validate_form_e
from crossborder.services.exchange import note_received, send
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import new_message


def latest_certificate(session: Session, case_id: str) -> tuple[Case, Certificate]:
    """The case (locked for update) and its newest certificate version."""
    case = session.get(Case, case_id, with_for_update=True)
    certificate = (
        session.scalars(
            select(Certificate)
            .where(Certificate.case_id == case_id)
            .order_by(Certificate.version.desc())
        ).first()
        if case is not None
        else None
    )
    if case is None or certificate is None:
        raise NotFound("CASE_UNKNOWN", case_id=case_id)
    return case, certificate


def _new_version(
    session: Session, node: Node, old: Certificate, form: FormE, status: str, reason: FreeText
) -> Certificate:
    old.status = CertificateStatus.SUPERSEDED
    version = Certificate(
        case_id=old.case_id,
        issuing_agency=old.issuing_agency,
        number=old.number,
        version=old.version + 1,
        content=form.model_dump(mode="json"),
        content_digest=hashlib.sha256(form_e_digest_content(form)).hexdigest(),
        status=status,
        note=reason.model_dump(),
        recorded_at=node.now(),
    )
    session.add(version)
    return version


def amend(node: Node, case_id: str, form: FormE, reason: FreeText, actor: Actor) -> str:
    """The issuing side corrects a certificate it shared; returns the message id."""
    validate_form_e(form, node.reference)
    with node.transaction() as session:
        case, current = latest_certificate(session, case_id)
        if current.issuing_agency != node.agency:
            raise Forbidden("AMENDMENT_FROM_NON_ISSUER", agency=node.agency)
        if form.certificate_number != current.number or form.issuing_authority != node.agency:
            raise InvalidInput("AMENDMENT_NUMBER_MISMATCH", number=current.number)
        check_amendable(current.status)
        version = _new_version(session, node, current, form, CertificateStatus.SHARED, reason)
        case.status = CertificateStatus.SHARED
        case.updated_at = node.now()
        row = send(
            session,
            node,
            new_message(
                node,
                CoAmendMessage,
                recipient=case.counterpart,
                case_id=case_id,
                payload=CoAmendPayload(certificate=form, version=version.version, reason=reason),
            ),
            "co.amended",
            actor,
            certificate_number=current.number,
            version=version.version,
            note=reason.model_dump(),
        )
        return row.message_id


def admit_amend(
    session: Session, node: Node, message: CoAmendMessage, digest: str, actor: Actor
) -> None:
    """The importing side's copy follows the issuer's amendment."""
    case, current = latest_certificate(session, message.case_id)
    form = message.payload.certificate
    if current.issuing_agency != message.sender or form.issuing_authority != message.sender:
        raise Forbidden("AMENDMENT_FROM_NON_ISSUER", agency=message.sender)
    if form.certificate_number != current.number:
        raise InvalidInput("AMENDMENT_NUMBER_MISMATCH", number=current.number)
    check_amendable(current.status)
    if message.payload.version != current.version + 1:
        raise InvalidInput(
            "AMENDMENT_VERSION_OUT_OF_ORDER",
            version=message.payload.version,
            expected=current.version + 1,
        )
    validate_form_e(form, node.reference)
    _new_version(session, node, current, form, CertificateStatus.RECEIVED, message.payload.reason)
    case.status = CertificateStatus.RECEIVED
    case.updated_at = node.now()
    note_received(
        session,
        node,
        message,
        digest,
        "co.amendment_received",
        actor,
        certificate_number=current.number,
        version=message.payload.version,
        sender=message.sender,
        note=message.payload.reason.model_dump(),
    )


def _revoke_in(session: Session, node: Node, case: Case, current: Certificate) -> None:
    check_revocable(current.status)
    current.status = CertificateStatus.REVOKED
    case.status = CertificateStatus.REVOKED
    case.updated_at = node.now()


def revoke(node: Node, case_id: str, reason: FreeText, actor: Actor) -> str:
    """The issuing side withdraws a certificate; returns the message id."""
    with node.transaction() as session:
        case, current = latest_certificate(session, case_id)
        if current.issuing_agency != node.agency:
            raise Forbidden("AMENDMENT_FROM_NON_ISSUER", agency=node.agency)
        _revoke_in(session, node, case, current)
        row = send(
            session,
            node,
            new_message(
                node,
                CoRevokeMessage,
                recipient=case.counterpart,
                case_id=case_id,
                payload=CoRevokePayload(certificate_number=current.number, reason=reason),
            ),
            "co.revoked",
            actor,
            certificate_number=current.number,
            note=reason.model_dump(),
        )
        return row.message_id


def admit_revoke(
    session: Session, node: Node, message: CoRevokeMessage, digest: str, actor: Actor
) -> None:
    case, current = latest_certificate(session, message.case_id)
    if current.issuing_agency != message.sender:
        raise Forbidden("AMENDMENT_FROM_NON_ISSUER", agency=message.sender)
    if message.payload.certificate_number != current.number:
        raise InvalidInput("AMENDMENT_NUMBER_MISMATCH", number=current.number)
    _revoke_in(session, node, case, current)
    note_received(
        session,
        node,
        message,
        digest,
        "co.revocation_received",
        actor,
        certificate_number=current.number,
        sender=message.sender,
        note=message.payload.reason.model_dump(),
    )


HANDLERS = WorkflowHandlers(
    admit={MessageType.CO_AMEND: admit_amend, MessageType.CO_REVOKE: admit_revoke}
)
