"""The agencies that cooperate across the border, with the dates they existed.

Each node is one agency and every message names a sender and a recipient
agency by code, so codes are stable forever: when a body is renamed or merged
(Vietnam's 1 March 2025 restructuring turned Tổng cục Hải quan into Cục Hải
quan, Cục Bảo vệ thực vật into Cục Trồng trọt và Bảo vệ thực vật…) the old
body keeps its code with a ``valid_to`` date and the new one gets its own code
with a ``valid_from``. A 2024 certificate was issued by the old body and the
audit trail must keep saying so.

Names are not data here: they live in the ``reference`` catalogs under
``agency.<CODE>`` and are rendered in the reader's language, like every other
text (see :mod:`crossborder.i18n`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, TypeAdapter, with_config

from crossborder.domain.errors import NotFound
from crossborder.i18n import DEFAULT_LOCALE, translate

Country = Literal["CN", "VN"]
AgencyKind = Literal[
    "customs", "quarantine", "border_guard", "maritime", "sar", "coast_guard", "ministry"
]


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class Agency:
    """One body on either side of the border.

    ``parent`` is the body it reports to; for a body that outlived a
    reorganisation of its parent (Vietnam MRCC, now under VIMAWA) it is the
    current one. ``valid_from`` / ``valid_to`` are inclusive calendar days in the
    agency's own time zone; ``None`` means "before our records" / "still in
    office". ``superseded_by`` names the body that took over on the day after
    ``valid_to``; ``basis`` cites the act that created, renamed or dissolved it.
    """

    code: str
    country: Country
    kind: AgencyKind
    time_zone: str
    parent: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    superseded_by: str | None = None
    basis: str = ""

    @property
    def name_key(self) -> str:
        """Catalog key of the name, to store in audit parameters instead of text."""
        return f"agency.{self.code}"

    def active_on(self, day: date) -> bool:
        """Whether the body existed on ``day``.

        An aware ``datetime`` is first turned into the agency's own calendar
        day: 2025-02-28T17:30Z is already 1 March in Hà Nội, so Cục Hải quan,
        not Tổng cục Hải quan, was in office.
        """
        if isinstance(day, datetime):
            if day.tzinfo is None:
                raise ValueError("a moment without a time zone has no calendar day")
            day = day.astimezone(ZoneInfo(self.time_zone)).date()
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


@cache
def _registry() -> dict[str, Agency]:
    raw = resources.files("crossborder.reference").joinpath("data/agencies.json").read_bytes()
    rows = TypeAdapter(tuple[Agency, ...]).validate_json(raw)
    return {row.code: row for row in rows}


def agencies() -> tuple[Agency, ...]:
    """Every agency we know of, current and superseded, in the data file's order."""
    return tuple(_registry().values())


def agency(code: str) -> Agency:
    """The agency with this code; ``AGENCY_UNKNOWN`` if there is none."""
    try:
        return _registry()[code]
    except KeyError:
        raise NotFound("AGENCY_UNKNOWN", code=code) from None


def agency_active_on(code: str, day: date) -> bool:
    """Whether agency ``code`` existed on ``day`` (see :meth:`Agency.active_on`)."""
    return agency(code).active_on(day)


def agency_name(code: str, locale: str = DEFAULT_LOCALE) -> str:
    """The agency's official name in ``locale`` (zh_Hans, vi or en)."""
    return translate(agency(code).name_key, locale)
