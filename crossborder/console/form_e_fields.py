"""A Form E from the fields of the console's fill-in form, and HS codes by code or by words.

Each input is named by its path in the model (``exporter.name``,
``items[0].hs_code``), the same path a violation carries, so a refusal is
shown beside the input it is about. A field left empty is left out, so the
model reports it missing with the same code as the API.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from crossborder.domain.certificate_of_origin import NATIONAL_SCHEME, Country
from crossborder.reference.hs import hs6_subheadings

#: Box 13's tick boxes: an unticked box is not sent by a browser.
TICK_BOXES = (
    "issued_retroactively",
    "exhibition",
    "movement_certificate",
    "third_party_invoicing",
)
#: The inputs of one item row, under ``items[i].``; the item number is the row's.
ITEM_FIELDS = (
    "marks_and_numbers",
    "package_count",
    "package_kind_code",
    "description",
    "hs_code",
    "origin_criterion.code",
    "origin_criterion.rvc_percent",
    "quantity.value",
    "quantity.unit_code",
    "gross_weight_kg",
    "fob_value.amount",
    "fob_value.currency",
    "invoice.number",
    "invoice.date",
)
FIELDS = (
    "certificate_number",
    *(
        f"{party}.{name}"
        for party in ("exporter", "consignee")
        for name in ("name", "address", "country", "identifier_scheme", "identifier")
    ),
    "transport.mode",
    "transport.departure_date",
    "transport.conveyance",
    "transport.port_of_loading",
    "transport.port_of_discharge",
    "declaration.place",
    "declaration.date",
    "declaration.signatory",
    "declaration.country_of_origin",
    "declaration.importing_country",
    "certification.place",
    "certification.date",
    "certification.authority_name",
    "certification.certifying_officer",
    "third_party_invoice.operator_name",
    "third_party_invoice.operator_country",
)
MAX_ROWS = 50
LOOKUP_LIMIT = 20
_PART = re.compile(r"[^.\[\]]+|\[\d+\]")


def preset(country: str) -> dict[str, str]:
    """What the form's lists first show at a node of ``country``: the issuing Party exports to
    the other, each trader in its own country's register."""
    own = Country(country)
    (other,) = (party for party in Country if party is not own)
    return {
        "exporter.country": own,
        "exporter.identifier_scheme": NATIONAL_SCHEME[own],
        "consignee.country": other,
        "consignee.identifier_scheme": NATIONAL_SCHEME[other],
        "declaration.country_of_origin": own,
        "declaration.importing_country": other,
    }


def row_count(value: str, add: bool) -> int:
    """How many item rows the form shows: as posted, one more when asked, within bounds."""
    rows = int(value) if value.isdigit() else 1
    return max(1, min(rows + (1 if add else 0), MAX_ROWS))


def input_names(rows: int) -> list[str]:
    """Every input the form shows for ``rows`` item rows."""
    items = [f"items[{i}].{name}" for i in range(rows) for name in ITEM_FIELDS]
    return [*FIELDS, *items, *TICK_BOXES]


def form_e_data(fields: Mapping[str, str], rows: int, issuing_authority: str) -> dict[str, Any]:
    """The Form E's content as the model reads it: the node issues, the officer fills the rest."""
    data: dict[str, Any] = {
        "issuing_authority": issuing_authority,
        "issuing_country": issuing_authority[:2],
        "items": [{"item_number": i + 1} for i in range(rows)],
    }
    for name in (*FIELDS, *(f"items[{i}].{n}" for i in range(rows) for n in ITEM_FIELDS)):
        value = fields.get(name, "").strip()
        if value:
            _put(data, _PART.findall(name), value)
    for name in TICK_BOXES:
        data[name] = fields.get(name) == "true"
    return data


def _put(data: dict[str, Any], parts: list[str], value: str) -> None:
    here: Any = data
    for part, following in zip(parts, parts[1:], strict=False):
        if part.startswith("["):
            here = here[int(part[1:-1])]
        else:
            here = here.setdefault(part, [] if following.startswith("[") else {})
    here[parts[-1]] = value


def folded(text: str) -> str:
    """``text`` as a search compares it: without case or diacritics (``Purée`` → ``puree``)."""
    # "đ" is a letter of its own, not "d" with a mark: decomposition would keep it.
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@cache
def _searched() -> dict[str, str]:
    """Each subheading's description as searches compare it, folded once per process."""
    return {code: folded(text) for code, text in hs6_subheadings().items()}


def hs_matches(query: str, limit: int = LOOKUP_LIMIT) -> list[tuple[str, str]]:
    """HS-6 subheadings whose code starts with ``query``'s digits, or whose description has
    every word of it (``strawberries fresh``), whatever their case or diacritics, in code order,
    at most ``limit``.

    The descriptions are the nomenclature's English ones, the only ones the reference
    data holds: words in another language find nothing, and the pages say so.
    """
    # Folding also turns the full-width digits of a Chinese keyboard into ASCII ones.
    query = folded(query).strip()
    if not query:
        return []
    table = hs6_subheadings()
    compact = query.replace(".", "").replace(" ", "")
    if compact.isdigit():
        found: Iterable[str] = (code for code in table if code.startswith(compact))
    else:
        words = [re.compile(rf"\b{re.escape(word)}") for word in re.findall(r"\w+", query)]
        found = (
            code for code, text in _searched().items() if all(word.search(text) for word in words)
        )
    return [(code, table[code]) for code in sorted(found)[:limit]]
