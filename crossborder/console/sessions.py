"""Console sessions: who is signed in at which browser, until when.

A session is a random id in a cookie (``HttpOnly``, ``SameSite=Strict``,
``Secure`` unless the node says otherwise). The node's database keeps it, so
every replica of a node behind one address honours it and a restart signs no
one out; the row holds only a hash of the id, with its officer and its limits.
It ends after a spell without requests and, at the latest, after a working day;
signing out deletes it. The officer's role is read again at every request, so
removing an officer or changing their role takes effect at once.

A session's form token (against cross-site forms) is not stored either: it is
derived from the id, which only the browser holds, so a copy of the database
can neither sign in nor post a form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from crossborder.adapters.db.tables import ConsoleSession
from crossborder.domain.errors import Unauthorized
from crossborder.services.node import Node

SESSION_COOKIE = "cb_session"


@dataclass(frozen=True)
class DeskSession:
    id: str
    officer_id: str
    #: Sent back with every form; a form posted from another site cannot know it.
    csrf: str


def digest(secret: str) -> str:
    """What the database keeps of a value only the browser holds."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _desk_session(session_id: str, officer_id: str) -> DeskSession:
    csrf = hmac.new(session_id.encode(), b"console form token", hashlib.sha256).hexdigest()
    return DeskSession(id=session_id, officer_id=officer_id, csrf=csrf)


class SessionStore:
    """The node's console sessions, in its database, on the node's clock."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._idle = timedelta(seconds=node.settings.console_idle_seconds)
        self._longest = timedelta(seconds=node.settings.console_session_seconds)
        # A request writes a later expiry only once it has moved this far: a page that
        # updates itself every few seconds does not commit at every update.
        self._step = min(timedelta(minutes=1), self._idle / 10)

    def start(self, officer_id: str) -> DeskSession:
        """A new session, with a new id: an id known before signing in is never reused."""
        session_id = secrets.token_urlsafe(32)
        now = self._node.now()
        with self._node.transaction() as db:
            db.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
            db.add(
                ConsoleSession(
                    id_hash=digest(session_id),
                    officer_id=officer_id,
                    started_at=now,
                    expires_at=now + min(self._idle, self._longest),
                )
            )
        return _desk_session(session_id, officer_id)

    def find(self, session_id: str) -> DeskSession:
        """The live session of this id; ``SESSION_EXPIRED`` when it ended or never was."""
        now = self._node.now()
        with self._node.transaction() as db:
            row = db.get(ConsoleSession, digest(session_id))
            officer_id = row.officer_id if row is not None and now < row.expires_at else None
            if row is not None and officer_id is None:
                db.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == row.id_hash))
            elif row is not None:
                later = min(now + self._idle, row.started_at + self._longest)
                if later - row.expires_at >= self._step:
                    row.expires_at = later
        if officer_id is None:
            raise Unauthorized("SESSION_EXPIRED")
        return _desk_session(session_id, officer_id)

    def end(self, session_id: str) -> None:
        with self._node.transaction() as db:
            db.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == digest(session_id)))
