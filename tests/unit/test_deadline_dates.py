"""Deadline rules and their date arithmetic, on the real calendars of China and Vietnam."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from crossborder.domain.deadlines import (
    OVERDUE,
    CountingMethod,
    DeadlineRule,
    Step,
    due_at,
    plan,
    reminder_times,
    step_due,
)
from crossborder.domain.errors import InvalidInput, NotFound
from crossborder.i18n import LOCALES, catalog
from crossborder.reference.calendars import calendar_for, office_hours_for
from crossborder.reference.deadline_rules import deadline_rule, deadline_rules, rule_name_key

SHANGHAI = "Asia/Shanghai"
HANOI = "Asia/Ho_Chi_Minh"
CN, VN = calendar_for("CN"), calendar_for("VN")


def local(tz: str, year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=ZoneInfo(tz))


def end_of(tz: str, year: int, month: int, day: int) -> datetime:
    """23:59:59 local: the last instant of a day-counted deadline."""
    return datetime(year, month, day, 23, 59, 59, tzinfo=ZoneInfo(tz))


def rule(amount: int, counting: str, reminders: list[int], key: str = "test.rule") -> DeadlineRule:
    return DeadlineRule(key=key, amount=amount, counting=counting, reminders_before=reminders)


# --- calendars ---


def test_weekends_and_holidays_are_not_working_days_but_make_up_days_are() -> None:
    assert VN.is_working_day(date(2027, 2, 3))  # Wednesday before Tết
    assert not VN.is_working_day(date(2027, 2, 8))  # Tết (Monday)
    assert not CN.is_working_day(date(2026, 10, 1))  # National Day
    assert not CN.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    # China's State Council makes these weekend days working days for the holiday week.
    assert CN.is_working_day(date(2026, 9, 20))  # Sunday
    assert CN.is_working_day(date(2026, 10, 10))  # Saturday
    assert not VN.is_working_day(date(2026, 10, 10))  # …in China only


def test_calendar_for_is_one_object_per_country() -> None:
    assert calendar_for("CN") is CN and calendar_for("VN") is VN and CN is not VN


# --- calendar days ---


def test_calendar_days_cross_a_month_boundary() -> None:
    ten_days = rule(10, "calendar_days", [7, 2])
    start = local(HANOI, 2026, 11, 27, 9)
    due = due_at(start, ten_days, VN, HANOI)
    assert due == end_of(HANOI, 2026, 12, 7)
    assert reminder_times(start, due, ten_days, VN, HANOI) == [
        # Seven days left: 1…7 December.
        ("reminder-7", local(HANOI, 2026, 12, 1)),
        ("reminder-2", local(HANOI, 2026, 12, 6)),
    ]


def test_the_verification_reply_runs_90_calendar_days_through_tet() -> None:
    reply = deadline_rule("co.verification_reply")
    start = local(HANOI, 2026, 11, 27, 9)
    due = due_at(start, reply, VN, HANOI)
    # Calendar days do not stop for Tết (4–10 February 2027).
    assert due == end_of(HANOI, 2027, 2, 25)
    assert reminder_times(start, due, reply, VN, HANOI) == [
        ("reminder-30", local(HANOI, 2027, 1, 27)),
        ("reminder-7", local(HANOI, 2027, 2, 19)),
    ]


# --- working days ---


def test_working_days_skip_tet_in_vietnam() -> None:
    five = rule(5, "working_days", [2])
    start = local(HANOI, 2027, 2, 3, 10)  # Wednesday, the last working day before Tết
    due = due_at(start, five, VN, HANOI)
    # 4–10 Feb are Tết; then Thu 11, Fri 12, Mon 15, Tue 16, Wed 17.
    assert due == end_of(HANOI, 2027, 2, 17)
    assert reminder_times(start, due, five, VN, HANOI) == [
        ("reminder-2", local(HANOI, 2027, 2, 16))
    ]


def test_working_days_skip_national_day_in_china_and_count_its_make_up_saturday() -> None:
    five = rule(5, "working_days", [2])
    start = local(SHANGHAI, 2026, 9, 29, 10)  # Tuesday
    due = due_at(start, five, CN, SHANGHAI)
    # Wed 30 Sep; 1–7 Oct off; Thu 8, Fri 9, Sat 10 (worked), Mon 12.
    assert due == end_of(SHANGHAI, 2026, 10, 12)
    assert reminder_times(start, due, five, CN, SHANGHAI) == [
        ("reminder-2", local(SHANGHAI, 2026, 10, 10))
    ]
    # The same days in Vietnam's calendar: no holiday there.
    assert due_at(start, five, VN, HANOI) == end_of(HANOI, 2026, 10, 6)


def test_a_make_up_sunday_is_the_next_working_day() -> None:
    one = rule(1, "working_days", [])
    saturday = local(SHANGHAI, 2026, 9, 19, 15)
    assert due_at(saturday, one, CN, SHANGHAI) == end_of(SHANGHAI, 2026, 9, 20)
    assert due_at(saturday, one, VN, HANOI) == end_of(HANOI, 2026, 9, 21)


# --- the two time zones ---


def test_days_are_counted_from_the_acting_sides_own_midnight() -> None:
    ten_days = rule(10, "calendar_days", [])
    # 00:30 on 1 December in Nanning is still 23:30 on 30 November in Lạng Sơn.
    start = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    in_china = due_at(start, ten_days, CN, SHANGHAI)
    in_vietnam = due_at(start, ten_days, VN, HANOI)
    assert in_china == datetime(2026, 12, 11, 15, 59, 59, tzinfo=UTC)
    assert in_vietnam == datetime(2026, 12, 10, 16, 59, 59, tzinfo=UTC)
    # Vietnam's deadline falls on the 10th in Lạng Sơn but on the 11th in Nanning.
    assert in_vietnam.astimezone(ZoneInfo(HANOI)).date() == date(2026, 12, 10)
    assert in_vietnam.astimezone(ZoneInfo(SHANGHAI)).date() == date(2026, 12, 11)


def test_hours_are_elapsed_hours() -> None:
    four_hours = rule(4, "hours", [1])
    start = local(SHANGHAI, 2026, 10, 1, 22)  # a holiday evening: hours still run
    due = due_at(start, four_hours, CN, SHANGHAI)
    assert due == start + timedelta(hours=4)
    assert reminder_times(start, due, four_hours, CN, SHANGHAI) == [
        ("reminder-1", start + timedelta(hours=3))
    ]


def test_a_moment_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        due_at(datetime(2026, 11, 27, 9, 0), rule(10, "calendar_days", []), VN, HANOI)


# --- the steps of a deadline ---


def test_plan_ends_with_overdue_one_second_after_the_due_time() -> None:
    ten_days = rule(10, "calendar_days", [7])
    start = local(HANOI, 2026, 11, 27, 9)
    due = due_at(start, ten_days, VN, HANOI)
    assert plan(start, due, ten_days, VN, HANOI) == [
        Step("reminder-7", local(HANOI, 2026, 12, 1)),
        Step(OVERDUE, local(HANOI, 2026, 12, 8)),
    ]


STEPS = [
    Step("reminder-30", datetime(2027, 1, 26, 17, tzinfo=UTC)),
    Step("reminder-7", datetime(2027, 2, 18, 17, tzinfo=UTC)),
    Step(OVERDUE, datetime(2027, 2, 25, 17, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("now", "step", "next_at"),
    [
        (datetime(2027, 1, 26, 16, 59, 59, tzinfo=UTC), None, STEPS[0].at),
        (STEPS[0].at, STEPS[0], STEPS[1].at),
        # A watcher down through both reminders sends the later one only.
        (datetime(2027, 2, 20, tzinfo=UTC), STEPS[1], STEPS[2].at),
        # Found already passed: escalate, without reminding first.
        (datetime(2027, 3, 1, tzinfo=UTC), STEPS[2], None),
    ],
)
def test_the_step_due_is_the_latest_one_whose_time_has_come(
    now: datetime, step: Step | None, next_at: datetime | None
) -> None:
    assert step_due(STEPS, now) == (step, next_at)


# --- rules ---


def test_the_shipped_rules_are_valid_and_say_their_basis_is_unconfirmed() -> None:
    rules = {r.key: r for r in deadline_rules()}
    reply = rules["co.verification_reply"]
    assert (reply.amount, reply.counting, reply.reminders_before) == (
        90,
        CountingMethod.CALENDAR_DAYS,
        [30, 7],
    )
    assert rules["co.verification_determination"].amount == 180
    # Not confirmed against the official OCP text: no citation until a person adds one.
    assert all(r.citation == "" for r in rules.values())


@pytest.mark.parametrize("locale", LOCALES)
def test_every_shipped_rule_has_a_name_in_every_language(locale: str) -> None:
    names = catalog(locale)
    assert [r.key for r in deadline_rules() if rule_name_key(r.key) not in names] == []


def test_an_unknown_rule_is_refused_with_its_code() -> None:
    with pytest.raises(NotFound) as raised:
        deadline_rule("co.no_such_rule")
    assert (raised.value.code, raised.value.params) == (
        "DEADLINE_RULE_UNKNOWN",
        {"key": "co.no_such_rule"},
    )


@pytest.mark.parametrize(
    ("data", "violation", "field"),
    [
        ({"amount": -5, "counting": "calendar_days"}, "DEADLINE_AMOUNT_NOT_POSITIVE", "amount"),
        ({"amount": 0, "counting": "hours"}, "DEADLINE_AMOUNT_NOT_POSITIVE", "amount"),
        (
            {"amount": 5, "counting": "working_days", "reminders_before": [5]},
            "DEADLINE_REMINDER_OUT_OF_RANGE",
            "reminders_before",
        ),
        (
            {"amount": 5, "counting": "working_days", "reminders_before": [0]},
            "DEADLINE_REMINDER_OUT_OF_RANGE",
            "reminders_before",
        ),
        (
            {"amount": 9, "counting": "calendar_days", "reminders_before": [3, 3]},
            "DEADLINE_REMINDER_REPEATED",
            "reminders_before",
        ),
        ({"amount": 9, "counting": "fortnights"}, "VALUE_NOT_ALLOWED", "counting"),
        ({"amount": 9, "counting": "hours", "extra": 1}, "FIELD_UNKNOWN", "extra"),
    ],
)
def test_an_invalid_rule_is_refused_with_every_broken_constraint(
    data: dict[str, Any], violation: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        deadline_rule("test.bad", {"test.bad": data})
    assert raised.value.code == "DEADLINE_RULE_INVALID"
    assert raised.value.params == {"key": "test.bad"}
    assert [(v.code, v.field) for v in raised.value.violations] == [(violation, field)]


def test_a_rule_is_frozen() -> None:
    reply = deadline_rule("co.verification_reply")
    with pytest.raises(ValidationError):
        reply.amount = 9  # type: ignore[misc]


# --- minutes and office hours (alert acknowledgements) ---

OFFICE_CN, OFFICE_VN = office_hours_for("CN"), office_hours_for("VN")


def test_minutes_are_elapsed_minutes_and_remind_minutes_before() -> None:
    start = datetime(2027, 2, 6, 23, 50, tzinfo=UTC)  # Tết, at night: the clock still runs
    sar = rule(15, "minutes", [5])
    due = due_at(start, sar, VN, HANOI)
    assert due == start + timedelta(minutes=15)
    assert reminder_times(start, due, sar, VN, HANOI) == [
        ("reminder-5", due - timedelta(minutes=5))
    ]


def test_office_hours_stop_at_closing_and_over_the_weekend() -> None:
    # Friday 16:00 in Hà Nội, 8 office hours: one on Friday, seven from Monday 08:00.
    start = local(HANOI, 2026, 11, 27, 16)
    due = due_at(start, rule(8, "office_hours", []), VN, HANOI, OFFICE_VN)
    assert due == local(HANOI, 2026, 11, 30, 15)


def test_office_hours_of_the_recipient_skip_tet_in_vietnam_but_not_in_china() -> None:
    # The same instant, Wednesday 3 February 2027 16:00 in Hà Nội = 17:00 in Nanning.
    start = local(HANOI, 2027, 2, 3, 16)
    eight = rule(8, "office_hours", [2])
    # Vietnam rests 4–10 February: one hour on the 3rd, seven on Thursday 11th.
    assert due_at(start, eight, VN, HANOI, OFFICE_VN) == local(HANOI, 2027, 2, 11, 15)
    # China still works on the 4th: half an hour on the 3rd (closes 17:30), 7½ on the 4th.
    assert due_at(start, eight, CN, SHANGHAI, OFFICE_CN) == datetime(
        2027, 2, 4, 16, 0, tzinfo=ZoneInfo(SHANGHAI)
    )


def test_office_hours_skip_national_day_and_count_the_make_up_saturday() -> None:
    # Wednesday 30 September 2026 17:00 in Nanning: half an hour left that day; 1–7
    # October rest, 8–9 October work, Saturday 10 October is a make-up working day.
    start = local(SHANGHAI, 2026, 9, 30, 17)
    twenty = rule(20, "office_hours", [2])
    due = due_at(start, twenty, CN, SHANGHAI, OFFICE_CN)
    # 0.5 h + 9 h (8th) + 9 h (9th) = 18.5 h; 1.5 h more on Saturday the 10th from 08:30.
    assert due == datetime(2026, 10, 10, 10, 0, tzinfo=ZoneInfo(SHANGHAI))
    # Two office hours before the end fall on Friday the 9th, 17:00 (the clock stopped overnight).
    assert reminder_times(start, due, twenty, CN, SHANGHAI, OFFICE_CN) == [
        ("reminder-2", datetime(2026, 10, 9, 17, 0, tzinfo=ZoneInfo(SHANGHAI)).astimezone(UTC))
    ]


def test_a_start_before_opening_waits_for_the_office() -> None:
    start = local(HANOI, 2026, 11, 30, 6)  # Monday, before the office opens
    assert due_at(start, rule(2, "office_hours", []), VN, HANOI, OFFICE_VN) == local(
        HANOI, 2026, 11, 30, 10
    )


def test_the_one_hour_difference_moves_the_same_office_day() -> None:
    # Both offices open "at 8", an hour apart: the same rule from the same instant
    # ends at different instants for a Chinese and a Vietnamese recipient.
    start = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 08:00 Nanning, 07:00 Hà Nội
    one = rule(1, "office_hours", [])
    cn_due = due_at(start, one, CN, SHANGHAI, OFFICE_CN)
    vn_due = due_at(start, one, VN, HANOI, OFFICE_VN)
    assert cn_due == datetime(2026, 11, 30, 9, 30, tzinfo=ZoneInfo(SHANGHAI))
    assert vn_due == datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo(HANOI))
    assert vn_due - cn_due == timedelta(minutes=30)
