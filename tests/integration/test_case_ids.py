"""A case id carries the day of the node that opened it, on that node's own calendar."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from crossborder.adapters.db.tables import OutboxMessage
from crossborder.domain.actors import Actor
from crossborder.domain.alerts import AlertContent
from crossborder.domain.errors import Conflict
from crossborder.services import alerts, certificate_of_origin
from crossborder.services.audit_log import checkpoint
from crossborder.services.cases import check_case_new
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node

OFFICER_CN = Actor.officer("li.wei", "CN-NNCUS")
OFFICER_VN = Actor.officer("nguyen.van.an", "VN-CUSKV6")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def food_alert() -> AlertContent:
    return AlertContent.model_validate(
        {
            "category": "food_safety",
            "severity": "moderate",
            "description": {"lang": "vi", "text": "Phát hiện lô thanh long nhiễm khuẩn."},
            "handling": {"audience": "all"},
        }
    )


def test_a_case_id_carries_the_day_of_the_node_that_opened_it(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> None:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(cn, vn, tmp_path)
    try:
        # 23:30 on 4 December in Lạng Sơn, already 00:30 on the 5th in Nanning.
        clock.now = utc(2026, 12, 4, 16, 30)
        raised = alerts.raise_alert(vn, food_alert(), "CN-NNCUS", OFFICER_VN)
        assert raised.case_id.startswith("VN-CUSKV6-20261204-")
        # 01:00 on 5 December in Nanning; still the 4th in UTC.
        clock.now = utc(2026, 12, 4, 17)
        shared = certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER_CN)
        assert shared.case_id.startswith("CN-NNCUS-20261205-")
        # The checkpoint names the sender's log of the day: the same day as its cases.
        checkpoint(cn)
        with cn.sessions() as session:
            named = session.scalar(
                select(OutboxMessage.case_id).where(OutboxMessage.type == "audit.checkpoint")
            )
        assert named == "CN-NNCUS-20261205-000000"
    finally:
        cn.close()
        vn.close()


def test_an_id_already_taken_that_day_is_drawn_again(
    make_db_url: Callable[[str], str],
    tmp_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    real = secrets.token_hex
    draws = iter(["00a1b2", "00a1b2", "00c3d4"])
    # Only the case id's three bytes are drawn from the list; every other draw is real.
    monkeypatch.setattr(secrets, "token_hex", lambda n=None: next(draws) if n == 3 else real(n))
    try:
        first = alerts.raise_alert(vn, food_alert(), "CN-NNCUS", OFFICER_VN)
        second = alerts.raise_alert(vn, food_alert(), "CN-NNCUS", OFFICER_VN)
        assert first.case_id.endswith("-00A1B2")
        assert second.case_id.endswith("-00C3D4")
    finally:
        vn.close()


def test_a_case_a_counterpart_opens_under_an_id_already_held_is_refused(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> None:
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    try:
        held = alerts.raise_alert(vn, food_alert(), "CN-NNCUS", OFFICER_VN).case_id
        with vn.sessions() as session:
            check_case_new(session, "CN-NNCUS-20261205-00A1B2")
            with pytest.raises(Conflict) as refused:
                check_case_new(session, held)
        assert refused.value.code == "CASE_ALREADY_EXISTS"
        assert refused.value.params == {"case_id": held}
    finally:
        vn.close()
