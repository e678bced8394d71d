"""The life of an alert, the same on both sides of the border.

draft → sent (at the sender) / received (at the recipient) → acknowledged →
any number of updates and follow-ups → closed, or withdrawn by the sender.
Updates and follow-ups do not change the state: they add to the thread. Each
action is checked here, by who takes it (the alert's sender or its recipient)
and the state the alert is in; an illegal one is an error with a stable code
and changes nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

from crossborder.domain.errors import Conflict, Forbidden, NotFound


class AlertStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class AlertAction(StrEnum):
    RAISE = "raise"
    UPDATE = "update"
    FOLLOW_UP = "follow_up"
    ACK = "ack"
    CLOSE = "close"
    WITHDRAW = "withdraw"


#: Which party to the alert takes the action.
Side = Literal["sender", "recipient"]

OPEN: Final = frozenset({AlertStatus.SENT, AlertStatus.RECEIVED, AlertStatus.ACKNOWLEDGED})
AWAITING_ACK: Final = frozenset({AlertStatus.SENT, AlertStatus.RECEIVED})
#: Actions only the sender takes: CAP's Update and Cancel belong to the originator.
SENDER_ONLY: Final = frozenset({AlertAction.UPDATE, AlertAction.WITHDRAW})
#: Actions that end the alert; the others add to its thread and leave the state as it is.
_ENDS: Final = {AlertAction.CLOSE: AlertStatus.CLOSED, AlertAction.WITHDRAW: AlertStatus.WITHDRAWN}


def _check_open(current: AlertStatus | None) -> AlertStatus:
    if current is None or current is AlertStatus.DRAFT:
        raise NotFound("ALERT_UNKNOWN")
    if current is AlertStatus.CLOSED:
        raise Conflict("ALERT_CLOSED")
    if current is AlertStatus.WITHDRAWN:
        raise Conflict("ALERT_WITHDRAWN")
    return current


def next_status(current: AlertStatus | None, action: AlertAction, side: Side) -> AlertStatus:
    """The state after ``side`` takes ``action`` on an alert in ``current`` (``None``: unknown)."""
    if action is AlertAction.RAISE:
        if current not in (None, AlertStatus.DRAFT):
            raise Conflict("ALERT_TRANSITION_ILLEGAL", status=str(current), action=action.value)
        return AlertStatus.SENT if side == "sender" else AlertStatus.RECEIVED
    current = _check_open(current)
    if action is AlertAction.ACK:
        if side != "recipient":
            raise Forbidden("ACK_FROM_NON_RECIPIENT")
        if current not in AWAITING_ACK:
            raise Conflict("ALERT_TRANSITION_ILLEGAL", status=current.value, action=action.value)
        return AlertStatus.ACKNOWLEDGED
    if action in SENDER_ONLY and side != "sender":
        raise Forbidden("ALERT_ACTION_SENDER_ONLY", action=action.value)
    return _ENDS.get(action, current)
