""":class:`PhytosanitaryCertificate` → SPSCertificate XML elements, in the schema's order.

Each function writes one schema type, its children in the order of the type's
``xsd:sequence``: the reader accepts any order, the schema does not. Dates and
times are always written as ``udt:DateTimeString`` (with their format code when
known), which is how the certificate read them, even from ``udt:DateTime``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement, register_namespace

from crossborder.adapters.ephyto.schema import PREFIXES, RAM, ROOT_TAG, RSM, UDT
from crossborder.domain.phytosanitary import (
    Address,
    Attachment,
    Code,
    ConsignmentItem,
    DateTimeText,
    ExchangedDocument,
    Location,
    Measure,
    Note,
    Party,
    PhytosanitaryCertificate,
    ReferencedDocument,
    Signatory,
    SpsConsignment,
    SpsCountry,
    SpsTreatment,
    Text,
)

for _namespace, _prefix in PREFIXES.items():
    register_namespace(_prefix, _namespace)


def certificate_tree(certificate: PhytosanitaryCertificate) -> Element:
    """The ``rsm:SPSCertificate`` element of ``certificate``."""
    root = Element(ROOT_TAG)
    _exchanged_document(SubElement(root, f"{{{RSM}}}SPSExchangedDocument"), certificate.document)
    _consignment(SubElement(root, f"{{{RSM}}}SPSConsignment"), certificate.consignment)
    return root


def _child(parent: Element, name: str, namespace: str = RAM) -> Element:
    return SubElement(parent, f"{{{namespace}}}{name}")


def _text(parent: Element, name: str, text: Text | None) -> None:
    if text is None:
        return
    element = _child(parent, name)
    element.text = text.text
    if text.language is not None:
        element.set("languageID", text.language)


def _texts(parent: Element, name: str, texts: Iterable[Text]) -> None:
    for text in texts:
        _text(parent, name, text)


def _token(parent: Element, name: str, value: str | None) -> None:
    if value is not None:
        _child(parent, name).text = value


def _decimal(value: Decimal) -> str:
    # Fixed-point: "1E+3" is a Decimal but not an xs:decimal.
    return format(value, "f")


def _measure(parent: Element, name: str, measure: Measure | None) -> None:
    if measure is None:
        return
    element = _child(parent, name)
    element.text = _decimal(measure.value)
    if measure.unit_code is not None:
        element.set("unitCode", measure.unit_code)


def _code(parent: Element, name: str, code: Code) -> None:
    element = _child(parent, name)
    element.text = code.value
    if code.list_name is not None:
        element.set("listName", code.list_name)
    if code.name is not None:
        element.set("name", code.name)


def _date_time(parent: Element, name: str, moment: DateTimeText | None) -> None:
    if moment is None:
        return
    string = _child(_child(parent, name), "DateTimeString", UDT)
    string.text = moment.text
    if moment.format is not None:
        string.set("format", moment.format)


def _exchanged_document(element: Element, document: ExchangedDocument) -> None:
    _texts(element, "Name", document.names)
    _token(element, "ID", document.id)
    _texts(element, "Description", document.descriptions)
    _token(element, "TypeCode", document.type_code)
    _token(element, "StatusCode", document.status_code)
    _date_time(element, "IssueDateTime", document.issued)
    _party(_child(element, "IssuerSPSParty"), document.issuer)
    _notes(element, "IncludedSPSNote", document.notes)
    for referenced in document.referenced_documents:
        _referenced_document(_child(element, "ReferenceSPSReferencedDocument"), referenced)
    for signatory in document.signatories:
        _signatory(_child(element, "SignatorySPSAuthentication"), signatory)


def _party(element: Element, party: Party) -> None:
    _token(element, "ID", party.id)
    _text(element, "Name", party.name)
    for code in party.type_codes:
        _code(element, "TypeCode", code)
    if party.address is not None:
        _address(_child(element, "SpecifiedSPSAddress"), party.address)
    if party.person_name is not None:
        _text(_child(element, "SpecifiedSPSPerson"), "Name", party.person_name)


def _address(element: Element, address: Address) -> None:
    _token(element, "PostcodeCode", address.postcode)
    _text(element, "LineOne", address.line_one)
    _text(element, "LineTwo", address.line_two)
    _text(element, "LineThree", address.line_three)
    _text(element, "LineFour", address.line_four)
    _text(element, "LineFive", address.line_five)
    _text(element, "CityName", address.city_name)
    _token(element, "CountryID", address.country_id)
    _text(element, "CountryName", address.country_name)
    _token(element, "CountrySubDivisionID", address.country_subdivision_id)
    _text(element, "CountrySubDivisionName", address.country_subdivision_name)


def _notes(parent: Element, name: str, notes: Iterable[Note]) -> None:
    for note in notes:
        element = _child(parent, name)
        _token(element, "Subject", note.subject)
        _texts(element, "Content", note.contents)


def _referenced_document(element: Element, document: ReferencedDocument) -> None:
    _date_time(element, "IssueDateTime", document.issued)
    _token(element, "TypeCode", document.type_code)
    _token(element, "RelationshipTypeCode", document.relationship_type_code)
    _token(element, "ID", document.id)
    for attachment in document.attachments:
        _attachment(_child(element, "AttachmentBinaryObject"), attachment)
    _text(element, "Information", document.information)


def _attachment(element: Element, attachment: Attachment) -> None:
    element.text = attachment.content_base64
    if attachment.mime_code is not None:
        element.set("mimeCode", attachment.mime_code)
    if attachment.filename is not None:
        element.set("filename", attachment.filename)


def _signatory(element: Element, signatory: Signatory) -> None:
    _token(element, "TypeCode", signatory.type_code)
    _date_time(element, "ActualDateTime", signatory.signed)
    if signatory.issue_location is not None:
        _location(_child(element, "IssueSPSLocation"), signatory.issue_location)
    if signatory.provider is not None:
        _party(_child(element, "ProviderSPSParty"), signatory.provider)
    for clause in signatory.clauses:
        clause_element = _child(element, "IncludedSPSClause")
        _token(clause_element, "ID", clause.id)
        _texts(clause_element, "Content", clause.contents)


def _location(element: Element, location: Location) -> None:
    if location.id is not None:
        identifier = _child(element, "ID")
        identifier.text = location.id
        if location.scheme_id is not None:
            identifier.set("schemeID", location.scheme_id)
    _texts(element, "Name", location.names)


def _optional_location(parent: Element, name: str, location: Location | None) -> None:
    if location is not None:
        _location(_child(parent, name), location)


def _countries(parent: Element, name: str, countries: Iterable[SpsCountry]) -> None:
    for country in countries:
        element = _child(parent, name)
        _token(element, "ID", country.id)
        _texts(element, "Name", country.names)
        for subdivision in country.subdivisions:
            subdivision_element = _child(element, "SubordinateSPSCountrySubDivision")
            _token(subdivision_element, "ID", subdivision.id)
            _texts(subdivision_element, "Name", subdivision.names)
            _token(
                subdivision_element, "HierarchicalLevelCode", subdivision.hierarchical_level_code
            )


def _consignment(element: Element, consignment: SpsConsignment) -> None:
    _party(_child(element, "ConsignorSPSParty"), consignment.consignor)
    _party(_child(element, "ConsigneeSPSParty"), consignment.consignee)
    _countries(element, "ExportSPSCountry", [consignment.export_country])
    _countries(element, "ReExportSPSCountry", consignment.re_export_countries)
    _optional_location(element, "LoadingBaseportSPSLocation", consignment.loading_port)
    _countries(element, "ImportSPSCountry", [consignment.import_country])
    _countries(element, "TransitSPSCountry", consignment.transit_countries)
    _optional_location(element, "UnloadingBaseportSPSLocation", consignment.unloading_port)
    if consignment.examination_location is not None:
        examination = _child(element, "ExaminationSPSEvent")
        _location(_child(examination, "OccurrenceSPSLocation"), consignment.examination_location)
    for movement in consignment.transport_movements:
        movement_element = _child(element, "MainCarriageSPSTransportMovement")
        _token(movement_element, "ID", movement.id)
        _code(movement_element, "ModeCode", movement.mode)
        if movement.means_name is not None:
            _text(_child(movement_element, "UsedSPSTransportMeans"), "Name", movement.means_name)
    for equipment in consignment.transport_equipment:
        equipment_element = _child(element, "UtilizedSPSTransportEquipment")
        _token(equipment_element, "ID", equipment.id)
        for seal_id in equipment.seal_ids:
            _token(_child(equipment_element, "AffixedSPSSeal"), "ID", seal_id)
    # One consignment item holding every trade line item, as the IPPC guide does.
    if consignment.items:
        group = _child(element, "IncludedSPSConsignmentItem")
        for item in consignment.items:
            _item(_child(group, "IncludedSPSTradeLineItem"), item)


def _item(element: Element, item: ConsignmentItem) -> None:
    _token(element, "SequenceNumeric", _decimal(item.sequence))
    _texts(element, "Description", item.descriptions)
    _texts(element, "CommonName", item.common_names)
    _texts(element, "ScientificName", item.scientific_names)
    _texts(element, "IntendedUse", item.intended_uses)
    _measure(element, "NetWeightMeasure", item.net_weight)
    _measure(element, "GrossWeightMeasure", item.gross_weight)
    _measure(element, "NetVolumeMeasure", item.net_volume)
    _measure(element, "GrossVolumeMeasure", item.gross_volume)
    _notes(element, "AdditionalInformationSPSNote", item.notes)
    for classification in item.classifications:
        classification_element = _child(element, "ApplicableSPSClassification")
        _token(classification_element, "SystemName", classification.system_name)
        _token(classification_element, "ClassCode", classification.class_code)
        _texts(classification_element, "ClassName", classification.class_names)
    for package in item.packages:
        package_element = _child(element, "PhysicalSPSPackage")
        _token(package_element, "LevelCode", package.level_code)
        _token(package_element, "TypeCode", package.type_code)
        _token(package_element, "ItemQuantity", _decimal(package.quantity))
    _countries(element, "OriginSPSCountry", item.origin_countries)
    for treatment in item.treatments:
        _treatment(_child(element, "AppliedSPSProcess"), treatment)


def _treatment(element: Element, treatment: SpsTreatment) -> None:
    _token(element, "TypeCode", treatment.type_code)
    if any(part is not None for part in (treatment.start, treatment.end, treatment.duration)):
        period = _child(element, "CompletionSPSPeriod")
        _date_time(period, "StartDateTime", treatment.start)
        _date_time(period, "EndDateTime", treatment.end)
        _measure(period, "DurationMeasure", treatment.duration)
    for characteristic in treatment.characteristics:
        characteristic_element = _child(element, "ApplicableSPSProcessCharacteristic")
        _token(characteristic_element, "TypeCode", characteristic.type_code)
        _texts(characteristic_element, "Description", characteristic.descriptions)
        _measure(characteristic_element, "ValueMeasure", characteristic.value)
        _measure(characteristic_element, "MinimumValueMeasure", characteristic.minimum)
        _measure(characteristic_element, "MaximumValueMeasure", characteristic.maximum)
