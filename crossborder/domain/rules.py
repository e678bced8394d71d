"""The business rules of an ACFTA Form E, one named class each.

Each rule (``FormE.HsCode``, ``FormE.OriginCriterion``…) carries a stable
``code``, says in its docstring what it requires, and reports *every* place
where a certificate breaks it, so that an exporter or a counterpart fixes all
problems in one round trip. The text a person reads is rendered elsewhere from
the catalogs under the msgid ``error.<code>``, with the violation's ``field``
and ``params`` as placeholders.

``FormE`` in this module is the namespace of the rules (the naming of the
style guide); the certificate itself is ``certificate_of_origin.FormE``,
imported here as ``co``.

Reference data (HS nomenclature, identifier check digits, currencies) comes in
through :class:`FormEReference`, so this module stays free of I/O and is tested
with a small fake.

Time limits come from ``../shared/reference/acfta-rules-of-origin.md`` (c):
issuance at shipment or within 3 days after it, otherwise retroactively within
12 months, both confirmed from Vietnamese customs guidance on Rule 11 of the
2019 OCP. The validity period of a certificate is *not* confirmed for the 2019
OCP and is therefore not checked here.
"""

from __future__ import annotations

import calendar
import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, ClassVar, Protocol

from crossborder.domain import certificate_of_origin as co
from crossborder.domain.certificate_of_origin import (
    NATIONAL_SCHEME,
    Item,
    OriginCriterionCode,
    PreferentialTreatment,
    TradeParty,
)
from crossborder.domain.errors import InvalidInput, Violation

#: ACFTA general rule: regional value content of at least 40 %.
RVC_GENERAL_THRESHOLD_PERCENT = 40
#: Issued at shipment or within this many days after it, or else "issued retroactively".
ISSUANCE_GRACE_DAYS = 3
#: Retroactive issuance is possible up to this many months after shipment.
RETROACTIVE_LIMIT_MONTHS = 12
CERTIFICATE_NUMBER_MAX_LENGTH = 35

_CERTIFICATE_NUMBER = re.compile(rf"[A-Z0-9/-]{{1,{CERTIFICATE_NUMBER_MAX_LENGTH}}}")
_ORIGIN_CRITERIA = frozenset(OriginCriterionCode)


class FormEReference(Protocol):
    """The reference data the rules consult, supplied from outside the domain."""

    def hs_code_exists(self, code: str) -> bool:
        """Whether ``code`` is a 6-digit subheading of the HS nomenclature."""
        ...

    def party_identifier_valid(self, scheme: str, identifier: str) -> bool:
        """Whether ``identifier`` is well formed under ``scheme`` (check digit included)."""
        ...

    def currency_code_valid(self, code: str) -> bool:
        """Whether ``code`` is an ISO 4217 currency in use."""
        ...


class FormERule(ABC):
    """One business rule of a Form E: a stable code, a description, a check."""

    code: ClassVar[str]

    @classmethod
    def description(cls) -> str:
        """What the rule requires, in English, for documentation and reviews."""
        return inspect.getdoc(cls) or ""

    @abstractmethod
    def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
        """Every violation of this rule in ``form``; empty when it holds."""

    def violation(self, field: str, **params: Any) -> Violation:
        return Violation(self.code, field, params)


def _items(form: co.FormE) -> Iterator[tuple[str, Item]]:
    """Each item with its field path; paths index the list from zero, like the JSON."""
    for index, item in enumerate(form.items):
        yield f"items[{index}]", item


def _parties(form: co.FormE) -> Iterator[tuple[str, TradeParty]]:
    yield "exporter", form.exporter
    yield "consignee", form.consignee


