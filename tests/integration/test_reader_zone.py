"""The duty officer reads a due time on their own clock, like the audit trail shows it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from crossborder.adapters.db.tables import AuditEntry
from crossborder.domain.actors import Actor
from crossborder.domain.alerts import AlertContent
from crossborder.services import alerts
from crossborder.services.deadlines import watch
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import make_node

OFFICER_VN = Actor.officer("nguyen.van.an", "VN-CUSKV6")


def food_alert() -> AlertContent:
    return AlertContent.model_validate(
        {
            "category": "food_safety",
            "severity": "moderate",
            "description": {"lang": "vi", "text": "Phát hiện lô thanh long nhiễm khuẩn."},
            "handling": {"audience": "all"},
        }
    )


@pytest.fixture
def vn(make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock) -> Iterator[Node]:
    node = make_node("vn", make_db_url("vn"), tmp_path, clock)
    yield node
    node.close()


def test_the_duty_officer_reads_the_due_time_on_their_own_clock(
    vn: Node, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    alerts.raise_alert(vn, food_alert(), "CN-NNCUS", OFFICER_VN)
    clock.advance(days=10)
    with caplog.at_level(logging.WARNING, logger="crossborder.services.node"):
        watch(vn)
    with vn.sessions() as session:
        stored = session.scalars(
            select(AuditEntry.params).where(AuditEntry.event == "deadline.overdue")
        ).one()
    assert stored["due"].endswith("+08:00")  # kept on the acting Chinese side's clock
    told = [record.getMessage() for record in caplog.records if "duty officer" in record.message]
    assert told, caplog.text
    overdue = told[-1]
    assert "(+07:00)" in overdue and stored["due"] not in overdue
    assert "CN-NNCUS" not in overdue.split(": ", 1)[1]  # the acting agency by its name
