"""``crossborder co``: certificates of origin (ACFTA Form E)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crossborder.cli.common import (
    CaseIdArgument,
    ConfigOption,
    LangOption,
    NoteLangOption,
    OfficerOption,
    ReasonLangOption,
    acting,
    console,
    free_text,
    node_command,
    read_json,
    read_model,
    report_sent,
    say,
)
from crossborder.cli.deadlines import STATUS_TEXT as DEADLINE_STATUS_TEXT
from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.messages import (
    CertificateDecision,
    CoVerificationReplyPayload,
    CoVerificationRequestPayload,
    DecisionReason,
    DocumentKind,
    VerificationReason,
)
from crossborder.domain.officers import Permission
from crossborder.domain.validation import schema_checked
from crossborder.i18n import N_, format_datetime, normalize_locale, translate
from crossborder.services import certificate_of_origin, co_amendment, co_verification
from crossborder.services.cases import certificate_view
from crossborder.services.registry import only_counterpart

app = typer.Typer(help=N_("cli.help.co"), no_args_is_help=True)


def read_form_e(path: Path) -> FormE:
    return read_model(path, FormE)


@app.command("send", help=N_("cli.help.co.send"))
def send(
    form_e: Annotated[Path, typer.Argument(help=N_("cli.help.co.send.form_e"))],
    to: Annotated[str, typer.Option("--to", help=N_("cli.help.co.send.to"))] = "",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Share an issued Form E with the counterpart; prints the case id."""
    with node_command(lang, config) as node:
        form = read_form_e(form_e)
        shared = certificate_of_origin.share(
            node, form, to or only_counterpart(node), acting(node, officer)
        )
        report_sent(node, "cli.co.shared", lang, shared.case_id, shared.message_id)


@app.command("decide", help=N_("cli.help.co.decide"))
def decide(
    case_id: CaseIdArgument,
    decision: Annotated[CertificateDecision, typer.Option(help=N_("cli.help.co.decide.decision"))],
    reason: Annotated[
        list[DecisionReason] | None, typer.Option(help=N_("cli.help.co.decide.reason"))
    ] = None,
    note: Annotated[str | None, typer.Option(help=N_("cli.help.co.decide.note"))] = None,
    note_lang: NoteLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Accept, query or reject a received certificate (importing side)."""
    with node_command(lang, config) as node:
        words = free_text(note, note_lang) if note else None
        message_id = certificate_of_origin.decide(
            node, case_id, decision, acting(node, officer), reason or [], words
        )
        report_sent(node, "cli.co.decided", lang, case_id, message_id)


@app.command("amend", help=N_("cli.help.co.amend"))
def amend(
    case_id: CaseIdArgument,
    form_e: Annotated[Path, typer.Argument(help=N_("cli.help.co.amend.form_e"))],
    reason: Annotated[str, typer.Option(help=N_("cli.help.co.amend.reason"))],
    reason_lang: ReasonLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Issue a new version of a shared certificate (same number) and send it."""
    with node_command(lang, config) as node:
        form = read_form_e(form_e)
        words = free_text(reason, reason_lang)
        message_id = co_amendment.amend(node, case_id, form, words, acting(node, officer))
        report_sent(node, "cli.co.amended", lang, case_id, message_id)


@app.command("revoke", help=N_("cli.help.co.revoke"))
def revoke(
    case_id: CaseIdArgument,
    reason: Annotated[str, typer.Option(help=N_("cli.help.co.revoke.reason"))],
    reason_lang: ReasonLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Revoke a shared certificate; the counterpart's copy follows."""
    with node_command(lang, config) as node:
        words = free_text(reason, reason_lang)
        message_id = co_amendment.revoke(node, case_id, words, acting(node, officer))
        report_sent(node, "cli.co.revoked", lang, case_id, message_id)


@app.command("verify-request", help=N_("cli.help.co.verify_request"))
def verify_request(
    case_id: CaseIdArgument,
    reason: Annotated[
        list[VerificationReason], typer.Option(help=N_("cli.help.co.verify_request.reason"))
    ],
    document: Annotated[
        list[DocumentKind] | None, typer.Option(help=N_("cli.help.co.verify_request.document"))
    ] = None,
    note: Annotated[str | None, typer.Option(help=N_("cli.help.co.verify_request.note"))] = None,
    note_lang: NoteLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Ask the issuing authority for a retroactive check of a received certificate."""
    with node_command(lang, config) as node:
        with schema_checked():
            payload = CoVerificationRequestPayload(
                certificate_number="-",
                reasons=reason,
                documents_requested=document or [],
                note=free_text(note, note_lang) if note else None,
            )
        message_id = co_verification.request(node, case_id, payload, acting(node, officer))
        report_sent(node, "cli.co.verification_requested", lang, case_id, message_id)


@app.command("verify-reply", help=N_("cli.help.co.verify_reply"))
def verify_reply(
    case_id: CaseIdArgument,
    reply_file: Annotated[Path, typer.Argument(help=N_("cli.help.co.verify_reply.reply_file"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Answer a verification request: confirmed / not_confirmed, findings, documents."""
    with node_command(lang, config) as node:
        data = read_json(reply_file)
        data.setdefault("certificate_number", "-")
        with schema_checked():
            payload = CoVerificationReplyPayload.model_validate(data)
        message_id = co_verification.reply(node, case_id, payload, acting(node, officer))
        report_sent(node, "cli.co.verification_replied", lang, case_id, message_id)


@app.command("show", help=N_("cli.help.co.show"))
def show(
    certificate_number: Annotated[str, typer.Argument(help=N_("cli.help.certificate_number"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """A certificate: its versions, its verification history and its open deadlines."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        view = certificate_view(node, certificate_number)
    say("cli.case.header", locale, case_id=view.case_id, subject=certificate_number)
    for version in view.versions:
        note = f" [{version.note['lang']}] {version.note['text']}" if version.note else ""
        say(
            "cli.co.version",
            locale,
            version=version.version,
            status=translate(f"status.{version.status}", locale),
            when=format_datetime(version.recorded_at, locale, node.timezone),
        )
        if note:
            console.print(note, highlight=False)
    for verification in view.verifications:
        say(
            "cli.co.verification",
            locale,
            status=translate(f"status.{verification.status}", locale),
            when=format_datetime(verification.requested_at, locale, node.timezone),
            reasons="; ".join(
                translate(f"verification_reason.{code}", locale) for code in verification.reasons
            ),
        )
    for deadline in view.deadlines:
        say(
            "cli.co.deadline",
            locale,
            due=format_datetime(deadline.due_at, locale, node.timezone),
            status=translate(DEADLINE_STATUS_TEXT[deadline.status], locale),
        )
