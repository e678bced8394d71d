"""Working days of China and Vietnam, from the ``holidays`` package.

Both countries rest on Saturday and Sunday and move days around their long
holidays: China's State Council schedule makes some weekends working days
(调休: 20 September and 10 October 2026 are worked for the National Day week),
and Vietnam does the same around Tết and 2 September. ``holidays`` records those
make-up days and :meth:`holidays.HolidayBase.is_working_day` counts them, so a
Sunday can be a working day here.

Office hours are each side's own: Chinese government offices work about
08:30–17:30 Beijing time and Vietnamese ones 08:00–17:00 Hà Nội time (the usual
day; provinces shift it by season, so these are defaults, not law), and an
office-hours deadline counts on the acting side's clock, an hour behind China's
in Vietnam.

Years come from the State Council and the Vietnamese government once a year;
``holidays`` estimates the years not yet announced, so deadlines that reach
far ahead should be checked again when the new schedule is published.
"""

from __future__ import annotations

import threading
from datetime import date, time
from functools import cache
from typing import TYPE_CHECKING

from crossborder.domain.deadlines import OfficeHours, WorkingCalendar
from crossborder.reference.agencies import Country

if TYPE_CHECKING:
    import holidays


class HolidayCalendar:
    """One country's working days; satisfies :class:`~crossborder.domain.deadlines.WorkingCalendar`.

    ``holidays`` fills in a year the first time a day of it is asked for, which
    mutates the object; the lock keeps two watcher threads from filling the same
    year at once.
    """

    def __init__(self, days: holidays.HolidayBase) -> None:
        self._days = days
        self._lock = threading.Lock()

    def is_working_day(self, day: date) -> bool:
        with self._lock:
            return bool(self._days.is_working_day(day))


@cache
def calendar_for(country: Country) -> WorkingCalendar:
    """The working calendar of the side that must act (one per country, shared)."""
    # Loaded on first use: ``holidays`` reads every country's calendar module when
    # imported, a tenth of a second an officer's ``case list`` need not wait for.
    import holidays

    return HolidayCalendar(holidays.country_holidays(country))


#: Each country's usual office day, on its own clock; the lunch break is not
#: subtracted, because duty desks answering alerts stay staffed through it.
OFFICE_HOURS: dict[Country, OfficeHours] = {
    "CN": OfficeHours(time(8, 30), time(17, 30)),
    "VN": OfficeHours(time(8, 0), time(17, 0)),
}


def office_hours_for(country: Country) -> OfficeHours:
    """The office hours of the side that must act."""
    return OFFICE_HOURS[country]
