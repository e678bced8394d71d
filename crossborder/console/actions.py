"""What every action form shares: its token checked, its file read, its refusal shown.

An action is a form posted back to the page that showed it. The token is
checked first, then the officer's role (by the service's own check), then the
service runs exactly as for the command line. A refusal comes back as the same
page with the error beside the form, in the officer's language, and nothing
changed; a success sends the officer to the case page, which says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

from fastapi import Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from crossborder.api.errors import STATUS_FOR_KIND
from crossborder.console.cases import Refusal, case_page
from crossborder.console.desk import Desk, check_csrf
from crossborder.console.sign_in import console_of
from crossborder.domain.actors import Actor
from crossborder.domain.errors import CrossborderError, InvalidInput
from crossborder.domain.officer_files import officer_json
from crossborder.domain.officers import Permission
from crossborder.domain.validation import schema_checked
from crossborder.services.registry import list_counterparts

M = TypeVar("M", bound=BaseModel)


class Opened(Protocol):
    """What a step that opens a case answers: the case it opened."""

    @property
    def case_id(self) -> str: ...


def uploaded_json(upload: UploadFile | None, limit: int) -> dict[str, Any]:
    """The JSON object of an uploaded file, judged as ``crossborder`` judges a file on disk."""
    if upload is None or not upload.filename:
        raise InvalidInput("FILE_MISSING")
    raw = upload.file.read(limit + 1)
    if len(raw) > limit:
        raise InvalidInput("BODY_TOO_LARGE", limit=limit)
    return officer_json(raw, upload.filename)


def uploaded_model(upload: UploadFile | None, model: type[M], desk: Desk) -> M:
    """An uploaded file read as one of the contract's models, its problems as violations."""
    data = uploaded_json(upload, desk.node.settings.max_body_bytes)
    with schema_checked():
        return model.model_validate(data)


def officer_words(text: str, lang: str) -> dict[str, str] | None:
    """An officer's words for a payload model to check; none when the box was left empty."""
    return {"lang": lang, "text": text} if text.strip() else None


def given(**fields: object) -> dict[str, object]:
    """The boxes an officer filled in: one left empty is a missing field (``FIELD_MISSING``)."""
    return {name: value for name, value in fields.items() if value is not None}


def status_of(error: CrossborderError) -> int:
    return STATUS_FOR_KIND.get(error.kind, 400)


def done(case_id: str, what: str) -> RedirectResponse:
    return RedirectResponse(f"/console/cases/{quote(case_id)}?done={what}", status_code=303)


def opening_page(
    request: Request,
    desk: Desk,
    template: str,
    refusal: Refusal | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A form that opens a case with a counterpart: whom to send to, and a refusal if any."""
    context = {"counterparts": list_counterparts(desk.node), "refusal": refusal}
    return console_of(request).page(request, template, context, desk=desk, status=status)


def opening_case(
    request: Request,
    desk: Desk,
    csrf_token: str,
    template: str,
    form: str,
    step: Callable[[Actor], Opened],
    what: str,
) -> Response:
    """Open a case for the signed-in officer: its page, or the form again with the refusal."""
    check_csrf(desk.session.csrf, csrf_token)
    actor = desk.actor(Permission.ACT)
    try:
        opened = step(actor)
    except CrossborderError as error:
        return opening_page(request, desk, template, Refusal(form, error), status_of(error))
    console_of(request).wake_delivery()
    return done(opened.case_id, what)


def on_case(
    request: Request,
    desk: Desk,
    case_id: str,
    csrf_token: str,
    form: str,
    step: Callable[[Actor], object],
    what: str,
) -> Response:
    """Run one step on a case for the signed-in officer; the case page either way."""
    check_csrf(desk.session.csrf, csrf_token)
    console = console_of(request)
    try:
        step(desk.actor(Permission.ACT))
    except CrossborderError as error:
        if error.code in ("ROLE_NOT_ALLOWED", "CASE_UNKNOWN", "OFFICER_UNKNOWN"):
            raise  # the error page: not a mistake in the form
        return refused_on_case(request, desk, case_id, Refusal(form, error))
    console.wake_delivery()
    return done(case_id, what)


def refused_on_case(request: Request, desk: Desk, case_id: str, refusal: Refusal) -> HTMLResponse:
    return case_page(
        console_of(request),
        request,
        desk,
        case_id,
        refusal=refusal,
        status=status_of(refusal.error),
    )
