"""What an officer reads about an alert names things in words, never by their codes.

The codes stay what is stored and exchanged; the audit trail, the command line's
errors and the case list show their labels in the reader's language.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from crossborder.adapters.db.tables import AuditEntry
from crossborder.audit.render import render
from crossborder.cli.main import app
from crossborder.domain.actors import Actor
from crossborder.domain.alert_lifecycle import AlertAction
from crossborder.domain.alerts import AlertAckPayload, AlertContent, AlertRaisePayload
from crossborder.domain.messages import AlertRaiseMessage
from crossborder.i18n import LOCALES
from crossborder.services import alert_inbound, alerts
from crossborder.services.alert_views import FallbackChannel, reconcile
from crossborder.services.deadlines import watch
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import make_node

runner = CliRunner(env={"COLUMNS": "200"})
GUARD = Actor.officer("huang.jun", "CN-GXBC")


def distress() -> AlertContent:
    return AlertContent.model_validate(
        {
            "category": "maritime_sar",
            "severity": "extreme",
            "description": {"lang": "zh-Hans", "text": "渔船遇险，请求协助搜救。"},
            "position": {"lat": 21.35, "lon": 108.12},
            "handling": {"audience": "all"},
        }
    )


@pytest.fixture
def cn(make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock) -> Iterator[Node]:
    node = make_node("cn", make_db_url("cn"), tmp_path, clock, agency="CN-GXBC")
    yield node
    node.close()


def test_the_channel_an_alert_went_by_is_named_in_the_readers_language(
    cn: Node, clock: Clock
) -> None:
    case_id = alerts.raise_alert(cn, distress(), "VN-MRCC", GUARD).case_id
    clock.advance(minutes=15, seconds=1)
    watch(cn)  # the acknowledgement is late: the alert is marked for the fallback
    reconcile(cn, case_id, FallbackChannel.EMAIL, "trực ban MRCC, 21:40", GUARD)
    with cn.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.event == "alert.reconciled")
        ).one()
    assert entry.params["channel"] == "email"  # the trail keeps the code
    texts = {locale: render(entry, locale, "Asia/Shanghai").text for locale in LOCALES}
    assert "电子邮件" in texts["zh_Hans"]
    assert "thư điện tử" in texts["vi"]
    assert "e-mail" in texts["en"]
    assert not any("email" in text for text in texts.values()), texts


# --- the command line (SQLite only: each command opens a node of its own and leaves it) ---


def cli(config: Path, *arguments: str) -> Any:
    return runner.invoke(app, [*arguments, "--config", str(config)])


def received_alert(node: Node) -> str:
    """An alert a Vietnamese border guard post raised to this node; its case id."""
    message = AlertRaiseMessage(
        message_id=uuid.UUID("01a21f10-0000-7000-8000-0000000000d1"),
        sender="VN-BGLS",
        recipient=node.agency,
        case_id="VN-BGLS-20261127-4C2E01",
        created_at=node.now(),
        payload=AlertRaisePayload(alert=distress()),
    )
    actor = Actor(kind="system", id="VN-BGLS", agency="VN-BGLS", role="counterpart")
    with node.transaction() as session:
        alert_inbound.admit_raise(session, node, message, "digest", actor)
    return message.case_id


def test_a_refused_step_names_the_alerts_status_and_the_step_by_their_labels(
    guard_node: Node, guard_config: Path
) -> None:
    case_id = received_alert(guard_node)
    alerts.act(guard_node, case_id, AlertAction.ACK, AlertAckPayload(), GUARD)

    again = cli(guard_config, "alert", "ack", case_id, "--lang", "vi")
    assert again.exit_code == 1
    assert "ALERT_TRANSITION_ILLEGAL" in again.stderr
    assert "Không thể thực hiện “xác nhận” với cảnh báo ở trạng thái “đã xác nhận”" in (
        again.stderr
    )

    withdrawn = cli(
        guard_config, "alert", "withdraw", case_id, "--reason", "误报", "--lang", "zh_Hans"
    )
    assert withdrawn.exit_code == 1
    assert "ALERT_ACTION_SENDER_ONLY" in withdrawn.stderr
    assert "只有发出预警的一方可以执行“撤回预警”" in withdrawn.stderr


def test_the_case_list_shows_an_alerts_category_by_its_label(
    guard_node: Node, guard_config: Path
) -> None:
    case_id = received_alert(guard_node)
    listed = cli(guard_config, "case", "list", "--lang", "vi")
    assert listed.exit_code == 0 and case_id in listed.output
    assert "tìm kiếm, cứu nạn trên biển" in listed.output
    assert "maritime_sar" not in listed.output

    shown = cli(guard_config, "case", "show", case_id, "--lang", "zh_Hans")
    assert shown.exit_code == 0 and "海上搜救" in shown.output
