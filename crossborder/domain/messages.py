"""The wire contract's messages: one envelope, a typed payload per message type.

These pydantic models are the single source of ``contracts/``: the JSON Schemas
and the OpenAPI document there are generated from them (``python
contracts/generate.py``) and a test fails when the checked-in files drift.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Final, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from crossborder.domain.agencies import AgencyCode
from crossborder.domain.alerts import (
    AUDIENCE_SCOPES,
    AlertAckPayload,
    AlertClosePayload,
    AlertFollowUpPayload,
    AlertRaisePayload,
    AlertUpdatePayload,
    AlertWithdrawPayload,
    Audience,
    audience_scope,
)
from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.free_text import FreeText as FreeText  # re-exported
from crossborder.domain.free_text import LanguageTag as LanguageTag
from crossborder.domain.lane import (
    LaneArrivalPayload,
    LaneCountersignPayload,
    LaneDecisionPayload,
    LaneInspectionPayload,
    LaneNoticePayload,
    LaneReleasePayload,
)
from crossborder.domain.quarantine import (
    NonComplianceAckPayload,
    NonCompliancePayload,
    QuarantineResultPayload,
)
from crossborder.domain.recognition import RecognitionDecisionPayload

CONTRACT_VERSION: Final = "1.0"

CASE_ID_PATTERN = r"^[A-Z]{2}(-[A-Z0-9]+)+-[0-9]{8}-[0-9A-F]{6}$"
CaseId = Annotated[str, Field(pattern=CASE_ID_PATTERN, examples=["CN-NNCUS-20261127-7F3A2C"])]


class MessageType(StrEnum):
    CO_SHARE = "co.share"
    CO_DECISION = "co.decision"
    CO_AMEND = "co.amend"
    CO_REVOKE = "co.revoke"
    CO_VERIFICATION_REQUEST = "co.verification_request"
    CO_VERIFICATION_REPLY = "co.verification_reply"
    CO_VERIFICATION_OVERDUE = "co.verification_overdue"
    SPS_QUARANTINE_RESULT = "sps.quarantine_result"
    SPS_RECOGNITION_DECISION = "sps.recognition_decision"
    SPS_NON_COMPLIANCE = "sps.non_compliance"
    SPS_NON_COMPLIANCE_ACK = "sps.non_compliance_ack"
    ALERT_RAISE = "alert.raise"
    ALERT_UPDATE = "alert.update"
    ALERT_FOLLOW_UP = "alert.follow_up"
    ALERT_ACK = "alert.ack"
    ALERT_CLOSE = "alert.close"
    ALERT_WITHDRAW = "alert.withdraw"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    LANE_NOTICE = "lane.notice"
    LANE_DECISION = "lane.decision"
    LANE_ARRIVAL = "lane.arrival"
    LANE_INSPECTION = "lane.inspection"
    LANE_COUNTERSIGN = "lane.countersign"
    LANE_RELEASE = "lane.release"


#: The OAuth scope a sender's access token must carry for each message type.
SCOPE_FOR_TYPE: dict[MessageType, str] = {
    MessageType.CO_SHARE: "co:write",
    MessageType.CO_DECISION: "co:write",
    MessageType.CO_AMEND: "co:write",
    MessageType.CO_REVOKE: "co:write",
    MessageType.CO_VERIFICATION_REQUEST: "co:write",
    MessageType.CO_VERIFICATION_REPLY: "co:write",
    MessageType.CO_VERIFICATION_OVERDUE: "co:write",
    MessageType.SPS_QUARANTINE_RESULT: "sps:write",
    MessageType.SPS_RECOGNITION_DECISION: "sps:write",
    MessageType.SPS_NON_COMPLIANCE: "sps:write",
    MessageType.SPS_NON_COMPLIANCE_ACK: "sps:write",
    MessageType.ALERT_RAISE: "alert:write",
    MessageType.ALERT_UPDATE: "alert:write",
    MessageType.ALERT_FOLLOW_UP: "alert:write",
    MessageType.ALERT_ACK: "alert:write",
    MessageType.ALERT_CLOSE: "alert:write",
    MessageType.ALERT_WITHDRAW: "alert:write",
    MessageType.AUDIT_CHECKPOINT: "audit:write",
    MessageType.LANE_NOTICE: "lane:write",
    MessageType.LANE_DECISION: "lane:write",
    MessageType.LANE_ARRIVAL: "lane:write",
    MessageType.LANE_INSPECTION: "lane:write",
    MessageType.LANE_COUNTERSIGN: "lane:write",
    MessageType.LANE_RELEASE: "lane:write",
}


class CertificateDecision(StrEnum):
    ACCEPTED = "accepted"
    QUERIED = "queried"
    REJECTED = "rejected"


class DecisionReason(StrEnum):
    """Why an importing side queries or rejects a certificate of origin."""

    ORIGIN_CRITERION_DOUBTFUL = "ORIGIN_CRITERION_DOUBTFUL"
    HS_CODE_MISMATCH = "HS_CODE_MISMATCH"
    GOODS_MISMATCH = "GOODS_MISMATCH"
    INVOICE_MISMATCH = "INVOICE_MISMATCH"
    SIGNATURE_OR_SEAL_MISMATCH = "SIGNATURE_OR_SEAL_MISMATCH"
    CERTIFICATE_EXPIRED = "CERTIFICATE_EXPIRED"
    RETROACTIVE_ISSUANCE_NOT_JUSTIFIED = "RETROACTIVE_ISSUANCE_NOT_JUSTIFIED"
    RULES_NOT_MET = "RULES_NOT_MET"
    OTHER = "OTHER"


class CoSharePayload(BaseModel):
    """The issuing side shares an ACFTA Form E it has issued."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate: FormE


