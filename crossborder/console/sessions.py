"""Console sessions: who is signed in at which browser, until when.

A session is a random id in a cookie (``HttpOnly``, ``SameSite=Strict``,
``Secure`` unless the node says otherwise), held in the node process's memory
with its officer and its CSRF token: a restart signs everyone out, which costs
an officer one sign-in and keeps no session where a copy of the database could
reach it. It ends after a spell without requests and, at the latest, after a
working day. The officer's role is read again at every request, so removing
an officer or changing their role takes effect at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from crossborder.domain.errors import Unauthorized

SESSION_COOKIE = "cb_session"


@dataclass
class DeskSession:
    id: str
    officer_id: str
    #: Sent back with every form; a form posted from another site cannot know it.
    csrf: str
    started: float
    last_seen: float


class SessionStore:
    def __init__(
        self, *, idle: float, longest: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._idle = idle
        self._longest = longest
        self._clock = clock
        self._sessions: dict[str, DeskSession] = {}
        self._lock = threading.Lock()

    def start(self, officer_id: str) -> DeskSession:
        """A new session, with a new id: an id known before signing in is never reused."""
        now = self._clock()
        session = DeskSession(
            id=secrets.token_urlsafe(32),
            officer_id=officer_id,
            csrf=secrets.token_urlsafe(32),
            started=now,
            last_seen=now,
        )
        with self._lock:
            self._drop_expired(now)
            self._sessions[session.id] = session
        return session

    def find(self, session_id: str) -> DeskSession:
        """The live session of this id; ``SESSION_EXPIRED`` when it ended or never was."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or self._expired(session, now):
                self._sessions.pop(session_id, None)
                raise Unauthorized("SESSION_EXPIRED")
            session.last_seen = now
            return session

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def _expired(self, session: DeskSession, now: float) -> bool:
        return now - session.last_seen > self._idle or now - session.started > self._longest

    def _drop_expired(self, now: float) -> None:
        for session_id in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[session_id]
