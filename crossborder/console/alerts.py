"""The alerts board, and alert steps as forms: raise, acknowledge, follow up, close, withdraw.

The board lists open alerts as ``crossborder alert list --open`` does —
escalated first, then by severity — with the time left to acknowledge. The
list updates itself in place: the page's script (``static/board.js``) fetches
it again, rendered from the same block of the template, every few seconds and
swaps it in; without scripts the page reloads itself every half minute.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from crossborder.console.actions import (
    Opened,
    given,
    officer_words,
    on_case,
    opening_case,
    opening_page,
    uploaded_model,
)
from crossborder.console.cases import signed_in
from crossborder.console.desk import Desk
from crossborder.console.sign_in import console_of
from crossborder.domain.actors import Actor
from crossborder.domain.alert_lifecycle import AlertAction
from crossborder.domain.alerts import (
    AlertAckPayload,
    AlertClosePayload,
    AlertContent,
    AlertFollowUpPayload,
    AlertWithdrawPayload,
    Severity,
)
from crossborder.domain.officers import Permission
from crossborder.domain.validation import schema_checked
from crossborder.services import alerts
from crossborder.services.alert_views import list_alerts
from crossborder.services.registry import only_counterpart

router = APIRouter()
Text = Annotated[str, Form()]

#: Most severe first (CAP's order), after whatever the watcher escalated.
SEVERITY_RANK = {severity.value: rank for rank, severity in enumerate(Severity)}
#: Alerts that stay on top of the board whatever their severity: a vessel in
#: distress and a threat to security are never below a routine notice.
ON_TOP = frozenset({"maritime_sar", "security"})


#: How often the page's script fetches the list again, and how often the page
#: reloads itself where scripts are off.
UPDATE_SECONDS = 10
RELOAD_SECONDS = 30


def board_lines(desk: Desk) -> dict[str, object]:
    """The open alerts, those that stay on top first, with what is left to acknowledge."""
    now = desk.node.now()
    views = list_alerts(desk.node, open_only=True)
    ordered = sorted(
        views,
        key=lambda view: (
            view.alert.category not in ON_TOP,
            view.alert.escalated_at is None,
            SEVERITY_RANK.get(view.alert.severity, len(SEVERITY_RANK)),
        ),
    )
    lines = [
        (view, view.overdue(now), view.deadline.due_at - now if view.deadline else None)
        for view in ordered
    ]
    return {
        "lines": lines,
        "on_top": ON_TOP,
        "update_seconds": UPDATE_SECONDS,
        "reload_seconds": RELOAD_SECONDS,
    }


@router.get("/alerts")
def board(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    return console_of(request).page(request, "alerts.html", board_lines(desk), desk=desk)


@router.get("/alerts/board")
def board_list(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    """Only the board's list, for the page to swap in without reloading."""
    return console_of(request).part(request, "alerts.html", "board", board_lines(desk), desk)


@router.get("/alerts/raise")
def raise_form(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    desk.actor(Permission.ACT)
    return opening_page(request, desk, "raise.html")


@router.post("/alerts/raise", response_model=None)
def raise_(
    request: Request,
    desk: Desk = Depends(signed_in),  # noqa: B008
    alert: Annotated[UploadFile | None, File()] = None,
    recipient: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> Opened:
        content = uploaded_model(alert, AlertContent, desk)
        to = recipient or only_counterpart(desk.node)
        return alerts.raise_alert(desk.node, content, to, actor)

    return opening_case(request, desk, csrf_token, "raise.html", "raise", step, "alert_raised")


@router.post("/cases/{case_id}/alert/ack", response_model=None)
def acknowledge(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    note: Text = "",
    note_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        with schema_checked():
            payload = AlertAckPayload.model_validate({"note": officer_words(note, note_lang)})
        return alerts.act(desk.node, case_id, AlertAction.ACK, payload, actor)

    return on_case(request, desk, case_id, csrf_token, "ack", step, "alert_acknowledged")


@router.post("/cases/{case_id}/alert/close", response_model=None)
def close(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    reason: Text = "",
    note: Text = "",
    note_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        with schema_checked():
            payload = AlertClosePayload.model_validate(
                {"reason": reason, "note": officer_words(note, note_lang)}
            )
        return alerts.act(desk.node, case_id, AlertAction.CLOSE, payload, actor)

    return on_case(request, desk, case_id, csrf_token, "close", step, "alert_closed")


@router.post("/cases/{case_id}/alert/follow-up", response_model=None)
def follow_up(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    text: Text = "",
    text_lang: Text = "",
    measures: Text = "",
    measures_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        with schema_checked():
            payload = AlertFollowUpPayload.model_validate(
                given(
                    text=officer_words(text, text_lang),
                    measures=officer_words(measures, measures_lang),
                )
            )
        return alerts.act(desk.node, case_id, AlertAction.FOLLOW_UP, payload, actor)

    return on_case(request, desk, case_id, csrf_token, "follow_up", step, "alert_followed_up")


@router.post("/cases/{case_id}/alert/withdraw", response_model=None)
def withdraw(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    reason: Text = "",
    reason_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        with schema_checked():
            payload = AlertWithdrawPayload.model_validate(
                given(reason=officer_words(reason, reason_lang))
            )
        return alerts.act(desk.node, case_id, AlertAction.WITHDRAW, payload, actor)

    return on_case(request, desk, case_id, csrf_token, "withdraw", step, "alert_withdrawn")
