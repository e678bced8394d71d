"""Who reads a page, and how they read: their language, their time zone.

The language is the officer's choice (a cookie), else what their browser asks
for (``Accept-Language``); the zone is their choice, else the node's own, as
on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel import Locale
from babel.dates import format_timedelta
from fastapi import Request

from crossborder.domain.errors import CrossborderError, NotFound
from crossborder.i18n import (
    error_message,
    format_datetime,
    labelled,
    normalize_locale,
    parse_locale,
    translate,
)
from crossborder.i18n import zone as known_zone
from crossborder.reference.agencies import agency_name

LANG_COOKIE = "cb_lang"
ZONE_COOKIE = "cb_tz"
#: How each language names itself, in the switcher every page shows.
LANGUAGE_NAMES = {"zh_Hans": "中文", "vi": "Tiếng Việt", "en": "English"}


@dataclass(frozen=True)
class Reader:
    locale: str
    tz: str

    def t(self, key: str, **params: Any) -> str:
        return translate(key, self.locale, **params)

    def label(self, family: str, code: str) -> str:
        """A code shown by its label (``label("status", "accepted")``), as audit texts show them.

        The catalog test checks that every family a template names is one it checks.
        """
        return str(labelled({"code": code}, {"code": family + "."}, self.locale)["code"])

    def country(self, code: str) -> str:
        """A country's name in the reader's language, from CLDR's territory names."""
        return str(Locale.parse(self.locale).territories.get(code, code))

    def agency(self, code: str) -> str:
        """An agency by its code and, when the reference data knows it, its name."""
        try:
            return f"{code} — {agency_name(code, self.locale)}"
        except NotFound:
            return code

    def when(self, moment: datetime | None) -> str:
        return format_datetime(moment, self.locale, self.tz) if moment else "—"

    def left(self, delta: timedelta) -> str:
        """Time left (or past, when negative) as a person says it: "in 3 days", "2 hours ago"."""
        return format_timedelta(
            delta, add_direction=True, threshold=1.5, locale=Locale.parse(self.locale)
        )

    def error(self, error: CrossborderError) -> str:
        return error_message(error.code, self.locale, **error.params)

    def violation(self, code: str, field: str, params: dict[str, Any]) -> str:
        return translate(f"error.{code}", self.locale, field=field, **params)


def reader_of(request: Request, node_zone: str) -> Reader:
    chosen = parse_locale(request.cookies.get(LANG_COOKIE, ""))
    locale = chosen or normalize_locale(request.headers.get("accept-language"))
    return Reader(locale=locale, tz=chosen_zone(request.cookies.get(ZONE_COOKIE), node_zone))


def chosen_zone(value: str | None, node_zone: str) -> str:
    """The zone an officer picked, if it is one; else the node's."""
    if not value:
        return node_zone
    try:
        known_zone(value)
    except CrossborderError:
        return node_zone
    return value
