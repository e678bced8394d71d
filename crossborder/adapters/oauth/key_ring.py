"""A node's keys over time: the one it signs with, the next one, and those it signed with before.

Rotation is in two steps, so that no counterpart ever meets a signature by a
key it could not have seen. :meth:`KeyRing.prepare_next` makes the next key and
publishes it at once (our JWKS lists it); the node goes on signing with the
current key until the publication period has passed, or until an operator
activates the next key (:meth:`KeyRing.activate`). A counterpart that fetched
our JWKS at any moment after the first step therefore already holds the key of
the first message signed with it; one that fetched earlier meets an unknown
``kid`` and fetches our JWKS again.

Old keys are never forgotten, only their private halves: their public halves
stay in the ring and in the JWKS, so that receipts, audit checkpoints and
messages signed years ago still verify — by ``kid``, against the whole history.

Three files per ring, next to the key file the node has always had, all 0600:
``signing.jwk.json`` (the current private key), ``signing.next.json`` (the next
private key and when it was published) and ``signing.retired.jwks.json`` (the
public keys signed with before).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet, import_key

from crossborder.adapters.oauth import Clock
from crossborder.adapters.oauth.keys import (
    generate_signing_key,
    load_private_key,
    public_jwks,
    require_private_signing_key,
    save_private_key,
    write_private_file,
)


class NoKeyPending(Exception):
    """``activate`` with no next key published."""


class KeyPending(Exception):
    """``prepare_next`` while the next key is published but not yet in use."""

    def __init__(self, kid: str, activates_at: datetime) -> None:
        super().__init__(kid)
        self.kid = kid
        self.activates_at = activates_at


@dataclass(frozen=True)
class NextKey:
    key: Key
    published_at: datetime


@dataclass(frozen=True)
class _State:
    current: Key
    next: NextKey | None
    retired: tuple[Key, ...]


class KeyRing:
    """One purpose's keys (message signing, or access tokens) kept under ``path``."""

    def __init__(self, path: Path, kid_prefix: str, publication: timedelta, clock: Clock) -> None:
        self.path = path
        self.next_path = path.with_name(path.name.replace(".jwk.json", ".next.json"))
        self.retired_path = path.with_name(path.name.replace(".jwk.json", ".retired.jwks.json"))
        self._kid_prefix = kid_prefix
        self._publication = publication
        self._clock = clock
        self._lock = threading.Lock()
        # What the files said when last read, and how they looked (mtime, size) then:
        # a running node sees another process's rotation at its next signature.
        self._seen: tuple[tuple[int, int] | None, ...] | None = None
        self._state: _State | None = None
        # The public halves of ``_state``'s keys, as published: made once per state.
        self._public: tuple[_State, tuple[Key, ...]] | None = None

    # --- reading ------------------------------------------------------------------------

    def signing_key(self) -> Key:
        """The key to sign with now: the next one once its publication period has passed."""
        state = self._read()
        if state.next is not None and self._clock() >= self.activates_at(state.next):
            return state.next.key
        return state.current

    def public_keys(self) -> list[Key]:
        """Every key of the ring, oldest first, as published: retired, current, next."""
        state = self._read()
        with self._lock:
            if self._public is not None and self._public[0] is state:
                return list(self._public[1])
        keys = [*state.retired, state.current, *([state.next.key] if state.next else [])]
        unique = {key.kid: key for key in keys}  # a rotation cut short may list one twice
        public = tuple(import_key(key.as_dict(private=False)) for key in unique.values())
        with self._lock:
            self._public = (state, public)
        return list(public)

    def verification_keys(self) -> KeySet:
        """Every public key we ever signed with, to verify what we signed, by ``kid``."""
        return KeySet(self.public_keys())

    def pending(self) -> NextKey | None:
        """The next key, while it is published and not yet signing."""
        state = self._read()
        if state.next is not None and self._clock() < self.activates_at(state.next):
            return state.next
        return None

    def activates_at(self, next_key: NextKey) -> datetime:
        return next_key.published_at + self._publication

    # --- rotating -----------------------------------------------------------------------

    def prepare_next(self) -> NextKey:
        """Make the next key and publish it; it signs once the publication period has passed.

        A next key that already signs is first made the current one; one still
        waiting for its publication period is refused (:class:`KeyPending`).
        """
        waiting = self.pending()
        if waiting is not None:
            raise KeyPending(str(waiting.key.kid), self.activates_at(waiting))
        if self._read().next is not None:
            self.activate()
        state = self._read()
        next_key = NextKey(generate_signing_key(self._next_kid(state)), self._clock())
        write_private_file(
            self.next_path,
            {
                "published_at": next_key.published_at.isoformat(),
                "key": next_key.key.as_dict(private=True),
            },
        )
        return next_key

    def activate(self) -> Key:
        """Sign with the next key from now on; the current one is kept as a public key only."""
        state = self._read()
        if state.next is None:
            raise NoKeyPending()
        # In this order, so that a crash at any point leaves a ring that still reads:
        # the current key listed twice, or the next key both current and next.
        retired = {key.kid: key for key in (*state.retired, state.current)}
        write_private_file(self.retired_path, public_jwks(retired.values()))
        save_private_key(self.path, state.next.key)
        self.next_path.unlink()
        return state.next.key

    def _next_kid(self, state: _State) -> str:
        numbers = [
            int(match.group(1))
            for key in (*state.retired, state.current)
            if (match := re.fullmatch(rf"{re.escape(self._kid_prefix)}-(\d+)", str(key.kid)))
        ]
        return f"{self._kid_prefix}-{max(numbers, default=0) + 1}"

    # --- the files ----------------------------------------------------------------------

    def _read(self) -> _State:
        looks = tuple(_looks(path) for path in (self.path, self.next_path, self.retired_path))
        with self._lock:
            if self._state is not None and looks == self._seen:
                return self._state
        try:
            state = _State(
                current=load_private_key(self.path),
                next=_read_next(self.next_path),
                retired=_read_retired(self.retired_path),
            )
        except JoseError as error:
            raise ValueError(f"a key file under {self.path.parent} is not a key") from error
        # A key file changed while we read it is read again at the next call.
        with self._lock:
            self._state, self._seen = state, looks
        return state


def _looks(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_mtime_ns, status.st_size


def _read_next(path: Path) -> NextKey | None:
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    key = import_key(document["key"])
    require_private_signing_key(key)
    return NextKey(key, datetime.fromisoformat(document["published_at"]))


def _read_retired(path: Path) -> tuple[Key, ...]:
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    return tuple(import_key(key) for key in document["keys"])
