"""ePhyto (UN/CEFACT SPSCertificate 17A) import and export.

The two reference certificates are copies of ``../shared/reference/ephyto``:
``sample-valid.xml`` validates; ``sample-hub-client.xml``, a real hub client's
test certificate, has 20 schema errors. The schema takes seconds to build: the
adapter builds it once per process, and the ``schema`` fixture shares it here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from crossborder.adapters.ephyto import (
    CertificateImport,
    read_certificate,
    read_certificate_file,
    spscertificate_schema,
    write_certificate,
)
from crossborder.cli.quarantine import app
from crossborder.domain.errors import InvalidInput, Violation
from crossborder.domain.phytosanitary import (
    CertificateStatus,
    CertificateType,
    Measure,
    PhytosanitaryCertificate,
    Text,
)
from crossborder.i18n import LOCALES, translate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ephyto"
VALID = FIXTURES / "sample-valid.xml"
HUB = FIXTURES / "sample-hub-client.xml"
#: The certificate an officer of the exporting side imports, and its JSON form.
OFFICER = Path(__file__).resolve().parents[2] / "contracts" / "examples" / "officer"
ITEM = "/rsm:SPSCertificate/rsm:SPSConsignment/ram:IncludedSPSConsignmentItem"
DOCUMENT = "/rsm:SPSCertificate/rsm:SPSExchangedDocument"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return spscertificate_schema()


@pytest.fixture(scope="module")
def valid(schema: xmlschema.XMLSchema) -> CertificateImport:
    return read_certificate_file(VALID, strict=True)


@pytest.fixture(scope="module")
def hub(schema: xmlschema.XMLSchema) -> CertificateImport:
    return read_certificate_file(HUB, strict=False)


def _codes(problems: tuple[Violation, ...] | list[Violation]) -> list[str]:
    return [problem.code for problem in problems]


def _edited(replace: str, by: str) -> bytes:
    """sample-valid.xml with one piece of text replaced."""
    text = VALID.read_text(encoding="utf-8")
    assert text.count(replace) == 1, replace
    return text.replace(replace, by).encode("utf-8")


def _refusal(read: Callable[[], object]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        read()
    return caught.value


# --- the valid sample ---


def test_the_schema_is_built_once_per_process(schema: xmlschema.XMLSchema) -> None:
    assert spscertificate_schema() is schema


def test_the_valid_sample_imports_in_strict_mode(valid: CertificateImport) -> None:
    document, consignment = valid.certificate.document, valid.certificate.consignment
    assert document.id == "123456789CO"
    assert document.certificate_type is CertificateType.PHYTOSANITARY
    assert document.status is CertificateStatus.ISSUED
    assert document.issued.text == "2024-02-26T10:15:00Z"
    assert document.issuer.name == Text(text="Fitosanitary Protection Organization")
    assert [note.subject for note in document.notes][:3] == ["SPSFL", "ADEDL", "ADEDL"]
    assert document.signatories[0].provider is not None
    assert document.signatories[0].provider.person_name == Text(text="John Doe")
    assert (consignment.export_country.id, consignment.import_country.id) == ("CO", "PE")
    assert [country.id for country in consignment.transit_countries] == ["EC"]
    assert consignment.unloading_port is not None
    assert consignment.unloading_port.names == (Text(text="Lima"),)
    assert consignment.transport_movements[0].mode.value == "7"
    assert consignment.transport_equipment[0].seal_ids == ("123456789",)
    (item,) = consignment.items
    assert item.scientific_names == (Text(text="Widgeticus"),)
    assert item.hs_codes == ("100590",)
    assert [(package.type_code, package.quantity) for package in item.packages] == [("43", 1)]
    temperature = item.treatments[0].characteristics[3]
    assert temperature.descriptions == (Text(text="TTTM"),)
    assert temperature.value == Measure(value=Decimal("32.0000"), unit_code="CEL")


def test_the_valid_sample_reports_its_quantities_without_a_unit(valid: CertificateImport) -> None:
    line = f"{ITEM}/ram:IncludedSPSTradeLineItem"
    assert valid.problems == tuple(
        Violation("SPS_QUANTITY_WITHOUT_UNIT", field=f"{line}/ram:{name}", params={"value": value})
        for name, value in [
            ("NetWeightMeasure", "1000"),
            ("GrossWeightMeasure", "1050"),
            ("NetVolumeMeasure", "10"),
            ("GrossVolumeMeasure", "12"),
        ]
    )
    item = valid.certificate.consignment.items[0]
    assert item.net_weight == Measure(value=Decimal(1000), unit_code=None)


def test_the_attachment_is_kept_as_its_base64_text(valid: CertificateImport) -> None:
    (attachment,) = valid.certificate.document.referenced_documents[0].attachments
    assert attachment.content_base64 == "UjBsR09EbGhjZ0dTQUxNQUFBUUNBRU1tQ1p0dU1GUXhEUzhi"
    assert attachment.byte_length == len(base64.b64decode(attachment.content_base64))


def test_the_valid_sample_round_trips(
    valid: CertificateImport, schema: xmlschema.XMLSchema
) -> None:
    exported = write_certificate(valid.certificate)
    assert schema.is_valid(exported.decode("utf-8"))
    again = read_certificate(exported, strict=True)
    assert again.certificate == valid.certificate
    assert again.problems == valid.problems


def test_the_json_form_round_trips(valid: CertificateImport) -> None:
    as_json = valid.certificate.model_dump_json()
    assert PhytosanitaryCertificate.model_validate_json(as_json) == valid.certificate


def test_the_officers_certificate_json_is_its_xml_as_read(schema: xmlschema.XMLSchema) -> None:
    read = read_certificate_file(OFFICER / "dragon-fruit-certificate.xml")
    written = (OFFICER / "dragon-fruit-certificate.json").read_text("utf-8")
    assert PhytosanitaryCertificate.model_validate_json(written) == read.certificate


def test_texts_and_scientific_names_are_kept_exactly_with_their_languages() -> None:
    data = _edited(
        "<ram:CommonName>Widget</ram:CommonName>",
        '<ram:CommonName languageID="vi">Thanh long ruột đỏ</ram:CommonName>'
        '<ram:CommonName languageID="zh">火龙果</ram:CommonName>'
        "<ram:CommonName> dragon fruit &amp; pitaya\n</ram:CommonName>",
    )
    data = data.replace(
        b"<ram:ScientificName>Widgeticus", b"<ram:ScientificName>Selenicereus  undatus (Haw.)"
    )
    imported = read_certificate(data, strict=True)
    item = imported.certificate.consignment.items[0]
    assert item.common_names == (
        Text(text="Thanh long ruột đỏ", language="vi"),
        Text(text="火龙果", language="zh"),
        Text(text=" dragon fruit & pitaya\n"),
    )
    assert item.scientific_names == (Text(text="Selenicereus  undatus (Haw.)"),)
    again = read_certificate(write_certificate(imported.certificate), strict=True)
    assert again.certificate == imported.certificate


# --- the hub client's sample ---


def test_the_hub_sample_is_refused_in_strict_mode() -> None:
    refusal = _refusal(lambda: read_certificate_file(HUB, strict=True))
    assert refusal.code == "SPS_SCHEMA_INVALID"
    assert refusal.params == {"count": 20}
    assert set(_codes(refusal.violations)) == {"SPS_SCHEMA_ERROR"}
    for violation in refusal.violations:
        assert violation.field.startswith("/rsm:SPSCertificate/"), violation
        assert violation.params["reason"], violation


def test_the_hub_sample_imports_in_lenient_mode_listing_every_schema_problem(
    hub: CertificateImport,
) -> None:
    schema_problems = [p for p in hub.problems if p.code == "SPS_SCHEMA_ERROR"]
    assert len(schema_problems) == 20
    assert all(problem.field.startswith("/rsm:SPSCertificate") for problem in schema_problems)
    refusal = _refusal(lambda: read_certificate_file(HUB, strict=True))
    assert schema_problems == refusal.violations
    assert f"{DOCUMENT}/ram:ReferenceSPSReferencedDocument[6]/ram:AttachmentBinaryObject" in {
        problem.field for problem in schema_problems
    }
    # What the model could not keep is said too: a note where the schema has none.
    others = [p for p in hub.problems if p.code != "SPS_SCHEMA_ERROR"]
    assert others == [
        Violation(
            "SPS_ELEMENT_NOT_KEPT",
            field=f"{ITEM}/ram:IncludedSPSTradeLineItem[1]/ram:AppliedSPSProcess"
            "/ram:AdditionalInformationSPSNote",
        )
    ]


def test_the_hub_sample_keeps_what_it_can_read(hub: CertificateImport) -> None:
    document, consignment = hub.certificate.document, hub.certificate.consignment
    assert document.notes[2].contents == (
        Text(
            text="The shipment was inspected and found free of Trogoderma variable.",
            language="nn",
        ),
    )
    # A date written straight into the element, against the schema, is still read.
    assert document.referenced_documents[0].issued is not None
    assert document.referenced_documents[0].issued.text == "2021-09-10"
    pdf = document.referenced_documents[0].attachments[0]
    assert (pdf.filename, pdf.byte_length) == (
        "TestPdf.pdf",
        len(base64.b64decode("".join(pdf.content_base64.split()))),
    )
    assert document.referenced_documents[5].attachments[0].byte_length is None
    assert consignment.consignor.type_codes[0].list_name == "NationalRegistrationNumber"
    assert [country.id for country in consignment.transit_countries] == ["US"]
    assert [movement.id for movement in consignment.transport_movements] == ["", "Voyage N° 18"]
    first, second = consignment.items
    assert first.descriptions[1].language == "nn"
    assert first.descriptions[1].text.startswith("LIVE TREES AND OTHER PLANTS;")
    assert "AND\n                    ORNAMENTAL FOLIAGE" in first.descriptions[1].text
    assert first.treatments[0].characteristics[0].descriptions[2] == Text(
        text="Type : System fremgang , øvrig info : Ingen info tilgjengelig", language="no"
    )
    assert first.hs_codes == ("06029048",)
    assert second.hs_codes == ()
    assert first.net_weight == Measure(value=Decimal(10), unit_code="KGM")


def test_export_refuses_what_the_schema_refuses(hub: CertificateImport) -> None:
    refusal = _refusal(lambda: write_certificate(hub.certificate))
    assert refusal.code == "SPS_SCHEMA_INVALID"
    assert [violation.field for violation in refusal.violations] == [
        f"{DOCUMENT}/ram:ReferenceSPSReferencedDocument[6]/ram:AttachmentBinaryObject"
    ]


def test_export_refuses_a_certificate_without_signatory(valid: CertificateImport) -> None:
    document = valid.certificate.document.model_copy(update={"signatories": ()})
    unsigned = valid.certificate.model_copy(update={"document": document})
    refusal = _refusal(lambda: write_certificate(unsigned))
    assert refusal.code == "SPS_SCHEMA_INVALID"
    assert [violation.field for violation in refusal.violations] == [DOCUMENT]


# --- codes ---


@pytest.mark.parametrize(
    ("replace", "by", "certificate_type", "status"),
    [
        ("<ram:TypeCode>851</ram:TypeCode>", "<ram:TypeCode>657</ram:TypeCode>",
         CertificateType.RE_EXPORT_PHYTOSANITARY, CertificateStatus.ISSUED),
        ("<ram:StatusCode>70</ram:StatusCode>", "<ram:StatusCode>40</ram:StatusCode>",
         CertificateType.PHYTOSANITARY, CertificateStatus.WITHDRAWN),
    ],
)  # fmt: skip
def test_confirmed_codes_are_mapped(
    replace: str, by: str, certificate_type: CertificateType, status: CertificateStatus
) -> None:
    imported = read_certificate(_edited(replace, by), strict=True)
    assert imported.certificate.document.certificate_type is certificate_type
    assert imported.certificate.document.status is status
    assert set(_codes(imported.problems)) == {"SPS_QUANTITY_WITHOUT_UNIT"}


def test_a_code_the_schema_allows_but_we_cannot_confirm_is_kept_and_reported() -> None:
    # 39 is "approved" in the UN/CEFACT list; the ePhyto hub does not say it uses it.
    data = _edited("<ram:StatusCode>70</ram:StatusCode>", "<ram:StatusCode>39</ram:StatusCode>")
    imported = read_certificate(data, strict=True)
    assert imported.certificate.document.status_code == "39"
    assert imported.certificate.document.status is None
    assert (
        Violation(
            "SPS_CERTIFICATE_STATUS_UNCONFIRMED",
            field=f"{DOCUMENT}/ram:StatusCode",
            params={"code": "39"},
        )
        in imported.problems
    )


def test_a_code_the_schema_refuses_is_refused_in_strict_mode_and_kept_in_lenient() -> None:
    data = _edited("<ram:TypeCode>851</ram:TypeCode>", "<ram:TypeCode>999</ram:TypeCode>")
    refusal = _refusal(lambda: read_certificate(data, strict=True))
    assert [violation.field for violation in refusal.violations] == [f"{DOCUMENT}/ram:TypeCode"]
    imported = read_certificate(data, strict=False)
    assert imported.certificate.document.type_code == "999"
    assert imported.certificate.document.certificate_type is None
    fields = {(p.code, p.field) for p in imported.problems}
    assert ("SPS_SCHEMA_ERROR", f"{DOCUMENT}/ram:TypeCode") in fields
    assert ("SPS_CERTIFICATE_TYPE_UNCONFIRMED", f"{DOCUMENT}/ram:TypeCode") in fields


def test_what_the_model_does_not_keep_is_reported() -> None:
    data = _edited(
        "<ram:ScientificName>Widgeticus</ram:ScientificName>",
        "<ram:ScientificName>Widgeticus</ram:ScientificName>"
        "<ram:ProductionBatchID>LOT-8888</ram:ProductionBatchID>",
    ).replace(
        b"<ram:Description>Widget A</ram:Description>",
        b'<ram:Description languageID="en" languageLocaleID="en-GB">Widget A</ram:Description>',
    )
    problems = read_certificate(data, strict=True).problems
    line = f"{ITEM}/ram:IncludedSPSTradeLineItem"
    assert Violation("SPS_ELEMENT_NOT_KEPT", field=f"{line}/ram:ProductionBatchID") in problems
    assert (
        Violation("SPS_ATTRIBUTE_NOT_KEPT", field=f"{line}/ram:Description/@languageLocaleID")
        in problems
    )


# --- bad input ---


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("billion-laughs.xml", "SPS_XML_UNSAFE"),
        ("external-entity.xml", "SPS_XML_UNSAFE"),
        ("not-xml.xml", "SPS_XML_MALFORMED"),
        ("not-sps.xml", "SPS_NOT_AN_SPS_CERTIFICATE"),
    ],
)
def test_bad_files_are_refused_with_a_stable_code(fixture: str, code: str, strict: bool) -> None:
    refusal = _refusal(lambda: read_certificate_file(FIXTURES / fixture, strict=strict))
    assert refusal.code == code


def test_the_error_says_where_the_xml_breaks_and_what_the_root_is() -> None:
    malformed = _refusal(lambda: read_certificate(b"<a><b></a>"))
    assert malformed.params == {"line": 1, "column": 9}
    other = _refusal(lambda: read_certificate(b'<SPSCertificate xmlns="urn:other"/>'))
    assert other.params == {"root": "{urn:other}SPSCertificate"}


def test_a_file_over_the_size_limit_is_not_read() -> None:
    size = VALID.stat().st_size
    refusal = _refusal(lambda: read_certificate_file(VALID, max_bytes=size - 1))
    assert (refusal.code, refusal.params) == ("SPS_FILE_TOO_LARGE", {"max_bytes": size - 1})
    assert read_certificate_file(VALID, max_bytes=size).certificate.document.id == "123456789CO"


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    refusal = _refusal(lambda: read_certificate_file(tmp_path / "missing.xml"))
    assert refusal.code == "SPS_FILE_UNREADABLE"


def test_a_certificate_missing_what_the_model_needs_is_refused_even_in_lenient_mode() -> None:
    refusal = _refusal(lambda: read_certificate_file(FIXTURES / "incomplete.xml", strict=False))
    assert refusal.code == "SPS_CERTIFICATE_INCOMPLETE"
    assert refusal.violations[0] == Violation(
        "SPS_ELEMENT_MISSING", field="/rsm:SPSCertificate/rsm:SPSConsignment"
    )
    assert _codes(refusal.violations[1:]) == ["SPS_SCHEMA_ERROR"]


def test_every_problem_code_has_a_text_in_every_language(hub: CertificateImport) -> None:
    codes = {
        "SPS_SCHEMA_ERROR",
        "SPS_ELEMENT_MISSING",
        "SPS_ELEMENT_NOT_KEPT",
        "SPS_ATTRIBUTE_NOT_KEPT",
        "SPS_QUANTITY_WITHOUT_UNIT",
        "SPS_CERTIFICATE_TYPE_UNCONFIRMED",
        "SPS_CERTIFICATE_STATUS_UNCONFIRMED",
    }
    assert set(_codes(hub.problems)) <= codes
    for locale in LOCALES:
        for code in codes:
            assert translate(f"error.{code}", locale) != f"error.{code}", (locale, code)


# --- the command line ---


def test_import_dry_run_prints_the_model_and_the_problems(valid: CertificateImport) -> None:
    result = CliRunner().invoke(app, ["import", str(VALID), "--dry-run", "--strict"])
    assert result.exit_code == 0, result.stderr
    assert PhytosanitaryCertificate.model_validate_json(result.stdout) == valid.certificate
    assert "Problems found: 4." in result.stderr
    assert result.stderr.count("SPS_QUANTITY_WITHOUT_UNIT") == 4


def test_import_is_lenient_unless_told_strict() -> None:
    lenient = CliRunner().invoke(app, ["import", str(HUB), "--dry-run"])
    assert lenient.exit_code == 0, lenient.stderr
    assert "Problems found: 21." in lenient.stderr
    assert json.loads(lenient.stdout)["document"]["id"] == "123ABC"
    strict = CliRunner().invoke(app, ["import", str(HUB), "--dry-run", "--strict"])
    assert strict.exit_code == 1
    assert "SPS_SCHEMA_INVALID" in strict.stderr
    assert strict.stdout == ""


def test_import_without_dry_run_reads_the_file_before_opening_a_node() -> None:
    # Attaching to a consignment needs a node; a file that is no certificate never gets that far.
    result = CliRunner().invoke(app, ["import", str(FIXTURES / "not-sps.xml"), "--lang", "vi"])
    assert result.exit_code == 1
    assert "SPS_NOT_AN_SPS_CERTIFICATE" in result.stderr


def test_export_writes_xml_that_validates(
    tmp_path: Path, valid: CertificateImport, schema: xmlschema.XMLSchema
) -> None:
    certificate_json = tmp_path / "certificate.json"
    certificate_json.write_text(valid.certificate.model_dump_json(), encoding="utf-8")
    output = tmp_path / "certificate.xml"
    result = CliRunner().invoke(app, ["export", str(certificate_json), "-o", str(output)])
    assert result.exit_code == 0, result.stderr
    assert "123456789CO" in result.stdout
    assert schema.is_valid(str(output))
    assert read_certificate_file(output).certificate == valid.certificate


def test_export_refuses_json_that_is_not_a_certificate(tmp_path: Path) -> None:
    certificate_json = tmp_path / "certificate.json"
    certificate_json.write_text('{"document": {}}', encoding="utf-8")
    output = tmp_path / "certificate.xml"
    result = CliRunner().invoke(app, ["export", str(certificate_json), "-o", str(output)])
    assert result.exit_code == 1
    assert "SCHEMA_INVALID" in result.stderr
    assert not output.exists()
