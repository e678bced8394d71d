"""Every error code the OAuth layer raises reads well in zh_Hans, vi and en."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import crossborder.adapters.oauth
from crossborder.i18n import LOCALES, catalog

_SOURCES = Path(crossborder.adapters.oauth.__file__).parent
_RAISED = re.compile(r'(?:Unauthorized|Forbidden)\(\s*"([A-Z_]+)"')


def _codes() -> list[str]:
    found = {code for path in _SOURCES.glob("*.py") for code in _RAISED.findall(path.read_text())}
    return sorted(found)


def test_the_scan_finds_the_codes_it_should() -> None:
    # Guards the scan itself: an empty list would make the next test pass vacuously.
    assert {"TOKEN_MISSING", "SCOPE_MISSING", "AS_ISSUER_MISMATCH"} <= set(_codes())


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", _codes())
def test_each_code_has_a_message(code: str, locale: str) -> None:
    assert catalog(locale).get(f"error.{code}")
