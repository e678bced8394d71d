"""SPSCertificate XML → :class:`PhytosanitaryCertificate`, keeping track of what was left out.

The reader is lenient by construction: it looks for each element it knows by
name wherever it stands among its siblings, and skips an element it cannot make
sense of (a number that is not one, a package without its type) rather than
guessing. Whether the document also had to be *valid* is decided by the caller,
from the schema's verdict.

Nothing is dropped silently. The reader marks every element and attribute it
puts into the model; whatever is left unmarked is reported with its path
(``SPS_ELEMENT_NOT_KEPT``, ``SPS_ATTRIBUTE_NOT_KEPT``), and so are the facts the
model keeps but a quarantine officer must not take for granted: a measure
without its unit, a certificate type or status code we cannot confirm.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from crossborder.adapters.ephyto.schema import RAM, RSM, UDT, XSI, ElementPaths, prefixed
from crossborder.domain.errors import Violation
from crossborder.domain.phytosanitary import (
    Address,
    Attachment,
    Classification,
    Clause,
    Code,
    ConsignmentItem,
    CountrySubdivision,
    DateTimeText,
    ExchangedDocument,
    Location,
    Measure,
    Note,
    Package,
    Party,
    PhytosanitaryCertificate,
    ReferencedDocument,
    Signatory,
    SpsConsignment,
    SpsCountry,
    SpsTreatment,
    Text,
    TransportEquipment,
    TransportMovement,
    TreatmentCharacteristic,
)


class CertificateIncomplete(Exception):
    """An element the model cannot do without is missing (at ``path``)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def read_tree(
    root: Element, paths: ElementPaths
) -> tuple[PhytosanitaryCertificate, list[Violation]]:
    """The certificate in ``root`` (an ``rsm:SPSCertificate``) and what to tell about it."""
    reader = _Reader(root, paths)
    document = reader.exchanged_document(reader.required(root, "SPSExchangedDocument", RSM))
    consignment = reader.consignment(reader.required(root, "SPSConsignment", RSM))
    certificate = PhytosanitaryCertificate(document=document, consignment=consignment)
    return certificate, reader.problems + reader.not_kept(root)


def _token(element: Element) -> str:
    """An ID or code as the schema reads it (``xs:token``: runs of whitespace are one space)."""
    return " ".join((element.text or "").split())


