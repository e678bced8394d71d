"""Fresh-produce quarantine workflows: share a result, decide recognition, notify non-compliance.

Thin by design: each task calls one service function; the rules, the state
and the audit entries live in ``crossborder.services.quarantine``,
``.recognition`` and ``.non_compliance``. The counterpart's answers arrive in
the inbox; the acknowledgement deadline is watched by ``watch-deadlines``.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from crossborder.domain.free_text import FreeText
from crossborder.domain.messages import CaseId
from crossborder.domain.quarantine import NonComplianceNotice, QuarantineResult
from crossborder.domain.recognition import RecognitionDecision
from crossborder.services import exchange, non_compliance, quarantine, recognition
from flows.delivery import deliver_or_leave_queued
from flows.runtime import Sent, current_node, named_officer


class ShareResultRequest(BaseModel):
    """The exporting side's result for a consignment whose certificate is attached."""

    model_config = ConfigDict(extra="forbid")

    result: QuarantineResult
    case_id: CaseId | None = Field(
        default=None, description="The consignment; found by certificate number when left out"
    )
    officer: str = Field(min_length=1, max_length=100)


class RecognitionRequest(BaseModel):
    """The importing side's officer decides on a received result."""

    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    decision: RecognitionDecision
    note: FreeText | None = None
    officer: str = Field(min_length=1, max_length=100)


class NonComplianceRequest(BaseModel):
    """The importing side notifies what it found and what it did (ISPM 13)."""

    model_config = ConfigDict(extra="forbid")

    notice: NonComplianceNotice
    note: FreeText | None = None
    case_id: CaseId | None = Field(
        default=None, description="The consignment; found by certificate number when left out"
    )
    officer: str = Field(min_length=1, max_length=100)


class AcknowledgementRequest(BaseModel):
    """The exporting side acknowledges a notice of non-compliance."""

    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    note: FreeText | None = None
    officer: str = Field(min_length=1, max_length=100)


@task(name="record-quarantine-result", cache_policy=NO_CACHE)
def record_quarantine_result(request: ShareResultRequest) -> exchange.Sent:
    return quarantine.share_result(
        current_node(), request.result, named_officer(request.officer), request.case_id
    )


@task(name="record-recognition-decision", cache_policy=NO_CACHE)
def record_recognition_decision(request: RecognitionRequest) -> str:
    return recognition.decide(
        current_node(),
        request.case_id,
        request.decision,
        named_officer(request.officer),
        request.note,
    )


@task(name="record-non-compliance", cache_policy=NO_CACHE)
def record_non_compliance(request: NonComplianceRequest) -> exchange.Sent:
    return non_compliance.notify(
        current_node(),
        request.notice,
        named_officer(request.officer),
        request.note,
        request.case_id,
    )


@task(name="record-non-compliance-ack", cache_policy=NO_CACHE)
def record_acknowledgement(request: AcknowledgementRequest) -> exchange.Sent:
    return non_compliance.acknowledge(
        current_node(), request.case_id, named_officer(request.officer), request.note
    )


def _sent(case_id: str, message_id: str) -> Sent:
    delivery = deliver_or_leave_queued(message_id)
    return Sent(case_id=case_id, message_id=message_id, delivery=delivery)


@flow(name="share-quarantine-result", flow_run_name="sps-result-{request.result.reference}")
def share_quarantine_result(request: ShareResultRequest) -> Sent:
    shared = record_quarantine_result(request)
    return _sent(shared.case_id, shared.message_id)


@flow(name="decide-recognition", flow_run_name="sps-recognition-{request.case_id}")
def decide_recognition(request: RecognitionRequest) -> Sent:
    return _sent(request.case_id, record_recognition_decision(request))


@flow(name="notify-non-compliance", flow_run_name="sps-non-compliance-{request.notice.reference}")
def notify_non_compliance(request: NonComplianceRequest) -> Sent:
    sent = record_non_compliance(request)
    return _sent(sent.case_id, sent.message_id)


@flow(name="acknowledge-non-compliance", flow_run_name="sps-non-compliance-ack-{request.case_id}")
def acknowledge_non_compliance(request: AcknowledgementRequest) -> Sent:
    sent = record_acknowledgement(request)
    return _sent(sent.case_id, sent.message_id)
