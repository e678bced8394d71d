"""Wires one node together: database, keys, clock, reference data, counterparts.

The API, the CLI, the flows and the tests all get their node from here, so a
test swaps a part (a clock, a transport) by passing it in, not by patching.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import httpx
from joserfc.jwk import Key
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from crossborder.adapters.counterpart import CounterpartClient
from crossborder.adapters.db.clients import DatabaseClientRegistry
from crossborder.adapters.db.engine import make_engine, make_session_factory
from crossborder.adapters.db.migrate import upgrade
from crossborder.adapters.oauth.keys import generate_signing_key, load_private_key, save_private_key
from crossborder.domain.errors import ConfigurationError
from crossborder.reference.form_e_reference import FormEReferenceData
from crossborder.settings import Settings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Node:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    #: Signs outgoing messages, receipts and our client assertions at counterparts.
    signing_key: Key
    #: Signs the access tokens our authorization server issues.
    token_key: Key
    clock: Clock = system_clock
    #: Outbound HTTP transport; tests put a fake or an ASGI app here.
    transport: httpx.BaseTransport | None = None
    reference: FormEReferenceData = field(default_factory=FormEReferenceData)

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
        self.counterparts.close()
        self.engine.dispose()

    @cached_property
    def counterparts(self) -> CounterpartClient:
        """Outbound HTTP to counterparts, and their public keys."""
        return CounterpartClient(self.sessions, self.signing_key, self.clock, self.transport)

    @cached_property
    def clients(self) -> DatabaseClientRegistry:
        """Counterparts' clients registered at our authorization server; who they speak for."""
        return DatabaseClientRegistry(self.sessions)


def load_or_create_key(path: Path, kid: str) -> Key:
    """The node's key at ``path``, made on first start (the operator then publishes its JWKS)."""
    try:
        if path.exists():
            return load_private_key(path)
        key = generate_signing_key(kid)
        save_private_key(path, key)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError("KEY_UNREADABLE", path=str(path)) from exc
    return key


def shown_url(url: str) -> str:
    """A database URL fit for an error line: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def open_database(url: str, *, migrate: bool) -> Engine:
    """The engine at the newest schema; a wrong URL or a database that is down is one coded line."""
    try:
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        # ImportError: a database this node has no driver for (``mysql://``).
        raise ConfigurationError("DATABASE_URL_INVALID", url=shown_url(url)) from exc
    except DBAPIError as exc:
        raise ConfigurationError("DATABASE_UNREACHABLE", url=shown_url(url)) from exc
    return engine


def bootstrap(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    transport: httpx.BaseTransport | None = None,
    migrate: bool = True,
) -> Node:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError("DATA_DIR_UNWRITABLE", path=str(settings.data_dir)) from exc
    engine = open_database(settings.db_url, migrate=migrate)
    return Node(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        signing_key=load_or_create_key(settings.signing_key_path, kid=f"{settings.agency}-sig-1"),
        token_key=load_or_create_key(settings.token_key_path, kid=f"{settings.agency}-at-1"),
        clock=clock,
        transport=transport,
    )
