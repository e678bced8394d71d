"""Alerts between agencies: raise, update, follow up, acknowledge, close, withdraw.

An alert is a case of its own (workflow ``alert``): every message about it
carries its case id, so the whole thread — CAP's Alert, Update, Ack and Cancel,
RASFF's follow-ups and the closure — is one case on both nodes. Each step is
checked by :mod:`crossborder.domain.alert_lifecycle`, recorded on the alert's
thread and audited in one transaction with the message that tells the other
side. What the counterpart sends is admitted by
:mod:`crossborder.services.alert_inbound`, with the same checks.

The recipient must acknowledge by a deadline set per category × severity
(:mod:`crossborder.reference.alert_ack_rules`), counted in the recipient's
calendar, office hours and time zone, and registered on both nodes. When it
passes, the watcher calls :func:`escalate` on each side: the alert is marked
urgent and for the offline fallback, and the sender re-sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import Alert, AlertEntry, Case, InboxMessage
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.alert_lifecycle import (
    AWAITING_ACK,
    AlertAction,
    AlertStatus,
    Side,
    next_status,
)
from crossborder.domain.alerts import (
    AlertAckPayload,
    AlertClosePayload,
    AlertContent,
    AlertFollowUpPayload,
    AlertRaisePayload,
    AlertUpdatePayload,
    AlertWithdrawPayload,
    Audience,
    HandlingRestriction,
    check_restriction_allowed,
)
from crossborder.domain.errors import Forbidden
from crossborder.domain.free_text import FreeText
from crossborder.domain.messages import (
    AlertAckMessage,
    AlertCloseMessage,
    AlertFollowUpMessage,
    AlertRaiseMessage,
    AlertUpdateMessage,
    AlertWithdrawMessage,
    AnyMessage,
    MessageType,
)
from crossborder.domain.workflows import Workflow
from crossborder.reference.agencies import agency
from crossborder.reference.alert_ack_rules import ACK_RULE, ack_rule_data, acknowledged_by_rule
from crossborder.services import deadlines
from crossborder.services.cases import fresh_case_id, open_case
from crossborder.services.exchange import Sent, send
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import enqueue, new_message

WORKFLOW = Workflow.ALERT

#: The message that carries each step after the raise to the other side.
_MESSAGES: dict[AlertAction, Callable[..., AnyMessage]] = {
    AlertAction.UPDATE: AlertUpdateMessage,
    AlertAction.FOLLOW_UP: AlertFollowUpMessage,
    AlertAction.ACK: AlertAckMessage,
    AlertAction.CLOSE: AlertCloseMessage,
    AlertAction.WITHDRAW: AlertWithdrawMessage,
}
ActionPayload = (
    AlertUpdatePayload
    | AlertFollowUpPayload
    | AlertAckPayload
    | AlertClosePayload
    | AlertWithdrawPayload
)


def check_audience(content: AlertContent, sender: str, recipient: str) -> None:
    """The sender's kind may set this restriction, and the recipient is in the audience."""
    audience = content.handling.audience
    check_restriction_allowed(agency(sender).kind, audience)
    if audience is not Audience.ALL and agency(recipient).kind != audience.value:
        raise Forbidden("ALERT_AUDIENCE_MISMATCH", audience=audience.value, agency=recipient)


def register_ack_deadline(
    session: Session, node: Node, alert: Alert, content: AlertContent, actor: Actor
) -> None:
    recipient = agency(alert.recipient)
    deadlines.register(
        session,
        node,
        case_id=alert.case_id,
        rule_key=ACK_RULE,
        starts_at=alert.raised_at,
        acting_country=recipient.country,
        acting_agency=recipient.code,
        subject=alert.case_id,
        actor=actor,
        rules={ACK_RULE: ack_rule_data(content.category, content.severity)},
    )


def add_entry(
    session: Session,
    node: Node,
    alert: Alert,
    action: AlertAction,
    author: str,
    message_id: str | None,
    content: dict[str, Any],
) -> None:
    session.add(
        AlertEntry(
            case_id=alert.case_id,
            action=action.value,
            author=author,
            message_id=message_id,
            content=content,
            recorded_at=node.now(),
        )
    )


