"""One request at the console: the node, the signed-in officer, their session and how they read.

Every page and every action starts here. The officer is looked up again at
each request (removed? role changed?), and each action asks the same
:func:`~crossborder.services.officers.acting_officer` as the command line for
the permission it needs, so a role is checked on the server for every step,
whatever the page showed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from crossborder.console.reading import LANGUAGE_NAMES, Reader, reader_of
from crossborder.console.sessions import SESSION_COOKIE, DeskSession, SessionStore
from crossborder.console.throttle import SignInThrottle
from crossborder.domain.actors import Actor
from crossborder.domain.errors import CrossborderError, Forbidden, Unauthorized
from crossborder.domain.officers import Officer, Permission
from crossborder.services.node import Node
from crossborder.services.officers import acting_officer, officer_of

TEMPLATES = Path(__file__).parent / "templates"
#: The zones an officer may read times in: both sides' and UTC.
ZONES = ("Asia/Shanghai", "Asia/Ho_Chi_Minh", "UTC")


class SignInNeeded(Exception):
    """No session (go and sign in), or one that ended (``SESSION_EXPIRED``: say so)."""

    def __init__(self, expired: bool) -> None:
        super().__init__("sign-in needed")
        self.expired = expired


@dataclass(frozen=True)
class Desk:
    node: Node
    officer: Officer
    session: DeskSession
    reader: Reader

    def actor(self, permission: Permission) -> Actor:
        """The officer as the trail names them, if their role allows ``permission`` now."""
        return acting_officer(self.node, permission, self.officer.id)

    def may(self, permission: Permission) -> bool:
        return self.officer.may(permission)


class Console:
    """What every console request shares: the node, its sessions, the sign-in throttle, pages."""

    def __init__(self, node: Node, wake_delivery: Callable[[], None]) -> None:
        settings = node.settings
        self.node = node
        self.wake_delivery = wake_delivery
        self.sessions = SessionStore(node)
        self.throttle = SignInThrottle(
            per_account=settings.console_sign_in_failures,
            per_address=settings.console_sign_in_address_failures,
            window=settings.console_sign_in_window_seconds,
        )
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
        )

    def reader(self, request: Request) -> Reader:
        return reader_of(request, self.node.timezone)

    def desk(self, request: Request) -> Desk:
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            raise SignInNeeded(expired=False)
        try:
            session = self.sessions.find(session_id)
            # Removed since signing in: the session ends with them.
            officer = officer_of(self.node, session.officer_id)
        except Unauthorized:
            self.sessions.end(session_id)
            raise SignInNeeded(expired=True) from None
        return Desk(self.node, officer, session, self.reader(request))

    def page(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        desk: Desk | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        html = self.templates.get_template(template).render(self._context(request, context, desk))
        return HTMLResponse(html, status_code=status)

    def part(
        self, request: Request, template: str, block: str, context: dict[str, Any], desk: Desk
    ) -> HTMLResponse:
        """One block of a page, rendered as on the page itself: a page updates it in place."""
        page = self.templates.get_template(template)
        rendered = page.blocks[block](page.new_context(self._context(request, context, desk)))
        return HTMLResponse("".join(rendered))

    def _context(
        self, request: Request, context: dict[str, Any], desk: Desk | None
    ) -> dict[str, Any]:
        return {
            "r": desk.reader if desk else self.reader(request),
            "desk": desk,
            "node": self.node,
            "path": request.url.path,
            "languages": LANGUAGE_NAMES,
            "zones": ZONES,
            "Permission": Permission,
            **context,
        }


def check_csrf(expected: str, sent: str) -> None:
    """The form carries the token its page was given: it was not posted from another site."""
    if not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise Forbidden("CSRF_TOKEN_INVALID")


def error_page(
    console: Console, request: Request, error: CrossborderError, status: int, desk: Desk | None
) -> HTMLResponse:
    return console.page(request, "error.html", {"error": error}, desk=desk, status=status)
