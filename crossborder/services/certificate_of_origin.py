"""Certificate of origin (ACFTA Form E): the handlers of both sides.

Issuing side: :func:`share` (an officer shares an issued Form E) and
:func:`on_decision` (the counterpart's answer arrives). Importing side:
:func:`admit_share` (checks and records a received Form E, inside the receipt's
transaction) and :func:`decide` (an officer — or the node, by policy — accepts,
queries or rejects it). Each handler is one transaction: rules → state change →
outbox row → audit entry → commit.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from crossborder.adapters.db.engine import insert_now
from crossborder.adapters.db.tables import Case, Certificate, InboxMessage
from crossborder.domain.actors import Actor
from crossborder.domain.certificate_lifecycle import CertificateStatus, check_decidable
from crossborder.domain.certificate_of_origin import FormE, form_e_digest_content
from crossborder.domain.errors import Conflict, InvalidInput, NotFound
from crossborder.domain.messages import (
    CertificateDecision,
    CoDecisionMessage,
    CoDecisionPayload,
    CoShareMessage,
    CoSharePayload,
    DecisionReason,
    FreeText,
    MessageType,
)
from crossborder.domain.rules import validate_form_e
from crossborder.domain.validation import schema_checked
from crossborder.domain.workflows import Workflow
from crossborder.services.cases import check_case_new, fresh_case_id, open_case
from crossborder.services.exchange import Sent, note_received, send
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import new_message

WORKFLOW = Workflow.CERTIFICATE_OF_ORIGIN


def _content_digest(form: FormE) -> str:
    return hashlib.sha256(form_e_digest_content(form)).hexdigest()


#: Built once, with bound parameters: on the per-message path, building a statement
#: and its cache key costs SQLAlchemy more than running it.
_FIRST_VERSION = select(Certificate.case_id, Certificate.content_digest).where(
    Certificate.issuing_agency == bindparam("issuer"),
    Certificate.number == bindparam("number"),
    Certificate.version == 1,
)


def _existing(session: Session, form: FormE) -> Row[str, str] | None:
    """The case and content digest of the first version of this certificate, if we hold one."""
    return session.execute(
        _FIRST_VERSION, {"issuer": form.issuing_authority, "number": form.certificate_number}
    ).one_or_none()


def _refuse_reuse(session: Session, form: FormE) -> None:
    existing = _existing(session, form)
    if existing is None:
        return
    if existing.content_digest != _content_digest(form):
        raise Conflict("CERTIFICATE_NUMBER_REUSED", number=form.certificate_number)
    raise Conflict(
        "CERTIFICATE_ALREADY_SHARED", number=form.certificate_number, case_id=existing.case_id
    )


def share(node: Node, form: FormE, recipient: str, actor: Actor) -> Sent:
    """The issuing side shares an issued Form E with the importing side's agency."""
    if form.issuing_authority != node.agency:
        raise InvalidInput(
            "CERTIFICATE_NOT_OURS", issuer=form.issuing_authority, agency=node.agency
        )
    validate_form_e(form, node.reference)
    now = node.now()
    with node.transaction() as session:
        _refuse_reuse(session, form)
        case_id = fresh_case_id(session, node, now)
        open_case(
            session,
            case_id=case_id,
            workflow=WORKFLOW,
            counterpart=recipient,
            subject=form.certificate_number,
            status=CertificateStatus.SHARED,
            at=now,
        )
        insert_now(
            session,
            Certificate(
                case_id=case_id,
                issuing_agency=node.agency,
                number=form.certificate_number,
                version=1,
                content=form.model_dump(mode="json"),
                content_digest=_content_digest(form),
                status=CertificateStatus.SHARED,
                recorded_at=now,
            ),
        )
        message = new_message(
            node,
            CoShareMessage,
            recipient=recipient,
            case_id=case_id,
            created_at=now,
            payload=CoSharePayload(certificate=form),
        )
        queued = send(
            session,
            node,
            message,
            "co.shared",
            actor,
            certificate_number=form.certificate_number,
            recipient=recipient,
        )
    return Sent(case_id=case_id, message_id=queued.message_id)


def admit_share(
    session: Session, node: Node, message: CoShareMessage, digest: str, actor: Actor
) -> None:
    """Check and record a received Form E, in the transaction that accepts the message.

    Refusing here, before the receipt, tells the sender at once and in the HTTP
    answer that its certificate was not taken, and leaves nothing half-recorded.
    """
    form = message.payload.certificate
    if form.issuing_authority != message.sender:
        raise InvalidInput("CERTIFICATE_ISSUER_MISMATCH", issuer=form.issuing_authority)
    validate_form_e(form, node.reference)
    _refuse_reuse(session, form)
    check_case_new(session, message.case_id)
    now = node.now()
    open_case(
        session,
        case_id=message.case_id,
        workflow=WORKFLOW,
        counterpart=message.sender,
        subject=form.certificate_number,
        status=CertificateStatus.RECEIVED,
        at=now,
    )
    insert_now(
        session,
        Certificate(
            case_id=message.case_id,
            issuing_agency=form.issuing_authority,
            number=form.certificate_number,
            version=1,
            content=form.model_dump(mode="json"),
            content_digest=_content_digest(form),
            status=CertificateStatus.RECEIVED,
            recorded_at=now,
        ),
    )
    note_received(
        session,
        node,
        message,
        digest,
        "co.received",
        actor,
        certificate_number=form.certificate_number,
        sender=message.sender,
    )


