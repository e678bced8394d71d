"""Deadlines: the rules that set them, and the date arithmetic that places them.

A rule says how long one side has to act (90 calendar days, 5 working days,
4 hours, 15 minutes, 8 office hours) and when to remind it. Days are counted
in the calendar and the time zone of the side that must act: its weekends, its
public holidays and its own midnight, so the same rule can end on different
instants for Lạng Sơn and Nanning. Office hours run only while that side's
office is open on its working days. Everything here is pure; the calendars come from
``crossborder.reference.calendars`` through :class:`WorkingCalendar`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

#: The step taken when the deadline has passed without the awaited act.
OVERDUE = "overdue"


class DeadlineStatus(StrEnum):
    #: Running: its reminders and its overdue step are still to come.
    OPEN = "open"
    #: The awaited act arrived (on time or late).
    MET = "met"
    #: Passed without the act; still awaited, escalated.
    OVERDUE = "overdue"
    #: No longer awaited (the case was closed or withdrawn).
    CANCELLED = "cancelled"


#: A deadline still waiting for its act.
UNSETTLED = (DeadlineStatus.OPEN, DeadlineStatus.OVERDUE)


class CountingMethod(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    HOURS = "hours"
    MINUTES = "minutes"
    #: Hours counted only inside the acting side's office hours, on its working days.
    OFFICE_HOURS = "office_hours"


#: Units that are elapsed time, whatever the calendar says.
_ELAPSED = {CountingMethod.HOURS: "hours", CountingMethod.MINUTES: "minutes"}


class DeadlineRule(BaseModel):
    """How long the acting side has, and how many units before the end it is reminded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1, max_length=64)
    amount: int
    counting: CountingMethod
    #: In the unit of ``amount`` (days, working days, hours or minutes), e.g. ``[30, 7]``.
    reminders_before: list[int] = Field(default_factory=list)
    #: The legal basis; empty until a person has confirmed it against the official text.
    citation: str = ""

    @field_validator("amount")
    @classmethod
    def _amount_positive(cls, amount: int) -> int:
        if amount <= 0:
            raise PydanticCustomError(
                "DEADLINE_AMOUNT_NOT_POSITIVE", "a deadline must be at least one unit long"
            )
        return amount

    @field_validator("reminders_before")
    @classmethod
    def _reminders_inside(cls, reminders: list[int], info: ValidationInfo) -> list[int]:
        amount = info.data.get("amount")
        if len(set(reminders)) != len(reminders):
            raise PydanticCustomError("DEADLINE_REMINDER_REPEATED", "a reminder is listed twice")
        if amount is not None and any(not 0 < before < amount for before in reminders):
            raise PydanticCustomError(
                "DEADLINE_REMINDER_OUT_OF_RANGE",
                "a reminder must come after the start and before the deadline",
            )
        return reminders


class WorkingCalendar(Protocol):
    def is_working_day(self, day: date) -> bool: ...


@dataclass(frozen=True)
class OfficeHours:
    """When the acting side's office is open on a working day, on its own clock."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError("an office closes after it opens")


#: Used when a caller names none: a plain 08:00–17:00 day.
DEFAULT_OFFICE_HOURS = OfficeHours(time(8, 0), time(17, 0))


@dataclass(frozen=True)
class Step:
    """Something the watcher does at a moment: ``reminder-30``, ``reminder-7``, ``overdue``."""

    name: str
    at: datetime


def reminder_step(before: int) -> str:
    return f"reminder-{before}"


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    if moment.tzinfo is None:
        raise ValueError("a moment without a time zone has no calendar day")
    return moment.astimezone(zone).date()


def _end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(UTC)


def _start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def _working_day_after(day: date, count: int, calendar: WorkingCalendar) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself not counted)."""
    while count > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


def _working_day_before(day: date, count: int, calendar: WorkingCalendar) -> date:
    """The ``count``-th working day before ``day`` (``day`` itself not counted)."""
    while count > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


def _add_office_time(
    start: datetime, hours: int, calendar: WorkingCalendar, zone: ZoneInfo, office: OfficeHours
) -> datetime:
    """``hours`` of open office after ``start``: the clock stops at closing, on rest days.

    An alert received at 16:00 on the eve of Tết with 8 office hours to answer
    has one hour that day and seven on the first working day after the holiday.
    """
    left = timedelta(hours=hours)
    cursor = start.astimezone(zone)
    while True:
        day = cursor.date()
        if calendar.is_working_day(day):
            opens = datetime.combine(day, office.opens, tzinfo=zone)
            closes = datetime.combine(day, office.closes, tzinfo=zone)
            cursor = max(cursor, opens)
            if cursor < closes:
                if cursor + left <= closes:
                    return (cursor + left).astimezone(UTC)
                left -= closes - cursor
        cursor = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)


