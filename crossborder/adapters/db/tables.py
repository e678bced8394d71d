"""The node's tables.

Rows here are records, not the domain model: services translate between the
two. Every table that a handler writes is written in the same transaction as
the audit entry that explains it (DESIGN.md §5).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from crossborder.domain.alert_lifecycle import AlertStatus
from crossborder.domain.certificate_lifecycle import CertificateStatus, VerificationStatus
from crossborder.domain.deadlines import DeadlineStatus
from crossborder.domain.delivery import InboxStatus, OutboxStatus
from crossborder.domain.quarantine import NonComplianceStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def status_column(statuses: type[StrEnum]) -> Enum:
    """A status: stored as its value (``pending``) in a plain VARCHAR(16), read back as the member.

    No CHECK constraint and no native enum type, so a new status needs no
    migration; a value outside the enum is refused when written.
    """
    return Enum(
        statuses,
        native_enum=False,
        create_constraint=False,
        length=16,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Counterpart(Base):
    """An agency we exchange messages with: where to send, which keys it signs with."""

    __tablename__ = "counterparts"

    agency: Mapped[str] = mapped_column(String(32), primary_key=True)
    base_url: Mapped[str] = mapped_column(String(500))
    #: Its OAuth issuer (RFC 8414); defaults to ``base_url``.
    issuer: Mapped[str] = mapped_column(String(500))
    #: Its public JWKS, as registered or as last fetched from ``jwks_url``.
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    jwks_url: Mapped[str | None] = mapped_column(String(500))
    #: The client id *we* use at its authorization server.
    client_id: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(500))
    added_at: Mapped[datetime]
    #: Raised by every change an operator makes: a running node compares it with the
    #: version its HTTP client, access token and keys were built from, and rebuilds them.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime]


class OAuthClient(Base):
    """A counterpart's client registered at *our* authorization server."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    agency: Mapped[str] = mapped_column(String(32))
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    jwks_url: Mapped[str | None] = mapped_column(String(500))
    scopes: Mapped[str] = mapped_column(String(500))
    #: May get bearer tokens without a DPoP proof (software that cannot do DPoP yet).
    bearer_allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    added_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OfficerRow(Base):
    """A person registered at this node, in a role; never deleted, only deactivated.

    The audit trail names officers by ``id``, so an id stays taken for good.
    """

    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    agency: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean)
    #: The workstation login that stands for this officer when a command names no one.
    os_login: Mapped[str | None] = mapped_column(String(64), index=True)
    added_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]
    #: The Argon2id hash (PHC string) of the console password; ``None``: no console sign-in.
    password_hash: Mapped[str | None] = mapped_column(String(200))


class ConsoleSession(Base):
    """An officer signed in to the console at one browser, honoured by every replica of the node.

    The browser holds the session's id; this row holds only its SHA-256, so a copy
    of the database signs no one in. The id is 256 random bits: a hash without salt
    or stretching is as hard to reverse as the id is to guess.
    """

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"))
    started_at: Mapped[datetime]
    #: The earlier of: the idle time after the last request, the longest time after the start.
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ConsoleSignIn(Base):
    """A sign-in under way at the agency's OpenID Connect provider, until its answer comes back.

    Any replica of the node may receive the answer; the first to take the row uses it.
    """

    __tablename__ = "console_sign_ins"

    #: The ``state`` sent to the provider, which its answer carries back.
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: SHA-256 of the random value in the asking browser's cookie: the answer must come to it.
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    #: The PKCE verifier, sent with the code: of no use without the code and the client secret.
    verifier: Mapped[str] = mapped_column(String(128))
    next_page: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Case(Base):
    """One bilateral workflow instance, shared by both nodes under the same id."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    workflow: Mapped[str] = mapped_column(String(32))
    counterpart: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100), index=True)
    #: Indexed: the cases still moving (trucks ready to leave) are few among all ever held.
    status: Mapped[str] = mapped_column(String(32), index=True)
    opened_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Certificate(Base):
    """A certificate of origin as issued (on the issuing side) or as received."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("issuing_agency", "number", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    issuing_agency: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(35))
    version: Mapped[int] = mapped_column(Integer, default=1)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[CertificateStatus] = mapped_column(status_column(CertificateStatus))
    decision_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    #: Why this version exists (an amendment's reason), as the issuer wrote it.
    note: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime]


