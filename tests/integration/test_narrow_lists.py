"""The lists an officer types the next command from keep every case id whole at 80 columns.

The id is what the officer types next: whatever the language of the headers
around it, it is never cut with an ellipsis nor broken over two lines; the
other columns fold. SQLite only: each command opens a node of its own.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from crossborder.cli.main import app
from crossborder.domain.actors import Actor
from crossborder.domain.alerts import AlertContent, AlertRaisePayload
from crossborder.domain.messages import AlertRaiseMessage
from crossborder.i18n import LOCALES
from crossborder.services import alert_inbound, alerts
from crossborder.services.node import Node

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


def received_alert(node: Node) -> str:
    """An alert the Vietnamese border guard post at Lạng Sơn raised to this node; its case id."""
    message = AlertRaiseMessage(
        message_id=uuid.UUID("01a21f10-0000-7000-8000-0000000000e1"),
        sender="VN-BGLS",
        recipient=node.agency,
        case_id="VN-BGLS-20261127-9B0D44",
        created_at=node.now(),
        payload=AlertRaisePayload(alert=distress()),
    )
    actor = Actor(kind="system", id="VN-BGLS", agency="VN-BGLS", role="counterpart")
    with node.transaction() as session:
        alert_inbound.admit_raise(session, node, message, "digest", actor)
    return message.case_id


narrow = CliRunner(env={"COLUMNS": "80"})


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("command", [["case", "list"], ["alert", "list"], ["deadlines", "list"]])
def test_every_case_id_stays_whole_on_one_line_at_80_columns(
    guard_node: Node, guard_config: Path, command: list[str], locale: str
) -> None:
    raised = alerts.raise_alert(guard_node, distress(), "VN-MRCC", GUARD).case_id
    received = received_alert(guard_node)

    listed = narrow.invoke(app, [*command, "--lang", locale, "--config", str(guard_config)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert max(cell_len(line) for line in lines) <= 80  # laid out for 80 columns indeed
    for case_id in (raised, received):
        assert any(case_id in line for line in lines), listed.output
