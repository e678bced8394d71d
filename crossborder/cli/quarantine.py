"""``crossborder quarantine``: phytosanitary certificates, quarantine results, recognition, ISPM 13.

At a desk, without a node: ``import --dry-run`` prints our model of an ePhyto
certificate as JSON on standard output, and what an officer should know about
the reading (schema errors, what was not kept, units missing) on standard
error, so that ``quarantine import CERT.xml --dry-run > CERT.json`` gives a file
``quarantine export`` takes.

On a node: ``import`` opens a consignment on the certificate; ``send`` shares
its quarantine result; ``decide`` records a recognition decision by hand;
``notify`` and ``acknowledge`` carry a notification of non-compliance;
``rules load`` and ``rules list`` keep the recognition rules in force.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crossborder.adapters.ephyto import (
    DEFAULT_MAX_BYTES,
    read_certificate_file,
    write_certificate,
)
from crossborder.cli.common import (
    CaseIdArgument,
    ConfigOption,
    LangOption,
    NoteLangOption,
    OfficerOption,
    acting,
    console,
    err_console,
    free_text,
    node_command,
    print_violations,
    read_model,
    report_sent,
    say,
    user_errors,
)
from crossborder.domain.errors import InvalidInput, Violation
from crossborder.domain.officers import Permission
from crossborder.domain.phytosanitary import PhytosanitaryCertificate
from crossborder.domain.quarantine import NonComplianceNotice, QuarantineResult
from crossborder.domain.recognition import (
    NonRecognitionReason,
    RecognitionDecision,
    RecognitionOutcome,
)
from crossborder.domain.validation import schema_checked
from crossborder.i18n import N_, normalize_locale, translate
from crossborder.services import non_compliance, quarantine, recognition
from crossborder.services.registry import only_counterpart

app = typer.Typer(help=N_("cli.help.quarantine"), no_args_is_help=True)


@app.command("import", help=N_("cli.help.quarantine.import"))
def import_certificate(
    certificate: Annotated[Path, typer.Argument(help=N_("cli.help.quarantine.import.certificate"))],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=N_("cli.help.quarantine.import.dry_run"))
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help=N_("cli.help.quarantine.import.strict"))
    ] = False,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", help=N_("cli.help.quarantine.import.max_bytes"))
    ] = DEFAULT_MAX_BYTES,
    case_id: Annotated[
        str | None, typer.Option("--case", help=N_("cli.help.quarantine.import.case"))
    ] = None,
    to: Annotated[str, typer.Option("--to", help=N_("cli.help.quarantine.import.to"))] = "",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Read an ePhyto certificate and open a consignment on it (--dry-run: only read and print).

    Without --strict, keep what can be read and list every problem found.
    """
    # The file is read and checked before a node is opened (--dry-run needs none):
    # a refused file changes nothing.
    with user_errors(lang):
        result = read_certificate_file(certificate, strict=strict, max_bytes=max_bytes)
    if dry_run:
        typer.echo(result.certificate.model_dump_json(indent=2))
        _report(result.problems, lang)
        return
    _report(result.problems, lang)
    with node_command(lang, config) as node:
        attached = quarantine.attach_certificate(
            node,
            result.certificate,
            acting(node, officer),
            # A consignment already open has its importing side.
            recipient=None if case_id else to or only_counterpart(node),
            case_id=case_id,
        )
        say(
            "cli.quarantine.attached",
            lang,
            number=attached.certificate_number,
            case_id=attached.case_id,
        )


@app.command("export", help=N_("cli.help.quarantine.export"))
def export_certificate(
    certificate: Annotated[Path, typer.Argument(help=N_("cli.help.quarantine.export.certificate"))],
    output: Annotated[
        Path, typer.Option("--output", "-o", help=N_("cli.help.quarantine.export.output"))
    ],
    lang: LangOption = "",
) -> None:
    """Write a certificate as SPSCertificate XML that validates against the schema."""
    with user_errors(lang):
        read = _read_certificate_json(certificate)
        xml = write_certificate(read)
        try:
            output.write_bytes(xml)
        except OSError as exc:
            raise InvalidInput("SPS_FILE_UNWRITABLE", path=str(output)) from exc
        say("cli.quarantine.exported", lang, number=read.document.id, path=str(output))


def _read_certificate_json(path: Path) -> PhytosanitaryCertificate:
    return read_model(path, PhytosanitaryCertificate)


def _report(problems: tuple[Violation, ...], lang: str) -> None:
    count = translate("cli.quarantine.problems", normalize_locale(lang), count=len(problems))
    err_console.print(count, markup=False, highlight=False, soft_wrap=True)
    print_violations(problems, lang)


NoteOption = Annotated[str | None, typer.Option("--note", help=N_("cli.help.quarantine.note"))]
CaseOption = Annotated[str | None, typer.Option("--case", help=N_("cli.help.quarantine.case"))]