def new_alert(
    session: Session,
    node: Node,
    case_id: str,
    sender: str,
    recipient: str,
    content: AlertContent,
    raised_at: datetime,
) -> Alert:
    """The alert and its case, on either side; ``raised_at`` is when the sender raised it.

    Both sides count the acknowledgement deadline from that moment, so they agree
    on when it passes however late the message arrived.
    """
    side: Side = "sender" if sender == node.agency else "recipient"
    status = next_status(None, AlertAction.RAISE, side)
    now = node.now()
    counterpart = recipient if side == "sender" else sender
    # Inserted at once: no relationship ties the alert to its case, for the foreign key.
    open_case(
        session,
        case_id=case_id,
        workflow=WORKFLOW,
        counterpart=counterpart,
        subject=content.category.value,
        status=status.value,
        at=now,
    )
    alert = Alert(
        case_id=case_id,
        sender=sender,
        recipient=recipient,
        category=content.category.value,
        severity=content.severity.value,
        audience=content.handling.audience.value,
        status=status.value,
        content=content.model_dump(mode="json"),
        resent=0,
        raised_at=raised_at,
        updated_at=now,
    )
    session.add(alert)
    session.flush()
    return alert


def text_in_audit(handling: HandlingRestriction) -> bool:
    """Whether the alert's free text may be copied into the audit trail.

    The trail is read and exported whole, by any role; the text of a restricted
    alert, or one that names people, stays in the alert's own record, which
    keeps its audience. Its audit entries still say what happened, and when.
    """
    return handling.audience is Audience.ALL and not handling.personal_data


def summary(content: AlertContent) -> dict[str, Any]:
    """What the audit entry of a raise or an update says about the alert."""
    shown = text_in_audit(content.handling)
    return {
        "alert_category": content.category.value,
        "alert_severity": content.severity.value,
        "note": content.description.model_dump() if shown else None,
    }


def raise_alert(node: Node, content: AlertContent, recipient: str, actor: Actor) -> Sent:
    """Raise an alert to ``recipient``; it is queued for delivery with its deadline set."""
    check_audience(content, node.agency, recipient)
    with node.transaction() as session:
        case_id = fresh_case_id(session, node, node.now())
        alert = new_alert(session, node, case_id, node.agency, recipient, content, node.now())
        register_ack_deadline(session, node, alert, content, actor)
        message = new_message(
            node,
            AlertRaiseMessage,
            recipient=recipient,
            case_id=case_id,
            payload=AlertRaisePayload(alert=content),
        )
        queued = send(
            session, node, message, "alert.raise", actor, recipient=recipient, **summary(content)
        )
        add_entry(session, node, alert, AlertAction.RAISE, node.agency, queued.message_id, {})
        return Sent(case_id, queued.message_id)


def locked(session: Session, case_id: str) -> Alert | None:
    return session.get(Alert, case_id, with_for_update=True)


def apply_step(
    session: Session,
    node: Node,
    alert: Alert | None,
    action: AlertAction,
    side: Side,
    payload: ActionPayload,
    actor: Actor,
) -> Alert:
    """Check the step, change the alert, settle or cancel its deadline."""
    new = next_status(AlertStatus(alert.status) if alert else None, action, side)
    assert alert is not None
    now = node.now()
    if isinstance(payload, AlertUpdatePayload):
        sender, recipient = alert.sender, alert.recipient
        check_audience(payload.alert, sender, recipient)
        alert.content = payload.alert.model_dump(mode="json")
        alert.category = payload.alert.category.value
        alert.severity = payload.alert.severity.value
        alert.audience = payload.alert.handling.audience.value
        if AlertStatus(alert.status) in AWAITING_ACK:
            # The acknowledgement is owed for the alert as it now stands: a raised
            # severity shortens the time, counted on both sides from the raise.
            new_rule = ack_rule_data(payload.alert.category, payload.alert.severity)
            deadlines.reschedule(
                session,
                node,
                case_id=alert.case_id,
                rule_key=ACK_RULE,
                actor=actor,
                rules={ACK_RULE: new_rule},
            )
    if action is AlertAction.ACK:
        alert.acknowledged_at = now
        deadlines.settle(session, node, case_id=alert.case_id, rule_key=ACK_RULE, actor=actor)
    if new in (AlertStatus.CLOSED, AlertStatus.WITHDRAWN):
        alert.closed_at = now
        if AlertStatus(alert.status) in AWAITING_ACK:
            # Nothing is awaited any more: no reminder, no escalation.
            deadlines.cancel(session, node, case_id=alert.case_id, rule_key=ACK_RULE, actor=actor)
    alert.status = new
    alert.updated_at = now
    case = session.get(Case, alert.case_id)
    assert case is not None
    case.status = new.value
    case.updated_at = now
    return alert


