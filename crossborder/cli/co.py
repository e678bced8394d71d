"""``crossborder co``: certificates of origin (ACFTA Form E)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from crossborder.cli.common import ConfigOption, LangOption, officer, open_node, say, user_errors
from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.errors import InvalidInput
from crossborder.domain.messages import CertificateDecision, DecisionReason, FreeText, LanguageTag
from crossborder.domain.validation import violations_from
from crossborder.i18n import normalize_locale, translate
from crossborder.services.registry import only_counterpart
from flows.certificate_of_origin import (
    CertificateDecisionRequest,
    ShareCertificateRequest,
    answer_certificate_of_origin,
    share_certificate_of_origin,
)
from flows.runtime import use

#: How far delivery got when the command returned, as an officer reads it.
DELIVERY_KEYS = {
    "delivered": "cli.delivery.delivered",
    "pending": "cli.delivery.pending",
    "failed": "cli.delivery.failed",
}

app = typer.Typer(help="Certificates of origin (ACFTA Form E).", no_args_is_help=True)


def read_form_e(path: Path) -> FormE:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("FILE_UNREADABLE", path=str(path)) from exc
    except ValueError as exc:
        raise InvalidInput("JSON_MALFORMED") from exc
    try:
        return FormE.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("SCHEMA_INVALID", violations=violations_from(exc)) from exc


@app.command("send")
def send(
    form_e: Annotated[Path, typer.Argument(help="Form E as JSON (see contracts/examples)")],
    to: Annotated[str, typer.Option("--to", help="Recipient agency code")] = "",
    lang: LangOption = "en",
    config: ConfigOption = None,
) -> None:
    """Share an issued Form E with the counterpart; prints the case id."""
    with user_errors(lang):
        node = open_node(config)
        recipient = to or only_counterpart(node)
        request = ShareCertificateRequest(
            certificate=read_form_e(form_e), recipient=recipient, officer=officer()
        )
        with use(node):
            result = share_certificate_of_origin(request)
        delivery = translate(DELIVERY_KEYS[result.delivery], normalize_locale(lang))
        say("cli.co.shared", lang, case_id=result.case_id, delivery=delivery)


@app.command("decide")
def decide(
    case_id: str,
    decision: Annotated[CertificateDecision, typer.Option()],
    reason: Annotated[list[DecisionReason] | None, typer.Option(help="Repeat for several")] = None,
    note: Annotated[str | None, typer.Option(help="Free text for the issuing side")] = None,
    note_lang: Annotated[str, typer.Option(help="Language of the note: zh-Hans, vi, en")] = "en",
    lang: LangOption = "en",
    config: ConfigOption = None,
) -> None:
    """Accept, query or reject a received certificate (importing side)."""
    with user_errors(lang):
        node = open_node(config)
        try:
            request = CertificateDecisionRequest(
                case_id=case_id,
                decision=decision,
                reasons=reason or [],
                note=FreeText(lang=_language_tag(note_lang), text=note) if note else None,
                officer=officer(),
            )
        except ValidationError as exc:
            raise InvalidInput("SCHEMA_INVALID", violations=violations_from(exc)) from exc
        with use(node):
            result = answer_certificate_of_origin(request)
        delivery = translate(DELIVERY_KEYS[result.delivery], normalize_locale(lang))
        say("cli.co.decided", lang, case_id=result.case_id, delivery=delivery)


def _language_tag(value: str) -> LanguageTag:
    tags: dict[str, LanguageTag] = {"zh": "zh-Hans", "zh-hans": "zh-Hans", "vi": "vi", "en": "en"}
    tag = tags.get(value.lower().replace("_", "-"))
    if tag is None:
        raise InvalidInput("LANGUAGE_UNKNOWN", lang=value)
    return tag
