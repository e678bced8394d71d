"""The ACFTA Form E certificate of origin (原产地证书 / C/O mẫu E), boxes 1–13.

The model follows the upgraded form used since August 2019 ("ASEAN–China Free
Trade Area Preferential Tariff Certificate of Origin", reference data:
``../shared/reference/acfta-rules-of-origin.md``). It fixes the *shape* of a
certificate: which boxes exist, their types, the closed lists a sender cannot
get wrong without breaking the contract (countries of the two nodes, transport
modes, identifier schemes).

What a certificate must *say* to be acceptable — a known HS code, a valid
tax identifier, an origin criterion printed on the 2019 form, dates that fit
the issuance time limits — is checked by the named rules in
:mod:`crossborder.domain.rules`, so that every such failure reaches the
counterpart with its own stable code and a message in its language rather than
as one anonymous schema error. That is why a few fields below (the certificate
number, the origin criterion code) are deliberately looser than the rules.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from crossborder.domain.agencies import AgencyCode
from crossborder.domain.decimals import FormEQuantity


class Country(StrEnum):
    """An ACFTA Party that runs a node of this system (ISO 3166-1 alpha-2)."""

    CN = "CN"
    VN = "VN"


class IdentifierScheme(StrEnum):
    """The national register a trader's identifier comes from."""

    #: China's unified social credit code (统一社会信用代码), 18 characters.
    CN_USCC = "CN_USCC"
    #: Vietnam's enterprise tax code (mã số thuế), 10 digits or 10-3 for a branch.
    VN_MST = "VN_MST"


#: The register a trader of each Party is identified in.
NATIONAL_SCHEME = {Country.CN: IdentifierScheme.CN_USCC, Country.VN: IdentifierScheme.VN_MST}


class TransportMode(StrEnum):
    """How the goods leave the exporting Party (box 3)."""

    ROAD = "road"
    RAIL = "rail"
    SEA = "sea"
    AIR = "air"
    INLAND_WATERWAY = "inland_waterway"


class PreferentialTreatment(StrEnum):
    """The importing Party's decision recorded in box 4."""

    GIVEN = "given"
    NOT_GIVEN = "not_given"


class OriginCriterionCode(StrEnum):
    """Box 8 codes of the 2019 form.

    ACU (accumulation) and DMI (de minimis) look similar but belong to other
    agreements' forms (AJCEP, RCEP); they are not ACFTA codes.
    """

    #: Wholly obtained or produced in the exporting Party.
    WO = "WO"
    #: Produced exclusively from originating materials.
    PE = "PE"
    #: Regional value content, printed with its percentage ("RVC 40%").
    RVC = "RVC"
    #: Change of tariff heading under the general rule.
    CTH = "CTH"
    #: A product-specific rule.
    PSR = "PSR"


_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

Name = Annotated[str, Field(min_length=1, max_length=200)]
Address = Annotated[str, Field(min_length=1, max_length=500)]
Place = Annotated[str, Field(min_length=1, max_length=100)]
#: Explicit ASCII classes: the regex engine's ``\d`` would also accept non-Latin digits.
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
#: A UN/LOCODE: country code plus three letters or digits 2–9.
UnLocode = Annotated[str, Field(pattern=r"^[A-Z]{2}[A-Z2-9]{3}$")]
#: An HS subheading: six digits, kept as text so leading zeros survive (``081090``).
HsSubheading = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
#: A unit of measure from UN/ECE Recommendation 20 (``KGM``, ``PCE``).
UnitCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,3}$")]
#: A kind of package from UN/ECE Recommendation 21 (``CT`` carton, ``BX`` box).
PackageKindCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{2}$")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Positive = FormEQuantity


class TradeParty(BaseModel):
    """The exporter (box 1) or the consignee (box 2)."""

    model_config = _STRICT

    name: Name
    address: Address
    country: Country
    identifier_scheme: IdentifierScheme
    identifier: Annotated[str, Field(min_length=1, max_length=32)]


class Transport(BaseModel):
    """Box 3: means of transport and route, as far as known."""

    model_config = _STRICT

    mode: TransportMode
    departure_date: date
    #: Vessel's name, flight, train number or vehicle registration plate.
    conveyance: Annotated[str, Field(min_length=1, max_length=100)]
    port_of_loading: UnLocode
    port_of_discharge: UnLocode


class OfficialUse(BaseModel):
    """Box 4, filled by the importing Party's customs, not by the issuer."""

    model_config = _STRICT

    preferential_treatment: PreferentialTreatment
    #: The form asks for the reason(s) when treatment is not given.
    reason: Annotated[str, Field(max_length=1000)] | None = None


