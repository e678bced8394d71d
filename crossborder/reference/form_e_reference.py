"""The reference data the Form E rules consult, from the files and libraries we ship."""

from __future__ import annotations

from functools import cache

from babel.core import get_global
from babel.numbers import get_territory_currencies

from crossborder.reference.hs import hs_code_exists
from crossborder.reference.identifiers import party_identifier_valid


@cache
def _currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today, from Babel's CLDR data.

    Babel's full currency list also holds withdrawn currencies (DEM, VNN);
    a current certificate is not valued in those.
    """
    return frozenset(
        str(code)
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, tender=True)
    )


class FormEReferenceData:
    """Satisfies :class:`crossborder.domain.rules.FormEReference`; holds no state of its own."""

    def hs_code_exists(self, code: str) -> bool:
        return hs_code_exists(code)

    def party_identifier_valid(self, scheme: str, identifier: str) -> bool:
        return party_identifier_valid(scheme, identifier)

    def currency_code_valid(self, code: str) -> bool:
        return code in _currencies_in_use()