@app.command("send", help=N_("cli.help.quarantine.send"))
def send_result(
    result_file: Annotated[Path, typer.Argument(help=N_("cli.help.quarantine.send.result_file"))],
    case_id: CaseOption = None,
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Share a quarantine result with the importing side (exporting side)."""
    with node_command(lang, config) as node:
        result = read_model(result_file, QuarantineResult)
        shared = quarantine.share_result(node, result, acting(node, officer), case_id)
        report_sent(node, "cli.quarantine.result_shared", lang, shared.case_id, shared.message_id)


@app.command("decide", help=N_("cli.help.quarantine.decide"))
def decide(
    case_id: CaseIdArgument,
    outcome: Annotated[
        RecognitionOutcome, typer.Option(help=N_("cli.help.quarantine.decide.outcome"))
    ],
    sampling_rate: Annotated[
        Decimal | None, typer.Option(help=N_("cli.help.quarantine.decide.sampling_rate"))
    ] = None,
    reason: Annotated[
        NonRecognitionReason | None, typer.Option(help=N_("cli.help.quarantine.decide.reason"))
    ] = None,
    note: NoteOption = None,
    note_lang: NoteLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Record the recognition decision on a received result by hand (importing side)."""
    with node_command(lang, config) as node:
        with schema_checked():
            decision = RecognitionDecision(
                outcome=outcome, sampling_rate_percent=sampling_rate, reason=reason
            )
        words = free_text(note, note_lang) if note else None
        message_id = recognition.decide(node, case_id, decision, acting(node, officer), words)
        report_sent(node, "cli.quarantine.decided", lang, case_id, message_id)


@app.command("notify", help=N_("cli.help.quarantine.notify"))
def notify(
    notice_file: Annotated[Path, typer.Argument(help=N_("cli.help.quarantine.notify.notice_file"))],
    case_id: CaseOption = None,
    note: NoteOption = None,
    note_lang: NoteLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Notify the exporting side of non-compliance (ISPM 13) on a consignment (importing side)."""
    with node_command(lang, config) as node:
        notice = read_model(notice_file, NonComplianceNotice)
        words = free_text(note, note_lang) if note else None
        sent = non_compliance.notify(node, notice, acting(node, officer), words, case_id)
        report_sent(node, "cli.quarantine.notified", lang, sent.case_id, sent.message_id)


@app.command("acknowledge", help=N_("cli.help.quarantine.acknowledge"))
def acknowledge(
    case_id: CaseIdArgument,
    note: NoteOption = None,
    note_lang: NoteLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Acknowledge a notification of non-compliance (exporting side)."""
    with node_command(lang, config) as node:
        words = free_text(note, note_lang) if note else None
        sent = non_compliance.acknowledge(node, case_id, acting(node, officer), words)
        report_sent(node, "cli.quarantine.acknowledged", lang, sent.case_id, sent.message_id)


rules_app = typer.Typer(help=N_("cli.help.quarantine.rules"), no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("load", help=N_("cli.help.quarantine.rules.load"))
def load_rules(
    rules_file: Annotated[
        Path, typer.Argument(help=N_("cli.help.quarantine.rules.load.rules_file"))
    ],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Put a new version of the recognition rules in force (checked first; audited)."""
    with node_command(lang, config) as node:
        try:
            text = rules_file.read_bytes()
        except OSError as exc:
            raise InvalidInput("FILE_UNREADABLE", path=str(rules_file)) from exc
        version = recognition.load_rules(node, text, acting(node, officer, Permission.MANAGE_RULES))
        say("cli.quarantine.rules_loaded", lang, version=version)


@rules_app.command("list", help=N_("cli.help.quarantine.rules.list"))
def list_rules(
    officer: OfficerOption = None, lang: LangOption = "", config: ConfigOption = None
) -> None:
    """Show the recognition rules in force, with their version."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        in_force = recognition.current_rules(node)
    say("cli.quarantine.rules_version", locale, version=in_force.version)
    table = Table()
    # Rule ids and agency codes are copied into rule files: never cut or folded.
    table.add_column(translate("cli.quarantine.rule_id", locale), no_wrap=True)
    table.add_column(translate("cli.quarantine.rule_commodity", locale), no_wrap=True)
    table.add_column(translate("cli.quarantine.rule_agency", locale), no_wrap=True)
    table.add_column(translate("cli.quarantine.rule_valid", locale), overflow="fold")
    table.add_column(translate("cli.quarantine.rule_outcome", locale), overflow="fold")
    for rule in in_force.rule_set.rules:
        outcome = translate(f"recognition_outcome.{rule.outcome.value}", locale)
        if rule.sampling_rate_percent is not None:
            outcome += f" {rule.sampling_rate_percent.normalize():f} %"
        if rule.reason is not None:
            outcome += " — " + translate(f"recognition_reason.{rule.reason.value}", locale)
        table.add_row(
            rule.id,
            rule.hs_prefix,
            rule.exporting_agency,
            f"{rule.valid_from} – {rule.valid_to or '…'}",
            outcome,
        )
    console.print(table)
