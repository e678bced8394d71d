"""Alerts on one real node: bad input, escalation with the watcher, views and the CLI.

On SQLite and PostgreSQL. The counterpart is not running here: what the node
sends stays in its outbox, which is what an escalation must cope with.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from crossborder.adapters.db.tables import Alert, AuditEntry, Case, Deadline, OutboxMessage
from crossborder.cli.main import app
from crossborder.domain.actors import Actor
from crossborder.domain.alert_lifecycle import AlertAction
from crossborder.domain.alerts import (
    AlertAckPayload,
    AlertClosePayload,
    AlertContent,
    AlertFollowUpPayload,
    AlertRaisePayload,
    ClosureReason,
)
from crossborder.domain.errors import CrossborderError
from crossborder.domain.free_text import FreeText
from crossborder.domain.messages import AlertAckMessage, AlertRaiseMessage
from crossborder.services import alert_inbound, alerts
from crossborder.services.alert_views import alert_view, export, list_alerts
from crossborder.services.deadlines import watch
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import make_node

runner = CliRunner(env={"COLUMNS": "200"})
GUARD = Actor.officer("huang.jun", "CN-GXBC")
TEXT = {"lang": "zh-Hans", "text": "嫌疑人持伪造证件，预计今晚出境。"}


def content(**changes: Any) -> AlertContent:
    data = {
        "category": "security",
        "severity": "severe",
        "description": TEXT,
        "handling": {"audience": "border_guard", "personal_data": True},
    }
    return AlertContent.model_validate({**data, **changes})


def distress() -> AlertContent:
    return content(
        category="maritime_sar",
        severity="extreme",
        position={"lat": 21.35, "lon": 108.12},
        handling={"audience": "all"},
    )


@pytest.fixture
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("cn")


@pytest.fixture
def cn(db_url: str, tmp_path: Path, clock: Clock) -> Iterator[Node]:
    node = make_node("cn", db_url, tmp_path, clock, agency="CN-GXBC")
    yield node
    node.close()


def counts(node: Node) -> tuple[int, ...]:
    with node.sessions() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Case, Alert, Deadline, OutboxMessage, AuditEntry)
        )


def refused(call: Callable[[], object]) -> str:
    with pytest.raises(CrossborderError) as error:
        call()
    return error.value.code


# --- bad input: a stable code, and nothing changes ---


def test_a_restriction_the_sender_may_not_set_changes_nothing(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    customs = make_node("cn", db_url, tmp_path, clock)  # CN-NNCUS, a customs office
    before = counts(customs)
    code = refused(lambda: alerts.raise_alert(customs, content(), "VN-BGLS", GUARD))
    assert code == "HANDLING_RESTRICTION_NOT_ALLOWED"
    assert counts(customs) == before
    customs.close()


def test_a_restricted_alert_is_not_sent_outside_its_audience(cn: Node) -> None:
    before = counts(cn)
    assert refused(lambda: alerts.raise_alert(cn, content(), "VN-CUSKV6", GUARD)) == (
        "ALERT_AUDIENCE_MISMATCH"
    )
    assert counts(cn) == before


def test_a_receiving_node_outside_the_audience_refuses_the_alert(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    customs = make_node("vn", db_url, tmp_path, clock)  # VN-CUSKV6, not a border guard
    message = AlertRaiseMessage(
        message_id=uuid.UUID("01a21f10-0000-7000-8000-0000000000c2"),
        sender="CN-GXBC",
        recipient=customs.agency,
        case_id="CN-GXBC-20261127-3B9D10",
        created_at=customs.now(),
        payload=AlertRaisePayload(alert=content()),
    )
    actor = Actor(kind="system", id="CN-GXBC", agency="CN-GXBC", role="counterpart")
    before = counts(customs)

    def admit() -> None:
        with customs.transaction() as session:
            alert_inbound.admit_raise(session, customs, message, "digest", actor)

    assert refused(admit) == "ALERT_AUDIENCE_MISMATCH"
    assert counts(customs) == before
    customs.close()


def test_steps_on_an_unknown_or_closed_alert_change_nothing(cn: Node) -> None:
    follow = AlertFollowUpPayload(text=FreeText(lang="zh-Hans", text="补充情况。"))
    unknown = "CN-GXBC-20261127-ABCDEF"
    before = counts(cn)
    assert refused(lambda: alerts.act(cn, unknown, AlertAction.FOLLOW_UP, follow, GUARD)) == (
        "ALERT_UNKNOWN"
    )
    assert counts(cn) == before

    case_id = alerts.raise_alert(cn, content(), "VN-BGLS", GUARD).case_id
    closing = AlertClosePayload(reason=ClosureReason.UNFOUNDED)
    alerts.act(cn, case_id, AlertAction.CLOSE, closing, GUARD)
    closed = counts(cn)
    assert refused(lambda: alerts.act(cn, case_id, AlertAction.FOLLOW_UP, follow, GUARD)) == (
        "ALERT_CLOSED"
    )
    assert counts(cn) == closed
    # Closing before any acknowledgement cancels the deadline: nothing to escalate.
    with cn.sessions() as session:
        assert session.scalars(select(Deadline.status)).one() == "cancelled"


def test_an_acknowledgement_from_an_agency_that_was_not_a_recipient_changes_nothing(
    cn: Node,
) -> None:
    case_id = alerts.raise_alert(cn, content(), "VN-BGLS", GUARD).case_id
    stranger = AlertAckMessage(
        message_id=uuid.UUID("01a21f10-0000-7000-8000-0000000000c1"),
        sender="VN-BGQN",
        recipient=cn.agency,
        case_id=case_id,
        created_at=cn.now(),
        payload=AlertAckPayload(),
    )
    before = counts(cn)
    actor = Actor(kind="system", id="VN-BGQN", agency="VN-BGQN", role="counterpart")

    def admit() -> None:
        with cn.transaction() as session:
            alert_inbound.admit_step(session, cn, stranger, "digest", actor)

    assert refused(admit) == "ACK_FROM_NON_RECIPIENT"
    assert counts(cn) == before
    assert alert_view(cn, case_id).alert.status == "sent"


def raise_message(node: Node, number: int, alert: AlertContent, resent: int) -> AlertRaiseMessage:
    return AlertRaiseMessage(
        message_id=uuid.UUID(f"01a21f10-0000-7000-8000-{number:012x}"),
        sender="CN-GXBC",
        recipient=node.agency,
        case_id="CN-GXBC-20261127-5E7A11",
        created_at=node.now(),
        payload=AlertRaisePayload(alert=alert, resent=resent),
    )


def test_a_case_id_reused_for_another_alert_is_refused_and_a_resend_is_one_alert(
    db_url: str, tmp_path: Path, clock: Clock
) -> None:
    vn = make_node("vn", db_url, tmp_path, clock)
    actor = Actor(kind="system", id="CN-GXBC", agency="CN-GXBC", role="counterpart")

    def admit(message: AlertRaiseMessage) -> None:
        with vn.transaction() as session:
            alert_inbound.admit_raise(session, vn, message, "digest", actor)

    first = distress()
    other = AlertContent.model_validate({**first.model_dump(mode="json"), "severity": "severe"})
    admit(raise_message(vn, 1, first, resent=0))
    admit(raise_message(vn, 2, first, resent=2))  # our acknowledgement is late
    admit(raise_message(vn, 3, first, resent=1))  # an earlier re-send, arriving late
    held = counts(vn)

    for number, (alert, resent) in enumerate([(other, 0), (other, 3), (first, 0)], start=4):
        reused = raise_message(vn, number, alert, resent)
        assert refused(lambda: admit(reused)) == "ALERT_CASE_REUSED"  # noqa: B023 (called at once)
    assert counts(vn) == held
    view = alert_view(vn, "CN-GXBC-20261127-5E7A11")
    assert view.alert.resent == 2
    assert view.alert.content == first.model_dump(mode="json")
    vn.close()


# --- escalation with the watcher, the counterpart down ---


def test_an_unacknowledged_distress_alert_is_resent_and_marked_for_the_fallback(
    cn: Node, clock: Clock
) -> None:
    case_id = alerts.raise_alert(cn, distress(), "VN-MRCC", GUARD).case_id
    with cn.sessions() as session:
        deadline = session.scalars(select(Deadline)).one()
    assert deadline.acting_agency == "VN-MRCC"
    assert deadline.due_at == cn.now() + timedelta(minutes=15)

    clock.advance(minutes=15, seconds=1)
    assert [taken.step for taken in watch(cn).taken] == ["overdue"]
    assert watch(cn).taken == []  # once

    view = alert_view(cn, case_id)
    assert view.alert.fallback == "required" and view.alert.resent == 1
    assert view.overdue(cn.now())
    with cn.sessions() as session:
        sent = list(session.scalars(select(OutboxMessage.type)))
        events = list(
            session.scalars(select(AuditEntry.event).where(AuditEntry.case_id == case_id))
        )
    assert sent == ["alert.raise", "alert.raise"]
    assert events[-2:] == ["deadline.overdue", "alert.ack_overdue_sender"]
    assert [v.alert.case_id for v in list_alerts(cn, open_only=True, overdue_only=True)] == [
        case_id
    ]


# --- views for other roles, exports for other audiences ---


def test_views_and_exports_keep_the_handling_restriction(cn: Node) -> None:
    restricted = alerts.raise_alert(cn, content(), "VN-BGLS", GUARD).case_id
    public = alerts.raise_alert(cn, distress(), "VN-MRCC", GUARD).case_id

    assert {v.alert.case_id for v in list_alerts(cn, role="customs")} == {public}
    assert {v.alert.case_id for v in list_alerts(cn, role="border_guard")} == {restricted, public}
    assert refused(lambda: alert_view(cn, restricted, role="customs")) == "ALERT_UNKNOWN"

    view = alert_view(cn, restricted)
    for_customs = export(view, "customs")
    assert for_customs["alert"]["description"] == "withheld"
    assert for_customs["alert"]["category"] == "security"
    assert export(view, "border_guard")["alert"]["description"] == TEXT
    # The audit trail is exported whole, by any role: it keeps only the open alert's text.
    with cn.sessions() as session:
        notes = {
            case_id: note
            for case_id, note in session.execute(
                select(AuditEntry.case_id, AuditEntry.params["note"]).where(
                    AuditEntry.event == "alert.raise"
                )
            )
        }
    assert notes[public] == TEXT and notes[restricted] is None


# --- the command line (SQLite only: each command opens a node of its own and leaves it) ---


def cli(config: Path, *arguments: str) -> Any:
    return runner.invoke(app, ["alert", *arguments, "--config", str(config)])


def test_the_duty_officer_lists_shows_and_falls_back(
    guard_node: Node, guard_config: Path, clock: Clock
) -> None:
    cn = guard_node
    case_id = alerts.raise_alert(cn, distress(), "VN-MRCC", GUARD).case_id
    clock.advance(minutes=16)
    watch(cn)
    listed = cli(guard_config, "list", "--open", "--overdue", "--lang", "vi")
    assert listed.exit_code == 0 and case_id in listed.output
    assert "quá hạn xác nhận" in listed.output

    shown = cli(guard_config, "show", case_id, "--lang", "vi")
    assert "tìm kiếm, cứu nạn trên biển" in shown.output and TEXT["text"] in shown.output

    notice = cli(guard_config, "fallback", case_id)
    assert notice.exit_code == 0
    assert "预警通知" in notice.output and "THÔNG BÁO CẢNH BÁO" in notice.output

    reconciled = cli(
        guard_config, "reconcile", case_id, "--channel", "fax", "--reference", "+84 ..."
    )
    assert reconciled.exit_code == 0
    again = cli(guard_config, "reconcile", case_id, "--channel", "fax", "--reference", "+84 ...")
    assert again.exit_code == 1 and "ALERT_FALLBACK_NOT_REQUIRED" in again.stderr
    with cn.sessions() as session:
        events = list(
            session.scalars(select(AuditEntry.event).where(AuditEntry.case_id == case_id))
        )
    assert {"alert.fallback_printed", "alert.reconciled"} <= set(events)


def test_a_bad_alert_file_is_refused_in_the_officers_language(
    guard_node: Node, guard_config: Path, tmp_path: Path
) -> None:
    alert_file = tmp_path / "alert.json"
    alert_file.write_text(json.dumps({"description": TEXT}), "utf-8")
    result = cli(guard_config, "raise", str(alert_file), "--to", "VN-BGLS", "--lang", "zh_Hans")
    assert result.exit_code == 1
    assert "ALERT_CATEGORY_MISSING" in result.stderr and "预警缺少类别" in result.stderr
    assert counts(guard_node)[1] == 0
