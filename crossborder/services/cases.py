"""Reading a case back: its state, its messages and its audit trail."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from crossborder.adapters.db.engine import insert_now
from crossborder.adapters.db.tables import (
    AuditEntry,
    Case,
    Certificate,
    InboxMessage,
    OutboxMessage,
    Verification,
)
from crossborder.domain.errors import Conflict, NotFound
from crossborder.domain.messages import new_case_id
from crossborder.services import deadlines
from crossborder.services.node import Node


@dataclass(frozen=True)
class CaseView:
    case: Case
    certificates: list[Certificate]
    outbox: list[OutboxMessage]
    inbox: list[InboxMessage]
    audit: list[AuditEntry]

    def summary(self) -> dict[str, Any]:
        return {
            "case_id": self.case.id,
            "workflow": self.case.workflow,
            "counterpart": self.case.counterpart,
            "subject": self.case.subject,
            "status": self.case.status,
            "certificates": [
                {
                    "number": c.number,
                    "version": c.version,
                    "status": c.status,
                    "reasons": c.decision_reasons,
                }
                for c in self.certificates
            ],
            "sent": [
                {"message_id": m.message_id, "type": m.type, "status": m.status}
                for m in self.outbox
            ],
            "received": [
                {"message_id": m.message_id, "type": m.type, "status": m.status} for m in self.inbox
            ],
        }


def case_view(node: Node, case_id: str) -> CaseView:
    with node.sessions() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("CASE_UNKNOWN", case_id=case_id)
        return CaseView(
            case=case,
            certificates=list(
                session.scalars(
                    select(Certificate)
                    .where(Certificate.case_id == case_id)
                    .order_by(Certificate.version)
                )
            ),
            outbox=list(
                session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.case_id == case_id)
                    .order_by(OutboxMessage.id)
                )
            ),
            inbox=list(
                session.scalars(
                    select(InboxMessage)
                    .where(InboxMessage.case_id == case_id)
                    .order_by(InboxMessage.id)
                )
            ),
            audit=list(
                session.scalars(
                    select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
                )
            ),
        )


@dataclass(frozen=True)
class CertificateView:
    case_id: str
    versions: list[Certificate]
    verifications: list[Verification]
    deadlines: list[deadlines.DeadlineRow]


def certificate_view(node: Node, number: str) -> CertificateView:
    """Every version of a certificate, its verifications and its open deadlines."""
    with node.sessions() as session:
        versions = list(
            session.scalars(
                select(Certificate)
                .where(Certificate.number == number)
                .order_by(Certificate.version)
            )
        )
        if not versions:
            raise NotFound("CERTIFICATE_UNKNOWN", number=number)
        case_id = versions[0].case_id
        verifications = list(
            session.scalars(
                select(Verification)
                .where(Verification.case_id == case_id)
                .order_by(Verification.id)
            )
        )
    open_deadlines = deadlines.list_deadlines(node, case_id=case_id)
    return CertificateView(case_id, versions, verifications, open_deadlines)


_TAKEN = select(Case.id).where(Case.id == bindparam("case_id"))


def _taken(session: Session, case_id: str) -> bool:
    return session.scalar(_TAKEN, {"case_id": case_id}) is not None


def check_case_new(session: Session, case_id: str) -> None:
    """A case the counterpart opens under its own id: ``CASE_ALREADY_EXISTS`` if we hold it."""
    if _taken(session, case_id):
        raise Conflict("CASE_ALREADY_EXISTS", case_id=case_id)


def fresh_case_id(session: Session, node: Node, at: datetime) -> str:
    """A new case id of this node for the day of ``at``, not yet taken.

    Six hex digits are read aloud easily but are few: a gate clearing two
    thousand trucks a day would meet the same id about once a week. An id
    already taken is drawn again, in the transaction that opens the case.
    """
    while True:
        case_id = new_case_id(node.agency, at, secrets.token_hex(3), node.timezone)
        if not _taken(session, case_id):
            return case_id


def open_case(
    session: Session,
    *,
    case_id: str,
    workflow: str,
    counterpart: str,
    subject: str,
    status: str,
    at: datetime,
) -> None:
    """Insert a workflow's case in the caller's transaction: one shape for every workflow."""
    insert_now(
        session,
        Case(
            id=case_id,
            workflow=workflow,
            counterpart=counterpart,
            subject=subject,
            status=status,
            opened_at=at,
            updated_at=at,
        ),
    )