class OutboxMessage(Base):
    """A signed message waiting for, or done with, delivery to a counterpart."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    case_id: Mapped[str] = mapped_column(String(48), index=True)
    recipient: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    signed: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))
    #: pending → delivered, or failed (a final refusal by the counterpart).
    status: Mapped[OutboxStatus] = mapped_column(
        status_column(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    #: A worker holds the row until then; a crashed worker's claim simply lapses.
    claimed_until: Mapped[datetime | None]
    #: Who holds it: ``replica/run/claim`` (``services.delivery``), so that a lease is
    #: checked as one's own before each send and a restarted replica takes back its own.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(String(200))
    #: What the counterpart answered to the last attempt that did not deliver: HTTP
    #: status, error code, its own words and broken rules (or our call's error and
    #: its parameters), for the officer who must decide what to do with the message.
    last_answer: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class InboxMessage(Base):
    """A message a counterpart delivered and we accepted, with its exact signed bytes."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_pending", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    sender: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str] = mapped_column(String(48), index=True)
    signed: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))
    #: The signed receipt we answered with; a repeated delivery gets these very bytes.
    receipt: Mapped[bytes] = mapped_column(LargeBinary)
    #: received → processed, or rejected by a business rule after receipt.
    status: Mapped[InboxStatus] = mapped_column(
        status_column(InboxStatus), default=InboxStatus.RECEIVED
    )
    error_code: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class RejectedMessage(Base):
    """An authenticated delivery we refused, kept so that nothing sent to us is lost silently."""

    __tablename__ = "rejected_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(100))
    claimed_message_id: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str] = mapped_column(String(64))
    detail: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]


class SeenKey(Base):
    """Replay store: client-assertion ``jti``s and other one-time values, until they expire."""

    __tablename__ = "seen_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuditEntry(Base):
    """One append-only audit record: what happened, as a key and neutral parameters.

    Text is rendered when read, in the reader's language (crossborder.audit.render).
    ``leaf_hash`` is the RFC 9162 leaf hash of the entry's canonical form, so the
    log can be proven unaltered without trusting this table.
    """

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_agency: Mapped[str] = mapped_column(String(32))
    actor_role: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str | None] = mapped_column(String(48), index=True)
    message_id: Mapped[str | None] = mapped_column(String(36))
    message_digest: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    source_tz: Mapped[str] = mapped_column(String(40))
    catalog_version: Mapped[str] = mapped_column(String(16))
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """One row: the next audit sequence number.

    Appending locks this row (``FOR UPDATE`` on PostgreSQL; SQLite's write lock
    does the same), so sequence numbers are gapless and commit in order — what a
    Merkle log of fixed leaf positions needs.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_seq: Mapped[int] = mapped_column(Integer)


class AuditCheckpoint(Base):
    """A signed tree head of an audit log: ours, or a counterpart's that we witness.

    Our own checkpoints let an auditor prove the log was only ever appended to;
    the counterpart keeps a copy of each (and we of theirs), so rewriting history
    on one side would contradict what the other side holds.
    """

    __tablename__ = "audit_checkpoints"
    __table_args__ = (UniqueConstraint("agency", "tree_size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(32))
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: The agency's JWS over the tree head: what a witness stores and shows.
    signed: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime]


class Verification(Base):
    """A retroactive check of a certificate of origin: the request, then the reply."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    certificate_number: Mapped[str] = mapped_column(String(35))
    #: The importing side's agency, which asked.
    requested_by: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    documents_requested: Mapped[list[str]] = mapped_column(JSON)
    request_note: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: requested → replied (or overdue → replied) → closed.
    status: Mapped[VerificationStatus] = mapped_column(status_column(VerificationStatus))
    result: Mapped[str | None] = mapped_column(String(16))
    findings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    documents: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    requested_at: Mapped[datetime]
    replied_at: Mapped[datetime | None]


