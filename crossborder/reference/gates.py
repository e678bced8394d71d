"""Border gates, each paired with the gate facing it across the border.

A gate's code is its UN/LOCODE where it has one, because counterparts and
UN/CEFACT documents (ePhyto, Form E port fields) already speak LOCODE. Hữu Nghị
and Đồng Đăng have no LOCODE of their own, so they get codes of ours,
``VN-HUUNGHI`` and ``VN-DONGDANG``: the hyphen can never occur in a five-letter
LOCODE, so our codes cannot collide with one UN/ECE assigns later. Should that
happen, the LOCODE goes in ``locode`` and the code stays, since stored messages
and audit entries already use it. For documents that insist on a LOCODE,
``locality_locode`` gives the place the gate lies in (VNLGS, Lạng Sơn).

Names live in the ``reference`` catalogs under ``gate.<CODE>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import ConfigDict, TypeAdapter, with_config

from crossborder.domain.errors import NotFound
from crossborder.i18n import DEFAULT_LOCALE, translate
from crossborder.reference.agencies import Country

GateKind = Literal["road", "rail", "sea"]


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class Gate:
    """One border gate (口岸 / cửa khẩu) and the code of its counterpart gate."""

    code: str
    country: Country
    kind: GateKind
    pair: str
    time_zone: str
    locode: str | None = None
    locality_locode: str | None = None

    @property
    def name_key(self) -> str:
        """Catalog key of the name, to store in audit parameters instead of text."""
        return f"gate.{self.code}"


@cache
def _registry() -> dict[str, Gate]:
    raw = resources.files("crossborder.reference").joinpath("data/gates.json").read_bytes()
    rows = TypeAdapter(tuple[Gate, ...]).validate_json(raw)
    return {row.code: row for row in rows}


def gates() -> tuple[Gate, ...]:
    """Every gate we know of, in the data file's order."""
    return tuple(_registry().values())


def gate(code: str) -> Gate:
    """The gate with this code; ``GATE_UNKNOWN`` if there is none."""
    try:
        return _registry()[code]
    except KeyError:
        raise NotFound("GATE_UNKNOWN", code=code) from None


def gate_pair(code: str) -> Gate:
    """The gate across the border from gate ``code`` (Youyiguan ↔ Hữu Nghị…)."""
    return gate(gate(code).pair)


def gate_name(code: str, locale: str = DEFAULT_LOCALE) -> str:
    """The gate's name in ``locale`` (zh_Hans, vi or en)."""
    return translate(gate(code).name_key, locale)
