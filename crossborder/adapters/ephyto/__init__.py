"""ePhyto: phytosanitary certificates as UN/CEFACT SPSCertificate 17A XML.

:mod:`.xml` is the public surface (read a file or bytes, write XML); the
schema, the reader and the writer behind it are in their own modules.
"""

from crossborder.adapters.ephyto.schema import spscertificate_schema
from crossborder.adapters.ephyto.xml import (
    DEFAULT_MAX_BYTES,
    CertificateImport,
    read_certificate,
    read_certificate_file,
    write_certificate,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "CertificateImport",
    "read_certificate",
    "read_certificate_file",
    "spscertificate_schema",
    "write_certificate",
]
