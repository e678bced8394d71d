"""A case id carries the opening agency's calendar day, not UTC's."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from crossborder.domain.messages import CASE_ID_PATTERN, new_case_id


@pytest.mark.parametrize(
    ("agency", "tz", "moment", "day"),
    [
        # 01:00 on 5 December in Nanning is still 4 December in UTC.
        ("CN-NNCUS", "Asia/Shanghai", datetime(2026, 12, 4, 17, 0, tzinfo=UTC), "20261205"),
        ("CN-NNCUS", "Asia/Shanghai", datetime(2026, 12, 4, 15, 59, 59, tzinfo=UTC), "20261204"),
        ("CN-NNCUS", "Asia/Shanghai", datetime(2026, 12, 4, 16, 0, tzinfo=UTC), "20261205"),
        # The same instants in Lạng Sơn, an hour behind.
        (
            "VN-CUSKV6",
            "Asia/Ho_Chi_Minh",
            datetime(2026, 12, 4, 16, 59, 59, tzinfo=UTC),
            "20261204",
        ),
        ("VN-CUSKV6", "Asia/Ho_Chi_Minh", datetime(2026, 12, 4, 17, 0, tzinfo=UTC), "20261205"),
        # New year's eve, 23:30 in Hà Nội: still the old year there.
        ("VN-CUSKV6", "Asia/Ho_Chi_Minh", datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "20261231"),
        ("CN-NNCUS", "Asia/Shanghai", datetime(2026, 12, 31, 16, 30, tzinfo=UTC), "20270101"),
    ],
)
def test_a_case_id_carries_the_opening_agencys_day(
    agency: str, tz: str, moment: datetime, day: str
) -> None:
    case_id = new_case_id(agency, moment, "7f3a2c", tz)
    assert case_id == f"{agency}-{day}-7F3A2C"
    assert re.match(CASE_ID_PATTERN, case_id)
