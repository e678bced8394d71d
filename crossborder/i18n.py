"""Catalog loading and locale-aware formatting.

Text is never stored translated: code keeps message keys (``audit.co.shared``,
``error.SIGNATURE_INVALID``) and parameters, and this module renders them when a
person reads them. Message ids are keys rather than English sentences so that
English is a catalog like the others, and a missing translation in any of the
three languages is caught by a test instead of silently falling back.

Catalogs are the ``.po`` files under ``locales/<lang>/LC_MESSAGES/``, one file per
area (``errors.po``, ``audit.po``, ``cli.po``…), read directly with Babel: no
compile step that could fall out of date.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime as _babel_format_datetime
from babel.messages.pofile import read_po

from crossborder.domain.errors import InvalidInput

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LOCALES: tuple[str, ...] = ("zh_Hans", "vi", "en")
DEFAULT_LOCALE = "en"


def N_(key: str) -> str:
    """Mark a message key for extraction without translating it here."""
    return key


def normalize_locale(tag: str | None) -> str:
    """Map what a person or an ``Accept-Language`` header says to one of :data:`LOCALES`."""
    if not tag:
        return DEFAULT_LOCALE
    for part in tag.split(","):
        lang = part.split(";")[0].strip().replace("-", "_").lower()
        if lang.startswith("zh"):
            return "zh_Hans"
        if lang.startswith("vi"):
            return "vi"
        if lang.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


def parse_locale(tag: str) -> str | None:
    """One of :data:`LOCALES` for what a person typed (``vi``, ``zh-Hans``, ``zh_CN.UTF-8``).

    Unlike :func:`normalize_locale`, which must answer every ``Accept-Language``,
    a person who typed ``vn`` gets None, and is told so rather than silently given English.
    """
    lang = tag.split(".")[0].replace("-", "_").lower()
    if lang in ("zh", "zh_hans", "zh_cn", "zh_sg"):
        return "zh_Hans"
    if lang in ("vi", "vi_vn"):
        return "vi"
    if lang == "en" or lang.startswith("en_"):
        return "en"
    return None


@cache
def catalog(locale: str) -> Mapping[str, str]:
    """All translated messages of one locale, merged from every ``.po`` file."""
    messages: dict[str, str] = {}
    for po_path in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as handle:
            for message in read_po(handle, locale=Locale.parse(locale)):
                if message.id and message.string and not message.fuzzy:
                    messages[str(message.id)] = str(message.string)
    return messages


class _KeepMissing(dict[str, Any]):
    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


def translate(key: str, locale: str = DEFAULT_LOCALE, /, **params: Any) -> str:
    """Render ``key`` in ``locale`` with ``{name}`` placeholders filled from ``params``.

    An unknown key renders as the key itself, so a reader still sees *what*
    happened; the catalog-completeness test makes that a failing build.
    """
    template = catalog(normalize_locale(locale)).get(key, key)
    return string.Formatter().vformat(template, (), _KeepMissing(params))


def labelled(params: Mapping[str, Any], families: Mapping[str, str], locale: str) -> dict[str, Any]:
    """``params`` with each code, or list of codes, that ``families`` names shown by its label.

    ``families`` maps a parameter to its key family (``{"status": "status."}``).
    A value with no label (a free word, a rule a test made up) is shown as it
    is; an empty list or a missing value as a dash.
    """
    texts = catalog(normalize_locale(locale))
    shown = dict(params)
    for name, family in families.items():
        if name not in shown:
            continue
        value = shown[name]
        if isinstance(value, list):
            shown[name] = (
                "; ".join(texts.get(f"{family}{code}", str(code)) for code in value) or "—"
            )
        elif value is None or value == "":
            shown[name] = "—"
        else:
            shown[name] = texts.get(f"{family}{value}", value)
    return shown


#: Error parameters that hold a code, shown to a reader by its label (``status.sent``).
LABELLED_ERROR_PARAMS = {
    "status": "status.",
    "action": "alert_step.",
    "audience": "alert_audience.",
    "kind": "agency_kind.",
    "role": "role.",
    "permission": "permission.",
    "type": "message_type.",
}


def error_message(code: str, locale: str, /, **params: Any) -> str:
    """The text of error ``code``, with a status or step code shown by its label.

    The error keeps its codes (they are the contract); only the reader's text
    changes.
    """
    return translate(f"error.{code}", locale, **labelled(params, LABELLED_ERROR_PARAMS, locale))


def zone(tz: str) -> ZoneInfo:
    """The IANA zone a reader names (``--tz Asia/Ho_Chi_Minh``); ``TIMEZONE_UNKNOWN`` if none."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # Not found, or not a zone's name at all (a folder, a path outside the database).
        raise InvalidInput("TIMEZONE_UNKNOWN", tz=tz) from None


def format_datetime(moment: datetime, locale: str, tz: str) -> str:
    """An instant as a person in ``tz`` reads it, with the zone named."""
    local = moment.astimezone(zone(tz))
    return (
        _babel_format_datetime(
            local,
            format="medium",
            tzinfo=local.tzinfo,
            locale=Locale.parse(normalize_locale(locale)),
        )
        + f" ({local.strftime('%z')[:3]}:{local.strftime('%z')[3:]})"
    )
