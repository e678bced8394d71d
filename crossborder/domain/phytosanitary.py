"""The phytosanitary certificate (植物检疫证书 / Giấy chứng nhận kiểm dịch thực vật) as we keep it.

The exporting side's plant-protection body certifies a consignment with a
phytosanitary certificate (ISPM 12); between national plant-protection bodies it
travels as a UN/CEFACT SPSCertificate ("ePhyto"). This model keeps the part of
that message a quarantine officer acts on, in the message's own structure so
that reading and writing it back loses nothing we keep:

- the exchanged document (number, type, status, issue time, issuer, the notes
  that carry additional declarations, referenced documents and attachments,
  the signatory) and
- the consignment (consignor, consignee, countries, points of exit and entry,
  transport, and the items with their treatments).

What a certificate *says* is kept as written. Every free text keeps its
``languageID`` (``None`` when the certificate gives none) and every character,
including line breaks; scientific names are never normalised; codes the
certificate uses are kept even when we cannot confirm their meaning (see
:class:`CertificateType`, :class:`CertificateStatus`); a measure keeps its
unit code, or ``None`` when the certificate gave none — a missing unit is
reported, never guessed.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from crossborder.domain.decimals import AnyDecimal

#: Kept exactly as read: no whitespace stripping, unlike the Form E models.
_KEPT = ConfigDict(extra="forbid", frozen=True)


class CertificateType(StrEnum):
    """Document type codes of the ePhyto hub (UN/CEFACT document name code list)."""

    PHYTOSANITARY = "851"
    RE_EXPORT_PHYTOSANITARY = "657"


class CertificateStatus(StrEnum):
    """Status codes of the ePhyto hub we could confirm from its published interface.

    Other status codes exist in the UN/CEFACT list (replaced, approved…) but
    the hub's documentation does not say it uses them: a certificate carrying one
    keeps it as written and the import reports it.
    """

    ISSUED = "70"
    WITHDRAWN = "40"


class Text(BaseModel):
    """Words as the certificate wrote them, with the language it declared for them."""

    model_config = _KEPT

    text: str
    #: The ``languageID`` as given (``en``, ``es``, ``nn``…); ``None`` when absent.
    language: str | None = None


class DateTimeText(BaseModel):
    """A date and time exactly as written.

    SPSCertificate carries them as strings whose format is named by an optional
    code, and real certificates write plain dates or local offsets: parsing them
    here would rewrite what the issuer signed.
    """

    model_config = _KEPT

    text: str
    format: str | None = None


class Measure(BaseModel):
    """A weight, volume, duration, temperature or concentration with its unit."""

    model_config = _KEPT

    value: AnyDecimal
    #: UN/ECE Recommendation 20 code as written (``KGM``, ``MTQ``, ``HUR``, ``CEL``);
    #: ``None`` when the certificate gave none.
    unit_code: str | None = None


class Code(BaseModel):
    """A code with the list it comes from, as a certificate names it."""

    model_config = _KEPT

    value: str
    list_name: str | None = None
    #: The code's name as written beside it (``Road transport`` for mode ``3``).
    name: str | None = None


class Address(BaseModel):
    model_config = _KEPT

    postcode: str | None = None
    line_one: Text | None = None
    line_two: Text | None = None
    line_three: Text | None = None
    line_four: Text | None = None
    line_five: Text | None = None
    city_name: Text | None = None
    country_id: str | None = None
    country_name: Text | None = None
    country_subdivision_id: str | None = None
    country_subdivision_name: Text | None = None


class Party(BaseModel):
    """An issuer, consignor, consignee or signing officer's body."""

    model_config = _KEPT

    id: str | None = None
    name: Text | None = None
    #: Some issuers put a registration number here, naming its register in ``list_name``.
    type_codes: tuple[Code, ...] = ()
    address: Address | None = None
    #: The person acting for the party (the signing inspector, for a signatory).
    person_name: Text | None = None


class Location(BaseModel):
    """A port, a place of issue or of inspection."""

    model_config = _KEPT

    id: str | None = None
    #: The scheme of ``id`` as the certificate names it (UN/LOCODE, or a national list).
    scheme_id: str | None = None
    names: tuple[Text, ...] = ()


class CountrySubdivision(BaseModel):
    """A region of a country: a place of production, a pest-free area."""

    model_config = _KEPT

    id: str | None = None
    names: tuple[Text, ...] = ()
    hierarchical_level_code: str | None = None


class SpsCountry(BaseModel):
    model_config = _KEPT

    #: ISO 3166-1 alpha-2, as written.
    id: str
    names: tuple[Text, ...] = ()
    subdivisions: tuple[CountrySubdivision, ...] = ()


class Note(BaseModel):
    """A note of the certificate, named by an IPPC tag acronym.

    Additional declarations (``ADEDL`` at document level, ``ADTLIL`` at item
    level, with their ``ADIP…``/``ADDI…``/``ADAO…`` companions), distinguishing
    marks (``DMCL``, ``DMTLIL``), the re-export statement (``RPC…``), the
    declared quantity (``OQV``/``OQU``) and the package description (``OPTND``)
    all travel as notes; the acronym is kept as written.
    """

    model_config = _KEPT

    subject: str | None = None
    contents: tuple[Text, ...] = ()


class Attachment(BaseModel):
    """A document attached to the certificate (a PDF of the paper certificate, a permit).

    The content is kept as the base64 text the certificate carries, not as a
    reference to a stored file: writing the certificate back must reproduce the
    attachment, and no document store exists to refer to yet.
    """

    model_config = _KEPT

    content_base64: str
    filename: str | None = None
    mime_code: str | None = None

    @property
    def byte_length(self) -> int | None:
        """The attachment's size in bytes; ``None`` when its content is not valid base64."""
        try:
            return len(base64.b64decode("".join(self.content_base64.split()), validate=True))
        except binascii.Error:
            return None


