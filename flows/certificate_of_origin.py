"""Certificate of origin workflows: share a Form E, answer one.

Thin by design: each task calls one service function; the rules, the state and
the audit entries live in ``crossborder.services.certificate_of_origin``.
Counterpart replies arrive in the inbox and are handled by the node, not by a
flow run waiting for them.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from crossborder.domain.agencies import AgencyCode
from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.messages import (
    CaseId,
    CertificateDecision,
    DecisionReason,
    FreeText,
)
from crossborder.services import certificate_of_origin, exchange
from flows.delivery import deliver_or_leave_queued
from flows.runtime import Sent, current_node, named_officer


class ShareCertificateRequest(BaseModel):
    """What an officer fills in to share an issued Form E with the counterpart."""

    model_config = ConfigDict(extra="forbid")

    certificate: FormE
    recipient: AgencyCode = Field(description="The importing side's agency code")
    officer: str = Field(min_length=1, max_length=100, description="Who shares it")


class CertificateDecisionRequest(BaseModel):
    """The importing side's answer to a received certificate."""

    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    decision: CertificateDecision
    reasons: list[DecisionReason] = Field(default_factory=list)
    note: FreeText | None = None
    officer: str = Field(min_length=1, max_length=100)


@task(name="record-share", cache_policy=NO_CACHE)
def record_share(request: ShareCertificateRequest) -> exchange.Sent:
    node = current_node()
    return certificate_of_origin.share(
        node, request.certificate, request.recipient, named_officer(request.officer)
    )


@task(name="record-decision", cache_policy=NO_CACHE)
def record_decision(request: CertificateDecisionRequest) -> str:
    node = current_node()
    return certificate_of_origin.decide(
        node,
        request.case_id,
        request.decision,
        named_officer(request.officer),
        request.reasons,
        request.note,
    )


@flow(
    name="share-certificate-of-origin",
    flow_run_name="co-share-{request.certificate.certificate_number}-to-{request.recipient}",
)
def share_certificate_of_origin(request: ShareCertificateRequest) -> Sent:
    shared = record_share(request)
    return Sent(
        case_id=shared.case_id,
        message_id=shared.message_id,
        delivery=deliver_or_leave_queued(shared.message_id),
    )


@flow(
    name="answer-certificate-of-origin",
    flow_run_name="co-{request.decision.value}-{request.case_id}",
)
def answer_certificate_of_origin(request: CertificateDecisionRequest) -> Sent:
    message_id = record_decision(request)
    return Sent(
        case_id=request.case_id, message_id=message_id, delivery=deliver_or_leave_queued(message_id)
    )
