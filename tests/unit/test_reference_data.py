"""Agencies and border gates: the shipped data is consistent and named in all three languages."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import get_args
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.messages.pofile import read_po

from crossborder.domain.errors import NotFound
from crossborder.i18n import LOCALES, LOCALES_DIR
from crossborder.reference.agencies import (
    AgencyKind,
    agencies,
    agency,
    agency_active_on,
    agency_name,
)
from crossborder.reference.gates import gate, gate_name, gate_pair, gates

#: Codes that other modules, messages and settings already use.
FIXED_AGENCY_CODES = [
    "CN-GACC",
    "CN-NNCUS",
    "CN-YYGCUS",
    "CN-PXCUS",
    "CN-DXCUS",
    "CN-YYGBC",
    "CN-DXBC",
    "CN-GXMSA",
    "CN-CCG",
    "VN-CUS",
    "VN-CUSKV6",
    "VN-CUSKV8",
    "VN-PPD",
    "VN-BGLS",
    "VN-BGQN",
    "VN-VIMAWA",
    "VN-MRCC",
    "VN-VCG",
    "VN-GDC",
    "VN-PPD-OLD",
]
TIME_ZONE = {"CN": "Asia/Shanghai", "VN": "Asia/Ho_Chi_Minh"}
ERROR_KEYS = {"error.AGENCY_UNKNOWN", "error.GATE_UNKNOWN"}
#: Vietnamese names that stopped being correct on 1/3/2025 (glossary traps 11–12).
PRE_2025_VI_NAMES = [
    "Tổng cục Hải quan",
    "Chi cục Hải quan cửa khẩu",
    "Cục Hải quan tỉnh",
    "Cục Bảo vệ thực vật",
    "Cục Thú y",
    "Bộ Nông nghiệp và Phát triển nông thôn",
    "Cục Hàng hải Việt Nam",
]


def _reference_catalog(locale: str) -> dict[str, str]:
    path = Path(LOCALES_DIR, locale, "LC_MESSAGES", "reference.po")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=Locale.parse(locale))
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


# --- catalogs ---


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalog_names_every_agency_gate_and_kind_and_nothing_else(locale: str) -> None:
    kinds = {f"agency_kind.{kind}" for kind in get_args(AgencyKind)}
    expected = {a.name_key for a in agencies()} | {g.name_key for g in gates()} | kinds | ERROR_KEYS

    assert set(_reference_catalog(locale)) == expected


@pytest.mark.parametrize("locale", LOCALES)
def test_names_are_in_composed_unicode(locale: str) -> None:
    # Decomposed Vietnamese diacritics look identical but break search and sorting.
    for key, text in _reference_catalog(locale).items():
        assert unicodedata.normalize("NFC", text) == text, key


@pytest.mark.parametrize("locale", LOCALES)
def test_error_texts_name_the_code(locale: str) -> None:
    catalog = _reference_catalog(locale)

    for key in ERROR_KEYS:
        assert "{code}" in catalog[key]


def test_names_render_in_each_language() -> None:
    assert agency_name("VN-CUS", "vi") == "Cục Hải quan"
    assert agency_name("VN-GDC", "vi") == "Tổng cục Hải quan"
    assert agency_name("CN-YYGCUS", "zh_Hans") == "友谊关海关"
    assert agency_name("VN-VIMAWA", "en") == "Vietnam Maritime and Waterway Administration (VIMAWA)"
    assert gate_name("VN-HUUNGHI", "vi") == "Cửa khẩu quốc tế Hữu Nghị"
    assert gate_name("CNYYG", "zh-CN") == "友谊关口岸"


def test_vietnamese_bodies_still_in_office_carry_no_pre_2025_name() -> None:
    catalog = _reference_catalog("vi")
    for body in agencies():
        if body.country == "VN" and body.valid_to is None:
            for old_name in PRE_2025_VI_NAMES:
                assert old_name not in catalog[body.name_key], body.code


def test_chinas_maritime_safety_administration_is_not_called_cuc_hang_hai() -> None:
    # Glossary trap 14: 海事局 is China's MSA, not Vietnam's maritime administration.
    assert "Hàng hải" not in agency_name("CN-GXMSA", "vi")


# --- agencies ---


def test_the_codes_other_modules_use_exist() -> None:
    known = {a.code for a in agencies()}

    assert set(FIXED_AGENCY_CODES) <= known


def test_agency_codes_are_unique_and_name_their_country() -> None:
    codes = [a.code for a in agencies()]

    assert len(codes) == len(set(codes))
    for body in agencies():
        assert body.code.startswith(f"{body.country}-")


def test_each_agency_keeps_its_countrys_time_zone() -> None:
    for body in agencies():
        assert body.time_zone == TIME_ZONE[body.country], body.code
        ZoneInfo(body.time_zone)


def test_parents_exist_in_the_same_country_and_overlap_in_time() -> None:
    for body in agencies():
        if body.parent is None:
            continue
        parent = agency(body.parent)
        assert parent.country == body.country, body.code
        assert (parent.valid_to or date.max) >= (body.valid_from or date.min), body.code
        assert (body.valid_to or date.max) >= (parent.valid_from or date.min), body.code


def test_validity_periods_run_forwards() -> None:
    for body in agencies():
        if body.valid_from and body.valid_to:
            assert body.valid_from <= body.valid_to, body.code


def test_a_renamed_body_hands_over_to_its_successor_the_next_day_without_overlap() -> None:
    renamed = [body for body in agencies() if body.superseded_by]

    assert {body.code for body in renamed} >= {"VN-GDC", "VN-PPD-OLD"}
    for body in renamed:
        successor = agency(str(body.superseded_by))
        assert body.valid_to is not None, body.code
        assert successor.valid_from == body.valid_to + timedelta(days=1), body.code
        assert successor.country == body.country
        assert not successor.active_on(body.valid_to), body.code
        assert not body.active_on(successor.valid_from), body.code


def test_only_a_superseded_body_has_an_end_date() -> None:
    for body in agencies():
        assert (body.valid_to is None) == (body.superseded_by is None), body.code


def test_vietnam_customs_changed_hands_on_1_march_2025() -> None:
    assert agency_active_on("VN-GDC", date(2025, 2, 28))
    assert not agency_active_on("VN-CUS", date(2025, 2, 28))
    assert not agency_active_on("VN-GDC", date(2025, 3, 1))
    assert agency_active_on("VN-CUS", date(2025, 3, 1))
    assert agency_active_on("CN-GACC", date(1990, 1, 1))


def test_a_moment_counts_on_the_agencys_own_calendar_day() -> None:
    # 17:30 UTC on 28 February is 00:30 on 1 March in Hà Nội.
    moment = datetime(2025, 2, 28, 17, 30, tzinfo=UTC)

    assert agency_active_on("VN-CUS", moment)
    assert not agency_active_on("VN-GDC", moment)
    assert agency_active_on("VN-GDC", moment - timedelta(hours=1))


def test_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        agency_active_on("VN-CUS", datetime(2025, 3, 1, 12, 0))


def test_an_unknown_agency_is_not_found_with_its_code() -> None:
    with pytest.raises(NotFound) as raised:
        agency("VN-NOPE")

    assert raised.value.code == "AGENCY_UNKNOWN"
    assert raised.value.params == {"code": "VN-NOPE"}


@pytest.mark.parametrize(
    "lookup",
    [
        lambda: agency_active_on("XX-NOPE", date(2025, 1, 1)),
        lambda: agency_name("XX-NOPE", "en"),
    ],
    ids=["active_on", "name"],
)
def test_every_agency_lookup_refuses_an_unknown_code(lookup: Callable[[], object]) -> None:
    with pytest.raises(NotFound) as raised:
        lookup()

    assert raised.value.code == "AGENCY_UNKNOWN"
    assert raised.value.params == {"code": "XX-NOPE"}


# --- gates ---


def test_gate_codes_are_unique() -> None:
    codes = [g.code for g in gates()]

    assert len(codes) == len(set(codes))


def test_pairs_are_symmetric_and_cross_the_border() -> None:
    for border_gate in gates():
        across = gate_pair(border_gate.code)
        assert gate_pair(across.code) == border_gate
        assert across.country != border_gate.country, border_gate.code
        assert across.kind == border_gate.kind, border_gate.code


def test_the_main_gate_pairs() -> None:
    assert gate_pair("CNYYG").code == "VN-HUUNGHI"
    assert gate_pair("CNDOX").code == "VNMOC"
    assert gate_pair("VN-DONGDANG").code == "CNPIN"


def test_a_gate_with_a_locode_uses_it_as_its_code() -> None:
    for border_gate in gates():
        if border_gate.locode is not None:
            assert border_gate.code == border_gate.locode
            assert border_gate.locality_locode is None, border_gate.code
        else:
            # Our own codes carry a hyphen, which no UN/LOCODE can contain.
            assert "-" in border_gate.code
            assert border_gate.locality_locode is not None, border_gate.code


def test_every_locode_belongs_to_the_gates_country() -> None:
    for border_gate in gates():
        for locode in (border_gate.locode, border_gate.locality_locode):
            if locode is not None:
                assert len(locode) == 5 and locode.isalnum() and locode.isupper()
                assert locode.startswith(border_gate.country), border_gate.code


def test_each_gate_keeps_its_countrys_time_zone() -> None:
    for border_gate in gates():
        assert border_gate.time_zone == TIME_ZONE[border_gate.country], border_gate.code


@pytest.mark.parametrize(
    "lookup",
    [lambda: gate("VNXXX"), lambda: gate_pair("VNXXX"), lambda: gate_name("VNXXX", "vi")],
    ids=["gate", "pair", "name"],
)
def test_every_gate_lookup_refuses_an_unknown_code(lookup: Callable[[], object]) -> None:
    with pytest.raises(NotFound) as raised:
        lookup()

    assert raised.value.code == "GATE_UNKNOWN"
    assert raised.value.params == {"code": "VNXXX"}
