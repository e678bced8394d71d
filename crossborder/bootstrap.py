"""The composition root: builds one node — database, keys, clock, workflows — from its settings.

The API, the CLI, the flows and the tests all get their node from here, so a
test swaps a part (a clock, a transport, a notifier) by passing it in, not by
patching. Everything else depends on the :class:`~crossborder.services.node.Node`
type, never on this module.

A new workflow is one line in :func:`workflows`: its module's ``HANDLERS`` say
which messages it admits and reacts to and which deadlines it escalates.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from crossborder.adapters.db.engine import SessionLimits, make_engine, make_session_factory
from crossborder.adapters.db.migrate import upgrade
from crossborder.domain.errors import ConfigurationError
from crossborder.services.node import (
    Clock,
    LogNotifier,
    Node,
    Notifier,
    WorkflowHandlers,
    load_or_create_key,
    system_clock,
)
from crossborder.settings import Settings

if TYPE_CHECKING:
    import httpx


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


def session_limits(settings: Settings) -> SessionLimits:
    return SessionLimits(
        lock_seconds=settings.database_lock_timeout_seconds,
        idle_in_transaction_seconds=settings.database_idle_in_transaction_seconds,
        statement_seconds=settings.database_statement_timeout_seconds,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )


#: The node's files hold its keys, its cases and its audit trail: its owner's alone.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def create_private_database(url: str) -> None:
    """Create an SQLite file with mode 0600 before SQLite does it at 0644.

    SQLite gives its -wal, -shm and -journal files the mode of the database
    file, so they are private too. A file that exists already keeps its mode.
    """
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return
    descriptor = os.open(parsed.database, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE)
    os.close(descriptor)


def open_database(url: str, *, migrate: bool, limits: SessionLimits | None = None) -> Engine:
    """The engine at the newest schema; a wrong URL or a database that is down is one coded line."""
    try:
        create_private_database(url)
        engine = make_engine(url, limits)
        if migrate:
            upgrade(engine)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        # ImportError: a database this node has no driver for (``mysql://``).
        raise ConfigurationError("DATABASE_URL_INVALID", url=shown_url(url)) from exc
    except (DBAPIError, OSError) as exc:
        # OSError: the SQLite file cannot be created where the URL says.
        raise ConfigurationError("DATABASE_UNREACHABLE", url=shown_url(url)) from exc
    return engine


def workflows() -> WorkflowHandlers:
    """Every workflow the node runs.

    Imported when the node first admits, dispatches or escalates something, not
    when it is built: an officer's ``case list`` loads none of them.
    """
    from crossborder.services import (
        alert_inbound,
        alerts,
        audit_log,
        certificate_of_origin,
        co_amendment,
        co_verification,
        lane,
        lane_inspection,
        non_compliance,
        quarantine,
        recognition,
    )

    return (
        certificate_of_origin.HANDLERS
        + co_amendment.HANDLERS
        + co_verification.HANDLERS
        + quarantine.HANDLERS
        + recognition.HANDLERS
        + non_compliance.HANDLERS
        + alerts.HANDLERS
        + alert_inbound.HANDLERS
        + audit_log.HANDLERS
        + lane.HANDLERS
        + lane_inspection.HANDLERS
    )


def bootstrap(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    transport: httpx.BaseTransport | None = None,
    notifier: Notifier | None = None,
    load_workflows: Callable[[], WorkflowHandlers] = workflows,
    migrate: bool = True,
) -> Node:
    try:
        # Made on first start, its owner's only; a folder the operator made keeps its mode.
        settings.data_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError("DATA_DIR_UNWRITABLE", path=str(settings.data_dir)) from exc
    engine = open_database(settings.db_url, migrate=migrate, limits=session_limits(settings))
    check_key(settings.signing_key_path, f"{settings.agency}-sig-1")
    check_key(settings.token_key_path, f"{settings.agency}-at-1")
    return Node(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock,
        transport=transport,
        load_workflows=load_workflows,
        notifier=notifier or LogNotifier(),
    )