def _certificate_of_case(session: Session, case_id: str) -> tuple[Case, Certificate]:
    case = session.get(Case, case_id, with_for_update=True)
    if case is None or case.workflow != WORKFLOW:
        raise NotFound("CASE_UNKNOWN", case_id=case_id)
    certificate = session.scalars(
        select(Certificate)
        .where(Certificate.case_id == case_id)
        .order_by(Certificate.version.desc())
    ).first()
    if certificate is None:
        raise NotFound("CASE_UNKNOWN", case_id=case_id)
    return case, certificate


def decide(
    node: Node,
    case_id: str,
    decision: CertificateDecision,
    actor: Actor,
    reasons: list[DecisionReason] | None = None,
    note: FreeText | None = None,
) -> str:
    """The importing side's officer accepts, queries or rejects a received certificate."""
    with node.transaction() as session:
        return decide_in(session, node, case_id, decision, actor, reasons, note)


def decide_in(
    session: Session,
    node: Node,
    case_id: str,
    decision: CertificateDecision,
    actor: Actor,
    reasons: list[DecisionReason] | None = None,
    note: FreeText | None = None,
) -> str:
    """:func:`decide` inside the caller's transaction (the inbox dispatcher's policy)."""
    with schema_checked():
        payload = CoDecisionPayload(
            certificate_number="-", decision=decision, reasons=reasons or [], note=note
        )
    now = node.now()
    case, certificate = _certificate_of_case(session, case_id)
    if certificate.issuing_agency == node.agency:
        raise InvalidInput("DECISION_ON_OWN_CERTIFICATE", case_id=case_id)
    check_decidable(certificate.status)
    certificate.status = CertificateStatus(decision.value)
    certificate.decision_reasons = [reason.value for reason in payload.reasons]
    case.status = decision.value
    case.updated_at = now
    shared_by = session.scalar(
        select(InboxMessage.message_id).where(
            InboxMessage.case_id == case_id, InboxMessage.type == MessageType.CO_SHARE.value
        )
    )
    message = new_message(
        node,
        CoDecisionMessage,
        recipient=case.counterpart,
        case_id=case_id,
        in_reply_to=uuid.UUID(shared_by) if shared_by else None,
        created_at=now,
        payload=payload.model_copy(update={"certificate_number": certificate.number}),
    )
    queued = send(
        session,
        node,
        message,
        f"co.{decision.value}",
        actor,
        certificate_number=certificate.number,
        reasons=certificate.decision_reasons,
        note=note.model_dump() if note else None,
    )
    return queued.message_id


def auto_decide(session: Session, node: Node, inbox: InboxMessage) -> None:
    """Accept a received certificate that passed every rule, if this node's policy says so.

    The rules already ran when the message was admitted; a certificate that
    reached this point is valid. Without the policy it waits for an officer.
    """
    if node.settings.auto_accept_certificates:
        decide_in(
            session, node, inbox.case_id, CertificateDecision.ACCEPTED, Actor.system(node.agency)
        )


def on_decision(
    session: Session, node: Node, message: CoDecisionMessage, digest: str, actor: Actor
) -> None:
    """The issuing side learns the importing side's decision."""
    case, certificate = _certificate_of_case(session, message.case_id)
    if case.counterpart != message.sender or certificate.issuing_agency != node.agency:
        raise InvalidInput("DECISION_FROM_WRONG_AGENCY", sender=message.sender)
    if certificate.number != message.payload.certificate_number:
        raise InvalidInput(
            "DECISION_CERTIFICATE_MISMATCH", number=message.payload.certificate_number
        )
    now = node.now()
    decision = message.payload.decision
    certificate.status = CertificateStatus(decision.value)
    certificate.decision_reasons = [reason.value for reason in message.payload.reasons]
    case.status = decision.value
    case.updated_at = now
    note = message.payload.note
    note_received(
        session,
        node,
        message,
        digest,
        f"co.counterpart_{decision.value}",
        actor,
        certificate_number=certificate.number,
        sender=message.sender,
        reasons=certificate.decision_reasons,
        note=note.model_dump() if note else None,
    )


HANDLERS = WorkflowHandlers(
    admit={MessageType.CO_SHARE: admit_share, MessageType.CO_DECISION: on_decision},
    react={
        MessageType.CO_SHARE: auto_decide,
        # An amended certificate is a new version waiting for a decision, like the first.
        MessageType.CO_AMEND: auto_decide,
    },
)
