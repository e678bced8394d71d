"""The Form E model: the contract example, strictness, and the content digest."""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from crossborder.domain.certificate_of_origin import FormE, form_e_digest_content

EXAMPLE = Path(__file__).resolve().parents[2] / "contracts/examples/payloads/form-e.json"


def example_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def changed(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """The example with the value at ``path`` replaced (or removed, for ``...``)."""
    data = example_data()
    node: Any = data
    for step in path[:-1]:
        node = node[step]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


def reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def test_example_round_trips_through_the_model() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")

    form = FormE.model_validate_json(text)

    assert form.model_dump(mode="json") == json.loads(text)


def test_money_and_quantities_are_decimals() -> None:
    item = FormE.model_validate(example_data()).items[0]

    assert item.quantity.value == Decimal("6000")
    assert isinstance(item.gross_weight_kg, Decimal)
    assert item.fob_value is not None and item.fob_value.amount == Decimal("9000.00")


@pytest.mark.parametrize(
    "path",
    [
        ("signature",),
        ("exporter", "phone"),
        ("transport", "eta"),
        ("items", 0, "net_weight_kg"),
        ("items", 0, "origin_criterion", "de_minimis"),
        ("certification", "seal"),
    ],
)
def test_unknown_fields_are_rejected(path: tuple[str | int, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        FormE.model_validate(changed(path, "x"))

    assert [(error["type"], error["loc"]) for error in caught.value.errors()] == [
        ("extra_forbidden", path)
    ]


@pytest.mark.parametrize(
    "path",
    [
        ("certificate_number",),
        ("issuing_authority",),
        ("exporter", "identifier"),
        ("transport", "departure_date"),
        ("items", 0, "hs_code"),
        ("items", 1, "invoice", "date"),
        ("declaration", "importing_country"),
        ("issued_retroactively",),
    ],
)
def test_missing_fields_are_rejected(path: tuple[str | int, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        FormE.model_validate(changed(path, ...))

    assert [(error["type"], error["loc"]) for error in caught.value.errors()] == [("missing", path)]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("items", 0, "hs_code"), "08109"),
        (("items", 0, "hs_code"), "0810.90"),
        # Arabic-Indic digits: a Unicode-aware \d would take them.
        (("items", 0, "hs_code"), "٠٨١٠٩٠"),
        (("issuing_country",), "TH"),
        (("transport", "mode"), "truck"),
        (("transport", "port_of_loading"), "Youyiguan"),
        (("exporter", "identifier_scheme"), "CN_ORG"),
        (("items", 0, "quantity", "value"), "0"),
        (("items", 0, "gross_weight_kg"), "NaN"),
        (("items", 0, "origin_criterion", "rvc_percent"), 40.6),
        (("issuing_authority",), "NNCUS"),
    ],
)
def test_malformed_values_are_rejected(path: tuple[str | int, ...], value: Any) -> None:
    with pytest.raises(ValidationError):
        FormE.model_validate(changed(path, value))


def test_surrounding_whitespace_is_stripped() -> None:
    form = FormE.model_validate(changed(("exporter", "name"), "  Pingxiang Hengfeng  "))

    assert form.exporter.name == "Pingxiang Hengfeng"


def test_a_certificate_cannot_be_changed_in_place() -> None:
    form = FormE.model_validate(example_data())

    with pytest.raises(ValidationError):
        form.certificate_number = "E2"  # type: ignore[misc,unused-ignore]
    assert isinstance(form.items, tuple)


def digest(data: dict[str, Any]) -> bytes:
    return form_e_digest_content(FormE.model_validate(data))


def test_digest_is_canonical_json_with_decimals_as_strings() -> None:
    content = digest(example_data())

    decoded = json.loads(content)
    assert content == json.dumps(
        decoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert decoded["items"][0]["fob_value"] == {"amount": "9000", "currency": "USD"}


def test_digest_ignores_key_order() -> None:
    assert digest(reversed_keys(example_data())) == digest(example_data())


@pytest.mark.parametrize("notation", ["6000.000", 6e3, 6000])
def test_digest_ignores_how_a_number_is_written(notation: Any) -> None:
    assert digest(changed(("items", 0, "quantity", "value"), notation)) == digest(example_data())


@pytest.mark.parametrize(
    "notation", ["6E+3", " 6000", "6_000", "06000", "+6000", "６000", "0.0000001"]
)
def test_a_decimal_string_is_written_plainly_as_the_contract_says(notation: str) -> None:
    with pytest.raises(ValidationError) as refused:
        FormE.model_validate(changed(("items", 0, "quantity", "value"), notation))
    assert refused.value.errors()[0]["type"] == "VALUE_FORMAT_INVALID"


def test_digest_ignores_unicode_composition() -> None:
    address = example_data()["consignee"]["address"]
    decomposed = unicodedata.normalize("NFD", address)
    assert decomposed != address

    assert digest(changed(("consignee", "address"), decomposed)) == digest(example_data())


def test_digest_ignores_box_4_filled_by_the_importing_party() -> None:
    decided = changed(("official_use",), {"preferential_treatment": "given", "reason": None})

    assert digest(decided) == digest(example_data())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("items", 0, "hs_code"), "080810"),
        (("items", 1, "gross_weight_kg"), "10801"),
        (("consignee", "identifier"), "0100233488"),
        (("issued_retroactively",), True),
    ],
)
def test_digest_changes_with_the_certified_content(path: tuple[str | int, ...], value: Any) -> None:
    assert digest(changed(path, value)) != digest(example_data())
