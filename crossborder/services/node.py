"""The node the services work on: its settings, database, clock, keys, counterparts, workflows.

Services, the API, the CLI and the flows depend on this type; only
``crossborder.bootstrap``, the composition root, builds one — and hands it the
workflows it runs (:class:`WorkflowHandlers`) and the notifier that tells its
duty officer, so nothing here is a global filled in by importing a module.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from crossborder.adapters.db.clients import DatabaseClientRegistry
from crossborder.domain.errors import ConfigurationError
from crossborder.reference.form_e_reference import FormEReferenceData
from crossborder.settings import Settings

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import httpx
    from joserfc.jwk import Key

    from crossborder.adapters.counterpart import CounterpartClient
    from crossborder.adapters.db.tables import Deadline, InboxMessage
    from crossborder.adapters.oauth.key_ring import KeyRing
    from crossborder.domain.actors import Actor
    from crossborder.domain.messages import MessageType

T = TypeVar("T")
Clock = Callable[[], datetime]
K = TypeVar("K")
V = TypeVar("V")

#: Admits a received message: the state change its type makes, inside the receipt's transaction.
Admit: TypeAlias = "Callable[[Session, Node, Any, str, Actor], None]"
#: Reacts to an admitted message once the receipt has left (may queue a reply).
React: TypeAlias = "Callable[[Session, Node, InboxMessage], None]"
#: A workflow's own step when one of its deadlines is passed (after the watcher's).
Escalate: TypeAlias = "Callable[[Session, Node, Deadline], None]"
#: A workflow's own reminder step, with the step's name (``reminder-7``).
Remind: TypeAlias = "Callable[[Session, Node, Deadline, str], None]"


@dataclass(frozen=True)
class WorkflowHandlers:
    """What a workflow plugs into the node, by message type and by deadline rule.

    Each workflow module ends with its ``HANDLERS``; the composition root adds
    them up, and refuses two workflows claiming one message type or rule.
    """

    admit: Mapping[MessageType, Admit] = field(default_factory=dict)
    react: Mapping[MessageType, React] = field(default_factory=dict)
    escalate: Mapping[str, Escalate] = field(default_factory=dict)
    remind: Mapping[str, Remind] = field(default_factory=dict)

    def __add__(self, other: WorkflowHandlers) -> WorkflowHandlers:
        return WorkflowHandlers(
            admit=_joined(self.admit, other.admit),
            react=_joined(self.react, other.react),
            escalate=_joined(self.escalate, other.escalate),
            remind=_joined(self.remind, other.remind),
        )


def _joined(first: Mapping[K, V], second: Mapping[K, V]) -> dict[K, V]:
    if taken := first.keys() & second.keys():
        raise ValueError(f"handled twice: {sorted(map(str, taken))}")
    return {**first, **second}


class Notifier(Protocol):
    """Tells the duty officer of ``agency`` (our own): a message key and its parameters.

    The key and parameters are the audit entry's as stored (``audit.deadline.overdue``,
    agency codes left as codes, the due time as ISO 8601 text), so a notifier
    renders the sentence the trail shows with :func:`crossborder.audit.render.sentence`,
    in the officer's language and time zone. ``agency`` and ``key`` are
    positional because the parameters have an ``agency`` of their own.
    """

    def notify(self, agency: str, key: str, /, **params: Any) -> None: ...


class LogNotifier:
    """The default: a warning in the node's log, in English, on the agency's own clock."""

    def notify(self, code: str, key: str, /, **params: Any) -> None:
        from crossborder.audit.render import sentence
        from crossborder.i18n import DEFAULT_LOCALE
        from crossborder.reference.agencies import agency

        zone = agency(code).time_zone
        log.warning("duty officer of %s: %s", code, sentence(key, params, DEFAULT_LOCALE, zone))


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Node:
    """One agency's node.

    What only some commands use — the keys, outbound HTTP — is loaded when first
    used: an officer's ``case list`` then loads neither cryptography nor httpx.
    """

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock = system_clock
    #: Outbound HTTP transport; tests put a fake or an ASGI app here.
    transport: httpx.BaseTransport | None = None
    reference: FormEReferenceData = field(default_factory=FormEReferenceData)
    #: Every workflow's handlers, loaded when first needed (an officer's ``case
    #: list`` needs none): the composition root says which workflows there are.
    load_workflows: Callable[[], WorkflowHandlers] = WorkflowHandlers
    #: Tells the duty officer of deadline steps (an SMS or mail gateway in production).
    notifier: Notifier = field(default_factory=LogNotifier)

    @property
    def agency(self) -> str:
        return self.settings.agency

    @property
    def timezone(self) -> str:
        return self.settings.timezone

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: everything inside commits together or not at all."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        if "counterparts" in self.__dict__:  # made only if something was sent
            self.counterparts.close()
        self.engine.dispose()

    @cached_property
    def run(self) -> str:
        """This run of this replica (``replica/run``): what its outbox leases are held by."""
        return f"{self.settings.replica_name}/{uuid.uuid4().hex[:12]}"

    @cached_property
    def workflows(self) -> WorkflowHandlers:
        return self.load_workflows()

    @cached_property
    def signing_keys(self) -> KeyRing:
        """Our message-signing keys over time (``adapters/oauth/key_ring.py``)."""
        return self._key_ring(self.settings.signing_key_path, f"{self.agency}-sig")

    @cached_property
    def token_keys(self) -> KeyRing:
        """Our authorization server's token keys over time."""
        return self._key_ring(self.settings.token_key_path, f"{self.agency}-at")

    @property
    def signing_key(self) -> Key:
        """Signs outgoing messages, receipts and our client assertions at counterparts."""
        return _readable(self.signing_keys, self.signing_keys.signing_key)

    @property
    def token_key(self) -> Key:
        """Signs the access tokens our authorization server issues."""
        return _readable(self.token_keys, self.token_keys.signing_key)

    def published_keys(self) -> list[Key]:
        """Every public key we sign with, will sign with, or signed with: our JWKS."""
        return [
            *_readable(self.signing_keys, self.signing_keys.public_keys),
            *_readable(self.token_keys, self.token_keys.public_keys),
        ]

    def _key_ring(self, path: Path, kid_prefix: str) -> KeyRing:
        from datetime import timedelta

        from crossborder.adapters.oauth.key_ring import KeyRing

        load_or_create_key(path, f"{kid_prefix}-1")
        publication = timedelta(seconds=self.settings.key_publication_seconds)
        return KeyRing(path, kid_prefix, publication, self.clock)

    @cached_property
    def counterparts(self) -> CounterpartClient:
        """Outbound HTTP to counterparts, and their public keys."""
        from crossborder.adapters.counterpart import CounterpartClient

        return CounterpartClient(
            self.sessions, lambda: self.signing_key, self.clock, self.transport
        )

    @cached_property
    def clients(self) -> DatabaseClientRegistry:
        """Counterparts' clients registered at our authorization server; who they speak for."""
        return DatabaseClientRegistry(self.sessions, transport=self.transport)


def _readable(ring: KeyRing, read: Callable[[], T]) -> T:
    """What ``read`` reads from the ring's files; a file that cannot be read is one coded line."""
    try:
        return read()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError("KEY_UNREADABLE", path=str(ring.path)) from exc


def load_or_create_key(path: Path, kid: str) -> Key:
    """The node's key at ``path``, made on first start (the operator then publishes its JWKS)."""
    from crossborder.adapters.oauth.keys import (
        generate_signing_key,
        load_private_key,
        save_private_key,
    )

    try:
        if path.exists():
            return load_private_key(path)
        key = generate_signing_key(kid)
        save_private_key(path, key)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError("KEY_UNREADABLE", path=str(path)) from exc
    return key
