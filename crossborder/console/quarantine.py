"""Quarantine steps as forms: import ePhyto, send a result, decide, notify, acknowledge.

Each calls the service ``crossborder quarantine`` calls. The certificate is
read leniently, as the command does without ``--strict``: what can be read is
kept, and every problem is listed with the path of its element, on the page
that says which case it opened. A certificate that cannot be read at all is
refused with those places, and nothing is recorded.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from crossborder.adapters.ephyto import DEFAULT_MAX_BYTES, read_certificate
from crossborder.console.actions import officer_words, on_case, status_of, uploaded_model
from crossborder.console.cases import Refusal, signed_in
from crossborder.console.desk import Desk, check_csrf
from crossborder.console.sign_in import console_of
from crossborder.domain.actors import Actor
from crossborder.domain.errors import CrossborderError, InvalidInput, Violation
from crossborder.domain.free_text import FreeText
from crossborder.domain.officers import Permission
from crossborder.domain.quarantine import NonComplianceNotice, QuarantineResult
from crossborder.domain.recognition import RecognitionDecision
from crossborder.domain.validation import schema_checked
from crossborder.services import non_compliance, quarantine, recognition
from crossborder.services.quarantine import Attached
from crossborder.services.registry import list_counterparts, only_counterpart

router = APIRouter()
Text = Annotated[str, Form()]
Upload = Annotated[UploadFile | None, File()]


def _words(text: str, lang: str) -> FreeText | None:
    words = officer_words(text, lang)
    if words is None:
        return None
    with schema_checked():
        return FreeText.model_validate(words)


def import_page(
    request: Request,
    desk: Desk,
    *,
    refusal: Refusal | None = None,
    attached: Attached | None = None,
    problems: tuple[Violation, ...] = (),
    status: int = 200,
) -> HTMLResponse:
    context = {
        "counterparts": list_counterparts(desk.node),
        "refusal": refusal,
        "attached": attached,
        "problems": problems,
    }
    return console_of(request).page(request, "import.html", context, desk=desk, status=status)


@router.get("/quarantine/import")
def import_form(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    desk.actor(Permission.ACT)
    return import_page(request, desk)


@router.post("/quarantine/import", response_model=None)
def import_certificate(
    request: Request,
    desk: Desk = Depends(signed_in),  # noqa: B008
    certificate: Upload = None,
    recipient: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(desk.session.csrf, csrf_token)
    actor = desk.actor(Permission.ACT)
    try:
        if certificate is None or not certificate.filename:
            raise InvalidInput("FILE_MISSING")
        # One byte over the limit is enough for the reader to refuse it as too large.
        read = read_certificate(
            certificate.file.read(DEFAULT_MAX_BYTES + 1), strict=False, max_bytes=DEFAULT_MAX_BYTES
        )
        attached = quarantine.attach_certificate(
            desk.node, read.certificate, actor, recipient=recipient or only_counterpart(desk.node)
        )
    except CrossborderError as error:
        return import_page(request, desk, refusal=Refusal("import", error), status=status_of(error))
    return import_page(request, desk, attached=attached, problems=read.problems, status=201)


@router.post("/cases/{case_id}/quarantine/result", response_model=None)
def send_result(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    result: Upload = None,
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        content = uploaded_model(result, QuarantineResult, desk)
        return quarantine.share_result(desk.node, content, actor, case_id)

    return on_case(request, desk, case_id, csrf_token, "q_result", step, "result_shared")


@router.post("/cases/{case_id}/quarantine/decide", response_model=None)
def decide(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    outcome: Text = "",
    sampling_rate_percent: Text = "",
    reason: Text = "",
    note: Text = "",
    note_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        # The decision's own model says what each outcome needs (a rate, a reason).
        with schema_checked():
            decision = RecognitionDecision.model_validate(
                {
                    "outcome": outcome,
                    "sampling_rate_percent": sampling_rate_percent or None,
                    "reason": reason or None,
                }
            )
        return recognition.decide(desk.node, case_id, decision, actor, _words(note, note_lang))

    return on_case(request, desk, case_id, csrf_token, "q_decide", step, "recognition_decided")


@router.post("/cases/{case_id}/quarantine/notify", response_model=None)
def notify(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    notice: Upload = None,
    note: Text = "",
    note_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        content = uploaded_model(notice, NonComplianceNotice, desk)
        words = _words(note, note_lang)
        return non_compliance.notify(desk.node, content, actor, words, case_id)

    return on_case(request, desk, case_id, csrf_token, "q_notify", step, "non_compliance_notified")


@router.post("/cases/{case_id}/quarantine/acknowledge", response_model=None)
def acknowledge(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    note: Text = "",
    note_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        return non_compliance.acknowledge(desk.node, case_id, actor, _words(note, note_lang))

    return on_case(
        request, desk, case_id, csrf_token, "q_acknowledge", step, "non_compliance_acknowledged"
    )
