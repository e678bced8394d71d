"""Certificate-of-origin steps as forms: share, decide, amend, revoke, verification request, reply.

Each calls the service the ``crossborder co`` command calls, with the same
models checking the same fields, so a refusal carries the same stable codes as
the command line and the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from crossborder.console.actions import (
    Opened,
    done,
    officer_words,
    on_case,
    opening_case,
    opening_page,
    status_of,
    uploaded_json,
    uploaded_model,
)
from crossborder.console.cases import Refusal, signed_in
from crossborder.console.desk import Desk, check_csrf
from crossborder.console.form_e_fields import (
    form_e_data,
    hs_matches,
    input_names,
    preset,
    row_count,
)
from crossborder.console.sign_in import console_of
from crossborder.domain.actors import Actor
from crossborder.domain.certificate_of_origin import (
    Country,
    FormE,
    IdentifierScheme,
    OriginCriterionCode,
    TransportMode,
)
from crossborder.domain.errors import CrossborderError, NotFound
from crossborder.domain.messages import (
    CoDecisionPayload,
    CoVerificationReplyPayload,
    CoVerificationRequestPayload,
)
from crossborder.domain.officer_files import officer_text
from crossborder.domain.officers import Permission
from crossborder.domain.validation import schema_checked
from crossborder.services import certificate_of_origin, co_amendment, co_verification
from crossborder.services.cases import case_view
from crossborder.services.registry import list_counterparts, only_counterpart

router = APIRouter()
Text = Annotated[str, Form()]
Codes = Annotated[list[str], Form()]
Upload = Annotated[UploadFile | None, File()]


@router.get("/certificates/share")
def share_form(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    desk.actor(Permission.ACT)
    return opening_page(request, desk, "share.html")


@router.post("/certificates/share", response_model=None)
def share(
    request: Request,
    desk: Desk = Depends(signed_in),  # noqa: B008
    form_e: Upload = None,
    recipient: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> Opened:
        form = uploaded_model(form_e, FormE, desk)
        to = recipient or only_counterpart(desk.node)
        return certificate_of_origin.share(desk.node, form, to, actor)

    return opening_case(request, desk, csrf_token, "share.html", "share", step, "shared")


async def posted_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields by name (the fill-in form's names are model paths)."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


Fields = Annotated[dict[str, str], Depends(posted_fields)]


def fill_page(
    request: Request,
    desk: Desk,
    fields: dict[str, str],
    refusal: Refusal | None = None,
    status: int = 200,
    lookup: bool = False,
) -> HTMLResponse:
    rows = row_count(fields.get("rows", ""), fields.get("action") == "add_row")
    # The rows whose box held something when "look up" was pressed, each with what it found.
    queries = {i: fields.get(f"items[{i}].hs_code", "").strip() for i in range(rows)}
    matches = {i: hs_matches(query) for i, query in queries.items() if query and lookup}
    context = {
        "counterparts": list_counterparts(desk.node),
        "values": preset(desk.node.settings.country) | fields,
        "rows": rows,
        "matches": matches,
        "names": input_names(rows),
        "refusal": refusal,
        "countries": list(Country),
        "identifier_schemes": list(IdentifierScheme),
        "transport_modes": list(TransportMode),
        "origin_criteria": list(OriginCriterionCode),
    }
    return console_of(request).page(request, "fill.html", context, desk=desk, status=status)


@router.get("/certificates/new")
def fill_form(request: Request, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    desk.actor(Permission.ACT)
    return fill_page(request, desk, {})


@router.post("/certificates/new", response_model=None)
def fill(
    request: Request,
    fields: Fields,
    desk: Desk = Depends(signed_in),  # noqa: B008
) -> Response:
    """Share a Form E filled in field by field; "add another" and "look up" only re-render."""
    check_csrf(desk.session.csrf, fields.get("csrf_token", ""))
    actor = desk.actor(Permission.ACT)
    action = fields.get("action", "share")
    if action in ("add_row", "lookup"):
        return fill_page(request, desk, fields, lookup=action == "lookup")
    rows = row_count(fields.get("rows", ""), False)
    try:
        with schema_checked():
            form = FormE.model_validate(form_e_data(fields, rows, desk.node.agency))
        recipient = fields.get("recipient") or only_counterpart(desk.node)
        shared = certificate_of_origin.share(desk.node, form, recipient, actor)
    except CrossborderError as error:
        return fill_page(request, desk, fields, Refusal("fill", error), status_of(error))
    console_of(request).wake_delivery()
    return done(shared.case_id, "shared")


@router.get("/hs")
def hs_lookup(
    request: Request,
    desk: Desk = Depends(signed_in),  # noqa: B008
    q: str = "",
) -> HTMLResponse:
    """HS-6 subheadings by code prefix (``0810``) or by words of their description."""
    context = {"q": q, "matches": hs_matches(q)}
    return console_of(request).page(request, "hs.html", context, desk=desk)


@router.post("/cases/{case_id}/decide", response_model=None)
def decide(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    decision: Text = "",
    reasons: Codes = [],  # noqa: B006 (FastAPI copies a form default)
    note: Text = "",
    note_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        # The message's own model checks the fields, as for ``co decide``.
        with schema_checked():
            payload = CoDecisionPayload.model_validate(
                {
                    "certificate_number": "-",
                    "decision": decision,
                    "reasons": reasons,
                    "note": officer_words(note, note_lang),
                }
            )
        return certificate_of_origin.decide(
            desk.node, case_id, payload.decision, actor, payload.reasons, payload.note
        )

    return on_case(request, desk, case_id, csrf_token, "decide", step, "decided")


@router.post("/cases/{case_id}/amend", response_model=None)
def amend(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    form_e: Upload = None,
    reason: Text = "",
    reason_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        form = uploaded_model(form_e, FormE, desk)
        words = officer_text(reason, reason_lang)
        return co_amendment.amend(desk.node, case_id, form, words, actor)

    return on_case(request, desk, case_id, csrf_token, "amend", step, "amended")


@router.post("/cases/{case_id}/revoke", response_model=None)
def revoke(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    reason: Text = "",
    reason_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        return co_amendment.revoke(desk.node, case_id, officer_text(reason, reason_lang), actor)

    return on_case(request, desk, case_id, csrf_token, "revoke", step, "revoked")


@router.post("/cases/{case_id}/verify-request", response_model=None)
def verify_request(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    reasons: Codes = [],  # noqa: B006
    documents: Codes = [],  # noqa: B006
    note: Text = "",
    note_lang: Text = "",
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        with schema_checked():
            payload = CoVerificationRequestPayload.model_validate(
                {
                    "certificate_number": "-",
                    "reasons": reasons,
                    "documents_requested": documents,
                    "note": officer_words(note, note_lang),
                }
            )
        return co_verification.request(desk.node, case_id, payload, actor)

    return on_case(
        request, desk, case_id, csrf_token, "verify_request", step, "verification_requested"
    )


@router.post("/cases/{case_id}/verify-reply", response_model=None)
def verify_reply(
    request: Request,
    case_id: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
    reply: Upload = None,
    csrf_token: Text = "",
) -> Response:
    def step(actor: Actor) -> object:
        data = uploaded_json(reply, desk.node.settings.max_body_bytes)
        data.setdefault("certificate_number", "-")
        with schema_checked():
            payload = CoVerificationReplyPayload.model_validate(data)
        return co_verification.reply(desk.node, case_id, payload, actor)

    return on_case(request, desk, case_id, csrf_token, "verify_reply", step, "verification_replied")


@router.get("/cases/{case_id}/certificates/{version}")
def certificate_file(
    case_id: str,
    version: int,
    desk: Desk = Depends(signed_in),  # noqa: B008
) -> JSONResponse:
    """One version of the case's Form E, as it was shared or received."""
    for certificate in case_view(desk.node, case_id).certificates:
        if certificate.version == version:
            name = f"{certificate.number}-v{version}.json"
            return JSONResponse(
                certificate.content,
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
    raise NotFound("CERTIFICATE_UNKNOWN", number=f"{case_id} v{version}")
