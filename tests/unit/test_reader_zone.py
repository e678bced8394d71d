"""A time inside a sentence is shown in the reader's zone and language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import AuditEntry
from crossborder.audit.render import render, sentence
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import InvalidInput
from crossborder.i18n import format_datetime, zone

#: A verification reply the Chinese side owes, as the Vietnamese node stored it.
DUE = "2027-03-05 23:59:59+08:00"
FACTS: dict[str, Any] = {
    "rule": "co.verification_reply",
    "subject": "E264510000102345",
    "agency": "CN-NNCUS",
    "due": DUE,
}


def entry(**params: object) -> AuditEntry:
    return AuditEntry(
        seq=7,
        event="deadline.registered",
        params={**FACTS, **params},
        actor_kind="person",
        actor_id="nguyen.van.an",
        actor_agency="VN-CUSKV6",
        actor_role="liaison_officer",
        case_id="CN-NNCUS-20261127-7F3A2C",
        occurred_at=datetime(2026, 12, 5, 2, 0, tzinfo=UTC),
        source_tz="Asia/Ho_Chi_Minh",
        catalog_version="1",
    )


@pytest.mark.parametrize(
    ("locale", "tz", "shown"),
    [
        ("vi", "Asia/Ho_Chi_Minh", "22:59:59 5 thg 3, 2027 (+07:00)"),
        ("zh_Hans", "Asia/Shanghai", "2027年3月5日 23:59:59 (+08:00)"),
        ("en", "Asia/Ho_Chi_Minh", "Mar 5, 2027, 10:59:59\u202fPM (+07:00)"),
        ("vi", "UTC", "15:59:59 5 thg 3, 2027 (+00:00)"),
    ],
)
def test_a_due_time_in_the_trail_is_shown_in_the_readers_zone_and_language(
    locale: str, tz: str, shown: str
) -> None:
    rendered = render(entry(), locale, tz)
    assert shown in rendered.text
    assert DUE not in rendered.text
    # The time of the entry and the time inside its sentence are read the same way.
    assert rendered.when == format_datetime(datetime(2026, 12, 5, 2, 0, tzinfo=UTC), locale, tz)


def test_the_duty_officers_sentence_is_rendered_the_same_way() -> None:
    text = sentence("audit.deadline.overdue", FACTS, "en", "Asia/Ho_Chi_Minh")
    assert "Mar 5, 2027, 10:59:59\u202fPM (+07:00)" in text
    assert "CN-NNCUS" not in text  # the acting agency by its name


def test_a_stored_value_that_is_no_instant_is_shown_as_it_is_stored() -> None:
    # An altered entry must still be readable, to be seen and reported.
    for stored in ("next Friday", "2027-03-05 23:59:59"):
        assert stored in render(entry(due=stored), "vi", "Asia/Ho_Chi_Minh").text


def test_the_trail_stores_an_instant_with_the_offset_it_was_given() -> None:
    session = Session()
    due = datetime.fromisoformat(DUE)
    stored = record(
        session,
        "deadline.registered",
        actor=Actor.system("VN-CUSKV6"),
        occurred_at=datetime(2026, 12, 5, 2, 0, tzinfo=UTC),
        source_tz="Asia/Ho_Chi_Minh",
        **{**FACTS, "due": due},
    )
    assert stored.params["due"] == DUE


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({**FACTS, "due": DUE}, "'due' is an instant: pass an aware datetime"),
        ({**FACTS, "due": datetime(2027, 3, 5, 23, 59)}, "'due' is an instant"),
        (
            {**FACTS, "due": datetime.fromisoformat(DUE), "sent": datetime.now(UTC)},
            "'sent' holds an instant: add it to INSTANT_PARAMS",
        ),
    ],
)
def test_the_trail_refuses_an_instant_it_would_not_know_how_to_show(
    params: dict[str, Any], problem: str
) -> None:
    session = Session()
    with pytest.raises(TypeError, match=problem):
        record(
            session,
            "deadline.registered",
            actor=Actor.system("VN-CUSKV6"),
            occurred_at=datetime(2026, 12, 5, 2, 0, tzinfo=UTC),
            source_tz="Asia/Ho_Chi_Minh",
            **params,
        )
    assert session.info == {}  # nothing waits to be written


# --- the zone a reader names ---


@pytest.mark.parametrize("name", ["Asia/Hanoi_City", "Asia", "", "../etc/passwd", "asia/shanghai"])
def test_an_unknown_zone_is_refused_with_its_code(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        zone(name)
    assert refused.value.code == "TIMEZONE_UNKNOWN" and refused.value.params == {"tz": name}


def test_a_known_zone_is_given() -> None:
    assert str(zone("Asia/Ho_Chi_Minh")) == "Asia/Ho_Chi_Minh"
