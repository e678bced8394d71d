"""Reading and writing ePhyto certificates (UN/CEFACT SPSCertificate 17A XML).

A certificate file comes from outside — another country's system, an e-mail
attachment — so it is read defensively, each refusal with its own code:

1. size first (``SPS_FILE_TOO_LARGE``): nothing is parsed beyond the limit;
2. parsed with defusedxml, refusing any DTD (``SPS_XML_UNSAFE``): entity
   expansion ("billion laughs") and external entities need one, and an ePhyto
   certificate never has one;
3. well-formed XML (``SPS_XML_MALFORMED``) whose root is an
   ``rsm:SPSCertificate`` (``SPS_NOT_AN_SPS_CERTIFICATE``);
4. validated against the schema: in strict mode any schema error refuses the
   file (``SPS_SCHEMA_INVALID``, one ``SPS_SCHEMA_ERROR`` per error); in
   lenient mode the schema errors become problems returned with what could be
   read.

Writing validates what it wrote, so an exported file always passes the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, indent, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from crossborder.adapters.ephyto.reading import CertificateIncomplete, read_tree
from crossborder.adapters.ephyto.schema import ROOT_TAG, ElementPaths, prefixed, schema_violations
from crossborder.adapters.ephyto.writing import certificate_tree
from crossborder.domain.errors import InvalidInput, Violation
from crossborder.domain.phytosanitary import PhytosanitaryCertificate

#: Real certificates with a PDF attached weigh a few hundred kilobytes.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class CertificateImport:
    """A certificate read from XML, and what a reader should know about that reading.

    ``problems`` lists, each with the path of its element: the schema errors (in
    lenient mode), the elements and attributes the model did not keep, measures
    without a unit, and type or status codes we cannot confirm.
    """

    certificate: PhytosanitaryCertificate
    problems: tuple[Violation, ...]


def read_certificate_file(
    path: Path, *, strict: bool = True, max_bytes: int = DEFAULT_MAX_BYTES
) -> CertificateImport:
    """Read the certificate in the XML file at ``path``; see :func:`read_certificate`."""
    try:
        with path.open("rb") as handle:
            # One byte past the limit is enough to know it is too large.
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidInput("SPS_FILE_UNREADABLE", path=str(path)) from exc
    return read_certificate(data, strict=strict, max_bytes=max_bytes)


def read_certificate(
    data: bytes, *, strict: bool = True, max_bytes: int = DEFAULT_MAX_BYTES
) -> CertificateImport:
    """Read an SPSCertificate XML document.

    Raises :class:`InvalidInput` when the data is too large, unsafe, not XML,
    not an SPSCertificate, invalid in strict mode, or missing what the model
    cannot do without (``SPS_CERTIFICATE_INCOMPLETE``, in lenient mode).
    """
    root = _parse(data, max_bytes)
    paths = ElementPaths(root)
    schema_problems = schema_violations(root, paths)
    if strict and schema_problems:
        raise InvalidInput(
            "SPS_SCHEMA_INVALID", violations=schema_problems, count=len(schema_problems)
        )
    try:
        certificate, reading_problems = read_tree(root, paths)
    except CertificateIncomplete as exc:
        missing = Violation("SPS_ELEMENT_MISSING", field=exc.path)
        raise InvalidInput(
            "SPS_CERTIFICATE_INCOMPLETE", violations=[missing, *schema_problems]
        ) from exc
    return CertificateImport(certificate, tuple(schema_problems + reading_problems))


def write_certificate(certificate: PhytosanitaryCertificate) -> bytes:
    """The certificate as SPSCertificate XML (UTF-8), checked against the schema.

    Raises ``InvalidInput("SPS_SCHEMA_INVALID")`` with every schema error when
    the certificate lacks what the schema requires (a signatory, the place of
    inspection) or carries a value it refuses, rather than write a file the
    counterpart's hub would reject.
    """
    root = certificate_tree(certificate)
    indent(root)
    problems = schema_violations(root, ElementPaths(root))
    if problems:
        raise InvalidInput("SPS_SCHEMA_INVALID", violations=problems, count=len(problems))
    xml: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return xml


def _parse(data: bytes, max_bytes: int) -> Element:
    if len(data) > max_bytes:
        raise InvalidInput("SPS_FILE_TOO_LARGE", max_bytes=max_bytes)
    try:
        root: Element = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InvalidInput("SPS_XML_UNSAFE") from exc
    except ParseError as exc:
        line, column = exc.position
        # expat counts columns from 0; an editor, from 1.
        raise InvalidInput("SPS_XML_MALFORMED", line=line, column=column + 1) from exc
    if root.tag != ROOT_TAG:
        raise InvalidInput("SPS_NOT_AN_SPS_CERTIFICATE", root=prefixed(root.tag))
    return root