class CoDecisionPayload(BaseModel):
    """The importing side's business answer to a shared certificate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_number: str = Field(min_length=1, max_length=35)
    decision: CertificateDecision
    reasons: list[DecisionReason] = Field(default_factory=list, max_length=20)
    note: FreeText | None = None

    @model_validator(mode="after")
    def _reasons_match_decision(self) -> CoDecisionPayload:
        # A query or rejection without a reason leaves the issuing side guessing;
        # "other" must say what it is.
        if self.decision is CertificateDecision.ACCEPTED and self.reasons:
            raise PydanticCustomError("DECISION_REASON_UNEXPECTED", "an acceptance has no reasons")
        if self.decision is not CertificateDecision.ACCEPTED and not self.reasons:
            raise PydanticCustomError(
                "DECISION_REASON_MISSING", "a query or rejection needs a reason"
            )
        if DecisionReason.OTHER in self.reasons and self.note is None:
            raise PydanticCustomError("DECISION_NOTE_MISSING", "reason OTHER needs a note")
        return self


class CoAmendPayload(BaseModel):
    """A new version of an issued certificate: same number, corrected content, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate: FormE
    version: int = Field(ge=2, description="1 is the certificate as first shared")
    reason: FreeText


class CoRevokePayload(BaseModel):
    """The issuing side withdraws a certificate; it can no longer be accepted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_number: str = Field(min_length=1, max_length=35)
    reason: FreeText


class VerificationReason(StrEnum):
    """Why the importing side asks for a retroactive check."""

    ORIGIN_CRITERION_DOUBTFUL = "ORIGIN_CRITERION_DOUBTFUL"
    INVOICE_MISMATCH = "INVOICE_MISMATCH"
    SUSPECTED_FORGERY = "SUSPECTED_FORGERY"
    RANDOM_CHECK = "RANDOM_CHECK"
    OTHER = "OTHER"


class DocumentKind(StrEnum):
    """Supporting documents a verification may ask for or answer with."""

    COMMERCIAL_INVOICE = "COMMERCIAL_INVOICE"
    BILL_OF_LADING = "BILL_OF_LADING"
    PRODUCTION_RECORDS = "PRODUCTION_RECORDS"
    COST_STATEMENT = "COST_STATEMENT"
    MATERIAL_ORIGIN_PROOF = "MATERIAL_ORIGIN_PROOF"
    EXPORTER_DECLARATION = "EXPORTER_DECLARATION"
    OTHER = "OTHER"


class VerificationResult(StrEnum):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"


class DocumentReference(BaseModel):
    """A document attached by reference (sent by another channel), with its fingerprint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: DocumentKind
    reference: str = Field(min_length=1, max_length=200)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class CoVerificationRequestPayload(BaseModel):
    """The importing side asks the issuing authority to verify a certificate it holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_number: str = Field(min_length=1, max_length=35)
    reasons: list[VerificationReason] = Field(min_length=1, max_length=10)
    documents_requested: list[DocumentKind] = Field(default_factory=list, max_length=20)
    note: FreeText | None = None

    @model_validator(mode="after")
    def _other_is_explained(self) -> CoVerificationRequestPayload:
        if VerificationReason.OTHER in self.reasons and self.note is None:
            raise PydanticCustomError("VERIFICATION_NOTE_MISSING", "reason OTHER needs a note")
        return self


class CoVerificationReplyPayload(BaseModel):
    """The issuing authority's answer: confirmed or not, what it found, what it attaches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_number: str = Field(min_length=1, max_length=35)
    result: VerificationResult
    findings: FreeText
    documents: list[DocumentReference] = Field(default_factory=list, max_length=50)