def step_texts(payload: ActionPayload, alert: Alert) -> dict[str, Any]:
    """The free text of a step, for its audit entry (shown verbatim, with its language)."""
    if not text_in_audit(HandlingRestriction.model_validate(alert.content["handling"])):
        return {"note": None}
    text: FreeText | None
    if isinstance(payload, AlertFollowUpPayload):
        text = payload.text
    elif isinstance(payload, AlertWithdrawPayload):
        text = payload.reason
    else:
        text = payload.note
    return {"note": text.model_dump() if text else None}


def act(
    node: Node, case_id: str, action: AlertAction, payload: ActionPayload, actor: Actor
) -> Sent:
    """Take a step on an alert from this side and tell the other side; returns the message."""
    with node.transaction() as session:
        return _take_step(session, node, case_id, action, payload, actor)


def _take_step(
    session: Session,
    node: Node,
    case_id: str,
    action: AlertAction,
    payload: ActionPayload,
    actor: Actor,
) -> Sent:
    alert = locked(session, case_id)
    side: Side = "sender" if alert is not None and alert.sender == node.agency else "recipient"
    alert = apply_step(session, node, alert, action, side, payload, actor)
    counterpart = alert.recipient if side == "sender" else alert.sender
    message = new_message(
        node,
        _MESSAGES[action],
        recipient=counterpart,
        case_id=case_id,
        payload=payload,
    )
    queued = send(
        session,
        node,
        message,
        f"alert.{action.value}",
        actor,
        counterpart=counterpart,
        **step_texts(payload, alert),
    )
    content = payload.model_dump(mode="json")
    add_entry(session, node, alert, action, node.agency, queued.message_id, content)
    return Sent(case_id, queued.message_id)


def acknowledge_by_rule(session: Session, node: Node, row: InboxMessage) -> None:
    """After a received alert is admitted: acknowledge it here if a rule says no person need.

    Runs in the dispatcher's transaction for the inbox row, so the
    acknowledgement, its message and its audit entry commit with the row's
    "processed" mark, once. The actor is the node itself, which the trail shows.
    """
    alert = locked(session, row.case_id)
    if alert is None or alert.recipient != node.agency:
        return
    if AlertStatus(alert.status) not in AWAITING_ACK:
        # A re-sent alert we already acknowledged, or one closed meanwhile.
        return
    content = AlertContent.model_validate(alert.content)
    if acknowledged_by_rule(content.kind, content.category, content.severity):
        _take_step(
            session,
            node,
            row.case_id,
            AlertAction.ACK,
            AlertAckPayload(),
            Actor.system(node.agency),
        )


def escalate(session: Session, node: Node, deadline: deadlines.DeadlineRow) -> None:
    """No acknowledgement in time: urgent here, marked for the fallback; the sender re-sends.

    Our duty officer is told by the watcher itself (``audit.deadline.overdue``
    through the notifier); this step adds what an alert needs on top.
    """
    alert = locked(session, deadline.case_id)
    if alert is None or AlertStatus(alert.status) not in AWAITING_ACK:
        return
    now = node.now()
    alert.escalated_at = now
    alert.fallback = "required"
    alert.updated_at = now
    common: dict[str, Any] = {
        "actor": Actor.system(node.agency),
        "occurred_at": now,
        "source_tz": node.timezone,
        "case_id": alert.case_id,
    }
    if alert.sender != node.agency:
        record(session, "alert.ack_overdue_recipient", counterpart=alert.sender, **common)
        return
    alert.resent += 1
    queued = enqueue(
        session,
        node,
        new_message(
            node,
            AlertRaiseMessage,
            recipient=alert.recipient,
            case_id=alert.case_id,
            created_at=now,
            payload=AlertRaisePayload(
                alert=AlertContent.model_validate(alert.content), resent=alert.resent
            ),
        ),
    )
    record(
        session,
        "alert.ack_overdue_sender",
        counterpart=alert.recipient,
        resent=alert.resent,
        message_id=queued.message_id,
        message_digest=queued.digest,
        **common,
    )


HANDLERS = WorkflowHandlers(
    # Low-severity information notices are acknowledged by rule, not by a person.
    react={MessageType.ALERT_RAISE: acknowledge_by_rule},
    escalate={ACK_RULE: escalate},
)
