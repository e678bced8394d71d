"""Alerts a counterpart sends us: admitted inside the receipt's transaction.

The same checks as for our own steps (:mod:`crossborder.services.alerts`), with
the counterpart as the one who acts: a restricted alert must be for our kind of
agency, only the alert's two parties may act on it, and a re-sent alert (its
acknowledgement is late) raises the priority of the one we hold instead of
opening a second. Only a re-send: another alert under the same case id is
refused, never taken for one.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import Alert
from crossborder.domain.actors import Actor
from crossborder.domain.alert_lifecycle import (
    AWAITING_ACK,
    AlertAction,
    AlertStatus,
    Side,
    next_status,
)
from crossborder.domain.alerts import AlertContent
from crossborder.domain.errors import Conflict, Forbidden, NotFound
from crossborder.domain.messages import (
    AlertAckMessage,
    AlertCloseMessage,
    AlertFollowUpMessage,
    AlertRaiseMessage,
    AlertUpdateMessage,
    AlertWithdrawMessage,
    MessageType,
)
from crossborder.services.alerts import (
    ActionPayload,
    add_entry,
    apply_step,
    check_audience,
    locked,
    new_alert,
    register_ack_deadline,
    step_texts,
    summary,
)
from crossborder.services.exchange import note_received
from crossborder.services.node import Node, WorkflowHandlers

AlertStepMessage = (
    AlertUpdateMessage
    | AlertFollowUpMessage
    | AlertAckMessage
    | AlertCloseMessage
    | AlertWithdrawMessage
)


def admit_raise(
    session: Session, node: Node, message: AlertRaiseMessage, digest: str, actor: Actor
) -> None:
    """A counterpart's alert: checked against our kind, recorded, its deadline set on our side."""
    content = message.payload.alert
    existing = session.get(Alert, message.case_id, with_for_update=True)
    if existing is not None and existing.sender == message.sender:
        if not _is_resend(existing, message):
            raise Conflict("ALERT_CASE_REUSED", case_id=message.case_id)
        _admit_resend(session, node, existing, message, digest, actor)
        return
    check_audience(content, message.sender, node.agency)
    if existing is not None:
        next_status(AlertStatus(existing.status), AlertAction.RAISE, "recipient")
    alert = new_alert(
        session,
        node,
        message.case_id,
        message.sender,
        node.agency,
        content,
        message.created_at,
    )
    register_ack_deadline(session, node, alert, content, actor)
    add_entry(session, node, alert, AlertAction.RAISE, message.sender, str(message.message_id), {})
    note_received(
        session,
        node,
        message,
        digest,
        "alert.raise_received",
        actor,
        sender=message.sender,
        **summary(content),
    )


def _is_resend(alert: Alert, message: AlertRaiseMessage) -> bool:
    """The alert we hold, sent again because our acknowledgement is late.

    The sender re-sends the alert as it then stands, so its content is the one
    we hold (updates included) and its count is at least one. A count no higher
    than ours is an earlier re-send arriving late: still the same alert.
    """
    held = AlertContent.model_validate(alert.content).model_dump(mode="json")
    return message.payload.resent > 0 and message.payload.alert.model_dump(mode="json") == held


def _admit_resend(
    session: Session,
    node: Node,
    alert: Alert,
    message: AlertRaiseMessage,
    digest: str,
    actor: Actor,
) -> None:
    """The sender re-sent its alert (our acknowledgement is late): one alert, raised priority."""
    alert.resent = max(alert.resent, message.payload.resent)
    if alert.escalated_at is None and AlertStatus(alert.status) in AWAITING_ACK:
        alert.escalated_at = node.now()
    alert.updated_at = node.now()
    note_received(
        session,
        node,
        message,
        digest,
        "alert.resent_received",
        actor,
        sender=message.sender,
        resent=message.payload.resent,
    )


def admit_step(
    session: Session, node: Node, message: AlertStepMessage, digest: str, actor: Actor
) -> None:
    """Any step after the raise: checked and applied as our own steps are, with the sender acting.

    The step is the message type's (``alert.follow_up`` is the ``follow_up`` step).
    """
    action = AlertAction(message.type.value.removeprefix("alert."))
    payload: ActionPayload = message.payload
    alert = locked(session, message.case_id)
    parties: dict[str, Side] = (
        {alert.sender: "sender", alert.recipient: "recipient"} if alert else {}
    )
    side = parties.get(message.sender)
    if alert is not None and side is None:
        # Only the two parties to an alert act on it; a third agency learns nothing of it.
        if action is AlertAction.ACK:
            raise Forbidden("ACK_FROM_NON_RECIPIENT")
        raise NotFound("ALERT_UNKNOWN")
    alert = apply_step(session, node, alert, action, side or "recipient", payload, actor)
    content = payload.model_dump(mode="json")
    add_entry(session, node, alert, action, message.sender, str(message.message_id), content)
    note_received(
        session,
        node,
        message,
        digest,
        f"alert.{action.value}_received",
        actor,
        counterpart=message.sender,
        **step_texts(payload, alert),
    )


HANDLERS = WorkflowHandlers(
    admit={
        MessageType.ALERT_RAISE: admit_raise,
        MessageType.ALERT_UPDATE: admit_step,
        MessageType.ALERT_FOLLOW_UP: admit_step,
        MessageType.ALERT_ACK: admit_step,
        MessageType.ALERT_CLOSE: admit_step,
        MessageType.ALERT_WITHDRAW: admit_step,
    }
)
