"""Green-lane steps as forms: notice, arrival, inspection, countersignature, release, delay reason.

Each calls the service ``crossborder lane`` calls. Findings are ticked on the
form rather than written in a file: each is a kind from the inspection's own
list, and the record's model checks them as it checks the command's file.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from crossborder.console.actions import (
    done,
    given,
    officer_words,
    on_case,
    status_of,
    uploaded_json,
)
from crossborder.console.cases import Refusal, case_page, signed_in
from crossborder.console.desk import Desk, check_csrf
from crossborder.console.sign_in import console_of
from crossborder.domain.actors import Actor
from crossborder.domain.errors import CrossborderError
from crossborder.domain.free_text import FreeText
from crossborder.domain.lane import InspectionFinding, InspectionResult, LaneNotice, RefusalReason
from crossborder.domain.officers import Permission
from crossborder.domain.validation import schema_checked
from crossborder.services import lane, lane_inspection, lane_times
from crossborder.services.registry import list_counterparts, only_counterpart

router = APIRouter()
Text = Annotated[str, Form()]
Codes = Annotated[list[str], Form()]


class _Inspection(BaseModel):
    """What the inspection form sends, checked by the record's own types; fields as on the form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    result: InspectionResult
    findings: tuple[InspectionFinding, ...] = ()


class _Release(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    note: FreeText | None = None


class _Refusal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    refuse: tuple[RefusalReason, ...]
    note: FreeText | None = None


def _findings(kinds: list[str]) -> tuple[InspectionFinding, ...]:
    with schema_checked():
        return tuple(InspectionFinding.model_validate({"kind": kind}) for kind in kinds)


def notify_page(
    request: Request, desk: Desk, refusal: Refusal | None = None, status: int = 200
) -> HTMLResponse:
    context = {"counterparts": list_counterparts(desk.node), "refusal": refusal}
    return console_of(request).page(request, "lane_notify.html", context, desk=desk, status=status)


@router.get("/lane/notify")
def notify_form(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    desk.actor(Permission.ACT)
    return notify_page(request, desk)


@router.post("/lane/notify", response_model=None)
def notify(
    request: Request,
    desk: Desk = Depends(signed_in),  # noqa: B008
    notice: Annotated[UploadFile | None, File()] = None,
    recipient: Text = "",
    csrf_token: Text = "",
) -> Response:
    check_csrf(desk.session.csrf, csrf_token)
    actor = desk.actor(Permission.ACT)
    try:
        data = uploaded_json(notice, desk.node.settings.max_body_bytes)
        with schema_checked():
            content = LaneNotice.model_validate(data)
        sent = lane.notify(desk.node, content, recipient or only_counterpart(desk.node), actor)
    except CrossborderError as error:
        return notify_page(request, desk, Refusal("l_notify", error), status_of(error))
    console_of(request).wake_delivery()
    return done(sent.case_id, "lane_notified")


@router.post("/cases/{case_id}/lane/arrive", response_model=None)
def arrive(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        return lane.arrive(desk.node, case_id, actor)

    return on_case(request, desk, case_id, csrf_token, "l_arrive", step, "lane_arrived")


@router.post("/cases/{case_id}/lane/inspect", response_model=None)
def inspect(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    result: Text = "",
    findings: Codes = [],  # noqa: B006 (FastAPI copies a form default)
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        with schema_checked():
            form = _Inspection.model_validate(
                given(result=result or None, findings=[{"kind": kind} for kind in findings])
            )
        return lane_inspection.inspect(desk.node, case_id, form.findings, form.result, actor)

    return on_case(request, desk, case_id, csrf_token, "l_inspect", step, "lane_inspected")


@router.post("/cases/{case_id}/lane/countersign", response_model=None)
def countersign(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    findings: Codes = [],  # noqa: B006
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        return lane_inspection.countersign(desk.node, case_id, actor, _findings(findings))

    return on_case(request, desk, case_id, csrf_token, "l_countersign", step, "lane_countersigned")


@router.post("/cases/{case_id}/lane/release", response_model=None)
def release(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    note: Text = "",
    note_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        with schema_checked():
            form = _Release.model_validate({"note": officer_words(note, note_lang)})
        return lane.release(desk.node, case_id, actor, note=form.note)

    return on_case(request, desk, case_id, csrf_token, "l_release", step, "lane_released")


@router.post("/cases/{case_id}/lane/refuse", response_model=None)
def refuse_entry(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    refuse: Codes = [],  # noqa: B006
    note: Text = "",
    note_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    """A refusal names at least one reason: with none ticked the form is refused, not a release."""

    def step(actor: Actor) -> object:
        with schema_checked():
            form = _Refusal.model_validate(
                given(refuse=refuse or None, note=officer_words(note, note_lang))
            )
        return lane.release(desk.node, case_id, actor, form.refuse, form.note)

    return on_case(request, desk, case_id, csrf_token, "l_refuse", step, "lane_refused")


@router.post("/cases/{case_id}/lane/delay-reason", response_model=None)
def delay_reason(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    csrf_token: Text = "",
) -> Response:
    """The written reason is given on request and the request is audited: a form, not a link."""
    check_csrf(desk.session.csrf, csrf_token)
    actor = desk.actor(Permission.ACT)
    console = console_of(request)
    try:
        late, facts = lane_times.delay_reason(desk.node, case_id, actor)
    except CrossborderError as error:
        if error.code in ("ROLE_NOT_ALLOWED", "CASE_UNKNOWN", "LANE_CASE_UNKNOWN"):
            raise
        refusal = Refusal("l_delay", error)
        return case_page(console, request, desk, case_id, refusal=refusal, status=status_of(error))
    context = {"case_id": case_id, "late": late, "facts": facts}
    return console.page(request, "delay_reason.html", context, desk=desk)