class OriginCriterion(BaseModel):
    """Box 8 as printed: a code, and for RVC the percentage (``RVC 45%``)."""

    model_config = _STRICT

    #: Free text on purpose: a code from another agreement (ACU, DMI) is a
    #: business-rule violation with its own message, not a schema error.
    code: Annotated[str, Field(min_length=1, max_length=8)]
    #: A whole number, rounded down by the issuer (40.6 % is printed 40 %).
    rvc_percent: Annotated[int, Field(ge=0, le=100)] | None = None


class Quantity(BaseModel):
    """Box 9: gross weight or other quantity."""

    model_config = _STRICT

    value: Positive
    unit_code: UnitCode


class Money(BaseModel):
    """An amount in an ISO 4217 currency."""

    model_config = _STRICT

    amount: Positive
    currency: CurrencyCode


class Invoice(BaseModel):
    """Box 10: number and date of the invoice."""

    model_config = _STRICT

    number: Annotated[str, Field(min_length=1, max_length=50)]
    date: date


class Item(BaseModel):
    """One line of boxes 5 to 10."""

    model_config = _STRICT

    #: Box 5, numbered 1..n in order.
    item_number: Annotated[int, Field(ge=1)]
    #: Box 6, "N/M" when the packages carry none.
    marks_and_numbers: Annotated[str, Field(min_length=1, max_length=500)]
    #: Box 7: number and kind of packages, description, HS code of the importing Party.
    package_count: Annotated[int, Field(ge=1)]
    package_kind_code: PackageKindCode
    description: Annotated[str, Field(min_length=1, max_length=1000)]
    hs_code: HsSubheading
    #: Box 8.
    origin_criterion: OriginCriterion
    #: Box 9.
    quantity: Quantity
    gross_weight_kg: Positive
    #: Box 9, required when the RVC criterion is used (the percentage is computed on it).
    fob_value: Money | None = None
    #: Box 10.
    invoice: Invoice


class ExporterDeclaration(BaseModel):
    """Box 11: the exporter declares where the goods were produced and where they go."""

    model_config = _STRICT

    place: Place
    date: date
    signatory: Name
    country_of_origin: Country
    importing_country: Country


class Certification(BaseModel):
    """Box 12: the issuing authority (签证机构 / tổ chức cấp C/O) certifies the declaration."""

    model_config = _STRICT

    place: Place
    date: date
    #: The authority's name as its stamp reads; its agency code is on the certificate.
    authority_name: Name
    certifying_officer: Name


class ThirdPartyInvoice(BaseModel):
    """Who issues the invoice when box 13 "Third Party Invoicing" is ticked."""

    model_config = _STRICT

    operator_name: Name
    #: Any country: the invoicing company is often outside both Parties.
    operator_country: CountryCode


class FormE(BaseModel):
    """An ACFTA Form E certificate of origin, as issued by the exporting Party."""

    model_config = _STRICT

    #: "Reference No." printed in the top right corner; its format is checked by a rule.
    certificate_number: str
    #: "Issued in (country)".
    issuing_country: Country
    #: The agency code of the issuing authority that certifies box 12.
    issuing_authority: AgencyCode
    exporter: TradeParty
    consignee: TradeParty
    transport: Transport
    official_use: OfficialUse | None = None
    items: tuple[Item, ...]
    declaration: ExporterDeclaration
    certification: Certification
    #: Box 13 (补发 / C/O cấp sau).
    issued_retroactively: bool
    exhibition: bool
    #: Box 13: the ACFTA back-to-back certificate (流动证明).
    movement_certificate: bool
    #: Box 13 (第三方发票 / hóa đơn bên thứ ba), with its details below.
    third_party_invoicing: bool
    third_party_invoice: ThirdPartyInvoice | None = None


def form_e_digest_content(form: FormE) -> bytes:
    """Canonical bytes of what the issuing authority certified, for hashing.

    Two deliveries of the same certificate number are the same certificate exactly
    when these bytes are equal. So the bytes ignore what does not change the
    certificate: key order, the notation of a number (``12.5`` and ``12.50``),
    the Unicode composition of a Vietnamese name, optional boxes left empty
    (a contract version that adds an optional box keeps old digests), and box 4,
    which the importing Party fills in after issuance.
    """
    content = form.model_dump(mode="python", exclude={"official_use"}, exclude_none=True)
    return json.dumps(
        _canonical(content),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    return value
