"""Reading alerts back: the duty officer's picture, exports, and the offline fallback.

A handling restriction is kept on this side too: an alert for border guards is
not listed or shown to a reader in another role, and an export made for
another audience carries its facts but not its free text. When the
acknowledgement is overdue the alert is marked for the fallback: a printable
notice in both sides' languages, sent by phone, fax or e-mail, and reconciled
here once it has gone (:func:`reconcile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import Alert, AlertEntry, Deadline
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.alert_lifecycle import OPEN
from crossborder.domain.alerts import Audience, visible_to
from crossborder.domain.errors import Conflict, NotFound
from crossborder.reference.alert_ack_rules import ACK_RULE
from crossborder.services.deadlines import is_late, late_at
from crossborder.services.node import Node

#: Fields of an alert's content that a person wrote.
FREE_TEXT_FIELDS = ("description", "description_other", "measures")
WITHHELD = "withheld"


class FallbackChannel(StrEnum):
    PHONE = "phone"
    FAX = "fax"
    EMAIL = "email"


@dataclass(frozen=True)
class AlertView:
    alert: Alert
    entries: list[AlertEntry]
    deadline: Deadline | None

    def overdue(self, now: datetime) -> bool:
        """The acknowledgement is late, whether or not the watcher has been round yet."""
        return self.deadline is not None and is_late(self.deadline, now)


def _ack_deadline(session: Session, case_id: str) -> Deadline | None:
    return session.scalars(
        select(Deadline).where(Deadline.case_id == case_id, Deadline.rule_key == ACK_RULE)
    ).one_or_none()


def alert_view(node: Node, case_id: str, role: str | None = None) -> AlertView:
    """One alert with its thread; ``ALERT_UNKNOWN`` also for a reader it is withheld from."""
    with node.sessions() as session:
        alert = session.get(Alert, case_id)
        if alert is None or not visible_to(Audience(alert.audience), role):
            raise NotFound("ALERT_UNKNOWN", case_id=case_id)
        entries = list(
            session.scalars(
                select(AlertEntry).where(AlertEntry.case_id == case_id).order_by(AlertEntry.id)
            )
        )
        return AlertView(alert, entries, _ack_deadline(session, case_id))


def list_alerts(
    node: Node, *, open_only: bool = False, overdue_only: bool = False, role: str | None = None
) -> list[AlertView]:
    """Alerts, escalated first, then newest first; ``role`` leaves out those it may not see."""
    query = select(Alert).order_by(Alert.escalated_at.is_(None), Alert.raised_at.desc())
    if open_only:
        query = query.where(Alert.status.in_([status.value for status in OPEN]))
    if overdue_only:
        query = query.join(
            Deadline, and_(Deadline.case_id == Alert.case_id, Deadline.rule_key == ACK_RULE)
        ).where(late_at(node.now()))
    with node.sessions() as session:
        alerts = [
            alert for alert in session.scalars(query) if visible_to(Audience(alert.audience), role)
        ]
        return [AlertView(alert, [], _ack_deadline(session, alert.case_id)) for alert in alerts]


def export(view: AlertView, audience: str) -> dict[str, Any]:
    """The alert as data for ``audience``: its free text withheld if it is not for them."""
    alert = view.alert
    content = dict(alert.content)
    shown = visible_to(Audience(alert.audience), audience)
    if not shown:
        for name in FREE_TEXT_FIELDS:
            if content.get(name) is not None:
                content[name] = WITHHELD
    entries = [
        {
            "action": entry.action,
            "author": entry.author,
            "recorded_at": entry.recorded_at.isoformat(),
            "content": entry.content if shown else {},
        }
        for entry in view.entries
    ]
    return {
        "case_id": alert.case_id,
        "sender": alert.sender,
        "recipient": alert.recipient,
        "status": alert.status,
        "alert": content,
        "entries": entries,
    }


def mark_fallback_printed(node: Node, case_id: str, actor: Actor) -> None:
    """Record that the printable notice was produced (it is about to go by another channel)."""
    with node.transaction() as session:
        alert = session.get(Alert, case_id, with_for_update=True)
        if alert is None:
            raise NotFound("ALERT_UNKNOWN", case_id=case_id)
        record(
            session,
            "alert.fallback_printed",
            actor=actor,
            occurred_at=node.now(),
            source_tz=node.timezone,
            case_id=case_id,
            counterpart=alert.recipient if alert.sender == node.agency else alert.sender,
        )


def reconcile(
    node: Node, case_id: str, channel: FallbackChannel, reference: str, actor: Actor
) -> None:
    """The alert went by ``channel`` while the system could not deliver it: record it.

    ``reference`` is what the other channel left behind (a fax number and time,
    the name of the officer who took the call), kept in the audit trail.
    """
    with node.transaction() as session:
        alert = session.get(Alert, case_id, with_for_update=True)
        if alert is None:
            raise NotFound("ALERT_UNKNOWN", case_id=case_id)
        if alert.fallback != "required":
            raise Conflict("ALERT_FALLBACK_NOT_REQUIRED", case_id=case_id)
        alert.fallback = "reconciled"
        alert.updated_at = node.now()
        record(
            session,
            "alert.reconciled",
            actor=actor,
            occurred_at=node.now(),
            source_tz=node.timezone,
            case_id=case_id,
            channel=channel.value,
            reference=reference,
        )