def _months_after(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (29 Feb + 12 months = 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class FormE:
    """The rules of an ACFTA Form E, in the order of the boxes they concern."""

    class CertificateNumber(FormERule):
        """The certificate number is 1 to 35 characters: capital letters, digits, "/" and "-".

        Each issuing authority numbers its certificates its own way, so only the
        characters and the length a counterpart's systems can store are fixed.
        """

        code = "FORM_E_CERTIFICATE_NUMBER_INVALID"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            if _CERTIFICATE_NUMBER.fullmatch(form.certificate_number):
                return []
            return [self.violation("certificate_number", max_length=CERTIFICATE_NUMBER_MAX_LENGTH)]

    class IssuingAuthorityCountry(FormERule):
        """The issuing authority is an agency of the country the form is issued in.

        Agency codes start with their country (``CN-NNCUS``).
        """

        code = "FORM_E_ISSUING_AUTHORITY_COUNTRY"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            authority = form.issuing_authority
            if authority.split("-", 1)[0] == form.issuing_country:
                return []
            return [
                self.violation(
                    "issuing_authority",
                    issuing_authority=authority,
                    issuing_country=form.issuing_country.value,
                )
            ]

    class ExporterCountry(FormERule):
        """The exporter (box 1) is in the country that issues the certificate."""

        code = "FORM_E_EXPORTER_COUNTRY"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            if form.exporter.country == form.issuing_country:
                return []
            return [
                self.violation(
                    "exporter.country",
                    country=form.exporter.country.value,
                    issuing_country=form.issuing_country.value,
                )
            ]

    class ConsigneeCountry(FormERule):
        """The consignee (box 2) is in another ACFTA Party than the issuing country."""

        code = "FORM_E_CONSIGNEE_COUNTRY"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            if form.consignee.country != form.issuing_country:
                return []
            return [
                self.violation(
                    "consignee.country",
                    country=form.consignee.country.value,
                    issuing_country=form.issuing_country.value,
                )
            ]

    class NationalIdentifierScheme(FormERule):
        """A trader is identified in its own country's register: USCC in China, MST in Vietnam."""

        code = "FORM_E_IDENTIFIER_SCHEME_MISMATCH"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(
                    f"{path}.identifier_scheme",
                    scheme=party.identifier_scheme.value,
                    country=party.country.value,
                    expected_scheme=NATIONAL_SCHEME[party.country].value,
                )
                for path, party in _parties(form)
                if party.identifier_scheme != NATIONAL_SCHEME[party.country]
            ]

    class ExporterIdentifier(FormERule):
        """The exporter's identifier is valid under its scheme, check digit included."""

        code = "FORM_E_EXPORTER_ID_INVALID"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            party = form.exporter
            if reference.party_identifier_valid(party.identifier_scheme, party.identifier):
                return []
            return [
                self.violation(
                    "exporter.identifier",
                    identifier=party.identifier,
                    scheme=party.identifier_scheme.value,
                )
            ]

    class ConsigneeIdentifier(FormERule):
        """The consignee's identifier is valid under its scheme, check digit included."""

        code = "FORM_E_CONSIGNEE_ID_INVALID"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            party = form.consignee
            if reference.party_identifier_valid(party.identifier_scheme, party.identifier):
                return []
            return [
                self.violation(
                    "consignee.identifier",
                    identifier=party.identifier,
                    scheme=party.identifier_scheme.value,
                )
            ]

    class NoItems(FormERule):
        """The certificate covers at least one item."""

        code = "FORM_E_NO_ITEMS"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [] if form.items else [self.violation("items")]

    class ItemNumbering(FormERule):
        """Items are numbered 1, 2, 3… in the order they appear (box 5)."""

        code = "FORM_E_ITEM_NUMBERING"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(f"{path}.item_number", expected=expected, actual=item.item_number)
                for expected, (path, item) in enumerate(_items(form), start=1)
                if item.item_number != expected
            ]

    class HsCode(FormERule):
        """Each item's HS code (box 7) is a 6-digit subheading of the HS nomenclature."""

        code = "FORM_E_HS_CODE_UNKNOWN"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(f"{path}.hs_code", item=item.item_number, hs_code=item.hs_code)
                for path, item in _items(form)
                if not reference.hs_code_exists(item.hs_code)
            ]

    class OriginCriterion(FormERule):
        """Box 8 carries an ACFTA origin criterion: WO, PE, RVC, CTH or PSR (not ACU, not DMI)."""

        code = "FORM_E_ORIGIN_CRITERION_INVALID"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(
                    f"{path}.origin_criterion.code",
                    item=item.item_number,
                    criterion=item.origin_criterion.code,
                    allowed=", ".join(OriginCriterionCode),
                )
                for path, item in _items(form)
                if item.origin_criterion.code not in _ORIGIN_CRITERIA
            ]

    class RvcPercentMissing(FormERule):
        """The RVC criterion is stated with its percentage ("RVC 40%")."""

        code = "FORM_E_RVC_PERCENT_MISSING"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(f"{path}.origin_criterion.rvc_percent", item=item.item_number)
                for path, item in _items(form)
                if item.origin_criterion.code == OriginCriterionCode.RVC
                and item.origin_criterion.rvc_percent is None
            ]

    class RvcPercentUnexpected(FormERule):
        """A percentage is stated only with the RVC criterion."""

        code = "FORM_E_RVC_PERCENT_UNEXPECTED"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(
                    f"{path}.origin_criterion.rvc_percent",
                    item=item.item_number,
                    criterion=item.origin_criterion.code,
                )
                for path, item in _items(form)
                if item.origin_criterion.code != OriginCriterionCode.RVC
                and item.origin_criterion.rvc_percent is not None
            ]

    class RvcThreshold(FormERule):
        """Under the RVC criterion the regional value content is at least 40 % (general rule)."""

        code = "FORM_E_RVC_PERCENT_BELOW_THRESHOLD"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(
                    f"{path}.origin_criterion.rvc_percent",
                    item=item.item_number,
                    percent=percent,
                    threshold=RVC_GENERAL_THRESHOLD_PERCENT,
                )
                for path, item in _items(form)
                if item.origin_criterion.code == OriginCriterionCode.RVC
                and (percent := item.origin_criterion.rvc_percent) is not None
                and percent < RVC_GENERAL_THRESHOLD_PERCENT
            ]

    class FobValue(FormERule):
        """Under the RVC criterion box 9 states the FOB value the percentage is computed on."""

        code = "FORM_E_FOB_VALUE_MISSING"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(f"{path}.fob_value", item=item.item_number)
                for path, item in _items(form)
                if item.origin_criterion.code == OriginCriterionCode.RVC and item.fob_value is None
            ]

    class Currency(FormERule):
        """The FOB value is in an ISO 4217 currency in use."""

        code = "FORM_E_CURRENCY_INVALID"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(
                    f"{path}.fob_value.currency",
                    item=item.item_number,
                    currency=item.fob_value.currency,
                )
                for path, item in _items(form)
                if item.fob_value is not None
                and not reference.currency_code_valid(item.fob_value.currency)
            ]

    class QuantityWithinGrossWeight(FormERule):
        """A quantity stated in kilograms does not exceed the gross weight (net ≤ gross)."""

        code = "FORM_E_QUANTITY_ABOVE_GROSS_WEIGHT"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            return [
                self.violation(
                    f"{path}.quantity.value",
                    item=item.item_number,
                    quantity=str(item.quantity.value),
                    gross_weight=str(item.gross_weight_kg),
                )
                for path, item in _items(form)
                if item.quantity.unit_code == "KGM" and item.quantity.value > item.gross_weight_kg
            ]

    class ImportingCountry(FormERule):
        """The importing country in the exporter's declaration (box 11) is the consignee's."""

        code = "FORM_E_IMPORTING_COUNTRY_MISMATCH"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            if form.declaration.importing_country == form.consignee.country:
                return []
            return [
                self.violation(
                    "declaration.importing_country",
                    importing_country=form.declaration.importing_country.value,
                    consignee_country=form.consignee.country.value,
                )
            ]

    class OriginCountry(FormERule):
        """The goods are declared produced in the issuing country (box 11).

        A Movement Certificate (流动证明) is issued by an intermediate Party for
        goods of another Party's origin, so it is exempt.
        """

        code = "FORM_E_ORIGIN_COUNTRY_MISMATCH"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            declared = form.declaration.country_of_origin
            if form.movement_certificate or declared == form.issuing_country:
                return []
            return [
                self.violation(
                    "declaration.country_of_origin",
                    country_of_origin=declared.value,
                    issuing_country=form.issuing_country.value,
                )
            ]

    class CertifiedAfterDeclaration(FormERule):
        """The authority certifies (box 12) on or after the day the exporter declares (box 11)."""

        code = "FORM_E_CERTIFIED_BEFORE_DECLARATION"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            if form.certification.date >= form.declaration.date:
                return []
            return [
                self.violation(
                    "certification.date",
                    certification_date=form.certification.date.isoformat(),
                    declaration_date=form.declaration.date.isoformat(),
                )
            ]

    class IssuedRetroactively(FormERule):
        """A certificate issued more than 3 days after shipment has "Issued Retroactively" ticked.

        The days are calendar days: ASEAN and China agreed that differing ways
        of counting them do not affect a certificate's validity, so the check
        takes the lenient reading.
        """

        code = "FORM_E_CERTIFIED_AFTER_SHIPMENT_NOT_RETROACTIVE"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            departure = form.transport.departure_date
            certified = form.certification.date
            if form.issued_retroactively or certified <= departure + timedelta(
                days=ISSUANCE_GRACE_DAYS
            ):
                return []
            return [
                self.violation(
                    "issued_retroactively",
                    departure_date=departure.isoformat(),
                    certification_date=certified.isoformat(),
                    days=ISSUANCE_GRACE_DAYS,
                )
            ]

    class RetroactiveLimit(FormERule):
        """A certificate is issued at the latest 12 months after shipment, even retroactively."""

        code = "FORM_E_RETROACTIVE_TOO_LATE"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            departure = form.transport.departure_date
            certified = form.certification.date
            if certified <= _months_after(departure, RETROACTIVE_LIMIT_MONTHS):
                return []
            return [
                self.violation(
                    "certification.date",
                    departure_date=departure.isoformat(),
                    certification_date=certified.isoformat(),
                    months=RETROACTIVE_LIMIT_MONTHS,
                )
            ]

    class ThirdPartyInvoiceDetails(FormERule):
        """When "Third Party Invoicing" is ticked, the invoicing company is named."""

        code = "FORM_E_THIRD_PARTY_INVOICE_DETAILS_MISSING"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            if form.third_party_invoicing and form.third_party_invoice is None:
                return [self.violation("third_party_invoice")]
            return []

    class ThirdPartyInvoiceTicked(FormERule):
        """An invoicing company is named only when "Third Party Invoicing" is ticked."""

        code = "FORM_E_THIRD_PARTY_INVOICE_NOT_TICKED"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            if form.third_party_invoice is not None and not form.third_party_invoicing:
                return [self.violation("third_party_invoicing")]
            return []

    class RefusalReason(FormERule):
        """Box 4 "Preferential Treatment Not Given" states the reason(s), as the form asks."""

        code = "FORM_E_REFUSAL_REASON_MISSING"

        def check(self, form: co.FormE, reference: FormEReference) -> list[Violation]:
            official_use = form.official_use
            if (
                official_use is not None
                and official_use.preferential_treatment == PreferentialTreatment.NOT_GIVEN
                and not official_use.reason
            ):
                return [self.violation("official_use.reason")]
            return []


#: Every rule defined in :class:`FormE`, in definition order: a new rule runs by being written.
FORM_E_RULES: tuple[FormERule, ...] = tuple(
    rule()
    for rule in vars(FormE).values()
    if isinstance(rule, type) and issubclass(rule, FormERule)
)


def check_form_e(form: co.FormE, reference: FormEReference) -> list[Violation]:
    """Every violation of every Form E rule, in the order of the boxes."""
    return [violation for rule in FORM_E_RULES for violation in rule.check(form, reference)]


def validate_form_e(form: co.FormE, reference: FormEReference) -> None:
    """Raise ``InvalidInput("FORM_E_INVALID")`` listing every violation, if there is any."""
    violations = check_form_e(form, reference)
    if violations:
        raise InvalidInput(
            "FORM_E_INVALID", violations=violations, certificate_number=form.certificate_number
        )
