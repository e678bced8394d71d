"""Two border-guard nodes on loopback exchange an alert: the thread, escalation, redelivery."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import Alert, AlertEntry, AuditEntry, Deadline, OutboxMessage
from crossborder.domain.actors import Actor
from crossborder.domain.alert_lifecycle import AlertAction
from crossborder.domain.alerts import (
    AlertAckPayload,
    AlertClosePayload,
    AlertContent,
    AlertFollowUpPayload,
    AlertUpdatePayload,
    ClosureReason,
)
from crossborder.domain.errors import Conflict, Forbidden
from crossborder.domain.free_text import FreeText
from crossborder.services import alerts
from crossborder.services.alert_views import alert_view
from crossborder.services.deadlines import watch
from crossborder.services.delivery import deliver_due
from crossborder.services.node import Node
from crossborder.services.registry import add_client
from flows.alerts import (
    AlertStepRequest,
    RaiseAlertRequest,
    alert_step,
    handle_incoming_alert,
    raise_alert,
)
from flows.runtime import use
from tests.conftest import Clock
from tests.factories import connect, make_node, register_staff, serving, wait_for

pytestmark = pytest.mark.e2e

GUARD_CN = Actor.officer("huang.jun", "CN-GXBC")
GUARD_VN = Actor.officer("tran.van.binh", "VN-BGLS")


def smuggling(**changes: Any) -> AlertContent:
    return AlertContent.model_validate(
        {
            "category": "smuggling",
            "severity": "severe",
            "urgency": "immediate",
            "description": {"lang": "zh-Hans", "text": "货车疑载走私冻品，今晚经便道出境。"},
            "vehicle": {"plate": "桂F3A271"},
            "handling": {"audience": "border_guard", "personal_data": True},
            **changes,
        }
    )


def distress() -> AlertContent:
    return AlertContent.model_validate(
        {
            "category": "maritime_sar",
            "severity": "extreme",
            "description": {"lang": "zh-Hans", "text": "渔船进水，船上6人。"},
            "vessel": {"name": "桂北渔 60188"},
            "position": {"lat": 21.35, "lon": 108.12},
        }
    )


@pytest.fixture
def guards(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock, agency="CN-GXBC")
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock, agency="VN-BGLS")
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    yield cn, vn
    cn.close()
    vn.close()


def events(node: Node, case_id: str) -> list[str]:
    with node.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry.event)
                .where(AuditEntry.case_id == case_id)
                .order_by(AuditEntry.seq)
            )
        )


def status(node: Node, case_id: str) -> str:
    return alert_view(node, case_id).alert.status


def ack_deadline(node: Node, case_id: str) -> Deadline:
    with node.sessions() as session:
        return session.scalars(select(Deadline).where(Deadline.case_id == case_id)).one()


def raised(cn: Node, vn: Node, content: AlertContent) -> str:
    case_id = alerts.raise_alert(cn, content, vn.agency, GUARD_CN).case_id
    deliver_due(cn)
    wait_for(lambda: status(vn, case_id) == "received")
    return case_id


def test_an_alert_is_raised_acknowledged_followed_up_and_closed(
    guards: tuple[Node, Node],
) -> None:
    cn, vn = guards
    with serving(cn), serving(vn):
        case_id = raised(cn, vn, smuggling())
        assert status(cn, case_id) == "sent"
        with pytest.raises(Forbidden) as own_ack:
            alerts.act(cn, case_id, AlertAction.ACK, AlertAckPayload(), GUARD_CN)
        assert own_ack.value.code == "ACK_FROM_NON_RECIPIENT"

        note = FreeText(lang="vi", text="Đã nhận, đang triển khai tổ tuần tra.")
        alerts.act(vn, case_id, AlertAction.ACK, AlertAckPayload(note=note), GUARD_VN)
        wait_for(lambda: status(cn, case_id) == "acknowledged")
        finding = FreeText(lang="vi", text="Đã chặn xe tại đường mòn.")
        alerts.act(vn, case_id, AlertAction.FOLLOW_UP, AlertFollowUpPayload(text=finding), GUARD_VN)
        wait_for(lambda: len(alert_view(cn, case_id).entries) == 3)
        alerts.act(
            vn,
            case_id,
            AlertAction.CLOSE,
            AlertClosePayload(reason=ClosureReason.RESOLVED),
            GUARD_VN,
        )
        wait_for(lambda: status(cn, case_id) == "closed")

    assert status(vn, case_id) == "closed"
    assert ack_deadline(cn, case_id).status == ack_deadline(vn, case_id).status == "met"
    # Both sides count the deadline on the recipient's clock: the same instant.
    assert ack_deadline(cn, case_id).due_at == ack_deadline(vn, case_id).due_at
    assert [entry.action for entry in alert_view(cn, case_id).entries] == [
        "raise",
        "ack",
        "follow_up",
        "close",
    ]
    assert alert_view(cn, case_id).entries[2].content["text"] == finding.model_dump()
    assert events(cn, case_id) == [
        "deadline.registered",
        "alert.raise",
        "message.delivered",
        "message.received",
        "deadline.met",
        "alert.ack_received",
        "message.received",
        "alert.follow_up_received",
        "message.received",
        "alert.close_received",
    ]
    vn_events = events(vn, case_id)
    # vn's delivery loop records each delivery when it gets to it: only the steps are ordered.
    assert [event for event in vn_events if event != "message.delivered"] == [
        "message.received",
        "deadline.registered",
        "alert.raise_received",
        "deadline.met",
        "alert.ack",
        "alert.follow_up",
        "alert.close",
    ]
    assert vn_events.count("message.delivered") == 3
    with pytest.raises(Conflict) as again:
        alerts.act(vn, case_id, AlertAction.ACK, AlertAckPayload(), GUARD_VN)
    assert again.value.code == "ALERT_CLOSED"


def test_a_low_severity_information_notice_is_acknowledged_by_rule(
    guards: tuple[Node, Node],
) -> None:
    """The node notes a minor information notice itself (``alert_auto_ack.json``)."""
    cn, vn = guards
    notice = smuggling(kind="information", severity="minor", urgency="future")
    with serving(cn), serving(vn):
        noted = alerts.raise_alert(cn, notice, vn.agency, GUARD_CN).case_id
        urgent = alerts.raise_alert(cn, smuggling(), vn.agency, GUARD_CN).case_id
        deliver_due(cn)
        wait_for(lambda: status(cn, noted) == "acknowledged")
        wait_for(lambda: status(vn, urgent) == "received")
    assert status(vn, noted) == "acknowledged"
    assert ack_deadline(cn, noted).status == ack_deadline(vn, noted).status == "met"
    with vn.sessions() as session:
        ack = session.scalars(
            select(AuditEntry).where(AuditEntry.case_id == noted, AuditEntry.event == "alert.ack")
        ).one()
    assert (ack.actor_kind, ack.actor_agency) == ("system", "VN-BGLS")
    # Dispatched like the first, the severe one is still the duty officer's to acknowledge.
    assert status(cn, urgent) == "sent"
    assert ack_deadline(vn, urgent).status == "open"


def test_a_raised_severity_shortens_the_acknowledgement_time_on_both_sides(
    guards: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = guards
    with serving(cn), serving(vn):
        case_id = raised(cn, vn, smuggling())  # severe: 8 hours
        first_due = ack_deadline(vn, case_id).due_at
        clock.advance(minutes=30)
        worse = smuggling(severity="extreme")  # 2 hours, still from the raise
        note = FreeText(lang="zh-Hans", text="嫌疑人携带武器。")
        update = AlertUpdatePayload(alert=worse, note=note)
        alerts.act(cn, case_id, AlertAction.UPDATE, update, GUARD_CN)
        deliver_due(cn)
        wait_for(lambda: ack_deadline(vn, case_id).due_at != first_due)
    assert ack_deadline(cn, case_id).due_at == ack_deadline(vn, case_id).due_at
    assert ack_deadline(vn, case_id).due_at == first_due - timedelta(hours=6)
    assert "deadline.rescheduled" in events(cn, case_id)
    assert "deadline.rescheduled" in events(vn, case_id)
    # The new time is what the watcher holds the recipient to.
    clock.now = first_due - timedelta(hours=6) + timedelta(seconds=1)
    assert [taken.step for taken in watch(vn).taken] == ["overdue"]


def test_a_late_acknowledgement_escalates_on_both_sides(
    guards: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = guards
    with serving(cn), serving(vn, run_workers=False):
        case_id = raised(cn, vn, distress())
        clock.advance(minutes=11)  # five minutes left: a reminder, once however often it runs
        watch(cn)
        watch(cn)
        clock.advance(minutes=5)  # fifteen minutes gone, no acknowledgement
        watch(cn)
        watch(vn)
        deliver_due(cn)  # the re-sent alert (unless cn's own delivery loop was first)
        wait_for(lambda: alert_view(vn, case_id).alert.resent == 1)

        view = alert_view(cn, case_id)
        assert view.alert.fallback == "required" and view.alert.escalated_at is not None
        assert alert_view(vn, case_id).alert.fallback == "required"
        with vn.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Alert)) == 1
            assert session.scalar(select(func.count()).select_from(AlertEntry)) == 1
        # Acknowledged late: the deadline is met, late, on both sides.
        alerts.act(vn, case_id, AlertAction.ACK, AlertAckPayload(), GUARD_VN)
        deliver_due(vn)
        wait_for(lambda: status(cn, case_id) == "acknowledged")

    cn_events, vn_events = events(cn, case_id), events(vn, case_id)
    assert cn_events.count("deadline.reminder") == 1
    assert {"deadline.overdue", "alert.ack_overdue_sender", "deadline.met_late"} <= set(cn_events)
    assert {"alert.ack_overdue_recipient", "alert.resent_received"} <= set(vn_events)
    with cn.sessions() as session:
        sent = list(session.scalars(select(OutboxMessage.type).order_by(OutboxMessage.id)))
    assert sent == ["alert.raise", "alert.raise"]


def test_the_same_alert_delivered_twice_is_one_alert(guards: tuple[Node, Node]) -> None:
    cn, vn = guards
    with serving(vn, run_workers=False):
        case_id = alerts.raise_alert(cn, smuggling(), vn.agency, GUARD_CN).case_id
        with cn.sessions() as session:
            signed = session.scalars(select(OutboxMessage.signed)).one()
        first = cn.counterparts.deliver(vn.agency, signed)
        second = cn.counterparts.deliver(vn.agency, signed)

    assert first.kind == second.kind == "delivered" and first.receipt == second.receipt
    assert events(vn, case_id) == [
        "message.received",
        "deadline.registered",
        "alert.raise_received",
    ]
    with vn.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Deadline)) == 1


def test_an_alert_waits_in_the_outbox_while_the_counterpart_is_down(
    guards: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = guards
    case_id = alerts.raise_alert(cn, smuggling(), vn.agency, GUARD_CN).case_id
    assert set(deliver_due(cn).values()) == {"pending"}
    with serving(vn):
        clock.advance(seconds=2)
        assert set(deliver_due(cn).values()) == {"delivered"}
        wait_for(lambda: status(vn, case_id) == "received")
    # Received later, the deadline is still counted from when the alert was raised.
    assert ack_deadline(vn, case_id).due_at == ack_deadline(cn, case_id).due_at


def test_a_client_without_the_audience_scope_cannot_deliver_a_restricted_alert(
    guards: tuple[Node, Node], tmp_path: Path
) -> None:
    cn, vn = guards
    # The Vietnamese operator lets the Chinese node write alerts, but not to its border guards.
    add_client(
        vn,
        client_id=cn.agency,
        agency=cn.agency,
        jwks_source=str(tmp_path / f"{cn.agency}-jwks.json"),
        scopes="alert:write co:write",
        actor=Actor.officer("operator", vn.agency),
    )
    with serving(vn, run_workers=False):
        case_id = alerts.raise_alert(cn, smuggling(), vn.agency, GUARD_CN).case_id
        outcome = deliver_due(cn)

    assert set(outcome.values()) == {"failed"}
    with vn.sessions() as session:
        assert session.get(Alert, case_id) is None
    with cn.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert row.last_error is not None and "SCOPE_MISSING" in row.last_error


def test_the_flows_raise_acknowledge_and_close_an_alert(
    prefect_local: None, tmp_path: Path, clock: Clock
) -> None:
    cn = make_node("cn", f"sqlite:///{tmp_path / 'cn.db'}", tmp_path, clock, agency="CN-GXBC")
    vn = make_node("vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock, agency="VN-BGLS")
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    register_staff(cn)
    register_staff(vn)
    with serving(cn), serving(vn):
        with use(cn):
            sent = raise_alert(
                RaiseAlertRequest(alert=smuggling(), recipient=vn.agency, officer="officer")
            )
        assert sent.delivery == "delivered"
        wait_for(lambda: status(vn, sent.case_id) == "received")
        with use(vn):
            acked = handle_incoming_alert(sent.case_id, "officer")
            closing = AlertClosePayload(reason=ClosureReason.NO_FURTHER_ACTION)
            closed = alert_step(
                AlertStepRequest(case_id=sent.case_id, step=closing, officer="officer")
            )
        assert acked.delivery == closed.delivery == "delivered"
        wait_for(lambda: status(cn, sent.case_id) == "closed")
    assert [entry.action for entry in alert_view(cn, sent.case_id).entries] == [
        "raise",
        "ack",
        "close",
    ]
    cn.close()
    vn.close()