class CoVerificationOverduePayload(BaseModel):
    """The importing side's notice that the reply deadline has passed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_number: str = Field(min_length=1, max_length=35)
    due_at: AwareDatetime


class AuditCheckpointPayload(BaseModel):
    """A signed head of the sender's audit log, for the recipient to keep as a witness.

    ``checkpoint`` is the sender's JWS over ``{agency, tree_size, root_hash,
    signed_at}``: it stands on its own, so a witness can show it to an auditor
    without the message around it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tree_size: int = Field(ge=0)
    root_hash: str = Field(pattern=r"^[A-Za-z0-9_-]{43}$", description="RFC 9162 root, base64url")
    checkpoint: str = Field(
        max_length=4000, description="JWS compact, typ crossborder-checkpoint+jws"
    )


#: A UUIDv7 written as RFC 9562 writes it (version 7, variant 10): the only spelling a
#: message id is taken in, so that one message has one id.
UUID7_PATTERN = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)


class Envelope(BaseModel):
    """What every message carries, whatever its type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: uuid.UUID = Field(json_schema_extra={"pattern": UUID7_PATTERN})
    sender: AgencyCode
    recipient: AgencyCode
    case_id: CaseId
    #: The message answered, by its message id: taken only as a message id is.
    in_reply_to: uuid.UUID | None = Field(
        default=None, json_schema_extra={"pattern": UUID7_PATTERN}
    )
    created_at: AwareDatetime
    contract_version: Literal["1.0"] = CONTRACT_VERSION

    @field_validator("message_id", "in_reply_to", mode="before")
    @classmethod
    def _written_as_uuid7(cls, value: object) -> object:
        # pydantic would also read ``{…}`` and ``urn:uuid:…``, which the pattern does not allow.
        if isinstance(value, str) and not re.fullmatch(UUID7_PATTERN, value):
            raise PydanticCustomError("MESSAGE_ID_NOT_UUID7", "message ids are UUIDv7")
        return value

    @field_validator("message_id", "in_reply_to")
    @classmethod
    def _uuid7(cls, value: uuid.UUID | None) -> uuid.UUID | None:
        # Time-ordered ids keep the inbox and outbox indexes append-only.
        if value is not None and value.version != 7:
            raise PydanticCustomError("MESSAGE_ID_NOT_UUID7", "message ids are UUIDv7")
        return value

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class CoShareMessage(Envelope):
    type: Literal[MessageType.CO_SHARE] = MessageType.CO_SHARE
    payload: CoSharePayload


class CoDecisionMessage(Envelope):
    type: Literal[MessageType.CO_DECISION] = MessageType.CO_DECISION
    payload: CoDecisionPayload


class CoAmendMessage(Envelope):
    type: Literal[MessageType.CO_AMEND] = MessageType.CO_AMEND
    payload: CoAmendPayload


class CoRevokeMessage(Envelope):
    type: Literal[MessageType.CO_REVOKE] = MessageType.CO_REVOKE
    payload: CoRevokePayload


class CoVerificationRequestMessage(Envelope):
    type: Literal[MessageType.CO_VERIFICATION_REQUEST] = MessageType.CO_VERIFICATION_REQUEST
    payload: CoVerificationRequestPayload


class CoVerificationReplyMessage(Envelope):
    type: Literal[MessageType.CO_VERIFICATION_REPLY] = MessageType.CO_VERIFICATION_REPLY
    payload: CoVerificationReplyPayload


class CoVerificationOverdueMessage(Envelope):
    type: Literal[MessageType.CO_VERIFICATION_OVERDUE] = MessageType.CO_VERIFICATION_OVERDUE
    payload: CoVerificationOverduePayload


class SpsQuarantineResultMessage(Envelope):
    type: Literal[MessageType.SPS_QUARANTINE_RESULT] = MessageType.SPS_QUARANTINE_RESULT
    payload: QuarantineResultPayload


class SpsRecognitionDecisionMessage(Envelope):
    type: Literal[MessageType.SPS_RECOGNITION_DECISION] = MessageType.SPS_RECOGNITION_DECISION
    payload: RecognitionDecisionPayload


class SpsNonComplianceMessage(Envelope):
    type: Literal[MessageType.SPS_NON_COMPLIANCE] = MessageType.SPS_NON_COMPLIANCE
    payload: NonCompliancePayload


class SpsNonComplianceAckMessage(Envelope):
    type: Literal[MessageType.SPS_NON_COMPLIANCE_ACK] = MessageType.SPS_NON_COMPLIANCE_ACK
    payload: NonComplianceAckPayload


class AlertRaiseMessage(Envelope):
    type: Literal[MessageType.ALERT_RAISE] = MessageType.ALERT_RAISE
    payload: AlertRaisePayload


class AlertUpdateMessage(Envelope):
    type: Literal[MessageType.ALERT_UPDATE] = MessageType.ALERT_UPDATE
    payload: AlertUpdatePayload


class AlertFollowUpMessage(Envelope):
    type: Literal[MessageType.ALERT_FOLLOW_UP] = MessageType.ALERT_FOLLOW_UP
    payload: AlertFollowUpPayload


class AlertAckMessage(Envelope):
    type: Literal[MessageType.ALERT_ACK] = MessageType.ALERT_ACK
    payload: AlertAckPayload


class AlertCloseMessage(Envelope):
    type: Literal[MessageType.ALERT_CLOSE] = MessageType.ALERT_CLOSE
    payload: AlertClosePayload


class AlertWithdrawMessage(Envelope):
    type: Literal[MessageType.ALERT_WITHDRAW] = MessageType.ALERT_WITHDRAW
    payload: AlertWithdrawPayload


class AuditCheckpointMessage(Envelope):
    """Sent outside any case: ``case_id`` names the sender's log of the day (``…-000000``)."""

    type: Literal[MessageType.AUDIT_CHECKPOINT] = MessageType.AUDIT_CHECKPOINT
    payload: AuditCheckpointPayload


