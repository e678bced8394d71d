"""The SPSCertificate schema, its namespaces, and where in a document a problem is.

The schema set ships in ``crossborder/reference/data/ephyto/xsd`` (its README says
where it comes from). Building it reads 137 files and takes seconds, so it is
built once per process, when first needed, and shared.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from xml.etree.ElementTree import Element

import xmlschema

from crossborder.domain.errors import Violation

RSM = "urn:un:unece:uncefact:data:standard:SPSCertificate:17"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:21"
DS = "http://www.w3.org/2000/09/xmldsig#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: The prefixes the UN/CEFACT documentation uses; problem paths are written with
#: them whatever prefixes the document chose (``ns0``, ``ns1``…).
PREFIXES = {RSM: "rsm", RAM: "ram", UDT: "udt", DS: "ds", XSI: "xsi"}

ROOT_TAG = f"{{{RSM}}}SPSCertificate"

_CLARK = re.compile(r"\{([^}]*)\}([\w.-]+)")


@cache
def spscertificate_schema() -> xmlschema.XMLSchema:
    """The SPSCertificate 17A schema, built on first use and kept for the process."""
    # xmlschema resolves the imports relative to this file, so it needs a real path.
    xsd = files("crossborder.reference").joinpath(
        "data", "ephyto", "xsd", "data", "standard", "SPSCertificate_17p0.xsd"
    )
    # allow="local": the schema set is complete; nothing it names may be fetched.
    return xmlschema.XMLSchema(str(Path(str(xsd))), allow="local")


def prefixed(name: str) -> str:
    """``{urn:…:SPSCertificate:17}SPSCertificate`` → ``rsm:SPSCertificate``, in any text."""

    def replace(match: re.Match[str]) -> str:
        prefix = PREFIXES.get(match.group(1))
        return f"{prefix}:{match.group(2)}" if prefix else match.group(0)

    return _CLARK.sub(replace, name)


class ElementPaths:
    """The path of every element of one document, as a reader can follow it.

    ``/rsm:SPSCertificate/rsm:SPSConsignment/ram:MainCarriageSPSTransportMovement[2]``:
    a step is numbered (from 1) only when its parent has several children of that
    name, the convention of XPath tools and of the schema validator's own messages.
    """

    def __init__(self, root: Element) -> None:
        self._paths: dict[Element, str] = {root: "/" + prefixed(root.tag)}
        self._parents: dict[Element, Element] = {}
        for parent in root.iter():
            counts: dict[str, int] = {}
            for child in parent:
                counts[child.tag] = counts.get(child.tag, 0) + 1
            seen: dict[str, int] = {}
            for child in parent:
                seen[child.tag] = seen.get(child.tag, 0) + 1
                step = prefixed(child.tag)
                if counts[child.tag] > 1:
                    step += f"[{seen[child.tag]}]"
                self._paths[child] = f"{self._paths[parent]}/{step}"
                self._parents[child] = parent

    def __getitem__(self, element: Element) -> str:
        return self._paths[element]

    def get(self, element: Element | None) -> str | None:
        return self._paths.get(element) if element is not None else None

    def parent(self, element: Element) -> Element | None:
        return self._parents.get(element)


def schema_violations(root: Element, paths: ElementPaths) -> list[Violation]:
    """Every way ``root`` breaks the schema, each with the path of the element at fault."""
    violations = []
    for error in spscertificate_schema().iter_errors(root):
        field = paths.get(error.elem) or prefixed(error.path or "")
        reason = prefixed(error.reason or error.message)
        violations.append(Violation("SPS_SCHEMA_ERROR", field=field, params={"reason": reason}))
    return violations
