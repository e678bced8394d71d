"""The Harmonized System's 6-digit subheadings, from the file shipped in ``data/``.

``data/hs6.csv`` keeps the level-6 rows (HS 2022) of the UN Comtrade
nomenclature; ``data/README.md`` says where it comes from. It is read once per
process: about 5,600 rows, looked up for every item of every certificate.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType


@cache
def hs6_subheadings() -> Mapping[str, str]:
    """Every 6-digit HS code with its English description (``081090`` → "Fruit, edible; …")."""
    text = files("crossborder.reference").joinpath("data", "hs6.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return MappingProxyType({row["hscode"]: row["description"] for row in rows})


def hs_code_exists(code: str) -> bool:
    """Whether ``code`` is a 6-digit subheading of the nomenclature."""
    return code in hs6_subheadings()
