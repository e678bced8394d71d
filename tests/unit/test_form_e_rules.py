"""The Form E business rules: one focused bad variant per rule, and the reference data."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.errors import InvalidInput, Violation
from crossborder.domain.rules import FORM_E_RULES, FormERule, check_form_e, validate_form_e
from crossborder.domain.rules import FormE as Rules
from crossborder.i18n import LOCALES, catalog, translate
from crossborder.reference.form_e_reference import FormEReferenceData
from crossborder.reference.hs import hs6_subheadings, hs_code_exists
from crossborder.reference.identifiers import party_identifier_valid

EXAMPLE = Path(__file__).resolve().parents[2] / "contracts/examples/payloads/form-e.json"
EXPORTER_USCC = "91451481MA5L7R2K37"
CONSIGNEE_MST = "4900358123"


@dataclass(frozen=True)
class FakeReference:
    """Just enough reference data for the example and its variants."""

    hs_codes: frozenset[str] = frozenset({"081090", "080810"})
    identifiers: frozenset[tuple[str, str]] = frozenset(
        {("CN_USCC", EXPORTER_USCC), ("VN_MST", CONSIGNEE_MST)}
    )
    currencies: frozenset[str] = frozenset({"USD", "CNY", "VND"})

    def hs_code_exists(self, code: str) -> bool:
        return code in self.hs_codes

    def party_identifier_valid(self, scheme: str, identifier: str) -> bool:
        return (scheme, identifier) in self.identifiers

    def currency_code_valid(self, code: str) -> bool:
        return code in self.currencies


REFERENCE = FakeReference()


def example_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def variant(**changes: Any) -> FormE:
    """The example with values replaced; keys are paths such as ``items.0.hs_code``."""
    data = example_data()
    for dotted, value in changes.items():
        steps: list[Any] = [int(step) if step.isdigit() else step for step in dotted.split(".")]
        node: Any = data
        for step in steps[:-1]:
            node = node[step]
        node[steps[-1]] = value
    return FormE.model_validate(data)


RVC_45_WITH_FOB = {"code": "RVC", "rvc_percent": 45}

#: rule, focused bad variant, the fields the rule must report.
CASES: list[tuple[type[FormERule], dict[str, Any], list[str]]] = [
    (Rules.CertificateNumber, {"certificate_number": "e26-001"}, ["certificate_number"]),
    (Rules.CertificateNumber, {"certificate_number": "E" * 36}, ["certificate_number"]),
    (Rules.CertificateNumber, {"certificate_number": "   "}, ["certificate_number"]),
    (Rules.CertificateNumber, {"certificate_number": "E26 001"}, ["certificate_number"]),
    (Rules.IssuingAuthorityCountry, {"issuing_authority": "VN-LSCUS"}, ["issuing_authority"]),
    (Rules.ExporterCountry, {"exporter.country": "VN"}, ["exporter.country"]),
    (Rules.ConsigneeCountry, {"consignee.country": "CN"}, ["consignee.country"]),
    (
        Rules.NationalIdentifierScheme,
        {"consignee.identifier_scheme": "CN_USCC", "exporter.identifier_scheme": "VN_MST"},
        ["exporter.identifier_scheme", "consignee.identifier_scheme"],
    ),
    (
        Rules.ExporterIdentifier,
        {"exporter.identifier": "91451481MA5L7R2K38"},
        ["exporter.identifier"],
    ),
    (Rules.ConsigneeIdentifier, {"consignee.identifier": "4900358124"}, ["consignee.identifier"]),
    (Rules.NoItems, {"items": []}, ["items"]),
    (Rules.ItemNumbering, {"items.1.item_number": 3}, ["items[1].item_number"]),
    (
        Rules.ItemNumbering,
        {"items.0.item_number": 2, "items.1.item_number": 1},
        ["items[0].item_number", "items[1].item_number"],
    ),
    (Rules.HsCode, {"items.1.hs_code": "081099"}, ["items[1].hs_code"]),
    (
        Rules.HsCode,
        {"items.0.hs_code": "000000", "items.1.hs_code": "081099"},
        ["items[0].hs_code", "items[1].hs_code"],
    ),
    (
        Rules.OriginCriterion,
        {"items.0.origin_criterion.code": "ACU", "items.1.origin_criterion.code": "DMI"},
        ["items[0].origin_criterion.code", "items[1].origin_criterion.code"],
    ),
    (
        Rules.OriginCriterion,
        {"items.0.origin_criterion.code": "wo"},
        ["items[0].origin_criterion.code"],
    ),
    (
        Rules.RvcPercentMissing,
        {"items.0.origin_criterion": {"code": "RVC", "rvc_percent": None}},
        ["items[0].origin_criterion.rvc_percent"],
    ),
    (
        Rules.RvcPercentUnexpected,
        {"items.1.origin_criterion": {"code": "WO", "rvc_percent": 40}},
        ["items[1].origin_criterion.rvc_percent"],
    ),
    (
        Rules.RvcThreshold,
        {"items.0.origin_criterion": {"code": "RVC", "rvc_percent": 39}},
        ["items[0].origin_criterion.rvc_percent"],
    ),
    (
        Rules.FobValue,
        {"items.0.origin_criterion": RVC_45_WITH_FOB, "items.0.fob_value": None},
        ["items[0].fob_value"],
    ),
    (Rules.Currency, {"items.0.fob_value.currency": "XYZ"}, ["items[0].fob_value.currency"]),
    (
        Rules.QuantityWithinGrossWeight,
        {"items.0.quantity.value": "6600.5"},
        ["items[0].quantity.value"],
    ),
    (
        Rules.ImportingCountry,
        {"declaration.importing_country": "CN"},
        ["declaration.importing_country"],
    ),
    (
        Rules.OriginCountry,
        {"declaration.country_of_origin": "VN"},
        ["declaration.country_of_origin"],
    ),
    (Rules.CertifiedAfterDeclaration, {"declaration.date": "2026-09-16"}, ["certification.date"]),
    # Shipped 16 September: the 3 days run to the 19th.
    (Rules.IssuedRetroactively, {"certification.date": "2026-09-20"}, ["issued_retroactively"]),
    (
        Rules.RetroactiveLimit,
        {"certification.date": "2027-09-17", "issued_retroactively": True},
        ["certification.date"],
    ),
    (Rules.ThirdPartyInvoiceDetails, {"third_party_invoicing": True}, ["third_party_invoice"]),
    (
        Rules.ThirdPartyInvoiceTicked,
        {
            "third_party_invoice": {
                "operator_name": "Sunrise Trading Pte. Ltd.",
                "operator_country": "SG",
            }
        },
        ["third_party_invoicing"],
    ),
    (
        Rules.RefusalReason,
        {"official_use": {"preferential_treatment": "not_given", "reason": None}},
        ["official_use.reason"],
    ),
]


def case_id(case: tuple[type[FormERule], dict[str, Any], list[str]]) -> str:
    rule, changes, _ = case
    return f"{rule.__name__}-{'+'.join(changes)}"


def test_the_example_passes_every_rule() -> None:
    assert check_form_e(variant(), REFERENCE) == []


def test_the_example_passes_with_the_shipped_reference_data() -> None:
    validate_form_e(variant(), FormEReferenceData())


@pytest.mark.parametrize(("rule", "changes", "fields"), CASES, ids=[case_id(c) for c in CASES])
def test_rule_reports_every_place_it_is_broken(
    rule: type[FormERule], changes: dict[str, Any], fields: list[str]
) -> None:
    assert rule().check(variant(), REFERENCE) == []

    violations = rule().check(variant(**changes), REFERENCE)

    assert [(v.code, v.field) for v in violations] == [(rule.code, field) for field in fields]


@pytest.mark.parametrize(("rule", "changes", "fields"), CASES, ids=[case_id(c) for c in CASES])
def test_validation_raises_with_the_rule_violation(
    rule: type[FormERule], changes: dict[str, Any], fields: list[str]
) -> None:
    form = variant(**changes)

    with pytest.raises(InvalidInput) as caught:
        validate_form_e(form, REFERENCE)

    assert caught.value.code == "FORM_E_INVALID"
    assert caught.value.params == {"certificate_number": form.certificate_number}
    assert {(rule.code, field) for field in fields} <= {
        (v.code, v.field) for v in caught.value.violations
    }


def test_every_rule_has_a_case_and_a_unique_stable_code() -> None:
    codes = [rule.code for rule in FORM_E_RULES]

    assert {type(rule) for rule in FORM_E_RULES} == {case[0] for case in CASES}
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"FORM_E_[A-Z0-9_]+", code) for code in codes)
    assert all(rule.description() for rule in FORM_E_RULES)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_code_has_a_message_in_every_language(locale: str) -> None:
    keys = {f"error.{rule.code}" for rule in FORM_E_RULES} | {"error.FORM_E_INVALID"}

    assert keys <= set(catalog(locale))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("rule", "changes", "fields"), CASES, ids=[case_id(c) for c in CASES])
def test_violations_render_with_every_placeholder_filled(
    locale: str, rule: type[FormERule], changes: dict[str, Any], fields: list[str]
) -> None:
    violations: list[Violation] = rule().check(variant(**changes), REFERENCE)

    for violation in violations:
        text = translate(
            f"error.{violation.code}", locale, field=violation.field, **violation.params
        )
        assert "{" not in text, text
        assert violation.field in text


@pytest.mark.parametrize(("percent", "broken"), [(39, True), (40, False), (100, False)])
def test_rvc_threshold_is_forty_percent(percent: int, broken: bool) -> None:
    form = variant(**{"items.0.origin_criterion": {"code": "RVC", "rvc_percent": percent}})

    assert bool(Rules.RvcThreshold().check(form, REFERENCE)) is broken


@pytest.mark.parametrize(
    ("certified", "retroactive", "broken"),
    [
        ("2026-09-10", False, False),
        ("2026-09-19", False, False),
        ("2026-09-20", False, True),
        ("2026-09-20", True, False),
    ],
)
def test_issued_retroactively_after_three_days(
    certified: str, retroactive: bool, broken: bool
) -> None:
    form = variant(
        **{
            "certification.date": certified,
            "declaration.date": "2026-09-10",
            "issued_retroactively": retroactive,
        }
    )

    assert bool(Rules.IssuedRetroactively().check(form, REFERENCE)) is broken


@pytest.mark.parametrize(
    ("departure", "certified", "broken"),
    [
        ("2026-09-16", "2027-09-16", False),
        ("2026-09-16", "2027-09-17", True),
        # From 29 February the twelve months end on 28 February.
        ("2024-02-29", "2025-02-28", False),
        ("2024-02-29", "2025-03-01", True),
    ],
)
def test_retroactive_issuance_within_twelve_months(
    departure: str, certified: str, broken: bool
) -> None:
    form = variant(
        **{
            "transport.departure_date": departure,
            "certification.date": certified,
            "issued_retroactively": True,
        }
    )

    assert bool(Rules.RetroactiveLimit().check(form, REFERENCE)) is broken


@pytest.mark.parametrize(
    ("scheme", "identifier", "valid"),
    [
        ("CN_USCC", EXPORTER_USCC, True),
        ("CN_USCC", "91110000600037341L", True),
        ("CN_USCC", "91451481MA5L7R2K38", False),
        # Valid check digit, but not as the register writes it.
        ("CN_USCC", "91451481ma5l7r2k37", False),
        ("CN_USCC", "9145 1481 MA5L 7R2K 37", False),
        ("VN_MST", CONSIGNEE_MST, True),
        ("VN_MST", "0314409058-002", True),
        ("VN_MST", "0314409058002", False),
        ("VN_MST", "0100233480", False),
        ("VN_MST", EXPORTER_USCC, False),
        ("XX_TIN", CONSIGNEE_MST, False),
    ],
)
def test_party_identifiers_are_checked_with_their_register_rules(
    scheme: str, identifier: str, valid: bool
) -> None:
    assert party_identifier_valid(scheme, identifier) is valid


def test_hs_codes_are_the_six_digit_subheadings() -> None:
    assert hs_code_exists("081090")
    assert hs_code_exists("870899")
    assert not hs_code_exists("081099")
    assert not hs_code_exists("0810")
    assert hs6_subheadings()["080810"] == "Fruit, edible; apples, fresh"


@pytest.mark.parametrize(
    ("currency", "valid"),
    [("USD", True), ("CNY", True), ("VND", True), ("DEM", False), ("XXX", False)],
)
def test_currencies_are_those_in_use(currency: str, valid: bool) -> None:
    assert FormEReferenceData().currency_code_valid(currency) is valid
