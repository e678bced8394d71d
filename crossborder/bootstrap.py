"""Wires one node together: database, keys, clock, reference data, counterparts.

The API, the CLI, the flows and the tests all get their node from here, so a
test swaps a part (a clock, a transport) by passing it in, not by patching.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from crossborder.adapters.db.clients import DatabaseClientRegistry
from crossborder.adapters.db.engine import make_engine, make_session_factory
from crossborder.adapters.db.migrate import upgrade
from crossborder.domain.errors import ConfigurationError
from crossborder.reference.form_e_reference import FormEReferenceData
from crossborder.settings import Settings

if TYPE_CHECKING:
    import httpx
    from joserfc.jwk import Key

    from crossborder.adapters.counterpart import CounterpartClient

Clock = Callable[[], datetime]


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
    def signing_key(self) -> Key:
        """Signs outgoing messages, receipts and our client assertions at counterparts."""
        return load_or_create_key(self.settings.signing_key_path, f"{self.agency}-sig-1")

    @cached_property
    def token_key(self) -> Key:
        """Signs the access tokens our authorization server issues."""
        return load_or_create_key(self.settings.token_key_path, f"{self.agency}-at-1")

    @cached_property
    def counterparts(self) -> CounterpartClient:
        """Outbound HTTP to counterparts, and their public keys."""
        from crossborder.adapters.counterpart import CounterpartClient

        return CounterpartClient(self.sessions, self.signing_key, self.clock, self.transport)

    @cached_property
    def clients(self) -> DatabaseClientRegistry:
        """Counterparts' clients registered at our authorization server; who they speak for."""
        return DatabaseClientRegistry(self.sessions)


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


def check_key(path: Path, kid: str) -> None:
    """Make the key on first start; else make sure it can be read, without loading JOSE.

    A key that cannot be read is the operator's to fix before anything runs, not
    a surprise in the middle of an officer's command.
    """
    if not path.exists():
        load_or_create_key(path, kid)
        return
    try:
        if not isinstance(json.loads(path.read_text("utf-8")).get("d"), str):
            raise ValueError("not a private key")
    except (OSError, ValueError, AttributeError) as exc:
        raise ConfigurationError("KEY_UNREADABLE", path=str(path)) from exc


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
    check_key(settings.signing_key_path, f"{settings.agency}-sig-1")
    check_key(settings.token_key_path, f"{settings.agency}-at-1")
    return Node(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock,
        transport=transport,
    )