class ReferencedDocument(BaseModel):
    """A document the certificate refers to: an import permit, the replaced certificate."""

    model_config = _KEPT

    issued: DateTimeText | None = None
    type_code: str | None = None
    relationship_type_code: str | None = None
    id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    information: Text | None = None


class Clause(BaseModel):
    """A certification clause the signatory asserts, by its number."""

    model_config = _KEPT

    id: str
    contents: tuple[Text, ...] = ()


class Signatory(BaseModel):
    """Who signed the certificate, where and when."""

    model_config = _KEPT

    type_code: str | None = None
    signed: DateTimeText | None = None
    issue_location: Location | None = None
    provider: Party | None = None
    clauses: tuple[Clause, ...] = ()


class ExchangedDocument(BaseModel):
    """The certificate as a document: its identity, issuer, notes and signatories."""

    model_config = _KEPT

    #: The certificate number given by the issuing plant-protection body.
    id: str
    names: tuple[Text, ...] = ()
    descriptions: tuple[Text, ...] = ()
    type_code: str
    status_code: str
    issued: DateTimeText
    issuer: Party
    notes: tuple[Note, ...] = ()
    referenced_documents: tuple[ReferencedDocument, ...] = ()
    signatories: tuple[Signatory, ...] = ()

    @property
    def certificate_type(self) -> CertificateType | None:
        """The confirmed meaning of ``type_code``; ``None`` for a code we cannot confirm."""
        return _member(CertificateType, self.type_code)

    @property
    def status(self) -> CertificateStatus | None:
        """The confirmed meaning of ``status_code``; ``None`` for a code we cannot confirm."""
        return _member(CertificateStatus, self.status_code)


class TransportMovement(BaseModel):
    """One leg of the main carriage: its mode and the vessel, truck or flight."""

    model_config = _KEPT

    id: str | None = None
    mode: Code
    means_name: Text | None = None


class TransportEquipment(BaseModel):
    """A container or trailer, with the seals fixed on it."""

    model_config = _KEPT

    id: str | None = None
    seal_ids: tuple[str, ...] = ()


class Classification(BaseModel):
    """An item's class in a named system: ``HS`` code, IPPC commodity class or condition."""

    model_config = _KEPT

    system_name: str
    class_code: str | None = None
    class_names: tuple[Text, ...] = ()


class Package(BaseModel):
    """Packages of one kind at one packaging level.

    The package type (UN/ECE Recommendation 21: ``BX`` box, ``BG`` bag) is the
    unit of ``quantity``.
    """

    model_config = _KEPT

    level_code: str
    type_code: str
    quantity: AnyDecimal


class TreatmentCharacteristic(BaseModel):
    """One fact about a treatment: IPPC writes its tag (``TTTM``) as the first description."""

    model_config = _KEPT

    type_code: str | None = None
    descriptions: tuple[Text, ...] = ()
    value: Measure | None = None
    minimum: Measure | None = None
    maximum: Measure | None = None


class SpsTreatment(BaseModel):
    """A treatment applied to the item (disinfestation, disinfection)."""

    model_config = _KEPT

    type_code: str
    start: DateTimeText | None = None
    end: DateTimeText | None = None
    duration: Measure | None = None
    characteristics: tuple[TreatmentCharacteristic, ...] = ()


class ConsignmentItem(BaseModel):
    """One commodity line of the certificate."""

    model_config = _KEPT

    sequence: AnyDecimal
    descriptions: tuple[Text, ...] = ()
    common_names: tuple[Text, ...] = ()
    #: Botanical names exactly as the issuer wrote them: no case or spelling fix.
    scientific_names: tuple[Text, ...] = ()
    intended_uses: tuple[Text, ...] = ()
    net_weight: Measure | None = None
    gross_weight: Measure | None = None
    net_volume: Measure | None = None
    gross_volume: Measure | None = None
    notes: tuple[Note, ...] = ()
    classifications: tuple[Classification, ...] = ()
    packages: tuple[Package, ...] = ()
    origin_countries: tuple[SpsCountry, ...] = ()
    treatments: tuple[SpsTreatment, ...] = ()

    @property
    def hs_codes(self) -> tuple[str, ...]:
        """The Harmonized System codes the issuer gave, as written (any length)."""
        return tuple(
            classification.class_code
            for classification in self.classifications
            if classification.system_name == "HS" and classification.class_code
        )


class SpsConsignment(BaseModel):
    """The goods certified, who sends and receives them, and how they travel."""

    model_config = _KEPT

    consignor: Party
    consignee: Party
    export_country: SpsCountry
    #: For a re-export certificate (657): the countries the goods passed through before.
    re_export_countries: tuple[SpsCountry, ...] = ()
    import_country: SpsCountry
    transit_countries: tuple[SpsCountry, ...] = ()
    #: Point of exit.
    loading_port: Location | None = None
    #: Point of entry.
    unloading_port: Location | None = None
    examination_location: Location | None = None
    transport_movements: tuple[TransportMovement, ...] = ()
    transport_equipment: tuple[TransportEquipment, ...] = ()
    #: The certificate's trade line items, in order.
    items: tuple[ConsignmentItem, ...] = ()


class PhytosanitaryCertificate(BaseModel):
    """A phytosanitary certificate or re-export certificate, as exchanged by ePhyto."""

    model_config = _KEPT

    document: ExchangedDocument
    consignment: SpsConsignment


_Code = TypeVar("_Code", bound=StrEnum)


def _member(enum: type[_Code], value: str) -> _Code | None:
    try:
        return enum(value)
    except ValueError:
        return None
