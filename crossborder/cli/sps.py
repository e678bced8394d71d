"""``crossborder sps``: phytosanitary certificates (ePhyto SPSCertificate XML) at a desk.

``import --dry-run`` prints our model of a certificate as JSON on standard
output, and what an officer should know about the reading (schema errors,
what was not kept, units missing) on standard error, so that
``sps import CERT.xml --dry-run > CERT.json`` gives a file ``sps export`` takes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from crossborder.adapters.ephyto import (
    DEFAULT_MAX_BYTES,
    read_certificate_file,
    write_certificate,
)
from crossborder.cli.common import LangOption, err_console, say, user_errors
from crossborder.domain.errors import InvalidInput, Violation
from crossborder.domain.phytosanitary import PhytosanitaryCertificate
from crossborder.domain.validation import violations_from
from crossborder.i18n import normalize_locale, translate

app = typer.Typer(
    help="Phytosanitary certificates (ePhyto SPSCertificate XML).", no_args_is_help=True
)


@app.command("import")
def import_certificate(
    certificate: Annotated[Path, typer.Argument(help="SPSCertificate XML file")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only read the file and print it as JSON")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse a file with any schema error")
    ] = False,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", help="Refuse files larger than this")
    ] = DEFAULT_MAX_BYTES,
    lang: LangOption = "en",
) -> None:
    """Read an ePhyto certificate; without --strict, keep what can be read and list problems."""
    with user_errors(lang):
        if not dry_run:
            # Attaching a certificate to a consignment is the quarantine workflow's job.
            raise InvalidInput("SPS_IMPORT_NEEDS_CONSIGNMENT")
        result = read_certificate_file(certificate, strict=strict, max_bytes=max_bytes)
        typer.echo(result.certificate.model_dump_json(indent=2))
        _report(result.problems, lang)


@app.command("export")
def export_certificate(
    certificate: Annotated[Path, typer.Argument(help="Certificate as JSON (from import)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="SPSCertificate XML to write")],
    lang: LangOption = "en",
) -> None:
    """Write a certificate as SPSCertificate XML that validates against the schema."""
    with user_errors(lang):
        read = _read_json(certificate)
        xml = write_certificate(read)
        try:
            output.write_bytes(xml)
        except OSError as exc:
            raise InvalidInput("SPS_FILE_UNWRITABLE", path=str(output)) from exc
        say("cli.sps.exported", lang, number=read.document.id, path=str(output))


def _read_json(path: Path) -> PhytosanitaryCertificate:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("FILE_UNREADABLE", path=str(path)) from exc
    except ValueError as exc:
        raise InvalidInput("JSON_MALFORMED") from exc
    try:
        return PhytosanitaryCertificate.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("SCHEMA_INVALID", violations=violations_from(exc)) from exc


def _report(problems: tuple[Violation, ...], lang: str) -> None:
    locale = normalize_locale(lang)
    lines = [translate("cli.sps.problems", locale, count=len(problems))]
    for problem in problems:
        message = translate(f"error.{problem.code}", locale, field=problem.field, **problem.params)
        lines.append(f"  - {problem.code} {problem.field}: {message}")
    # Paths like ram:Item[2] are not markup, and stay on one line to be copied.
    for line in lines:
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)
