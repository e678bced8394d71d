"""Certificate of origin after sharing: amend, revoke, verification request and reply.

The reply to a verification request may come months later: no flow run waits
for it. The deadline lives in the database and the ``watch-deadlines`` flow
reminds and escalates (flows/deadlines.py).
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.messages import (
    CaseId,
    CoVerificationReplyPayload,
    CoVerificationRequestPayload,
    FreeText,
)
from crossborder.services import co_amendment, co_verification
from flows.delivery import deliver_or_leave_queued
from flows.runtime import Sent, current_node, named_officer


class AmendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    certificate: FormE
    reason: FreeText
    officer: str = Field(min_length=1, max_length=100)


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    reason: FreeText
    officer: str = Field(min_length=1, max_length=100)


class VerificationRequest(BaseModel):
    """What the importing side's officer asks the issuing authority to verify."""

    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    request: CoVerificationRequestPayload
    officer: str = Field(min_length=1, max_length=100)


class VerificationReply(BaseModel):
    """The issuing side's answer, as its officer fills it in (the deployment's form)."""

    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    reply: CoVerificationReplyPayload
    officer: str = Field(min_length=1, max_length=100)


@task(name="record-amendment", cache_policy=NO_CACHE)
def record_amendment(request: AmendRequest) -> str:
    return co_amendment.amend(
        current_node(),
        request.case_id,
        request.certificate,
        request.reason,
        named_officer(request.officer),
    )


@task(name="record-revocation", cache_policy=NO_CACHE)
def record_revocation(request: RevokeRequest) -> str:
    return co_amendment.revoke(
        current_node(), request.case_id, request.reason, named_officer(request.officer)
    )


@task(name="record-verification-request", cache_policy=NO_CACHE)
def record_verification_request(request: VerificationRequest) -> str:
    return co_verification.request(
        current_node(), request.case_id, request.request, named_officer(request.officer)
    )


@task(name="record-verification-reply", cache_policy=NO_CACHE)
def record_verification_reply(request: VerificationReply) -> str:
    return co_verification.reply(
        current_node(), request.case_id, request.reply, named_officer(request.officer)
    )


@flow(name="amend-certificate-of-origin", flow_run_name="co-amend-{request.case_id}")
def amend_certificate_of_origin(request: AmendRequest) -> Sent:
    message_id = record_amendment(request)
    return Sent(
        case_id=request.case_id, message_id=message_id, delivery=deliver_or_leave_queued(message_id)
    )


@flow(name="revoke-certificate-of-origin", flow_run_name="co-revoke-{request.case_id}")
def revoke_certificate_of_origin(request: RevokeRequest) -> Sent:
    message_id = record_revocation(request)
    return Sent(
        case_id=request.case_id, message_id=message_id, delivery=deliver_or_leave_queued(message_id)
    )


@flow(name="request-origin-verification", flow_run_name="co-verify-request-{request.case_id}")
def request_origin_verification(request: VerificationRequest) -> Sent:
    message_id = record_verification_request(request)
    return Sent(
        case_id=request.case_id, message_id=message_id, delivery=deliver_or_leave_queued(message_id)
    )


@flow(name="reply-origin-verification", flow_run_name="co-verify-reply-{request.case_id}")
def reply_origin_verification(request: VerificationReply) -> Sent:
    message_id = record_verification_reply(request)
    return Sent(
        case_id=request.case_id, message_id=message_id, delivery=deliver_or_leave_queued(message_id)
    )
