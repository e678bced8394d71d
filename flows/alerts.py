"""Alert workflows: raise an alert, acknowledge one, and the thread's later steps.

Thin by design: each task calls one service function; the rules, the state,
the acknowledgement deadline and the audit entries live in
``crossborder.services.alerts``. No flow run waits for the acknowledgement:
the deadline is a row, and the ``watch-deadlines`` flow (flows/deadlines.py)
escalates it through the hook :func:`crossborder.services.alerts.escalate`.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from crossborder.domain.agencies import AgencyCode
from crossborder.domain.alert_lifecycle import AlertAction
from crossborder.domain.alerts import (
    AlertAckPayload,
    AlertClosePayload,
    AlertContent,
    AlertFollowUpPayload,
    AlertUpdatePayload,
    AlertWithdrawPayload,
)
from crossborder.domain.free_text import FreeText
from crossborder.domain.messages import CaseId
from crossborder.services import alerts, exchange
from flows.delivery import deliver_or_leave_queued
from flows.runtime import Sent, current_node, named_officer


class RaiseAlertRequest(BaseModel):
    """What a liaison officer fills in to raise an alert (the deployment's form)."""

    model_config = ConfigDict(extra="forbid")

    alert: AlertContent
    recipient: AgencyCode = Field(description="The counterpart agency to alert")
    officer: str = Field(min_length=1, max_length=100)


class AlertStepRequest(BaseModel):
    """A later step on an alert: exactly the payload of its message."""

    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    step: (
        AlertUpdatePayload
        | AlertFollowUpPayload
        | AlertAckPayload
        | AlertClosePayload
        | AlertWithdrawPayload
    )
    officer: str = Field(min_length=1, max_length=100)


_ACTIONS: dict[type[BaseModel], AlertAction] = {
    AlertUpdatePayload: AlertAction.UPDATE,
    AlertFollowUpPayload: AlertAction.FOLLOW_UP,
    AlertAckPayload: AlertAction.ACK,
    AlertClosePayload: AlertAction.CLOSE,
    AlertWithdrawPayload: AlertAction.WITHDRAW,
}


@task(name="record-alert", cache_policy=NO_CACHE)
def record_alert(request: RaiseAlertRequest) -> exchange.Sent:
    return alerts.raise_alert(
        current_node(), request.alert, request.recipient, named_officer(request.officer)
    )


@task(name="record-alert-step", cache_policy=NO_CACHE)
def record_alert_step(request: AlertStepRequest) -> exchange.Sent:
    action = _ACTIONS[type(request.step)]
    return alerts.act(
        current_node(), request.case_id, action, request.step, named_officer(request.officer)
    )


def _delivered(sent: exchange.Sent) -> Sent:
    return Sent(
        case_id=sent.case_id,
        message_id=sent.message_id,
        delivery=deliver_or_leave_queued(sent.message_id),
    )


@flow(name="raise-alert")
def raise_alert(request: RaiseAlertRequest) -> Sent:
    """Raise an alert to the counterpart; its acknowledgement deadline starts now."""
    return _delivered(record_alert(request))


@flow(name="handle-incoming-alert", flow_run_name="alert-ack-{case_id}")
def handle_incoming_alert(case_id: CaseId, officer: str, note: FreeText | None = None) -> Sent:
    """The business acknowledgement of a received alert, by a person or a rule."""
    request = AlertStepRequest(case_id=case_id, step=AlertAckPayload(note=note), officer=officer)
    return _delivered(record_alert_step(request))


@flow(name="alert-step", flow_run_name="alert-{request.case_id}")
def alert_step(request: AlertStepRequest) -> Sent:
    """Update, follow up, acknowledge, close or withdraw an alert."""
    return _delivered(record_alert_step(request))