def due_at(
    start: datetime,
    rule: DeadlineRule,
    calendar: WorkingCalendar,
    tz: str,
    office: OfficeHours = DEFAULT_OFFICE_HOURS,
) -> datetime:
    """The last instant (UTC) at which the acting side is still on time.

    Day counts start the local day after ``start`` and end at 23:59:59 on the
    acting side's clock: an act received in Lạng Sơn at 23:30 on 30 November
    was received on the 30th there, though it was 1 December in Nanning.
    Calendar days run through weekends and holidays (the rule names calendar
    days); working days skip the acting side's weekends and public holidays and
    count its official make-up working days. Hours and minutes are elapsed
    time; office hours count only while the acting side's office is open on
    its working days (``office``, on its own clock).
    """
    zone = ZoneInfo(tz)
    if start.tzinfo is None:
        raise ValueError("a moment without a time zone has no calendar day")
    if rule.counting in _ELAPSED:
        return (start + timedelta(**{_ELAPSED[rule.counting]: rule.amount})).astimezone(UTC)
    if rule.counting is CountingMethod.OFFICE_HOURS:
        return _add_office_time(start, rule.amount, calendar, zone, office)
    first = _local_day(start, zone)
    if rule.counting is CountingMethod.CALENDAR_DAYS:
        return _end_of_day(first + timedelta(days=rule.amount), zone)
    return _end_of_day(_working_day_after(first, rule.amount, calendar), zone)


def _reminder_at(
    start: datetime,
    due: datetime,
    before: int,
    rule: DeadlineRule,
    calendar: WorkingCalendar,
    zone: ZoneInfo,
    office: OfficeHours,
) -> datetime:
    """When ``before`` units are left, the due day counting as the last of them.

    For ``reminders_before=[7]`` on a deadline ending 31 March, the reminder goes
    at midnight opening 25 March (25…31 March: seven days left), so the acting
    side has the whole of the seventh-last day, not a message at 23:59:59.
    ``before`` office hours left is ``amount - before`` office hours gone.
    """
    if rule.counting is CountingMethod.OFFICE_HOURS:
        return _add_office_time(start, rule.amount - before, calendar, zone, office)
    if rule.counting in _ELAPSED:
        return due - timedelta(**{_ELAPSED[rule.counting]: before})
    last = _local_day(due, zone)
    if rule.counting is CountingMethod.CALENDAR_DAYS:
        return _start_of_day(last - timedelta(days=before - 1), zone)
    return _start_of_day(_working_day_before(last, before - 1, calendar), zone)


def reminder_times(
    start: datetime,
    due: datetime,
    rule: DeadlineRule,
    calendar: WorkingCalendar,
    tz: str,
    office: OfficeHours = DEFAULT_OFFICE_HOURS,
) -> list[tuple[str, datetime]]:
    """``[("reminder-30", when), ("reminder-7", when)]``, earliest first, all after ``start``."""
    zone = ZoneInfo(tz)
    times = [
        (reminder_step(before), _reminder_at(start, due, before, rule, calendar, zone, office))
        for before in rule.reminders_before
    ]
    return sorted(((name, at) for name, at in times if at > start), key=lambda item: item[1])


def plan(
    start: datetime,
    due: datetime,
    rule: DeadlineRule,
    calendar: WorkingCalendar,
    tz: str,
    office: OfficeHours = DEFAULT_OFFICE_HOURS,
) -> list[Step]:
    """Every step of one deadline, in order: its reminders, then ``overdue``.

    ``overdue`` comes one second after the due time, the first instant at which
    the acting side is late.
    """
    reminders = reminder_times(start, due, rule, calendar, tz, office)
    steps = [Step(name, at) for name, at in reminders]
    return [*steps, Step(OVERDUE, due + timedelta(seconds=1))]


def step_due(steps: list[Step], now: datetime) -> tuple[Step | None, datetime | None]:
    """The step to take at ``now``, and when the one after it comes.

    Only the latest step whose time has come is taken: a watcher that was down
    while both reminders fell due sends "7 days left", not also "30 days left",
    and a deadline found already passed is escalated without reminders first.
    """
    current: Step | None = None
    for step in steps:
        if step.at > now:
            return current, step.at
        current = step
    return current, None
