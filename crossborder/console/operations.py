"""The other roles' pages: counterparts and delivery for operators, the trail for auditors.

An operator sees, per counterpart, what waits for it (refused with its answer,
deferred with the last error and the next attempt, queued) and when it last
gave a receipt, and sends a refused message again (``outbox resend``). An auditor reads and exports
the trail; nothing on their pages changes anything but the record of their reading.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crossborder.console.cases import signed_in
from crossborder.console.desk import Desk, check_csrf
from crossborder.console.sign_in import console_of
from crossborder.domain.officers import Permission
from crossborder.services.audit_export import ExportFormat, write_audit
from crossborder.services.outbox_review import (
    UNDELIVERED,
    OutboxEntry,
    OutboxState,
    answer_text,
    list_outbox,
    resend,
)
from crossborder.services.reading_log import record_reading
from crossborder.services.registry import list_counterparts

router = APIRouter()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: What each export is called and served as.
EXPORTS = {
    ExportFormat.CSV: ("text/csv; charset=utf-8", "csv"),
    ExportFormat.JSONL: ("application/jsonl", "jsonl"),
}


@router.get("/counterparts")
def counterparts(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    desk.actor(Permission.CONNECT)
    # Each message with the last answer told as ``outbox list`` tells it, by state.
    waiting: dict[OutboxState, list[tuple[OutboxEntry, str]]] = {s: [] for s in UNDELIVERED}
    for entry in list_outbox(desk.node):
        waiting[entry.state].append((entry, answer_text(entry.answer, desk.reader.locale)))
    delivered = list_outbox(desk.node, states=[OutboxState.DELIVERED])
    # Delivered means the counterpart gave its signed receipt: the latest, per counterpart.
    last_receipt: dict[str, datetime] = {}
    for entry in delivered:
        if entry.delivered_at and entry.delivered_at > last_receipt.get(entry.recipient, EPOCH):
            last_receipt[entry.recipient] = entry.delivered_at
    context = {
        "counterparts": list_counterparts(desk.node),
        "refused": waiting[OutboxState.REFUSED],
        "deferred": waiting[OutboxState.DEFERRED],
        "queued": waiting[OutboxState.QUEUED],
        "last_receipt": last_receipt,
        "done": request.query_params.get("done") == "resent",
    }
    return console_of(request).page(request, "counterparts.html", context, desk=desk)


@router.post("/outbox/{message_id}/resend")
def resend_message(
    request: Request,
    message_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(desk.session.csrf, csrf_token)
    resend(desk.node, message_id, desk.actor(Permission.CONNECT))
    console_of(request).wake_delivery()
    return RedirectResponse("/console/counterparts?done=resent", status_code=303)


@router.get("/audit")
def audit(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    desk.actor(Permission.AUDIT)
    return console_of(request).page(
        request, "audit.html", {"formats": list(ExportFormat)}, desk=desk
    )


@router.get("/audit/export")
def export(
    request: Request,
    desk: Desk = Depends(signed_in),  # noqa: B008
    format: str = "csv",
    case_id: str = "",
) -> Response:
    actor = desk.actor(Permission.AUDIT)
    chosen = ExportFormat(format) if format in set(ExportFormat) else ExportFormat.CSV
    out = io.BytesIO()
    write_audit(
        desk.node,
        out,
        chosen,
        locale=desk.reader.locale,
        tz=desk.reader.tz,
        case_id=case_id or None,
    )
    record_reading(desk.node, actor, f"audit export {chosen.value}", case_id or None)
    media_type, suffix = EXPORTS[chosen]
    name = f"audit-{desk.node.agency}{'-' + case_id if case_id else ''}.{suffix}"
    return Response(
        out.getvalue(),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