class Deadline(Base):
    """A time limit one side must meet on a case, watched by the node rather than a flow run.

    A workflow registers it in its own transaction; the deadline watcher takes
    its steps (reminders, then ``overdue``) from ``plan``, which is fixed at
    registration: a later change to the rule data does not move a deadline the
    parties were already told.
    """

    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("case_id", "rule_key"),
        Index("ix_deadlines_next_step", "status", "next_step_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(48))
    rule_key: Mapped[str] = mapped_column(String(64))
    #: What must be done, for people: a certificate number, an alert id.
    subject: Mapped[str] = mapped_column(String(100))
    #: The agency that must act, and the country whose calendar counts its days.
    acting_agency: Mapped[str] = mapped_column(String(32))
    acting_country: Mapped[str] = mapped_column(String(2))
    starts_at: Mapped[datetime]
    #: The last instant at which the acting side is on time.
    due_at: Mapped[datetime]
    #: open → met, overdue → met (late), open / overdue → cancelled.
    status: Mapped[DeadlineStatus] = mapped_column(status_column(DeadlineStatus))
    #: ``[{"step": "reminder-30", "at": ISO 8601}, …, {"step": "overdue", "at": …}]``.
    plan: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    #: When the watcher next has a step to take; NULL when none is left.
    next_step_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class DeadlineStep(Base):
    """A step the watcher took; the unique key makes each reminder and escalation happen once."""

    __tablename__ = "deadline_steps"
    __table_args__ = (UniqueConstraint("deadline_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"))
    #: ``reminder-30``, ``reminder-7``, ``overdue``.
    step: Mapped[str] = mapped_column(String(32))
    done_at: Mapped[datetime]


class Alert(Base):
    """An alert as it now stands, on the side that raised it and on the side that received it."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_status", "status", "raised_at"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    sender: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    #: Who on the receiving side may see it (``all``, ``border_guard``…).
    audience: Mapped[str] = mapped_column(String(16))
    #: sent / received → acknowledged → closed, or withdrawn.
    status: Mapped[AlertStatus] = mapped_column(status_column(AlertStatus))
    #: The alert's content (category, texts, vessel, position…) as last raised or updated.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Times the sender re-sent it because the acknowledgement was late.
    resent: Mapped[int] = mapped_column(Integer, default=0)
    #: Set when the acknowledgement deadline passed: the alert is shown first, as urgent.
    escalated_at: Mapped[datetime | None]
    #: None, ``required`` (send it by phone / fax / e-mail) or ``reconciled``.
    fallback: Mapped[str | None] = mapped_column(String(16))
    raised_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class AlertEntry(Base):
    """One step of an alert's thread: raised, updated, followed up, acknowledged, closed…"""

    __tablename__ = "alert_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("alerts.case_id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    #: The agency that took the step.
    author: Mapped[str] = mapped_column(String(32))
    #: The message that carried it; none for steps taken by another channel.
    message_id: Mapped[str | None] = mapped_column(String(36))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime]


class Consignment(Base):
    """A fresh-produce consignment under plant quarantine: one per case, by certificate number."""

    __tablename__ = "consignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), unique=True)
    certificate_number: Mapped[str] = mapped_column(String(35), index=True)
    #: The phytosanitary certificate (our ePhyto model, as JSON) the consignment travels on.
    certificate: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    certificate_digest: Mapped[str | None] = mapped_column(String(64))
    exporting_agency: Mapped[str] = mapped_column(String(32))
    importing_agency: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime]


class QuarantineResultRow(Base):
    """The exporting side's quarantine result on a consignment, and the importer's decision."""

    __tablename__ = "quarantine_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: One result per consignment: a second inspection is a new consignment's.
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    verdict: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]
    #: The mutual-recognition decision, once taken (by rule or by an officer).
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decided_at: Mapped[datetime | None]


class NonComplianceNoticeRow(Base):
    """A notification of non-compliance (ISPM 13) on a consignment, and its acknowledgement."""

    __tablename__ = "non_compliance_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: One notice per consignment: everything found goes in that notice.
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: notified → acknowledged, or notified → overdue → acknowledged.
    status: Mapped[NonComplianceStatus] = mapped_column(status_column(NonComplianceStatus))
    notified_at: Mapped[datetime]
    acknowledgement: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    acknowledged_at: Mapped[datetime | None]


class RecognitionRuleSetRow(Base):
    """A version of the mutual-recognition rules; the highest version is in force."""

    __tablename__ = "recognition_rule_sets"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    loaded_by: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[datetime]


class LaneTruckRow(Base):
    """A truck in the green lane, one per case: its notice, lane, arrival, inspection, release.

    The moments of each step are columns of their own, written from the node's
    clock when the step is recorded: the published release times are measured
    from them, never from a time a person typed.
    """

    __tablename__ = "lane_trucks"
    __table_args__ = (
        Index("ix_lane_trucks_gate_arrived", "gate", "arrived_at"),
        # Every notice sent is checked against the ones sent before under its reference.
        Index("ix_lane_trucks_notice", "notice_reference", "exporting_agency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), unique=True)
    notice_reference: Mapped[str] = mapped_column(String(64))
    exporting_agency: Mapped[str] = mapped_column(String(32))
    importing_agency: Mapped[str] = mapped_column(String(32))
    #: The importing side's gate.
    gate: Mapped[str] = mapped_column(String(20))
    #: The plate as compared (``plate_key``), to match alerts about the vehicle.
    plate: Mapped[str] = mapped_column(String(12), index=True)
    trader_id: Mapped[str] = mapped_column(String(18), index=True)
    #: Perishables go first in the inspection queue (TFA Art. 7.9).
    perishable: Mapped[bool] = mapped_column(Boolean)
    notice: Mapped[dict[str, Any]] = mapped_column(JSON)
    lane: Mapped[str | None] = mapped_column(String(8))
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The joint inspection record, written once, and its digest that every signature covers.
    inspection: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    record_digest: Mapped[str | None] = mapped_column(String(64))
    signatures: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: Findings the countersigning side added to the record.
    added_findings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    release: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    notified_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    inspected_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]