class LaneNoticeMessage(Envelope):
    type: Literal[MessageType.LANE_NOTICE] = MessageType.LANE_NOTICE
    payload: LaneNoticePayload


class LaneDecisionMessage(Envelope):
    type: Literal[MessageType.LANE_DECISION] = MessageType.LANE_DECISION
    payload: LaneDecisionPayload


class LaneArrivalMessage(Envelope):
    type: Literal[MessageType.LANE_ARRIVAL] = MessageType.LANE_ARRIVAL
    payload: LaneArrivalPayload


class LaneInspectionMessage(Envelope):
    type: Literal[MessageType.LANE_INSPECTION] = MessageType.LANE_INSPECTION
    payload: LaneInspectionPayload


class LaneCountersignMessage(Envelope):
    type: Literal[MessageType.LANE_COUNTERSIGN] = MessageType.LANE_COUNTERSIGN
    payload: LaneCountersignPayload


class LaneReleaseMessage(Envelope):
    type: Literal[MessageType.LANE_RELEASE] = MessageType.LANE_RELEASE
    payload: LaneReleasePayload


AnyMessage = (
    CoShareMessage
    | CoDecisionMessage
    | CoAmendMessage
    | CoRevokeMessage
    | CoVerificationRequestMessage
    | CoVerificationReplyMessage
    | CoVerificationOverdueMessage
    | SpsQuarantineResultMessage
    | SpsRecognitionDecisionMessage
    | SpsNonComplianceMessage
    | SpsNonComplianceAckMessage
    | AlertRaiseMessage
    | AlertUpdateMessage
    | AlertFollowUpMessage
    | AlertAckMessage
    | AlertCloseMessage
    | AlertWithdrawMessage
    | AuditCheckpointMessage
    | LaneNoticeMessage
    | LaneDecisionMessage
    | LaneArrivalMessage
    | LaneInspectionMessage
    | LaneCountersignMessage
    | LaneReleaseMessage
)
Message = Annotated[AnyMessage, Field(discriminator="type")]

#: Every scope a counterpart's client may hold: one per message type's area, and one
#: per restricted alert audience.
KNOWN_SCOPES: Final = frozenset(SCOPE_FOR_TYPE.values()) | AUDIENCE_SCOPES


def required_scopes(message: AnyMessage) -> frozenset[str]:
    """The scopes a sender's token must carry for ``message``: its type's, and its audience's.

    An alert restricted to border guards may be delivered only by a client the
    recipient has allowed to address its border guards (``alert:border_guard``).
    """
    scopes = {SCOPE_FOR_TYPE[message.type]}
    if isinstance(message, AlertRaiseMessage | AlertUpdateMessage):
        audience = message.payload.alert.handling.audience
        if audience is not Audience.ALL:
            scopes.add(audience_scope(audience))
    return frozenset(scopes)


_CASE_ID = re.compile(CASE_ID_PATTERN)


def new_case_id(agency: str, now: datetime, random_hex: str, tz: str) -> str:
    """A case id officers can read aloud on the phone: opening agency, day, 6 hex digits.

    The day is the opening agency's calendar day (``tz``, its node's zone), the
    day its officers see beside the id: a case opened at 01:00 in Nanning on
    5 December is of the 5th, though it is still the 4th in UTC. Nothing reads
    the day back out of an id; it only helps a person find the case.
    """
    case_id = f"{agency}-{now.astimezone(ZoneInfo(tz)):%Y%m%d}-{random_hex[:6].upper()}"
    if not _CASE_ID.match(case_id):
        raise ValueError(case_id)
    return case_id


class Receipt(BaseModel):
    """The receiver's signed statement that it holds a message (transport acknowledgement)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: uuid.UUID
    sender: AgencyCode
    receiver: AgencyCode
    digest: str = Field(description="sha-256 of the exact signed bytes received, base64url")
    received_at: AwareDatetime
