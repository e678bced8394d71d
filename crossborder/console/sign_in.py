"""Signing in and out, and choosing a language and a time zone.

A sign-in form carries a token of its own, kept in a short-lived cookie until
the officer signs in (there is no session yet to hold it); after that every
form carries the session's. Wrong passwords are throttled per officer id and
per address before a password is checked, and audited by the service.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from crossborder.console.desk import Console, Desk, check_csrf
from crossborder.console.reading import LANG_COOKIE, LANGUAGE_NAMES, ZONE_COOKIE, chosen_zone
from crossborder.console.sessions import SESSION_COOKIE
from crossborder.domain.errors import CrossborderError, RateLimited, Unauthorized
from crossborder.services.officers import sign_in as check_password

router = APIRouter()

SIGN_IN_COOKIE = "cb_sign_in"
HOME = "/console/cases"
#: A language or zone choice is remembered for a year.
CHOICE_SECONDS = 365 * 86_400


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def local_target(target: str | None) -> str:
    """Where to go next: a console page of this node, never another site."""
    if target and target.startswith("/console/") and not target.startswith("/console/sign-"):
        return target
    return HOME


def set_cookie(
    console: Console, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        secure=console.node.settings.console_secure_cookie,
        httponly=True,
        samesite="strict",
    )


def drop_cookie(console: Console, response: Response, name: str) -> None:
    response.delete_cookie(
        name,
        path="/console",
        secure=console.node.settings.console_secure_cookie,
        httponly=True,
        samesite="strict",
    )


def sign_in_page(
    console: Console,
    request: Request,
    error: CrossborderError | None = None,
    *,
    status: int = 200,
    officer_id: str = "",
    next_page: str = "",
) -> HTMLResponse:
    """The sign-in form; from a page that needed it, it leads back there."""
    token = secrets.token_urlsafe(32)
    next_page = local_target(next_page or request.query_params.get("next") or request.url.path)
    response = console.page(
        request,
        "sign_in.html",
        {"error": error, "csrf": token, "next_page": next_page, "officer_id": officer_id},
        status=status,
    )
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.params.get("retry_after", 1))
    set_cookie(console, response, SIGN_IN_COOKIE, token, max_age=3600)
    return response


@router.get("/sign-in")
def sign_in_form(request: Request) -> HTMLResponse:
    return sign_in_page(console_of(request), request)


@router.post("/sign-in", response_model=None)
def sign_in(
    request: Request,
    officer: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_page: Annotated[str, Form()] = "",
) -> Response:
    console = console_of(request)
    check_csrf(request.cookies.get(SIGN_IN_COOKIE, ""), csrf_token)
    address = request.client.host if request.client else ""
    officer = officer.strip()
    try:
        console.throttle.check(officer, address)
        signed_in = check_password(console.node, officer, password, address=address)
    except RateLimited as throttled:
        return sign_in_page(
            console, request, throttled, status=429, officer_id=officer, next_page=next_page
        )
    except Unauthorized as refused:
        console.throttle.failed(officer, address)
        return sign_in_page(
            console, request, refused, status=401, officer_id=officer, next_page=next_page
        )
    console.throttle.succeeded(officer)
    session = console.sessions.start(signed_in.id)
    response = RedirectResponse(local_target(next_page), status_code=303)
    set_cookie(console, response, SESSION_COOKIE, session.id)
    drop_cookie(console, response, SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: Annotated[str, Form()] = "") -> RedirectResponse:
    console = console_of(request)
    desk: Desk = console.desk(request)
    check_csrf(desk.session.csrf, csrf_token)
    console.sessions.end(desk.session.id)
    response = RedirectResponse("/console/sign-in", status_code=303)
    drop_cookie(console, response, SESSION_COOKIE)
    return response


@router.get("/language")
def choose_language(request: Request, to: str = "", next: str = "") -> RedirectResponse:
    """A link, not a form: choosing how to read changes nothing at the node."""
    response = RedirectResponse(local_target(next), status_code=303)
    if to in LANGUAGE_NAMES:
        set_cookie(console_of(request), response, LANG_COOKIE, to, CHOICE_SECONDS)
    return response


@router.get("/zone")
def choose_zone(request: Request, tz: str = "", next: str = "") -> RedirectResponse:
    console = console_of(request)
    response = RedirectResponse(local_target(next), status_code=303)
    if chosen_zone(tz, "") == tz:
        set_cookie(console, response, ZONE_COOKIE, tz, CHOICE_SECONDS)
    return response
