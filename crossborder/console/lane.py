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
    Opened,
    given,
    officer_words,
    on_case,
    opening_case,
    opening_page,
    status_of,
    uploaded_model,
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
from crossborder.services.registry import only_counterpart

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


@router.get("/lane/notify")
def notify_form(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    desk.actor(Permission.ACT)
    return opening_page(request, desk, "lane_notify.html")


@router.post("/lane/notify", response_model=None)
def notify(
    request: Request,
    desk: Desk = Depends(signed_in),  # noqa: B008
    notice: Annotated[UploadFile | None, File()] = None,
    recipient: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> Opened:
        content = uploaded_model(notice, LaneNotice, desk)
        to = recipient or only_counterpart(desk.node)
        return lane.notify(desk.node, content, to, actor)

    return opening_case(
        request, desk, csrf_token, "lane_notify.html", "l_notify", step, "lane_notified"
    )


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