def _decimal(element: Element) -> Decimal | None:
    try:
        value = Decimal(_token(element))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class _Reader:
    def __init__(self, root: Element, paths: ElementPaths) -> None:
        self.paths = paths
        self.problems: list[Violation] = []
        self._kept: set[Element] = {root}
        self._kept_attributes: set[tuple[Element, str]] = set()

    # --- bookkeeping ---

    def keep(self, element: Element) -> None:
        self._kept.add(element)

    def attribute(self, element: Element, name: str) -> str | None:
        value = element.get(name)
        if value is not None:
            self._kept_attributes.add((element, name))
        return value

    def not_kept(self, root: Element) -> list[Violation]:
        """The topmost elements, and the attributes of kept elements, the model left out."""
        problems = []
        for element in root.iter():
            parent = self.paths.parent(element)
            if element not in self._kept:
                if parent is None or parent in self._kept:
                    problems.append(Violation("SPS_ELEMENT_NOT_KEPT", field=self.paths[element]))
                continue
            for name in element.attrib:
                # xsi:schemaLocation and the like address validators, not readers.
                if (element, name) not in self._kept_attributes and not name.startswith(
                    f"{{{XSI}}}"
                ):
                    field = f"{self.paths[element]}/@{prefixed(name)}"
                    problems.append(Violation("SPS_ATTRIBUTE_NOT_KEPT", field=field))
        return problems

    # --- finding children ---

    @staticmethod
    def children(parent: Element, name: str, namespace: str = RAM) -> list[Element]:
        return parent.findall(f"{{{namespace}}}{name}")

    @staticmethod
    def child(parent: Element | None, name: str, namespace: str = RAM) -> Element | None:
        return None if parent is None else parent.find(f"{{{namespace}}}{name}")

    def required(self, parent: Element, name: str, namespace: str = RAM) -> Element:
        element = self.child(parent, name, namespace)
        if element is None:
            raise CertificateIncomplete(
                f"{self.paths[parent]}/{prefixed(f'{{{namespace}}}{name}')}"
            )
        return element

    # --- leaves ---

    def text(self, element: Element) -> Text:
        self.keep(element)
        return Text(text=element.text or "", language=self.attribute(element, "languageID"))

    def texts(self, parent: Element, name: str) -> tuple[Text, ...]:
        return tuple(self.text(element) for element in self.children(parent, name))

    def optional_text(self, parent: Element | None, name: str) -> Text | None:
        element = self.child(parent, name)
        return None if element is None else self.text(element)

    def token(self, element: Element) -> str:
        self.keep(element)
        return _token(element)

    def optional_token(self, parent: Element | None, name: str) -> str | None:
        element = self.child(parent, name)
        return None if element is None else self.token(element)

    def code(self, element: Element) -> Code:
        return Code(
            value=self.token(element),
            list_name=self.attribute(element, "listName"),
            name=self.attribute(element, "name"),
        )

    def measure(self, parent: Element, name: str) -> Measure | None:
        element = self.child(parent, name)
        value = None if element is None else _decimal(element)
        if element is None or value is None:
            return None
        self.keep(element)
        unit = self.attribute(element, "unitCode")
        if unit is None:
            self.problems.append(
                Violation(
                    "SPS_QUANTITY_WITHOUT_UNIT",
                    field=self.paths[element],
                    params={"value": _token(element)},
                )
            )
        return Measure(value=value, unit_code=unit)

    def date_time(self, parent: Element, name: str) -> DateTimeText | None:
        element = self.child(parent, name)
        if element is None:
            return None
        string = self.child(element, "DateTimeString", UDT)
        typed = self.child(element, "DateTime", UDT)
        if string is not None:
            self.keep(string)
            read = DateTimeText(text=string.text or "", format=self.attribute(string, "format"))
        elif typed is not None:
            read = DateTimeText(text=self.token(typed))
        elif len(element) == 0 and (element.text or "").strip():
            # Some issuers write the date straight into the element: keep it as written.
            read = DateTimeText(text=element.text or "")
        else:
            return None
        self.keep(element)
        return read

    # --- the parts of a certificate ---

    def exchanged_document(self, element: Element) -> ExchangedDocument:
        self.keep(element)
        type_code = self.required(element, "TypeCode")
        status_code = self.required(element, "StatusCode")
        issued = self.date_time(element, "IssueDateTime")
        if issued is None:
            raise CertificateIncomplete(f"{self.paths[element]}/ram:IssueDateTime")
        document = ExchangedDocument(
            id=self.token(self.required(element, "ID")),
            names=self.texts(element, "Name"),
            descriptions=self.texts(element, "Description"),
            type_code=self.token(type_code),
            status_code=self.token(status_code),
            issued=issued,
            issuer=self.party(self.required(element, "IssuerSPSParty")),
            notes=self.notes(element, "IncludedSPSNote"),
            referenced_documents=self.referenced_documents(element),
            signatories=tuple(
                self.signatory(signatory)
                for signatory in self.children(element, "SignatorySPSAuthentication")
            ),
        )
        if document.certificate_type is None:
            self.problems.append(
                Violation(
                    "SPS_CERTIFICATE_TYPE_UNCONFIRMED",
                    field=self.paths[type_code],
                    params={"code": document.type_code},
                )
            )
        if document.status is None:
            self.problems.append(
                Violation(
                    "SPS_CERTIFICATE_STATUS_UNCONFIRMED",
                    field=self.paths[status_code],
                    params={"code": document.status_code},
                )
            )
        return document

    def party(self, element: Element) -> Party:
        self.keep(element)
        person = self.child(element, "SpecifiedSPSPerson")
        person_name = self.optional_text(person, "Name")
        if person is not None and person_name is not None:
            self.keep(person)
        address = self.child(element, "SpecifiedSPSAddress")
        return Party(
            id=self.optional_token(element, "ID"),
            name=self.optional_text(element, "Name"),
            type_codes=tuple(self.code(code) for code in self.children(element, "TypeCode")),
            address=None if address is None else self.address(address),
            person_name=person_name,
        )

    def address(self, element: Element) -> Address:
        self.keep(element)
        return Address(
            postcode=self.optional_token(element, "PostcodeCode"),
            line_one=self.optional_text(element, "LineOne"),
            line_two=self.optional_text(element, "LineTwo"),
            line_three=self.optional_text(element, "LineThree"),
            line_four=self.optional_text(element, "LineFour"),
            line_five=self.optional_text(element, "LineFive"),
            city_name=self.optional_text(element, "CityName"),
            country_id=self.optional_token(element, "CountryID"),
            country_name=self.optional_text(element, "CountryName"),
            country_subdivision_id=self.optional_token(element, "CountrySubDivisionID"),
            country_subdivision_name=self.optional_text(element, "CountrySubDivisionName"),
        )

    def notes(self, parent: Element, name: str) -> tuple[Note, ...]:
        notes = []
        for element in self.children(parent, name):
            self.keep(element)
            notes.append(
                Note(
                    subject=self.optional_token(element, "Subject"),
                    contents=self.texts(element, "Content"),
                )
            )
        return tuple(notes)

    def referenced_documents(self, parent: Element) -> tuple[ReferencedDocument, ...]:
        documents = []
        for element in self.children(parent, "ReferenceSPSReferencedDocument"):
            self.keep(element)
            documents.append(
                ReferencedDocument(
                    issued=self.date_time(element, "IssueDateTime"),
                    type_code=self.optional_token(element, "TypeCode"),
                    relationship_type_code=self.optional_token(element, "RelationshipTypeCode"),
                    id=self.optional_token(element, "ID"),
                    attachments=tuple(
                        self.attachment(attachment)
                        for attachment in self.children(element, "AttachmentBinaryObject")
                    ),
                    information=self.optional_text(element, "Information"),
                )
            )
        return tuple(documents)

    def attachment(self, element: Element) -> Attachment:
        self.keep(element)
        return Attachment(
            content_base64=element.text or "",
            filename=self.attribute(element, "filename"),
            mime_code=self.attribute(element, "mimeCode"),
        )

    def signatory(self, element: Element) -> Signatory:
        self.keep(element)
        location = self.child(element, "IssueSPSLocation")
        provider = self.child(element, "ProviderSPSParty")
        return Signatory(
            type_code=self.optional_token(element, "TypeCode"),
            signed=self.date_time(element, "ActualDateTime"),
            issue_location=None if location is None else self.location(location),
            provider=None if provider is None else self.party(provider),
            clauses=self.clauses(element),
        )

    def clauses(self, parent: Element) -> tuple[Clause, ...]:
        clauses = []
        for element in self.children(parent, "IncludedSPSClause"):
            clause_id = self.optional_token(element, "ID")
            if clause_id is not None:
                self.keep(element)
                clauses.append(Clause(id=clause_id, contents=self.texts(element, "Content")))
        return tuple(clauses)

    def location(self, element: Element) -> Location:
        self.keep(element)
        identifier = self.child(element, "ID")
        return Location(
            id=None if identifier is None else self.token(identifier),
            scheme_id=None if identifier is None else self.attribute(identifier, "schemeID"),
            names=self.texts(element, "Name"),
        )

    def optional_location(self, parent: Element, name: str) -> Location | None:
        element = self.child(parent, name)
        return None if element is None else self.location(element)

    def country(self, element: Element) -> SpsCountry | None:
        identifier = self.child(element, "ID")
        if identifier is None:
            return None
        self.keep(element)
        return SpsCountry(
            id=self.token(identifier),
            names=self.texts(element, "Name"),
            subdivisions=tuple(
                self.subdivision(subdivision)
                for subdivision in self.children(element, "SubordinateSPSCountrySubDivision")
            ),
        )

    def countries(self, parent: Element, name: str) -> tuple[SpsCountry, ...]:
        found = (self.country(element) for element in self.children(parent, name))
        return tuple(country for country in found if country is not None)

    def required_country(self, parent: Element, name: str) -> SpsCountry:
        element = self.required(parent, name)
        country = self.country(element)
        if country is None:
            raise CertificateIncomplete(f"{self.paths[element]}/ram:ID")
        return country

    def subdivision(self, element: Element) -> CountrySubdivision:
        self.keep(element)
        return CountrySubdivision(
            id=self.optional_token(element, "ID"),
            names=self.texts(element, "Name"),
            hierarchical_level_code=self.optional_token(element, "HierarchicalLevelCode"),
        )

    def consignment(self, element: Element) -> SpsConsignment:
        self.keep(element)
        examination = self.child(element, "ExaminationSPSEvent")
        examination_location = self.child(examination, "OccurrenceSPSLocation")
        if examination is not None and examination_location is not None:
            self.keep(examination)
        return SpsConsignment(
            consignor=self.party(self.required(element, "ConsignorSPSParty")),
            consignee=self.party(self.required(element, "ConsigneeSPSParty")),
            export_country=self.required_country(element, "ExportSPSCountry"),
            re_export_countries=self.countries(element, "ReExportSPSCountry"),
            import_country=self.required_country(element, "ImportSPSCountry"),
            transit_countries=self.countries(element, "TransitSPSCountry"),
            loading_port=self.optional_location(element, "LoadingBaseportSPSLocation"),
            unloading_port=self.optional_location(element, "UnloadingBaseportSPSLocation"),
            examination_location=(
                None if examination_location is None else self.location(examination_location)
            ),
            transport_movements=self.transport_movements(element),
            transport_equipment=self.transport_equipment(element),
            items=self.items(element),
        )

    def transport_movements(self, parent: Element) -> tuple[TransportMovement, ...]:
        movements = []
        for element in self.children(parent, "MainCarriageSPSTransportMovement"):
            mode = self.child(element, "ModeCode")
            if mode is None:
                continue
            self.keep(element)
            means = self.child(element, "UsedSPSTransportMeans")
            means_name = self.optional_text(means, "Name")
            if means is not None and means_name is not None:
                self.keep(means)
            movements.append(
                TransportMovement(
                    id=self.optional_token(element, "ID"),
                    mode=self.code(mode),
                    means_name=means_name,
                )
            )
        return tuple(movements)

    def transport_equipment(self, parent: Element) -> tuple[TransportEquipment, ...]:
        equipment = []
        for element in self.children(parent, "UtilizedSPSTransportEquipment"):
            self.keep(element)
            seal_ids = []
            for seal in self.children(element, "AffixedSPSSeal"):
                seal_id = self.optional_token(seal, "ID")
                if seal_id is not None:
                    self.keep(seal)
                    seal_ids.append(seal_id)
            equipment.append(
                TransportEquipment(id=self.optional_token(element, "ID"), seal_ids=tuple(seal_ids))
            )
        return tuple(equipment)

    def items(self, consignment: Element) -> tuple[ConsignmentItem, ...]:
        # Our model lists trade line items in order; the consignment-item level
        # around them carries nothing else we keep.
        items = []
        for group in self.children(consignment, "IncludedSPSConsignmentItem"):
            self.keep(group)
            for element in self.children(group, "IncludedSPSTradeLineItem"):
                item = self.item(element)
                if item is not None:
                    items.append(item)
        return tuple(items)

    def item(self, element: Element) -> ConsignmentItem | None:
        sequence = self.child(element, "SequenceNumeric")
        number = None if sequence is None else _decimal(sequence)
        if sequence is None or number is None:
            return None
        self.keep(element)
        self.keep(sequence)
        return ConsignmentItem(
            sequence=number,
            descriptions=self.texts(element, "Description"),
            common_names=self.texts(element, "CommonName"),
            scientific_names=self.texts(element, "ScientificName"),
            intended_uses=self.texts(element, "IntendedUse"),
            net_weight=self.measure(element, "NetWeightMeasure"),
            gross_weight=self.measure(element, "GrossWeightMeasure"),
            net_volume=self.measure(element, "NetVolumeMeasure"),
            gross_volume=self.measure(element, "GrossVolumeMeasure"),
            notes=self.notes(element, "AdditionalInformationSPSNote"),
            classifications=self.classifications(element),
            packages=self.packages(element),
            origin_countries=self.countries(element, "OriginSPSCountry"),
            treatments=self.treatments(element),
        )

    def classifications(self, item: Element) -> tuple[Classification, ...]:
        classifications = []
        for element in self.children(item, "ApplicableSPSClassification"):
            system = self.child(element, "SystemName")
            if system is None:
                continue
            self.keep(element)
            classifications.append(
                Classification(
                    system_name=self.token(system),
                    class_code=self.optional_token(element, "ClassCode"),
                    class_names=self.texts(element, "ClassName"),
                )
            )
        return tuple(classifications)

    def packages(self, item: Element) -> tuple[Package, ...]:
        packages = []
        for element in self.children(item, "PhysicalSPSPackage"):
            level = self.child(element, "LevelCode")
            kind = self.child(element, "TypeCode")
            count = self.child(element, "ItemQuantity")
            quantity = None if count is None else _decimal(count)
            if level is None or kind is None or count is None or quantity is None:
                continue
            self.keep(element)
            self.keep(count)
            packages.append(
                Package(level_code=self.token(level), type_code=self.token(kind), quantity=quantity)
            )
        return tuple(packages)

    def treatments(self, item: Element) -> tuple[SpsTreatment, ...]:
        treatments = []
        for element in self.children(item, "AppliedSPSProcess"):
            kind = self.child(element, "TypeCode")
            if kind is None:
                continue
            self.keep(element)
            period = self.child(element, "CompletionSPSPeriod")
            if period is not None:
                self.keep(period)
            treatments.append(
                SpsTreatment(
                    type_code=self.token(kind),
                    start=None if period is None else self.date_time(period, "StartDateTime"),
                    end=None if period is None else self.date_time(period, "EndDateTime"),
                    duration=None if period is None else self.measure(period, "DurationMeasure"),
                    characteristics=self.characteristics(element),
                )
            )
        return tuple(treatments)

    def characteristics(self, treatment: Element) -> tuple[TreatmentCharacteristic, ...]:
        characteristics = []
        for element in self.children(treatment, "ApplicableSPSProcessCharacteristic"):
            self.keep(element)
            characteristics.append(
                TreatmentCharacteristic(
                    type_code=self.optional_token(element, "TypeCode"),
                    descriptions=self.texts(element, "Description"),
                    value=self.measure(element, "ValueMeasure"),
                    minimum=self.measure(element, "MinimumValueMeasure"),
                    maximum=self.measure(element, "MaximumValueMeasure"),
                )
            )
        return tuple(characteristics)
